// Go's strconv rules as go-bexpr applies them to filter text: unquoting string literals,
// quoting values in error messages (%q), and coercing a literal to the type of the field it
// is compared with ("Port == 0x50", "EnableTagOverride == T"). Byte-compatible with Go so that
// the same filter means the same thing in cairn and in Consul.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::filter {

// strconv.Unquote of a "double-quoted" (escapes: \n \x41 \u00e9 \101 ...) or `raw` literal,
// quotes included. nullopt is Go's "invalid syntax".
std::optional<std::string> go_unquote(std::string_view literal);
// strconv.Quote, which is what Go's %q prints.
std::string go_quote(std::string_view s);

// strconv.ParseInt/ParseUint(s, 0, 64): optional sign (ParseInt only), 0x 0o 0b and leading-0
// octal prefixes, '_' between digits.
std::optional<int64_t> go_parse_int(std::string_view s);
std::optional<uint64_t> go_parse_uint(std::string_view s);
// strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False.
std::optional<bool> go_parse_bool(std::string_view s);
// strconv.ParseFloat(s, 64) for decimal text, "inf" and "nan"; out of range is a failure.
std::optional<double> go_parse_float(std::string_view s);

// Byte length of the UTF-8 sequence starting at s[i], or 0 if it is not valid UTF-8
// (overlong forms and surrogates are invalid, as in Go).
size_t utf8_sequence_length(std::string_view s, size_t i);
// Offset of the first byte that is not part of valid UTF-8, or npos.
size_t first_invalid_utf8(std::string_view s);
// Appends the UTF-8 encoding of a valid code point.
void append_utf8(std::string& out, uint32_t rune);

}  // namespace cairn::filter
