#include "common/payload.h"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <variant>

#include "common/json_parse.h"
#include "common/log.h"
#include "common/python_repr.h"

namespace cjs {
namespace {

// ---------------------------------------------------------------------------
// The reference's JSON schema, validated the way jsonschema does it:
// iter_errors in schema keyword order, then best_match. We follow jsonschema
// >= 4.22 (the reference dates from 2025), whose relevance key includes the
// path itself: of several wrong properties the alphabetically LAST is
// reported, and of several bad python_path items the first. 4.10 (Debian 12)
// reported the first wrong property instead; single errors read the same.

using PathElem = std::variant<std::string, std::size_t>;
using Path = std::vector<PathElem>;

struct SchemaError {
  Path relative_path = {};  // relative to the parent error's instance, like error.path
  bool weak = false;        // anyOf/oneOf
  bool matches_type = false;
  // error.message is repr(*instance) + message_suffix, or just message_suffix
  // when `instance` is null. It is only built for the error best_match reports:
  // the repr of a large instance is as large as the payload.
  const json::Value* instance = nullptr;
  std::string message_suffix = {};
  std::vector<SchemaError> context = {};
};

std::string message_of(const SchemaError& e) {
  if (e.instance == nullptr) return e.message_suffix;
  return python_value_repr(*e.instance) + e.message_suffix;
}

// jsonschema.exceptions.relevance: (-len(path), path, not weak, in strong,
// not matches_type). Nothing is "strong" by default.
auto relevance(const SchemaError& e) {
  return std::make_tuple(-static_cast<long>(e.relative_path.size()), std::cref(e.relative_path),
                         !e.weak, !e.matches_type);
}

bool less_relevant(const SchemaError& a, const SchemaError& b) {
  return relevance(a) < relevance(b);
}

bool same_relevance(const SchemaError& a, const SchemaError& b) {
  return relevance(a) == relevance(b);
}

bool is_of_type(const json::Value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "array") return v.is_array();
  return v.is_null();  // "null"
}

// {"type": <type>} as a (possibly absent) error.
void check_type(const json::Value& v, std::string_view type, Path path,
                std::vector<SchemaError>& errors) {
  if (is_of_type(v, type)) return;
  errors.push_back({.relative_path = std::move(path),
                    .instance = &v,
                    .message_suffix = " is not of type '" + std::string(type) + "'"});
}

// {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
// when `allow_array`, else {"anyOf": [{"type": "string"}, {"type": "null"}]}.
void check_any_of(const json::Value& v, bool allow_array, std::string key,
                  std::vector<SchemaError>& errors) {
  if (v.is_null()) return;  // the second alternative matches
  std::vector<SchemaError> context;
  if (allow_array && v.is_array()) {
    // jsonschema yields one error per non-string item, but only the first can
    // ever be reported: if this anyOf error is the best match, best_match
    // descends into the least relevant error of its context. Every item error
    // has relevance (-1, [i], True, True), below the null alternative's
    // (0, [], ...), so the least relevant is the one with the smallest index,
    // and it never ties with the next one (a different index, or the null
    // error's shorter path). The rest would only cost memory: one error per
    // item of an array of millions.
    const auto& items = v.as_array();
    const auto bad = std::find_if(items.begin(), items.end(),
                                  [](const json::Value& item) { return !item.is_string(); });
    if (bad != items.end()) {
      check_type(*bad, "string", {static_cast<std::size_t>(bad - items.begin())}, context);
    }
  } else {
    check_type(v, allow_array ? "array" : "string", {}, context);
  }
  if (context.empty()) return;  // the first alternative matches
  check_type(v, "null", {}, context);
  errors.push_back({.relative_path = {std::move(key)},
                    .weak = true,
                    .instance = &v,
                    .message_suffix = " is not valid under any of the given schemas",
                    .context = std::move(context)});
}

std::vector<SchemaError> iter_errors(const json::Value& root) {
  std::vector<SchemaError> errors;
  if (!root.is_object()) {
    // "properties" and "required" ignore non-objects.
    check_type(root, "object", {}, errors);
    return errors;
  }
  const auto& object = root.as_object();
  if (const auto* v = json::find_member(object, "code")) check_type(*v, "string", {"code"}, errors);
  if (const auto* v = json::find_member(object, "globals_dict")) {
    check_type(*v, "object", {"globals_dict"}, errors);
  }
  if (const auto* v = json::find_member(object, "python_path")) {
    check_any_of(*v, true, "python_path", errors);
  }
  if (const auto* v = json::find_member(object, "limit_overrides_context")) {
    check_any_of(*v, false, "limit_overrides_context", errors);
  }
  if (const auto* v = json::find_member(object, "slug")) check_any_of(*v, false, "slug", errors);
  if (const auto* v = json::find_member(object, "unsafely")) {
    check_type(*v, "boolean", {"unsafely"}, errors);
  }
  for (const char* name : {"code", "globals_dict"}) {
    if (json::find_member(object, name) == nullptr) {
      // The root schema's type ("object") matches, which lowers relevance.
      errors.push_back({.matches_type = true,
                        .message_suffix = "'" + std::string(name) + "' is a required property"});
    }
  }
  return errors;
}

std::string json_path(const Path& path) {
  std::string out = "$";
  for (const auto& elem : path) {
    if (const auto* index = std::get_if<std::size_t>(&elem)) {
      out += '[' + std::to_string(*index) + ']';
    } else {
      out += '.' + std::get<std::string>(elem);
    }
  }
  return out;
}

// jsonschema.exceptions.best_match, returning "<json_path>: <message>".
std::optional<std::string> best_match(const std::vector<SchemaError>& errors) {
  if (errors.empty()) return std::nullopt;
  // max() keeps the first of equally relevant errors.
  const SchemaError* best = &errors.front();
  for (const auto& e : errors) {
    if (less_relevant(*best, e)) best = &e;
  }
  Path absolute = best->relative_path;
  // Inside a context the LEAST relevant error is followed (heapq.nsmallest),
  // unless the two least relevant ones tie.
  while (!best->context.empty()) {
    std::vector<const SchemaError*> sorted;
    for (const auto& e : best->context) sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(), [](const SchemaError* a, const SchemaError* b) {
      return less_relevant(*a, *b);
    });
    if (sorted.size() >= 2 && same_relevance(*sorted[0], *sorted[1])) break;
    best = sorted[0];
    absolute.insert(absolute.end(), best->relative_path.begin(), best->relative_path.end());
  }
  return json_path(absolute) + ": " + message_of(*best);
}

