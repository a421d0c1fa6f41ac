#include "server/form/header_params.h"

#include <algorithm>
#include <cstddef>

#include "server/form/python_str.h"

namespace cjs::server::form {
namespace {

using std::size_t;
using std::string;
using std::string_view;

constexpr size_t kNpos = string_view::npos;

// RFC 2231 (filename*=UTF-8''file.ext): encoding, lang, value = value.split("'"),
// then the value unquoted with that encoding. nullopt for a ValueError.
std::optional<string> decode_rfc2231(string_view value) {
  const size_t q1 = value.find('\'');
  const size_t q2 = q1 == kNpos ? kNpos : value.find('\'', q1 + 1);
  if (q2 == kNpos || value.find('\'', q2 + 1) != kNpos) return std::nullopt;
  const string_view encoding = value.substr(0, q1);
  const string_view quoted = value.substr(q2 + 1);
  // unquote() looks the codec up only if there is a '%'; a NUL in its
  // name is a ValueError then.
  if (quoted.find('%') != kNpos && encoding.find('\0') != kNpos) return std::nullopt;
  // Departure: Python decodes with any codec it knows and raises
  // LookupError (a 500) for unknown ones; we know three, else use UTF-8.
  const Codec codec = lookup_codec(encoding).value_or(Codec::kUtf8);
  string decoded;
  py_unquote_into(quoted, codec, decoded);
  return decoded;
}

}  // namespace

std::vector<string_view> split_params(string_view line) {
  std::vector<string_view> parts;
  size_t pos = 0;  // start of the current piece (just after its ';')
  while (true) {
    const string_view rest = line.substr(pos);
    size_t end = rest.find(';');
    // Quote parity of rest[0, end), kept incrementally as `end` moves on.
    size_t quotes = 0;
    size_t escaped = 0;
    size_t scanned = 0;
    while (end != kNpos && end > 0) {
      for (; scanned < end; ++scanned) {
        if (rest[scanned] == '"') {
          ++quotes;
          if (scanned > 0 && rest[scanned - 1] == '\\') ++escaped;
        }
      }
      if ((quotes - escaped) % 2 == 0) break;
      end = rest.find(';', end + 1);
    }
    if (end == kNpos) end = rest.size();
    parts.push_back(py_strip(rest.substr(0, end)));
    pos += end;
    if (pos >= line.size()) break;
    ++pos;  // the ';'
  }
  return parts;
}

const string* HeaderParams::get(string_view name) const {
  for (const auto& [param, value] : params) {
    if (param == name) return &value;
  }
  return nullptr;
}

void HeaderParams::set(string name, string value) {
  for (auto& [param, existing] : params) {
    if (param == name) {
      existing = std::move(value);
      return;
    }
  }
  params.emplace_back(std::move(name), std::move(value));
}

std::optional<HeaderParams> parse_header_parameters(string_view line) {
  const std::vector<string_view> parts = split_params(line);
  HeaderParams result;
  result.key = ascii_lower(parts.front());
  for (size_t n = 1; n < parts.size(); ++n) {
    const string_view part = parts[n];
    const size_t eq = part.find('=');
    if (eq == kNpos) continue;
    string name = ascii_lower(py_strip(part.substr(0, eq)));
    bool has_encoding = false;
    if (!name.empty() && name.back() == '*') {
      // RFC 2231 (filename*=UTF-8''file.ext) when the piece has exactly two "'".
      name.pop_back();
      has_encoding = std::count(part.begin(), part.end(), '\'') == 2;
    }
    string_view raw = py_strip(part.substr(eq + 1));
    string value;
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
      value = replace_all(replace_all(raw.substr(1, raw.size() - 2), "\\\\", "\\"), "\\\"", "\"");
    } else {
      value = string(raw);
    }
    if (has_encoding) {
      std::optional<string> decoded = decode_rfc2231(value);
      if (!decoded) return std::nullopt;
      value = std::move(*decoded);
    }
    result.set(std::move(name), std::move(value));
  }
  return result;
}

Codec request_codec(string_view content_type) {
  const std::optional<HeaderParams> params =
      parse_header_parameters(decode(content_type, Codec::kLatin1));
  if (!params) return Codec::kUtf8;
  const string* charset = params->get("charset");
  if (charset == nullptr) return Codec::kUtf8;
  return lookup_codec(*charset).value_or(Codec::kUtf8);
}

}  // namespace cjs::server::form
