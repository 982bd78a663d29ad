// SPDX-License-Identifier: GPL-2.0-only
// House rule: no function outside sim/dio/ (the kernel port keeps the kernel's function shapes)
// is longer than kMaxFunctionLines. Scans every .cpp/.hpp under sim/, model/, cli/, viz/ and
// bench/ and names file:line, function and length of each offender.
//
// How a function is found (the code is clang-formatted): comments, string and character
// literals and preprocessor lines are blanked; then every `{` at file, namespace or class scope
// that follows a head with a parenthesis (and is not a struct/class/union/enum/namespace) opens
// a function body. Everything inside it, lambdas included, belongs to that function. Length =
// line of the closing `}` - line of the opening `{` + 1.
//
// kPendingSplit lists the offenders in files this change could not edit; each entry must still
// be too long, so the list cannot rot.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr int kMaxFunctionLines = 70;

const fs::path kRoot = fs::path(DIOSIM_TEST_DIR).parent_path();

// Too long today, in files owned by other work in progress; split them, then delete the entry.
struct PendingSplit {
  const char* file;     // relative to the repository root
  const char* function; // as the checker names it
};
const std::vector<PendingSplit> kPendingSplit = {};

struct FunctionSpan {
  std::string name;
  int first_line = 0; // of the opening brace
  int lines = 0;
};

bool is_ident(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Blanks a raw string R"d( ... )d" starting at `i` (the R); returns the index after it.
size_t blank_raw_string(std::string& s, size_t i) {
  const size_t open = s.find('(', i + 2);
  if (open == std::string::npos) return s.size();
  const std::string close = ")" + s.substr(i + 2, open - i - 2) + "\"";
  const size_t end = s.find(close, open);
  const size_t stop = end == std::string::npos ? s.size() : end + close.size();
  for (size_t k = i; k < stop; ++k)
    if (s[k] != '\n') s[k] = ' ';
  return stop;
}

// Blanks a quoted literal starting at `i` (the quote); returns the index after it.
size_t blank_quoted(std::string& s, size_t i) {
  const char quote = s[i];
  size_t k = i + 1;
  while (k < s.size() && s[k] != quote && s[k] != '\n')
    k += s[k] == '\\' ? 2 : 1;
  const size_t stop = std::min(k + 1, s.size());
  for (size_t j = i; j < stop; ++j)
    if (s[j] != '\n') s[j] = ' ';
  return stop;
}

// Blanks a comment starting at `i`; returns the index after it. Newlines stay.
size_t blank_comment(std::string& s, size_t i) {
  const bool line = s[i + 1] == '/';
  size_t stop = line ? s.find('\n', i) : s.find("*/", i + 2);
  stop = stop == std::string::npos ? s.size() : (line ? stop : stop + 2);
  for (size_t k = i; k < stop; ++k)
    if (s[k] != '\n') s[k] = ' ';
  return stop;
}

// Preprocessor lines (with their continuations) hold no function bodies.
void blank_preprocessor(std::string& s) {
  bool in_directive = false;
  size_t line_start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != '\n') continue;
    const size_t first = s.find_first_not_of(" \t", line_start);
    const bool starts = first < i && s[first] == '#';
    if (in_directive || starts) {
      in_directive = i > line_start && s[i - 1] == '\\';
      for (size_t k = line_start; k < i; ++k)
        s[k] = ' ';
    }
    line_start = i + 1;
  }
}

// The source with comments, literals and preprocessor lines blanked; line breaks kept.
std::string code_only(std::string s) {
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    const bool digit_separator =
        c == '\'' && i > 0 && std::isxdigit(static_cast<unsigned char>(s[i - 1])) &&
        i + 1 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1]));
    if (c == '/' && i + 1 < s.size() && (s[i + 1] == '/' || s[i + 1] == '*'))
      i = blank_comment(s, i);
    else if (c == 'R' && i + 1 < s.size() && s[i + 1] == '"' && (i == 0 || !is_ident(s[i - 1])))
      i = blank_raw_string(s, i);
    else if ((c == '"' || c == '\'') && !digit_separator)
      i = blank_quoted(s, i);
    else
      ++i;
  }
  blank_preprocessor(s);
  return s;
}

