#include "agent/state/rows.h"

namespace cairn::state {

bool Node::same_content(const Node& o) const {
  return id == o.id && name == o.name && address == o.address && datacenter == o.datacenter &&
         tagged_addresses == o.tagged_addresses && meta == o.meta;
}

bool Service::same_content(const Service& o) const {
  return node == o.node && kind == o.kind && id == o.id && name == o.name && tags == o.tags &&
         address == o.address && tagged_addresses == o.tagged_addresses && meta == o.meta &&
         port == o.port && socket_path == o.socket_path && weights == o.weights &&
         enable_tag_override == o.enable_tag_override && proxy_json == o.proxy_json &&
         connect_json == o.connect_json && locality == o.locality;
}

SharedCheckDefinition::SharedCheckDefinition() {
  // Rows and specs without a definition of their own all point at this one.
  static const auto empty = std::make_shared<const CheckDefinition>();
  def_ = empty;
}

bool Check::same_content(const Check& o) const {
  return node == o.node && check_id == o.check_id && name == o.name && status == o.status &&
         notes == o.notes && output == o.output && service_id == o.service_id &&
         service_name == o.service_name && service_tags == o.service_tags && type == o.type &&
         definition == o.definition;
}

bool is_valid_status(const std::string& s) {
  return s == kPassing || s == kWarning || s == kCritical;
}

}  // namespace cairn::state
