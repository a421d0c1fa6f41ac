// A JSON document tree that keeps exactly what Python's json module keeps.
//
// Why not Boost.JSON: 1.81 cannot parse NaN/Infinity and turns integers beyond
// 64 bits into doubles, and the API must round-trip both exactly as CPython's
// json.loads/json.dumps do. Numbers are therefore stored as their canonical
// Python spelling (see Number), strings as WTF-8 so that lone surrogates
// (legal in Python str) survive, and objects as insertion-ordered member lists
// (Python dicts keep insertion order, and the API echoes keys in that order).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cjs::json {

// A JSON number as CPython would print it after json.loads:
//  - integers: decimal digits with optional leading '-', arbitrary size,
//    never "-0" (Python's int('-0') is 0);
//  - floats: repr(float(text)), e.g. "1.0", "1e+16", "1e-05", "-0.0",
//    "Infinity", "-Infinity", "NaN".
struct Number {
  std::string text;
  bool is_integer = true;

  friend bool operator==(const Number&, const Number&) = default;
};

struct Value;
using Array = std::vector<Value>;
// Members in insertion order with unique keys. Keys are WTF-8 like strings.
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

struct Value {
  // std::string holds WTF-8: UTF-8 in which U+D800..U+DFFF may appear,
  // encoded as the 3-byte sequences ED A0 80 .. ED BF BF.
  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> data;

  Value() : data(nullptr) {}
  Value(std::nullptr_t) : data(nullptr) {}
  Value(bool b) : data(b) {}
  // Integers would silently convert to bool; build numbers as Number{"1", true}.
  Value(int) = delete;
  Value(long) = delete;
  Value(long long) = delete;
  Value(double) = delete;
  Value(Number n) : data(std::move(n)) {}
  Value(std::string s) : data(std::move(s)) {}
  Value(const char* s) : data(std::string(s)) {}
  Value(Array a) : data(std::move(a)) {}
  Value(Object o) : data(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(data); }
  bool is_bool() const { return std::holds_alternative<bool>(data); }
  bool is_number() const { return std::holds_alternative<Number>(data); }
  bool is_string() const { return std::holds_alternative<std::string>(data); }
  bool is_array() const { return std::holds_alternative<Array>(data); }
  bool is_object() const { return std::holds_alternative<Object>(data); }

  bool as_bool() const { return std::get<bool>(data); }
  const Number& as_number() const { return std::get<Number>(data); }
  const std::string& as_string() const { return std::get<std::string>(data); }
  const Array& as_array() const { return std::get<Array>(data); }
  Array& as_array() { return std::get<Array>(data); }
  const Object& as_object() const { return std::get<Object>(data); }
  Object& as_object() { return std::get<Object>(data); }

  friend bool operator==(const Value&, const Value&) = default;
};

// Member lookup in an object; nullptr when absent.
const Value* find_member(const Object& object, std::string_view key);

// The values and object keys in `value`, counted as ParseBudget counts them.
std::size_t count_values(const Value& value);

// Python's dict.__setitem__: replace the value in place when the key exists
// (keeping its position), append otherwise.
void set_member(Object& object, std::string key, Value value);

}  // namespace cjs::json
