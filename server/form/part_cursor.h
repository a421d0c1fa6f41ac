// Where Django's MultiPartParser finds each part of a body. It reads the body
// through a LazyStream of 64 KiB chunks and a BoundaryIter per part, and it
// abandons skipped parts after their first 1024 bytes without draining them;
// the next "part" then starts where the stream stands, which may be inside
// the abandoned one. PartCursor reproduces where that is (it assumes the WSGI
// input returns full 64 KiB reads, as gunicorn's does), so that such bodies
// parse the same.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cjs::server::form {

// MultiPartParser internals that shape what it sees.
inline constexpr std::size_t kPartHeaderWindow = 1024;  // parse_boundary_stream(stream, 1024)
inline constexpr std::size_t kChunkSize = 64 * 1024;    // the default upload handlers' chunk_size

class PartCursor {
 public:
  static constexpr std::size_t kAll = std::string_view::npos;

  PartCursor(std::string_view body, std::string separator)
      : body_(body), separator_(std::move(separator)), rollback_(separator_.size() + 6) {}

  bool done() const { return pos_ >= body_.size(); }

  // The next part: [pos, end) with the CR/LF before the separator removed.
  std::string_view part();

  // Moves past the current part after the parser read `wanted` bytes of it
  // (kAll: all of it).
  void advance(std::size_t wanted) { pos_ = steps(wanted, &read_end_, nullptr); }

  // Where the pieces Django's parser gets for the current part end (body
  // offsets), if it reads all of it.
  std::vector<std::size_t> piece_ends() const;

 private:
  std::size_t steps(std::size_t wanted, std::size_t* read_end,
                    std::vector<std::size_t>* ends) const;
  void pull();
  std::size_t find_separator(std::size_t from);

  std::string_view body_;
  std::string separator_;
  std::size_t rollback_;
  std::size_t pos_ = 0;       // where Django's main stream stands
  std::size_t read_end_ = 0;  // how much of the input it has read
  std::size_t sep_ = kAll;    // separator ending the current part
  std::size_t part_end_ = 0;  // end of the current part's data
  std::size_t cached_from_ = kAll;
  std::size_t cached_ = kAll;
};

}  // namespace cjs::server::form
