#include "common/regex.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using cairn::Regex;
using cairn::RegexError;

namespace {

bool search(std::string_view pattern, std::string_view subject) {
  RegexError error;
  auto re = Regex::compile(pattern, error);
  REQUIRE_MESSAGE(re, pattern << ": " << error.message);
  CHECK(error.code == RegexError::Code::none);
  return re->search(subject);
}

RegexError compile_error(std::string_view pattern) {
  RegexError error;
  auto re = Regex::compile(pattern, error);
  CHECK_FALSE(re);
  return error;
}

std::string syntax_error(std::string_view pattern) {
  RegexError error = compile_error(pattern);
  CHECK(error.code == RegexError::Code::syntax);
  return error.message;
}

std::vector<std::string> groups_of(std::string_view pattern, std::string_view subject) {
  RegexError error;
  auto re = Regex::compile(pattern, error);
  REQUIRE_MESSAGE(re, error.message);
  std::vector<std::string> groups;
  re->search_groups(subject, groups);
  return groups;
}

}  // namespace

TEST_CASE("regex search is unanchored unless the pattern anchors it") {
  CHECK(search("web", "my-web-1"));
  CHECK(search("^web", "web-1"));
  CHECK_FALSE(search("^web", "my-web"));
  CHECK(search("web$", "my-web"));
  CHECK_FALSE(search("web$", "web\n"));  // $ is the end of text in Go, not before a final \n
  CHECK(search("^$", ""));
  CHECK(search("", "anything"));
  CHECK(search("a|b", "xbx"));
  CHECK_FALSE(search("^(a|b)$", "ab"));
  CHECK(search(R"(\Aab\z)", "ab"));
  CHECK_FALSE(search(R"(\Aab\z)", "abc"));
}

TEST_CASE("regex classes and escapes mean what they mean in Go") {
  CHECK(search(R"(^\d+$)", "8080"));
  CHECK_FALSE(search(R"(^\d+$)", "80a"));
  CHECK_FALSE(search(R"(^\d$)", "\xD9\xA3"));  // \d is ASCII-only, as in Go
  CHECK(search(R"(^\w+$)", "web_1"));
  CHECK_FALSE(search(R"(^\w+$)", "web-1"));
  CHECK(search(R"(^\s$)", "\t"));
  CHECK_FALSE(search(R"(^\s$)", "\v"));  // Go's \s has no \v
  CHECK(search(R"(^\D\W$)", "a-"));
  CHECK(search(R"(^1\.2\.3$)", "1.2.3"));
  CHECK_FALSE(search(R"(^1\.2$)", "102"));
  CHECK(search("^[a-c]+$", "abcabc"));
  CHECK(search("^[^a-c]+$", "xyz"));
  CHECK(search("^[]a]+$", "]a]"));  // ] first in a class is a literal
  CHECK(search(R"(^[\d.]+$)", "1.2"));
  CHECK(search("^[[:alpha:]]+$", "abc"));
  CHECK_FALSE(search("^[[:^alpha:]]+$", "abc"));
  CHECK(search(R"(^\pL+$)", "caf\xC3\xA9"));
  CHECK(search(R"(^\p{Greek}$)", "\xCE\xB1"));
  CHECK(search(R"(^\x41\x{42}\103$)", "ABC"));
  CHECK(search(R"(^\Qa.b*\E$)", "a.b*"));
  CHECK_FALSE(search(R"(^\Qa.b\E$)", "axb"));
  CHECK(search(R"(\bweb\b)", "a web b"));
  CHECK_FALSE(search(R"(\bweb\b)", "webby"));
}

TEST_CASE("regex dot matches any character but newline, as in Go") {
  CHECK(search("^a.c$", "a\rc"));
  CHECK(search("^a.c$",
               "a\xC3\xA9"
               "c"));  // one character, two bytes
  CHECK_FALSE(search("^a.c$", "a\nc"));
  CHECK(search("(?s)^a.c$", "a\nc"));
}

TEST_CASE("regex flags, repeats and groups") {
  CHECK(search("(?i)^WEB$", "web"));
  CHECK(search("(?i)^caf\xC3\x89$", "caf\xC3\xA9"));  // Unicode case folding
  CHECK(search("^a(?i)B$", "ab"));                    // flags may start mid-pattern
  CHECK_FALSE(search("^a(?i)B$", "Ab"));
  CHECK(search("(?m)^b$", "a\nb\nc"));
  CHECK_FALSE(search("^b$", "a\nb\nc"));
  CHECK(search("^(ab)+$", "ababab"));
  CHECK(search("^a{2,3}$", "aaa"));
  CHECK_FALSE(search("^a{2,3}$", "aaaa"));
  CHECK(search("^a{,2}$", "a{,2}"));  // not a repeat in Go: literal text
  CHECK(search("^(?:a|b)(?P<n>c)$", "ac"));
  CHECK(search("^(?<m>d)$", "d"));                   // Go 1.22's spelling of a named group
  CHECK(search(R"(^\(?<m>$)", "(<m>"));              // an escaped parenthesis is not a group
  CHECK(search("^[(?<]+$", "(?<"));                  // nor is one inside a class
  CHECK(search(R"(^\Q(?<\E$)", "(?<"));              // nor one quoted
  CHECK(search("^\xC3\xA9+$", "\xC3\xA9\xC3\xA9"));  // the repeat applies to the character
}

