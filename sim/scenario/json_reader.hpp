// SPDX-License-Identifier: GPL-2.0-only
// Reading the text of a scenario file into a JSON document, with the limits a file from anyone
// must respect.
//
// Owns: strict JSON syntax (nlohmann's lexer), duplicate object keys (an error, not "last one
// wins"), a nesting limit, and numbers out of double range; each problem worded for people with
// the line and column (or, for a duplicate key, the JSON path).
// Invariants: (1) the document is never nested deeper than kMaxJsonDepth, so everything that
// walks it recursively (the schema validator, copies, dumps) has a bounded stack; (2) every
// failure is a JsonReadError, never another exception and never a crash, whatever the bytes;
// (3) object members keep the file's order.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace diosim::scenario {

// Arrays and objects nest at most this deep (the top-level object is depth 1). Scenarios need
// about 8; the limit keeps recursive walks far from the stack's end, also under ASan.
inline constexpr size_t kMaxJsonDepth = 64;

// What is wrong with the text, without the file name: "invalid JSON at line 3 column 5: ...",
// or "/tasks/0: duplicate field \"name\"".
class JsonReadError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

nlohmann::ordered_json read_json_document(const std::string& text);

} // namespace diosim::scenario
