// SPDX-License-Identifier: GPL-2.0-only
// A small JSON Schema validator: the subset scenarios/schema.json uses.
//
// Owns: checking a JSON document against a schema and wording the errors for people.
// Keywords: type (a name or an array of names: object, array, string, integer, number,
// boolean, null), properties, required, additionalProperties (bool), items, enum, minimum,
// maximum, exclusiveMinimum, minItems, maxItems, minLength, pattern (std::regex ECMAScript,
// searched, so anchor it), oneOf, minProperties, maxProperties, $ref ("#/..." JSON Pointer into
// the same schema, e.g. "#/$defs/NAME"). Annotations ($schema, $id, $comment, $defs, title,
// description, default, examples) are ignored. Any other keyword is a bug in the schema and
// throws std::invalid_argument, as does a $ref that does not resolve or a bad pattern.
// Invariants: (1) errors come in document order (object members in the order the document's
// JSON type keeps them: use ordered_json to get the file's order), an object's own errors
// before its members'; (2) the result is a pure function of (schema, doc); (3) for a failed
// oneOf the errors of the alternative that matched best are reported, not just "oneOf failed".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace diosim::scenario {

struct SchemaError {
  std::string path;    // JSON Pointer into the document: "/tasks/0/ops/1/offset", "" for the root;
                       // for an unknown field, the object that holds it
  std::string message; // what was expected and what was found
  std::string schema_path =
      {}; // JSON Pointer of the failing keyword in the schema ("/$defs/x/pattern")
};

std::vector<SchemaError> validate(const nlohmann::json& schema, const nlohmann::json& doc);
std::vector<SchemaError> validate(const nlohmann::ordered_json& schema,
                                  const nlohmann::ordered_json& doc);

// Appends one reference token to a JSON Pointer ("~" -> "~0", "/" -> "~1").
std::string json_pointer_append(const std::string& pointer, const std::string& token);

} // namespace diosim::scenario
