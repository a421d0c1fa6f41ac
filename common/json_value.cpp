#include "common/json_value.h"

#include <vector>

namespace cjs::json {

const Value* find_member(const Object& object, std::string_view key) {
  for (const auto& [name, value] : object) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::size_t count_values(const Value& value) {
  std::size_t count = 0;
  std::vector<const Value*> pending{&value};  // no recursion: depth is the input's
  while (!pending.empty()) {
    const Value* current = pending.back();
    pending.pop_back();
    ++count;
    if (current->is_array()) {
      for (const Value& item : current->as_array()) pending.push_back(&item);
    } else if (current->is_object()) {
      count += current->as_object().size();
      for (const Member& member : current->as_object()) pending.push_back(&member.second);
    }
  }
  return count;
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
