#include "agent/server/catalog_writer.h"

namespace cairn::server {

void DevWriter::write(Plan plan, WriteDone done) {
  state::Batch batch;
  std::string err = plan(store_, batch);
  if (err.empty() && !batch.empty()) store_.apply(batch, store_.index() + 1);
  if (done) done(err, store_.index());
}

}  // namespace cairn::server
