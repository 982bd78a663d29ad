// SPDX-License-Identifier: GPL-2.0-only
// A SAX handler over nlohmann's DOM builder: nlohmann's parser is iterative, so the handler is
// where depth, duplicate keys and errors (with their byte position) are seen. It stops the parse
// by returning false and keeps the first problem.
#include "sim/scenario/json_reader.hpp"

#include <optional>
#include <set>
#include <vector>

#include "sim/scenario/json_schema.hpp"

namespace diosim::scenario {
namespace {

using J = nlohmann::ordered_json;

struct Position {
  size_t line = 1, column = 1;
};

// Line and column (from 1) of byte offset `byte` in `text`.
Position position_of(const std::string& text, size_t byte) {
  Position p;
  const size_t upto = std::min(byte, text.size());
  for (size_t i = 0; i < upto; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

std::string at_text(const std::string& text, size_t byte) {
  const Position p = position_of(text, byte);
  return "invalid JSON at line " + std::to_string(p.line) + " column " + std::to_string(p.column);
}

// Control characters of a message shown as spaces, newlines as \n: one error, one line.
std::string one_line(const std::string& s) {
  std::string clean;
  for (char c : s) {
    if (c == '\n')
      clean += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20)
      clean += ' ';
    else
      clean.push_back(c);
  }
  return clean;
}

// Byte offset of the bracket that opens nesting level `level` (the first one that does), found
// by scanning brackets outside strings. Used only after the parser accepted the text up to
// there, so the scan and the parser agree on what is a string.
size_t opening_of_level(const std::string& text, size_t level) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth == level) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return text.size();
}

class Reader {
public:
  using number_integer_t = J::number_integer_t;
  using number_unsigned_t = J::number_unsigned_t;
  using number_float_t = J::number_float_t;
  using string_t = J::string_t;
  using binary_t = J::binary_t;

  Reader(J& doc, const std::string& text) : dom_(doc, true), text_(text) {}

  bool null() { return value() && dom_.null(); }
  bool boolean(bool v) { return value() && dom_.boolean(v); }
  bool number_integer(number_integer_t v) { return value() && dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return value() && dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) {
    return value() && dom_.number_float(v, s);
  }
  bool string(string_t& v) { return value() && dom_.string(v); }
  bool binary(binary_t& v) { return value() && dom_.binary(v); }
  bool start_object(size_t n) { return open(false) && dom_.start_object(n); }
  bool start_array(size_t n) { return open(true) && dom_.start_array(n); }
  bool end_object() { return close() && dom_.end_object(); }
  bool end_array() { return close() && dom_.end_array(); }

  bool key(string_t& k) {
    Frame& f = frames_.back();
    f.key = k;
    if (!f.keys.insert(k).second) {
      error_ =
          path() + ": duplicate field " + J(k).dump(-1, ' ', false, J::error_handler_t::replace);
      return false;
    }
    return dom_.key(k);
  }

  bool parse_error(size_t byte, const std::string& token, const nlohmann::detail::exception& e) {
    if (e.id == 406) { // nlohmann's "number overflow": a number beyond double's range
      const size_t start = byte >= token.size() ? byte - token.size() : 0;
      error_ = at_text(text_, start) + ": number out of range: " + one_line(token);
      return false;
    }
    // nlohmann: "[json.exception.parse_error.101] parse error at line 3, column 5: syntax
    // error ..."; the part after the position is kept, the position is recomputed as ours.
    std::string what = e.what();
    if (const size_t at = what.find("column "); at != std::string::npos)
      if (const size_t colon = what.find(": ", at); colon != std::string::npos)
        what = what.substr(colon + 2);
    error_ = at_text(text_, byte ? byte - 1 : 0) + ": " + one_line(what);
    return false;
  }

  const std::optional<std::string>& error() const { return error_; }

private:
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };

  // A value completes an array element (the index moves on).
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool open(bool array) {
    if (frames_.size() >= kMaxJsonDepth) {
      error_ = at_text(text_, opening_of_level(text_, kMaxJsonDepth + 1)) +
               ": arrays and objects nest deeper than the limit of " +
               std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    frames_.push_back({array, 0, {}, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value();
  }
  std::string path() const {
    std::string p;
    for (const Frame& f : frames_)
      p = f.array ? p + "/" + std::to_string(f.index) : json_pointer_append(p, f.key);
    return p;
  }

  nlohmann::detail::json_sax_dom_parser<J> dom_;
  const std::string& text_;
  std::vector<Frame> frames_;
  std::optional<std::string> error_;
};

} // namespace

J read_json_document(const std::string& text) {
  J doc;
  Reader reader(doc, text);
  const bool ok = J::sax_parse(text, &reader);
  if (reader.error()) throw JsonReadError(*reader.error());
  // Only Reader stops the parse, and it always says why first.
  if (!ok) throw std::logic_error("the JSON parser stopped without an error");
  return doc;
}

} // namespace diosim::scenario
