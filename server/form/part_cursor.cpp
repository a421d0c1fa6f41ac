#include "server/form/part_cursor.h"

#include <string.h>  // memmem: linear-time (two-way) search, glibc

#include <algorithm>

namespace cjs::server::form {

using std::size_t;
using std::string_view;

string_view PartCursor::part() {
  if (read_end_ <= pos_) pull();  // BoundaryIter.__init__ reads a byte
  sep_ = find_separator(pos_);
  part_end_ = body_.size();  // unterminated: kept whole
  if (sep_ != kAll) {
    part_end_ = sep_;
    // _find_boundary backs up over one "\n", then one "\r".
    if (part_end_ > pos_ && body_[part_end_ - 1] == '\n') --part_end_;
    if (part_end_ > pos_ && body_[part_end_ - 1] == '\r') --part_end_;
  }
  return body_.substr(pos_, part_end_ - pos_);
}

std::vector<size_t> PartCursor::piece_ends() const {
  std::vector<size_t> ends;
  size_t read_end = read_end_;
  steps(kAll, &read_end, &ends);
  return ends;
}

// Runs BoundaryIter steps over the current part until `wanted` bytes of it
// were returned (kAll: all) and gives the stream position after them. A
// step takes 64 KiB chunks until it holds more than `rollback` bytes, and
// returns all but the last `rollback` of them unless it found the separator.
size_t PartCursor::steps(size_t wanted, size_t* read_end, std::vector<size_t>* ends) const {
  const auto pull_into = [this, read_end] {
    *read_end = std::min(*read_end + kChunkSize, body_.size());
  };
  const size_t start = pos_;
  const size_t sep_end = sep_ == kAll ? kAll : sep_ + separator_.size();
  size_t q = start;
  while (*read_end - q <= rollback_ && *read_end < body_.size()) pull_into();
  while (true) {
    if (sep_end != kAll && sep_end <= *read_end) {
      if (ends) ends->push_back(part_end_);
      return sep_end;
    }
    if (*read_end - q <= rollback_) {  // input exhausted: the rest is the part
      if (ends) ends->push_back(*read_end);
      return *read_end;
    }
    q = *read_end - rollback_;
    if (ends) ends->push_back(q);
    if (wanted != kAll && q - start >= wanted) return q;
    if (*read_end < body_.size()) pull_into();
  }
}

void PartCursor::pull() { read_end_ = std::min(read_end_ + kChunkSize, body_.size()); }

// First separator at or after `from`; remembered, so that resuming inside a
// part does not search the same bytes again (quadratic on huge parts).
size_t PartCursor::find_separator(size_t from) {
  if (cached_from_ != kAll && from >= cached_from_ && (cached_ == kAll || cached_ >= from)) {
    return cached_;
  }
  const void* hit =
      memmem(body_.data() + from, body_.size() - from, separator_.data(), separator_.size());
  cached_from_ = from;
  cached_ =
      hit == nullptr ? kAll : static_cast<size_t>(static_cast<const char*>(hit) - body_.data());
  return cached_;
}

}  // namespace cjs::server::form
