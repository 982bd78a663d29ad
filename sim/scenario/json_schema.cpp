// SPDX-License-Identifier: GPL-2.0-only
#include "sim/scenario/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <stdexcept>

namespace diosim::scenario {

std::string json_pointer_append(const std::string& pointer, const std::string& token) {
  std::string out = pointer;
  out.push_back('/');
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out.push_back(c);
  }
  return out;
}

namespace {

constexpr int kMaxDepth = 256; // guards against a $ref cycle in the schema

bool is_integer_value(const auto& v) {
  if (v.is_number_integer()) return true; // also number_unsigned
  if (!v.is_number_float()) return false;
  const double d = v.template get<double>();
  return std::isfinite(d) && d == std::floor(d);
}

// -1, 0, 1 comparing two JSON numbers exactly when both are integers.
int compare_numbers(const auto& a, const auto& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    auto wide = [](const auto& v) -> __int128 {
      if (v.is_number_unsigned()) return static_cast<__int128>(v.template get<uint64_t>());
      return static_cast<__int128>(v.template get<int64_t>());
    };
    const __int128 x = wide(a), y = wide(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const long double x = a.is_number_float() ? a.template get<double>()
                        : a.is_number_unsigned()
                            ? static_cast<long double>(a.template get<uint64_t>())
                            : static_cast<long double>(a.template get<int64_t>());
  const long double y = b.is_number_float() ? b.template get<double>()
                        : b.is_number_unsigned()
                            ? static_cast<long double>(b.template get<uint64_t>())
                            : static_cast<long double>(b.template get<int64_t>());
  return x < y ? -1 : x > y ? 1 : 0;
}

std::string quote(const std::string& s) {
  std::string q = nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  constexpr size_t kMax = 60;
  if (q.size() > kMax) q = q.substr(0, kMax - 4) + "...\"";
  return q;
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "string \"abc\"", "integer 5", "number 1.5", "boolean true", "null", "object", "array".
std::string found(const auto& v) {
  if (v.is_string()) return "string " + quote(v.template get<std::string>());
  if (v.is_number_integer()) return "integer " + v.dump();
  if (v.is_number_float()) return "number " + v.dump();
  if (v.is_boolean()) return std::string("boolean ") + (v.template get<bool>() ? "true" : "false");
  if (v.is_null()) return "null";
  if (v.is_object()) return v.empty() ? "empty object" : "object";
  if (v.is_array())
    return v.empty() ? "empty array" : "array with " + plural(v.size(), "item", "items");
  return "value";
}

std::string value_text(const auto& v) {
  if (v.is_string()) return quote(v.template get<std::string>());
  return v.dump();
}

std::string join_alternatives(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += (i + 1 == names.size()) ? " or " : ", ";
    out += names[i];
  }
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The candidate closest to `word` when it is close enough to be a likely typo, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    const size_t limit = std::max<size_t>(1, std::min(word.size(), c.size()) / 3);
    if (d <= limit && d < best_d) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

template <class J> class Validator {
public:
  explicit Validator(const J& root) : root_(root) {}

  void check(const J& schema, const std::string& spath, const J& doc, const std::string& path,
             std::vector<SchemaError>& out, int depth) {
    if (depth > kMaxDepth) throw std::invalid_argument("schema: $ref nesting too deep at " + spath);
    if (schema.is_boolean()) {
      if (!schema.template get<bool>()) out.push_back({path, "no value is allowed here", spath});
      return;
    }
    if (!schema.is_object()) throw std::invalid_argument("schema: not an object at " + spath);
    check_keywords_known(schema, spath);

    if (auto it = schema.find("$ref"); it != schema.end()) {
      std::string target_path;
      const J& target = resolve(*it, spath, target_path);
      check(target, target_path, doc, path, out, depth + 1);
    }

    if (auto it = schema.find("type"); it != schema.end()) {
      std::vector<std::string> names;
      if (it->is_string())
        names.push_back(it->template get<std::string>());
      else if (it->is_array())
        for (const auto& n : *it)
          names.push_back(n.template get<std::string>());
      else
        throw std::invalid_argument("schema: bad type at " + spath);
      bool ok = false;
      for (const auto& n : names)
        ok = ok || type_matches(n, doc, spath);
      if (!ok) {
        out.push_back({path, "expected " + join_alternatives(names) + ", found " + found(doc),
                       spath + "/type"});
        return; // the other keywords would only repeat the problem
      }
    }

    if (auto it = schema.find("enum"); it != schema.end()) check_enum(*it, spath, doc, path, out);

    if (doc.is_number()) check_number(schema, spath, doc, path, out);
    if (doc.is_string()) check_string(schema, spath, doc, path, out);
    if (doc.is_array()) check_array(schema, spath, doc, path, out, depth);
    if (doc.is_object()) check_object(schema, spath, doc, path, out, depth);

    if (auto it = schema.find("oneOf"); it != schema.end())
      check_one_of(*it, spath + "/oneOf", doc, path, out, depth);
  }

private:
  const J& root_;
  std::map<std::string, std::regex> regexes_;

  static void check_keywords_known(const J& schema, const std::string& spath) {
    static const char* const kKnown[] = {"type",
                                         "properties",
                                         "required",
                                         "additionalProperties",
                                         "items",
                                         "enum",
                                         "minimum",
                                         "maximum",
                                         "exclusiveMinimum",
                                         "minItems",
                                         "maxItems",
                                         "minLength",
                                         "pattern",
                                         "oneOf",
                                         "minProperties",
                                         "maxProperties",
                                         "$ref",
                                         "$schema",
                                         "$id",
                                         "$comment",
                                         "$defs",
                                         "title",
                                         "description",
                                         "default",
                                         "examples"};
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      if (std::find_if(std::begin(kKnown), std::end(kKnown),
                       [&](const char* k) { return it.key() == k; }) == std::end(kKnown))
        throw std::invalid_argument("schema: unsupported keyword \"" + it.key() + "\" at " + spath);
    }
  }

  const J& resolve(const J& ref, const std::string& spath, std::string& target_path) const {
    if (!ref.is_string()) throw std::invalid_argument("schema: $ref is not a string at " + spath);
    const std::string s = ref.template get<std::string>();
    if (s.empty() || s[0] != '#')
      throw std::invalid_argument("schema: only local $ref (\"#/...\") is supported at " + spath);
    target_path = s.substr(1);
    try {
      const typename J::json_pointer ptr(target_path);
      if (!root_.contains(ptr)) throw std::invalid_argument("");
      return root_.at(ptr);
    } catch (const std::exception&) {
      throw std::invalid_argument("schema: $ref \"" + s + "\" does not resolve at " + spath);
    }
  }

  // Follows $ref to the schema that states `key`, or nullptr.
  const J* find_through_refs(const J& schema, const char* key, int depth = 0) const {
    if (!schema.is_object() || depth > kMaxDepth) return nullptr;
    if (auto it = schema.find(key); it != schema.end()) return &*it;
    if (auto it = schema.find("$ref"); it != schema.end()) {
      std::string ignored;
      return find_through_refs(resolve(*it, "", ignored), key, depth + 1);
    }
    return nullptr;
  }

  static bool type_matches(const std::string& name, const J& doc, const std::string& spath) {
    if (name == "object") return doc.is_object();
    if (name == "array") return doc.is_array();
    if (name == "string") return doc.is_string();
    if (name == "integer") return is_integer_value(doc);
    if (name == "number") return doc.is_number();
    if (name == "boolean") return doc.is_boolean();
    if (name == "null") return doc.is_null();
    throw std::invalid_argument("schema: unknown type \"" + name + "\" at " + spath);
  }

  void check_enum(const J& allowed, const std::string& spath, const J& doc, const std::string& path,
                  std::vector<SchemaError>& out) {
    if (!allowed.is_array())
      throw std::invalid_argument("schema: enum is not an array at " + spath);
    for (const auto& a : allowed)
      if (a == doc) return;
    std::string msg;
    if (allowed.size() == 1) {
      msg = "expected " + value_text(allowed[0]);
    } else {
      msg = "expected one of ";
      for (size_t i = 0; i < allowed.size(); ++i)
        msg += (i ? ", " : "") + value_text(allowed[i]);
    }
    msg += ", found " + found(doc);
    if (doc.is_string()) {
      std::vector<std::string> names;
      for (const auto& a : allowed)
        if (a.is_string()) names.push_back(a.template get<std::string>());
      const std::string guess = did_you_mean(doc.template get<std::string>(), names);
      if (!guess.empty()) msg += "; did you mean " + quote(guess) + "?";
    }
    out.push_back({path, msg, spath + "/enum"});
  }

  void check_number(const J& schema, const std::string& spath, const J& doc,
                    const std::string& path, std::vector<SchemaError>& out) {
    if (auto it = schema.find("minimum"); it != schema.end() && compare_numbers(doc, *it) < 0)
      out.push_back(
          {path, "expected at least " + it->dump() + ", found " + doc.dump(), spath + "/minimum"});
    if (auto it = schema.find("exclusiveMinimum");
        it != schema.end() && compare_numbers(doc, *it) <= 0)
      out.push_back({path, "expected more than " + it->dump() + ", found " + doc.dump(),
                     spath + "/exclusiveMinimum"});
    if (auto it = schema.find("maximum"); it != schema.end() && compare_numbers(doc, *it) > 0)
      out.push_back(
          {path, "expected at most " + it->dump() + ", found " + doc.dump(), spath + "/maximum"});
  }

  void check_string(const J& schema, const std::string& spath, const J& doc,
                    const std::string& path, std::vector<SchemaError>& out) {
    const std::string s = doc.template get<std::string>();
    if (auto it = schema.find("minLength"); it != schema.end()) {
      uint64_t code_points = 0;
      for (unsigned char c : s)
        code_points += (c & 0xC0) != 0x80;
      const uint64_t min = it->template get<uint64_t>();
      if (code_points < min)
        out.push_back({path,
                       "expected at least " + plural(min, "character", "characters") + ", found " +
                           found(doc),
                       spath + "/minLength"});
    }
    if (auto it = schema.find("pattern"); it != schema.end()) {
      const std::string pattern = it->template get<std::string>();
      if (!std::regex_search(s, regex(pattern, spath)))
        out.push_back({path, "expected a string matching " + pattern + ", found " + found(doc),
                       spath + "/pattern"});
    }
  }

  const std::regex& regex(const std::string& pattern, const std::string& spath) {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end()) {
      try {
        auto flags = std::regex::ECMAScript;
#ifdef __GLIBCXX__
        // libstdc++'s default backtracking executor recurses once per input character and
        // overflows the stack on strings of a few ten thousand characters (long byte runs);
        // its breadth-first executor does not. Our patterns use no back-references.
        flags |= std::regex_constants::__polynomial;
#endif
        it = regexes_.emplace(pattern, std::regex(pattern, flags)).first;
      } catch (const std::regex_error& e) {
        throw std::invalid_argument("schema: bad pattern at " + spath + ": " + e.what());
      }
    }
    return it->second;
  }

  void check_array(const J& schema, const std::string& spath, const J& doc, const std::string& path,
                   std::vector<SchemaError>& out, int depth) {
    if (auto it = schema.find("minItems"); it != schema.end()) {
      const uint64_t min = it->template get<uint64_t>();
      if (doc.size() < min)
        out.push_back({path,
                       "expected at least " + plural(min, "item", "items") + ", found " +
                           std::to_string(doc.size()),
                       spath + "/minItems"});
    }
    if (auto it = schema.find("maxItems"); it != schema.end()) {
      const uint64_t max = it->template get<uint64_t>();
      if (doc.size() > max)
        out.push_back({path,
                       "expected at most " + plural(max, "item", "items") + ", found " +
                           std::to_string(doc.size()),
                       spath + "/maxItems"});
    }
    if (auto it = schema.find("items"); it != schema.end()) {
      for (size_t i = 0; i < doc.size(); ++i)
        check(*it, spath + "/items", doc[i], path + "/" + std::to_string(i), out, depth + 1);
    }
  }

  void check_object(const J& schema, const std::string& spath, const J& doc,
                    const std::string& path, std::vector<SchemaError>& out, int depth) {
    if (auto it = schema.find("minProperties"); it != schema.end()) {
      const uint64_t min = it->template get<uint64_t>();
      if (doc.size() < min)
        out.push_back({path,
                       "expected at least " + plural(min, "field", "fields") + ", found " +
                           std::to_string(doc.size()),
                       spath + "/minProperties"});
    }
    if (auto it = schema.find("maxProperties"); it != schema.end()) {
      const uint64_t max = it->template get<uint64_t>();
      if (doc.size() > max)
        out.push_back({path,
                       "expected at most " + plural(max, "field", "fields") + ", found " +
                           std::to_string(doc.size()),
                       spath + "/maxProperties"});
    }
    if (auto it = schema.find("required"); it != schema.end()) {
      for (const auto& r : *it) {
        const std::string name = r.template get<std::string>();
        if (!doc.contains(name))
          out.push_back({path, "missing required field \"" + name + "\"", spath + "/required"});
      }
    }
    const auto props = schema.find("properties");
    const bool have_props = props != schema.end();
    const auto additional = schema.find("additionalProperties");
    bool closed = false;
    const J* member_schema = nullptr; // additionalProperties as a schema: every other member's
    if (additional != schema.end()) {
      if (additional->is_object())
        member_schema = &*additional;
      else if (!additional->is_boolean())
        throw std::invalid_argument(
            "schema: additionalProperties must be a boolean or a schema at " + spath);
      else
        closed = !additional->template get<bool>();
    }
    for (auto m = doc.begin(); m != doc.end(); ++m) {
      const std::string member_path = json_pointer_append(path, m.key());
      if (have_props) {
        if (auto p = props->find(m.key()); p != props->end()) {
          check(*p, json_pointer_append(spath + "/properties", m.key()), m.value(), member_path,
                out, depth + 1);
          continue;
        }
      }
      if (member_schema) {
        check(*member_schema, spath + "/additionalProperties", m.value(), member_path, out,
              depth + 1);
        continue;
      }
      if (closed) {
        std::vector<std::string> names;
        if (have_props)
          for (auto p = props->begin(); p != props->end(); ++p)
            names.push_back(p.key());
        std::string msg = "unknown field " + quote(m.key()) + " (allowed: ";
        for (size_t i = 0; i < names.size(); ++i)
          msg += (i ? ", " : "") + names[i];
        msg += names.empty() ? "none)" : ")";
        const std::string guess = did_you_mean(m.key(), names);
        if (!guess.empty()) msg += "; did you mean " + quote(guess) + "?";
        out.push_back({path, msg, spath + "/additionalProperties"});
      }
    }
  }

  std::string label(const J& branch, size_t index) const {
    for (const char* key : {"title", "description"})
      if (const J* d = find_through_refs(branch, key); d && d->is_string())
        return d->template get<std::string>();
    return "alternative " + std::to_string(index + 1);
  }

  // The JSON types the oneOf branches accept, each once, in branch order.
  std::vector<std::string> branch_types(const J& branches) const {
    std::vector<std::string> types;
    for (const auto& b : branches) {
      const J* t = find_through_refs(b, "type");
      std::vector<std::string> names;
      if (t && t->is_string())
        names.push_back(t->template get<std::string>());
      else if (t && t->is_array())
        for (const auto& n : *t)
          names.push_back(n.template get<std::string>());
      for (const auto& n : names)
        if (std::find(types.begin(), types.end(), n) == types.end()) types.push_back(n);
    }
    return types;
  }

  void check_one_of(const J& branches, const std::string& spath, const J& doc,
                    const std::string& path, std::vector<SchemaError>& out, int depth) {
    if (!branches.is_array() || branches.empty())
      throw std::invalid_argument("schema: oneOf must be a non-empty array at " + spath);
    std::vector<std::vector<SchemaError>> errs(branches.size());
    std::vector<size_t> passing;
    for (size_t i = 0; i < branches.size(); ++i) {
      check(branches[i], spath + "/" + std::to_string(i), doc, path, errs[i], depth + 1);
      if (errs[i].empty()) passing.push_back(i);
    }
    if (passing.size() == 1) return;
    if (passing.size() > 1) {
      std::string msg = "matches more than one allowed form, expected exactly one; it matches: ";
      for (size_t k = 0; k < passing.size(); ++k)
        msg += (k ? "; " : "") + label(branches[passing[k]], passing[k]);
      out.push_back({path, msg, spath});
      return;
    }

    // No branch matched. A branch that rejects the value's type outright matched least.
    auto rejects_type = [&](const std::vector<SchemaError>& e) {
      return e.size() == 1 && e[0].path == path && e[0].schema_path.size() >= 5 &&
             e[0].schema_path.compare(e[0].schema_path.size() - 5, 5, "/type") == 0;
    };
    std::vector<size_t> candidates;
    for (size_t i = 0; i < branches.size(); ++i)
      if (!rejects_type(errs[i])) candidates.push_back(i);
    if (candidates.empty()) {
      out.push_back(
          {path, "expected " + join_alternatives(branch_types(branches)) + ", found " + found(doc),
           spath});
      return;
    }
    size_t best = SIZE_MAX;
    for (size_t i : candidates)
      best = std::min(best, errs[i].size());
    std::vector<size_t> tied;
    for (size_t i : candidates)
      if (errs[i].size() == best) tied.push_back(i);
    if (tied.size() == 1) {
      out.insert(out.end(), errs[tied[0]].begin(), errs[tied[0]].end());
      return;
    }
    // Several alternatives fail equally. "missing one of the fields" when each lacks one field.
    const std::string missing = "missing required field ";
    bool all_missing = true;
    for (size_t i : tied)
      all_missing = all_missing && errs[i].size() == 1 && errs[i][0].path == path &&
                    errs[i][0].message.compare(0, missing.size(), missing) == 0;
    if (all_missing) {
      std::string msg = "missing one of the fields ";
      for (size_t k = 0; k < tied.size(); ++k)
        msg += (k ? ", " : "") + errs[tied[k]][0].message.substr(missing.size());
      out.push_back({path, msg, spath});
      return;
    }
    std::string msg = "does not match any allowed form: ";
    for (size_t k = 0; k < tied.size(); ++k) {
      const SchemaError& e = errs[tied[k]][0];
      msg += (k ? "; " : "") + label(branches[tied[k]], tied[k]) + ": ";
      if (e.path != path) msg += e.path.substr(path.size()) + ": ";
      msg += e.message;
    }
    out.push_back({path, msg, spath});
  }
};

template <class J> std::vector<SchemaError> validate_impl(const J& schema, const J& doc) {
  std::vector<SchemaError> out;
  Validator<J> v(schema);
  v.check(schema, "", doc, "", out, 0);
  return out;
}

} // namespace

std::vector<SchemaError> validate(const nlohmann::json& schema, const nlohmann::json& doc) {
  return validate_impl(schema, doc);
}

std::vector<SchemaError> validate(const nlohmann::ordered_json& schema,
                                  const nlohmann::ordered_json& doc) {
  return validate_impl(schema, doc);
}

} // namespace diosim::scenario
