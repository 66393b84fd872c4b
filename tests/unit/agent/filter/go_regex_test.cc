#include "agent/filter/go_regex.h"

#include <doctest/doctest.h>

#include <chrono>

using namespace cairn::filter;

namespace {

bool search(std::string_view pattern, std::string_view subject) {
  std::string error;
  auto re = GoRegex::compile(pattern, error);
  REQUIRE_MESSAGE(re, error);
  return re->search(subject);
}

std::string compile_error(std::string_view pattern) {
  std::string error;
  auto re = GoRegex::compile(pattern, error);
  CHECK_FALSE(re);
  return error;
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
}

TEST_CASE("regex classes and escapes mean what they mean in Go") {
  CHECK(search(R"(^\d+$)", "8080"));
  CHECK_FALSE(search(R"(^\d+$)", "80a"));
  CHECK(search(R"(^\w+$)", "web_1"));
  CHECK_FALSE(search(R"(^\w+$)", "web-1"));
  CHECK(search(R"(^\s$)", "\t"));
  CHECK_FALSE(search(R"(^\s$)", "\v"));  // Go's \s has no \v
  CHECK(search(R"(^\S+$)", "abc"));
  CHECK(search(R"(^\D\W$)", "a-"));
  CHECK(search(R"(^1\.2\.3$)", "1.2.3"));
  CHECK_FALSE(search(R"(^1\.2$)", "102"));
  CHECK(search("^[a-c]+$", "abcabc"));
  CHECK(search("^[^a-c]+$", "xyz"));
  CHECK(search("^[]a]+$", "]a]"));  // ] first in a class is a literal
  CHECK(search("^[a-]+$", "a-"));
  CHECK(search(R"(^[\d.]+$)", "1.2"));
  CHECK(search("^[[:alpha:]]+$", "abc"));
  CHECK(search("^[[:word:]]+$", "a_1"));
  CHECK(search(R"(^\x41\x{42}\103$)", "ABC"));
  CHECK(search(R"(^\Qa.b*\E$)", "a.b*"));
  CHECK_FALSE(search(R"(^\Qa.b\E$)", "axb"));
  CHECK(search(R"(\bweb\b)", "a web b"));
  CHECK(search(R"(^\Aab\z$)", "ab"));
  CHECK(search(R"(^\-\#\ $)", "-# "));
}

TEST_CASE("regex dot matches any character but newline, as in Go") {
  CHECK(search("^a.c$", "a\rc"));  // ECMAScript's dot would not match \r
  CHECK_FALSE(search("^a.c$", "a\nc"));
  CHECK(search("(?s)^a.c$", "a\nc"));
}

TEST_CASE("regex repeats, groups and leading flags") {
  CHECK(search("^(ab)+$", "ababab"));
  CHECK(search("^a{2,3}$", "aaa"));
  CHECK_FALSE(search("^a{2,3}$", "aaaa"));
  CHECK(search("^a{2,}$", "aaaaa"));
  CHECK(search("^a{2}?$", "aa"));
  CHECK(search("^a+?b*?$", "aab"));
  CHECK(search("^a{,2}$", "a{,2}"));  // not a repeat in Go: literal text
  CHECK(search("^x{$", "x{"));
  CHECK(search("^(?:a|b)(?P<n>c)(?<m>d)$", "acd"));
  CHECK(search("(?i)^WEB$", "web"));
  CHECK(search("(?m)^b$", "a\nb\nc"));
  CHECK_FALSE(search("^b$", "a\nb\nc"));
  CHECK(search("^\xC3\xA9+$", "\xC3\xA9\xC3\xA9"));  // the repeat applies to the whole character
}

TEST_CASE("regex errors use Go's wording") {
  CHECK(compile_error("(abc") == "error parsing regexp: missing closing ): `(abc`");
  CHECK(compile_error("abc)") == "error parsing regexp: unexpected ): `abc)`");
  CHECK(compile_error("[abc") == "error parsing regexp: missing closing ]: `[abc`");
  CHECK(compile_error("*a") ==
        "error parsing regexp: missing argument to repetition operator: `*`");
  CHECK(compile_error("a**") == "error parsing regexp: invalid nested repetition operator: `**`");
  CHECK(compile_error("a{1001}") == "error parsing regexp: invalid repeat count: `{1001}`");
  CHECK(compile_error("a{3,2}") == "error parsing regexp: invalid repeat count: `{3,2}`");
  CHECK(compile_error(R"(\q)") == "error parsing regexp: invalid escape sequence: `\\q`");
  CHECK(compile_error(R"((a)\1)") == "error parsing regexp: invalid escape sequence: `\\1`");
  CHECK(compile_error("a\\") ==
        "error parsing regexp: trailing backslash at end of expression: ``");
  CHECK(compile_error("(?=a)") ==
        "error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
  CHECK(compile_error("[z-a]") == "error parsing regexp: invalid character class range: `z-a`");
  CHECK(compile_error("(?P<>a)") == "error parsing regexp: invalid named capture: `(?P<>`");
}

TEST_CASE("regex features std::regex cannot express are refused, not misread") {
  CHECK(compile_error(R"(\pL)").find("not supported") != std::string::npos);
  CHECK(compile_error("a(?i)b").find("not supported") != std::string::npos);
  CHECK(compile_error("[\xC3\xA9]").find("not supported") != std::string::npos);
  CHECK(compile_error(R"([\D])").find("not supported") != std::string::npos);
  CHECK(compile_error("[[:^alpha:]]").find("not supported") != std::string::npos);
  CHECK(compile_error("(?U)a+").find("not supported") != std::string::npos);
  CHECK(compile_error("(?z)a") ==
        "error parsing regexp: invalid or unsupported Perl syntax: `(?z`");
}

TEST_CASE("regex size is bounded") {
  CHECK(compile_error(std::string(GoRegex::kMaxPatternBytes + 1, 'a')).find("limit") !=
        std::string::npos);
  CHECK(compile_error("(a{1000}){1000}") == "error parsing regexp: expression too large");
  CHECK(compile_error("((a{30}){30}){30}") == "error parsing regexp: expression too large");
  std::string error;
  CHECK(GoRegex::compile("a{1000}", error));
  CHECK(GoRegex::compile("(a*){500}", error));  // a repeat operator counts as one more
  CHECK(compile_error("(a*){501}") == "error parsing regexp: expression too large");
}

TEST_CASE("regex matching stays fast on patterns that make backtracking explode") {
  std::string subject(4096, 'a');
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(search("^(a+)+$", subject + "b"));
  CHECK_FALSE(search("(a|aa)*c", subject));
  CHECK_FALSE(search("(.*)*x", subject));
  CHECK(search("^(a|a)*$", subject));
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(5));
  // A long subject must not exhaust the stack either.
  std::string long_subject;
  for (int i = 0; i < 100000; ++i) long_subject += "ab";
  CHECK(search("^(ab|cd)*$", long_subject));
}
