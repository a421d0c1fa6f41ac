// The few text helpers the files of the kernel's interfaces need
// (cgroup.controllers, /proc lists): whitespace-separated words.
#pragma once

#include <string_view>
#include <vector>

namespace cjs::os {

// The words of `text`, split on any whitespace.
std::vector<std::string_view> split_words(std::string_view text);

// Whether `word` is one of the words of `text` ("memory" in "cpu memory pids").
bool has_word(std::string_view text, std::string_view word);

}  // namespace cjs::os