PayloadCheck refuse(std::string message, std::string telemetry, std::string log_line = {}) {
  PayloadCheck check;
  check.error.http_status = 400;
  check.error.message = std::move(message);
  check.error.telemetry_status = std::move(telemetry);
  check.error.log_line = std::move(log_line);
  return check;
}

// Distinct entries other than "python_lib.zip", in first-seen order. A hash
// set, not a scan of `bad`: python_path may hold a million distinct entries.
std::vector<std::string> unexpected_names(const std::vector<std::string>& names) {
  std::vector<std::string> bad;
  std::unordered_set<std::string_view> seen;
  for (const auto& name : names) {
    if (name != "python_lib.zip" && seen.insert(name).second) bad.push_back(name);
  }
  return bad;
}

std::optional<std::string> optional_string(const json::Object& object, std::string_view key) {
  const auto* v = json::find_member(object, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->as_string();
}

}  // namespace

PayloadCheck check_payload(std::string_view payload_text,
                           const std::vector<std::string>& uploaded_file_names) {
  // Check 4.
  json::ParseResult parsed = json::parse(payload_text);
  if (!parsed) {
    return refuse("Unable to parse payload JSON: " + parsed.error.message,
                  "invalid.payload.bad_json",
                  "Payload was not valid JSON: " + parsed.error.message);
  }
  const json::Value& root = *parsed.value;

  // Check 5.
  if (auto mismatch = best_match(iter_errors(root))) {
    return refuse("Payload JSON did not match schema at path " + *mismatch,
                  "invalid.payload.schema_mismatch");
  }
  const json::Object& object = root.as_object();

  // Check 6. The schema guarantees an array of strings or null here. Each
  // entry becomes a line of the sandbox's code: their count is bounded (their
  // length is, by being exactly "python_lib.zip").
  std::vector<std::string> python_path;
  if (const auto* v = json::find_member(object, "python_path"); v != nullptr && v->is_array()) {
    if (v->as_array().size() > kMaxPythonPathEntries) {
      return refuse(kTooManyPythonPathEntriesMessage, "invalid.python_path");
    }
    for (const auto& entry : v->as_array()) python_path.push_back(entry.as_string());
  }
  if (auto bad = unexpected_names(python_path); !bad.empty()) {
    return refuse("Only allowed entry in 'python_path' is 'python_lib.zip'", "invalid.python_path",
                  "Unexpected python_path entries in request: " +
                      log::request_text(python_str_set_repr(bad)));
  }

  // Check 7.
  if (auto bad = unexpected_names(uploaded_file_names); !bad.empty()) {
    return refuse(
        "Only allowed name for uploaded file is 'python_lib.zip'", "invalid.files",
        "Unexpected filenames in request: " + log::request_text(python_str_set_repr(bad)));
  }

  // Check 8.
  if (const auto* v = json::find_member(object, "unsafely"); v != nullptr && v->as_bool()) {
    return refuse("Refusing codejail execution with unsafely=true", "invalid.unsafely");
  }

  ExecPayload payload;
  payload.code = json::find_member(object, "code")->as_string();
  payload.globals = *json::find_member(object, "globals_dict");
  payload.python_path = std::move(python_path);
  payload.limit_overrides_context = optional_string(object, "limit_overrides_context");
  payload.slug = optional_string(object, "slug");

  PayloadCheck check;
  check.payload = std::move(payload);
  return check;
}

}  // namespace cjs