std::string first_word(const std::string& head) {
  size_t i = head.find_first_not_of(" \t\n");
  if (i == std::string::npos) return "";
  // Skip a leading `template <...>`: its brackets may hold the word "class".
  if (head.compare(i, 8, "template") == 0) {
    int depth = 0;
    for (i = head.find('<', i); i < head.size(); ++i) {
      depth += head[i] == '<' ? 1 : head[i] == '>' ? -1 : 0;
      if (depth == 0) break;
    }
    i = head.find_first_not_of(" \t\n", i + 1);
    if (i == std::string::npos) return "";
  }
  size_t end = i;
  while (end < head.size() && is_ident(head[end]))
    ++end;
  return head.substr(i, end - i);
}

bool opens_scope_of_declarations(const std::string& head) {
  const std::string w = first_word(head);
  return w == "namespace" || w == "struct" || w == "class" || w == "union" || w == "extern";
}

// The name before the head's first parenthesis: "build", "Errors::add", "S<int>::h",
// "operator()", "operator==", or "lambda" for a lambda initializer at namespace scope.
std::string function_name(const std::string& head) {
  const size_t open = head.find('(');
  if (open >= 8 && head.compare(open - 8, 10, "operator()") == 0) return "operator()";
  size_t end = open;
  while (end > 0 && std::isspace(static_cast<unsigned char>(head[end - 1])))
    --end;
  if (end > 0 && head[end - 1] == ']') return "lambda";
  size_t begin = end;
  while (begin > 0 && std::string("=!<>+-*/%&|^~[]").find(head[begin - 1]) != std::string::npos)
    --begin;
  if (begin < 8 || head.compare(begin - 8, 8, "operator") != 0) begin = end; // not an operator
  while (begin > 0 && (is_ident(head[begin - 1]) ||
                       std::string(":~<>,").find(head[begin - 1]) != std::string::npos))
    --begin;
  return begin == end ? "lambda" : head.substr(begin, end - begin);
}

enum class Scope { declarations, function, other };

struct Scanner {
  std::vector<Scope> stack; // empty: file scope
  std::string head;         // text since the last ; { or } in a scope of declarations
  int paren_depth = 0;
  int line = 1;
  int function_start = 0;
  size_t function_depth = 0;
  std::string function;
  std::vector<FunctionSpan> found;

  bool in_declarations() const { return stack.empty() || stack.back() == Scope::declarations; }

  void open_brace(char before) {
    if (!in_declarations()) {
      stack.push_back(Scope::other);
      return;
    }
    const bool body = paren_depth == 0 && head.find('(') != std::string::npos &&
                      std::isspace(static_cast<unsigned char>(before)) &&
                      !opens_scope_of_declarations(head) && first_word(head) != "enum";
    if (body) {
      function = function_name(head);
      function_start = line;
      function_depth = stack.size() + 1;
      stack.push_back(Scope::function);
      head.clear();
    } else if (opens_scope_of_declarations(head)) {
      stack.push_back(Scope::declarations);
      head.clear();
    } else {
      // An initializer or enum: the head goes on (`S(int a) : v_{a}, w_(a) {` is one head).
      stack.push_back(Scope::other);
    }
  }

  void close_brace() {
    if (stack.empty()) return; // unbalanced; the compiler would have complained
    if (stack.back() == Scope::function && stack.size() == function_depth)
      found.push_back({function, function_start, line - function_start + 1});
    const Scope closed = stack.back();
    stack.pop_back();
    if (closed != Scope::other) head.clear();
  }

  void feed(char c, char before) {
    if (c == '\n') ++line;
    if (c == '{') return open_brace(before);
    if (c == '}') return close_brace();
    if (!in_declarations()) return;
    if (c == ';' && paren_depth == 0) {
      head.clear();
      return;
    }
    paren_depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    head.push_back(c);
  }
};

// Every function body in `source` (C++ text), with its length in lines.
std::vector<FunctionSpan> functions_in(const std::string& source) {
  const std::string code = code_only(source);
  Scanner s;
  for (size_t i = 0; i < code.size(); ++i)
    s.feed(code[i], i ? code[i - 1] : '\n');
  return s.found;
}

