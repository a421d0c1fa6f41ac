// libFuzzer target for server/form_body: the input is a Content-Type line and
// a body ("<content type>\n<body>"). Both parsers run on every input, and the
// results must keep the invariants the API handler relies on.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "server/form_body.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (lead < 0x80) {
      len = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      len = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      len = 3;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      len = 4;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if (next < lo || next > hi) return false;
      lo = 0x80;
      hi = 0xBF;
    }
    i += len;
  }
  return true;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

void check_parse(const cjs::server::FormParse& parsed, bool multipart, std::string_view body) {
  using cjs::server::FormData;
  if (!parsed.data) {
    const std::string& detail = parsed.error.detail;
    check(!detail.empty(), "an error has a detail");
    check(valid_utf8(detail), "the error detail is UTF-8");
    check(starts_with(detail, "Multipart form parse error - ") ||
              starts_with(detail, "The number of GET/POST parameters exceeded") ||
              starts_with(detail, "The number of files exceeded"),
          "the error detail is one of Django's");
    check(multipart || !starts_with(detail, "Multipart"), "urlencoded errors are not multipart's");
    check(!body.empty(), "an empty body is never an error");
    return;
  }
  const FormData& data = *parsed.data;
  if (body.empty()) check(data.fields.empty() && data.files.empty(), "an empty body is empty data");
  if (!multipart) check(data.files.empty(), "urlencoded bodies have no files");
  check(data.fields.size() <= 1002, "at most DATA_UPLOAD_MAX_NUMBER_FIELDS (+2) fields");
  check(data.files.size() <= 100, "at most DATA_UPLOAD_MAX_NUMBER_FILES files");
  for (const auto& [name, value] : data.fields) {
    check(valid_utf8(name) && valid_utf8(value), "field names and values are UTF-8");
  }
  std::set<std::string_view> names;
  size_t total = 0;
  for (const auto& file : data.files) {
    check(!file.name.empty(), "files have names");
    check(valid_utf8(file.name), "file names are UTF-8");
    check(names.insert(file.name).second, "file names are unique");
    total += file.content.size();
  }
  check(total <= body.size(), "files hold no more bytes than the body");
  if (!data.fields.empty()) {
    const auto& last = data.fields.back();
    check(data.field(last.first).has_value(), "field() finds a present field");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  const size_t newline = input.find('\n');
  const std::string_view content_type =
      newline == std::string_view::npos ? input : input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  try {
    const std::string type = cjs::server::media_type(content_type);
    check(type.find(';') == std::string::npos || type.find('"') != std::string::npos,
          "media_type has no parameters");
    for (const char ch : type) check(!(ch >= 'A' && ch <= 'Z'), "media_type is lower-case");
    check_parse(cjs::server::parse_multipart(content_type, body), true, body);
    check_parse(cjs::server::parse_urlencoded(body, content_type), false, body);
  } catch (...) {
    check(false, "the parsers do not throw");
  }
  return 0;
}
