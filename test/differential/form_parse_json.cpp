// cjs_form_parse_json: server/form_body.h over a stream of requests, one JSON
// line per request, in the shape django_oracle.py prints. Reads the record
// stream of records.py on stdin ("<type length> <body length>\n", the
// Content-Type, the body). Dispatches as server/api_handler.cpp does: an
// empty body is no data; then the media type picks the parser.
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/form_body.h"

namespace {

using cjs::server::FormData;
using cjs::server::FormParse;

// A JSON string; the bytes are the parser's UTF-8 (json.loads on the reading
// side reports anything else).
void put_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (byte < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", byte);
      out += escape;
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto byte = static_cast<unsigned char>(ch);
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

// Fields as a QueryDict lists them: each name once, at its first position,
// with every value in body order.
std::string render_data(const FormData& data) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& [name, value] : data.fields) {
    auto [it, added] = values.try_emplace(name);
    if (added) order.push_back(name);
    it->second.push_back(value);
  }
  std::string out = "{\"fields\": [";
  for (size_t i = 0; i < order.size(); ++i) {
    out += i == 0 ? "[" : ", [";
    put_string(out, order[i]);
    out += ", [";
    const auto& list = values[order[i]];
    for (size_t k = 0; k < list.size(); ++k) {
      if (k > 0) out += ", ";
      put_string(out, list[k]);
    }
    out += "]]";
  }
  out += "], \"files\": [";
  for (size_t i = 0; i < data.files.size(); ++i) {
    out += i == 0 ? "[" : ", [";
    put_string(out, data.files[i].name);
    out += ", \"" + hex(data.files[i].content) + "\"]";
  }
  return out + "]}";
}

std::string render(std::string_view content_type, std::string_view body) {
  FormParse parsed;
  if (body.empty()) return render_data(FormData{});
  const std::string type = cjs::server::media_type(content_type);
  if (type == "application/x-www-form-urlencoded") {
    parsed = cjs::server::parse_urlencoded(body, content_type);
  } else if (type == "multipart/form-data") {
    parsed = cjs::server::parse_multipart(content_type, body);
  } else {
    return "{\"unsupported\": true}";
  }
  if (!parsed.data) {
    std::string out = "{\"error\": ";
    put_string(out, parsed.error.detail);
    return out + "}";
  }
  return render_data(*parsed.data);
}

bool read_exact(std::string& into, size_t size) {
  into.resize(size);
  return size == 0 || std::cin.read(into.data(), static_cast<std::streamsize>(size));
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  size_t type_length = 0;
  size_t body_length = 0;
  std::string content_type;
  std::string body;
  while (std::cin >> type_length >> body_length) {
    if (std::cin.get() != '\n' || !read_exact(content_type, type_length) ||
        !read_exact(body, body_length)) {
      std::cerr << "cjs_form_parse_json: truncated record stream\n";
      return 2;
    }
    std::cout << render(content_type, body) << '\n';
  }
  if (!std::cin.eof()) {
    std::cerr << "cjs_form_parse_json: malformed record header\n";
    return 2;
  }
  return 0;
}