bool scanned(const fs::path& rel) {
  const std::string r = rel.generic_string();
  const std::string ext = rel.extension().string();
  if (ext != ".cpp" && ext != ".hpp") return false;
  if (r.rfind("sim/dio/", 0) == 0) return false; // the port keeps the kernel's shapes
  for (const char* top : {"sim/", "model/", "cli/", "viz/", "bench/"})
    if (r.rfind(top, 0) == 0) return true;
  return false;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Offender {
  std::string file;
  FunctionSpan span;
};

// Every function longer than the limit, in file order (files sorted by path).
std::vector<Offender> offenders_in_tree() {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(kRoot)) {
    const fs::path rel = fs::relative(e.path(), kRoot);
    if (e.is_regular_file() && scanned(rel)) files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  std::vector<Offender> out;
  for (const fs::path& rel : files)
    for (const FunctionSpan& f : functions_in(read_file(kRoot / rel)))
      if (f.lines > kMaxFunctionLines) out.push_back({rel.generic_string(), f});
  return out;
}

bool pending(const Offender& o) {
  return std::any_of(kPendingSplit.begin(), kPendingSplit.end(), [&](const PendingSplit& p) {
    return o.file == p.file && o.span.name == p.function;
  });
}

// A function of `lines` lines, body lines included, as clang-format lays it out.
std::string synthetic_function(const std::string& name, int lines) {
  std::string s = "namespace x {\nint " + name + "(int a) {\n";
  for (int i = 0; i < lines - 2; ++i)
    s += "  a += " + std::to_string(i) + "; // { not a brace\n";
  return s + "}\n} // namespace x\n";
}

} // namespace

TEST_CASE("function length: the checker finds a 71-line function and accepts a 70-line one") {
  const auto long_one = functions_in(synthetic_function("too_long", 71));
  REQUIRE(long_one.size() == 1);
  CHECK(long_one[0].name == "too_long");
  CHECK(long_one[0].first_line == 2);
  CHECK(long_one[0].lines == 71);
  CHECK(long_one[0].lines > kMaxFunctionLines);
  const auto ok = functions_in(synthetic_function("just_fits", 70));
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].lines == 70);
  CHECK(ok[0].lines <= kMaxFunctionLines);
}

TEST_CASE("function length: members, lambdas, literals and non-functions") {
  const std::string text = "// SPDX\n"
                           "#define M(x) { x }\n"
                           "template <class T> struct S {\n"
                           "  enum class K : int { a, b };\n"
                           "  int f() const { return 1; }\n"
                           "  S(int a) : v_{a}, w_(\"}\") {\n"
                           "    auto g = [&](int b) {\n"
                           "      return b + '}';\n"
                           "    };\n"
                           "  }\n"
                           "  bool operator()(int x) { return R\"d( } )d\"[0] == x; }\n"
                           "};\n"
                           "constexpr int kTable[] = {1, 2'000};\n"
                           "int S<int>::h(int q) {\n  return q;\n}\n";
  const auto f = functions_in(text);
  REQUIRE(f.size() == 4);
  CHECK(f[0].name == "f");
  CHECK(f[1].name == "S");
  CHECK(f[1].lines == 5);
  CHECK(f[2].name == "operator()");
  CHECK(f[3].name == "S<int>::h");
  CHECK(f[3].first_line == 14);
  CHECK(f[3].lines == 3);
}

TEST_CASE("function length: no function outside sim/dio/ is longer than 70 lines") {
  std::vector<Offender> all = offenders_in_tree();
  for (const Offender& o : all) {
    if (pending(o)) continue;
    std::ostringstream why;
    why << o.file << ":" << o.span.first_line << ": " << o.span.name << " is " << o.span.lines
        << " lines long (at most " << kMaxFunctionLines << "); split it";
    FAIL_CHECK(why.str());
  }
}

TEST_CASE("function length: every kPendingSplit entry is still too long") {
  const std::vector<Offender> all = offenders_in_tree();
  for (const PendingSplit& p : kPendingSplit) {
    const bool still = std::any_of(all.begin(), all.end(), [&](const Offender& o) {
      return o.file == p.file && o.span.name == p.function;
    });
    const std::string why = std::string(p.file) + ": " + p.function +
                            " is no longer too long (or gone); remove it from kPendingSplit";
    CHECK_MESSAGE(still, why);
  }
}
