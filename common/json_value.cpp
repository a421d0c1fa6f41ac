#include "common/json_value.h"

namespace cjs::json {

const Value* find_member(const Object& object, std::string_view key) {
  for (const auto& [name, value] : object) {
    if (name == key) return &value;
  }
  return nullptr;
}

void set_member(Object& object, std::string key, Value value) {
  for (auto& [name, existing] : object) {
    if (name == key) {
      existing = std::move(value);
      return;
    }
  }
  object.emplace_back(std::move(key), std::move(value));
}

}  // namespace cjs::json
