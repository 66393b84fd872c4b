// HCL 1 config files (consul.hcl, web.hcl) into the Value tree the YAML and
// JSON parsers produce, so one Decoder reads every format.
//
// Consul reads HCL 1 (github.com/hashicorp/hcl v1) and decodes it as JSON is
// decoded; this parser gives the tree Consul's decoding ends up with:
//   key = value            strings ("..." with Go escapes, <<EOF / <<-EOF
//                          heredocs), integers (decimal, 0x hex, 0 octal),
//                          floats, true / false, lists [a, b,] and objects
//   key { ... }            a block: the same as key = { ... }
//   key "a" "b" { ... }    labels nest: key = { a = { b = { ... } } }
//   #, // and /* */        comments
// A key given twice in one object keeps both when both are blocks, objects or
// lists (HCL 1's rule): `service { } service { }` is a list of two objects,
// lists are concatenated. Objects under `checks` and `services` are always
// lists, as Consul's decoding makes them (their Go fields are slices), so one
// `checks { }` block is a list of one check. A scalar given twice is a
// duplicate_key error, as in YAML files (HCL 1 keeps the last one silently).
//
// There is no C or C++ HCL library in Debian (`apt-cache search hcl` lists
// only the Go packages and python3-pyhcl), hence this one.
#pragma once

#include <string_view>

#include "common/value.h"

namespace cairn::config {

// Parses a whole HCL 1 document into an object (empty for an empty file).
// Bounded as parse_yaml is: at most limits.max_text_bytes of input,
// limits.max_values values and kMaxParseDepth levels of nesting; recursion
// never goes deeper than that. Returns false and fills err (1-based line and
// column) on a syntax error, a document beyond the limits or a repeated key.
bool parse_hcl(std::string_view text, Value& out, ParseError& err,
               const ParseLimits& limits = ParseLimits{});

}  // namespace cairn::config
