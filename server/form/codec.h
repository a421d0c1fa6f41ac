// The text codecs Django decodes request bodies with (Python str values are
// kept as UTF-8 here): UTF-8, ISO-8859-1 and ASCII, each with
// errors='replace', and codecs.lookup() for their names.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cjs::server::form {

enum class Codec { kUtf8, kLatin1, kAscii };

// bytes.decode(codec, errors='replace'), appended to `out` / returned.
void decode_into(std::string_view bytes, Codec codec, std::string& out);
std::string decode(std::string_view bytes, Codec codec);

// codecs.lookup(name), restricted to the codecs above; nullopt for anything
// else. Python normalizes the name (encodings.normalize_encoding) and then
// consults encodings.aliases.
std::optional<Codec> lookup_codec(std::string_view name);

bool is_ascii(std::string_view s);

inline unsigned char byte_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

}  // namespace cjs::server::form