TEST_CASE("regex groups are Go's FindStringSubmatch") {
  CHECK(groups_of("^geo-(.*)-(db|web)?$", "geo-us-east-") ==
        std::vector<std::string>{"geo-us-east-", "us-east", ""});
  CHECK(groups_of("^geo-(.*?)-(db|web)$", "geo-us-east-db") ==
        std::vector<std::string>{"geo-us-east-db", "us-east", "db"});
  CHECK(groups_of("(a+)(b)?", "xaab") == std::vector<std::string>{"aab", "aa", "b"});
  CHECK(groups_of("nope", "text").empty());
}

TEST_CASE("regex errors use Go's wording") {
  CHECK(syntax_error("(abc") == "error parsing regexp: missing closing ): `(abc`");
  CHECK(syntax_error("abc)") == "error parsing regexp: unexpected ): `abc)`");
  CHECK(syntax_error("[abc") == "error parsing regexp: missing closing ]: `[abc`");
  CHECK(syntax_error("*a") == "error parsing regexp: missing argument to repetition operator: `*`");
  CHECK(syntax_error("a**") == "error parsing regexp: invalid nested repetition operator: `**`");
  CHECK(syntax_error("a{1001}") == "error parsing regexp: invalid repeat count: `{1001}`");
  CHECK(syntax_error("a{3,2}") == "error parsing regexp: invalid repeat count: `{3,2}`");
  CHECK(syntax_error(R"(\q)") == "error parsing regexp: invalid escape sequence: `\\q`");
  CHECK(syntax_error(R"((a)\1)") == "error parsing regexp: invalid escape sequence: `\\1`");
  CHECK(syntax_error(R"(a\C)") == "error parsing regexp: invalid escape sequence: `\\C`");
  CHECK(syntax_error("a\\") == "error parsing regexp: trailing backslash at end of expression: ``");
  CHECK(syntax_error("(?=a)") == "error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
  CHECK(syntax_error("(?z)a") == "error parsing regexp: invalid or unsupported Perl syntax: `(?z`");
  CHECK(syntax_error("[z-a]") == "error parsing regexp: invalid character class range: `z-a`");
  CHECK(syntax_error(R"(\p{Foo})") ==
        "error parsing regexp: invalid character class range: `\\p{Foo}`");
  CHECK(syntax_error("(?P<>a)") == "error parsing regexp: invalid named capture: `(?P<>`");
  CHECK(syntax_error("a\xff") == "error parsing regexp: invalid UTF-8: `a\xff`");
}

TEST_CASE("regex size is bounded") {
  RegexError long_pattern = compile_error(std::string(Regex::kMaxPatternBytes + 1, 'a'));
  CHECK(long_pattern.code == RegexError::Code::too_long);
  CHECK(long_pattern.message == "error parsing regexp: pattern longer than 1024 bytes");
  RegexError large = compile_error(".{1000}");
  CHECK(large.code == RegexError::Code::too_large);
  CHECK(large.message == "error parsing regexp: expression too large: `.{1000}`");
  CHECK(compile_error(R"(\pL{1000})").code == RegexError::Code::too_large);
  CHECK(compile_error("(a{1000}){1000}").code == RegexError::Code::syntax);
  RegexError error;
  CHECK(Regex::compile(std::string(Regex::kMaxPatternBytes, 'a'), error));
  CHECK(Regex::compile("a{1000}", error));
  CHECK(Regex::compile(R"(\pL+)", error));
  // Deep nesting within the length limit compiles without exhausting the stack.
  std::string deep = std::string(500, '(') + "a" + std::string(500, ')');
  CHECK(Regex::compile(deep, error));
}

TEST_CASE("refused patterns are counted by reason") {
  const uint64_t syntax = Regex::refused(RegexError::Code::syntax);
  const uint64_t too_long = Regex::refused(RegexError::Code::too_long);
  const uint64_t too_large = Regex::refused(RegexError::Code::too_large);
  compile_error("(");
  compile_error(std::string(Regex::kMaxPatternBytes + 1, 'a'));
  compile_error(".{1000}");
  CHECK(Regex::refused(RegexError::Code::syntax) == syntax + 1);
  CHECK(Regex::refused(RegexError::Code::too_long) == too_long + 1);
  CHECK(Regex::refused(RegexError::Code::too_large) == too_large + 1);
}

TEST_CASE("regex matching is linear on patterns that make backtracking explode") {
  // The pattern of issue 12: libstdc++'s backtracking regex needed minutes for a 32-character node
  // name.
  const std::string node(32, 'a');
  const std::string hex_node = "0123456789abcdef0123456789abcdef";
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(search("^([0-9a-f]|[0-9a-f])*z", hex_node));
  CHECK_FALSE(search("^(a+)+$", node + "b"));
  const std::string subject(64 * 1024, 'a');
  CHECK_FALSE(search("^(a+)+$", subject + "b"));
  CHECK_FALSE(search("(a|aa)*c", subject));
  CHECK_FALSE(search("(.*)*x", subject));
  CHECK(search("^(a|a)*$", subject));
  CHECK_FALSE(search("(x+x+)+y", std::string(4096, 'x')));
  // Near the largest program accepted, on a subject that defeats RE2's DFA cache (every
  // position a new state), so it falls back to the NFA: the worst case, about 20 us a byte.
  std::string random_ab;
  uint32_t lcg = 1;
  for (int i = 0; i < 4096; ++i) {
    lcg = lcg * 1664525u + 1013904223u;
    random_ab += (lcg >> 16) & 1 ? 'a' : 'b';
  }
  CHECK_FALSE(search("(a|b)*a(a|b){800}c", random_ab));
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(5));
  // A long subject must not exhaust the stack either.
  std::string long_subject;
  for (int i = 0; i < 100000; ++i) long_subject += "ab";
  CHECK(search("^(ab|cd)*$", long_subject));
  CHECK(groups_of("^((ab|cd)*)$", long_subject).size() == 3);
}
