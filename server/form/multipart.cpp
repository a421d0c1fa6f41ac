// multipart/form-data as Django 4.2's MultiPartParser (through DRF's
// MultiPartParser) parses it: which parts are fields and which files, how
// their names and values are decoded, and where its stream finds each part
// (part_cursor.h).
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/utf8.h"
#include "server/form/base64.h"
#include "server/form/codec.h"
#include "server/form/file_name.h"
#include "server/form/form_limits.h"
#include "server/form/header_params.h"
#include "server/form/part_cursor.h"
#include "server/form/python_str.h"
#include "server/form_body.h"

namespace cjs::server::form {
namespace {

using std::size_t;
using std::string;
using std::string_view;

constexpr size_t kNpos = string_view::npos;
constexpr string_view kMultipartError = "Multipart form parse error - ";

enum class PartKind { kRaw, kField, kFile };

struct PartHead {
  PartKind kind = PartKind::kRaw;
  HeaderParams disposition;                 // the last Content-Disposition
  std::optional<string> transfer_encoding;  // the last Content-Transfer-Encoding
  size_t content_offset = 0;                // where the part's data starts
};

// parse_boundary_stream: the headers must end ("\r\n\r\n") within the first
// 1024 bytes, else the part is RAW (no headers). Lines are split on "\r\n",
// must be UTF-8 and "name: value"; others are ignored. The last
// Content-Disposition decides: FILE if its filename is non-empty, else FIELD.
PartHead parse_part_head(string_view segment) {
  PartHead head;
  const size_t end = segment.substr(0, kPartHeaderWindow).find("\r\n\r\n");
  if (end == kNpos) return head;
  head.content_offset = end + 4;
  const string_view headers = segment.substr(0, end);
  for (size_t start = 0;;) {
    const size_t eol = headers.find("\r\n", start);
    const string_view line = headers.substr(start, eol == kNpos ? kNpos : eol - start);
    if (utf8::is_valid(line, utf8::Form::kUtf8)) {
      std::optional<HeaderParams> params = parse_header_parameters(line);
      const size_t colon = params ? params->key.find(':') : kNpos;
      if (colon != kNpos) {
        const string_view name = string_view(params->key).substr(0, colon);
        if (name == "content-disposition") {
          const string* filename = params->get("filename");
          head.kind =
              (filename != nullptr && !filename->empty()) ? PartKind::kFile : PartKind::kField;
          head.disposition = std::move(*params);
        } else if (name == "content-transfer-encoding") {
          head.transfer_encoding = string(string_view(params->key).substr(colon + 1));
        }
      }
    }
    if (eol == kNpos) break;
    start = eol + 2;
  }
  return head;
}

// A base64 file part as Django decodes it: piece by piece as its stream
// delivers them (the first piece is what the header read left over), with
// whitespace removed and characters beyond a multiple of four carried over.
// nullopt where Django raises "Could not decode base64 data.".
std::optional<string> decode_base64_file(string_view body, size_t content_begin, size_t part_begin,
                                         const std::vector<size_t>& piece_ends) {
  // The header read took pieces until it had 1024 bytes of the part.
  size_t first = 0;
  while (first + 1 < piece_ends.size() && piece_ends[first] - part_begin < kPartHeaderWindow) {
    ++first;
  }
  string out;
  string carry;
  size_t begin = content_begin;
  for (size_t n = first; n < piece_ends.size(); ++n) {
    string stripped = carry;
    for (size_t i = begin; i < piece_ends[n]; ++i) {
      if (!is_ascii_space(body[i])) stripped += body[i];
    }
    begin = piece_ends[n];
    const size_t aligned = stripped.size() / 4 * 4;
    carry = stripped.substr(aligned);
    if (aligned == 0) continue;
    std::optional<string> decoded = b64decode(string_view(stripped).substr(0, aligned));
    if (!decoded) return std::nullopt;
    out += *decoded;
  }
  if (!carry.empty()) return std::nullopt;  // truncated data
  return out;
}

// Django 4.2: MultiPartParser.boundary_re = "[ -~]{0,200}[!-~]" (fullmatch).
bool valid_boundary(string_view boundary) {
  if (boundary.empty() || boundary.size() > 201 || boundary.back() == ' ') return false;
  return std::all_of(boundary.begin(), boundary.end(),
                     [](char ch) { return ch >= ' ' && ch <= '~'; });
}

void add_file(FormData& data, FormFile file) {
  // MultiValueDict.appendlist: the key keeps its first position, [] gives the last.
  for (FormFile& existing : data.files) {
    if (existing.name == file.name) {
      existing.content = std::move(file.content);
      return;
    }
  }
  data.files.push_back(std::move(file));
}

// MultiPartParser.__init__'s checks of the Content-Type, in Django's order
// and wording: the boundary, or the error. The header value is latin-1, as
// WSGI decodes it. (Messages are built with append(): GCC 12 misreports
// string + chains under -O2 as out-of-bounds, bug 105651.)
struct BoundaryCheck {
  std::optional<string> boundary;
  string error;
};

BoundaryCheck check_content_type(string_view content_type) {
  BoundaryCheck check;
  if (!content_type.starts_with("multipart/")) {
    check.error = string(kMultipartError)
                      .append("Invalid Content-Type: ")
                      .append(decode(content_type, Codec::kLatin1));
    return check;
  }
  if (!is_ascii(content_type)) {
    check.error = string(kMultipartError)
                      .append("Invalid non-ASCII Content-Type in multipart: ")
                      .append(decode(content_type, Codec::kLatin1));
    return check;
  }
  // Departure: a malformed RFC 2231 parameter is a ValueError (500) in Django;
  // we report the boundary as unreadable.
  const std::optional<HeaderParams> params = parse_header_parameters(content_type);
  const string* boundary = params ? params->get("boundary") : nullptr;
  if (boundary == nullptr || !valid_boundary(*boundary)) {
    check.error = string(kMultipartError)
                      .append("Invalid boundary in multipart: ")
                      .append(boundary == nullptr ? string("None") : *boundary);
    return check;
  }
  check.boundary = *boundary;
  return check;
}

bool is_base64(const PartHead& head) {
  return head.transfer_encoding && py_strip(*head.transfer_encoding) == "base64";
}

// MultiPartParser._parse over one body.
class MultipartParser {
 public:
  MultipartParser(string_view body, const string& boundary, Codec codec)
      : body_(body), codec_(codec), cursor_(body, "--" + boundary) {}

  FormParse parse() {
    FormParse result;
    FormData& data = result.data.emplace();
    while (!cursor_.done()) {
      if (pending_) {  // a file is complete when another part follows
        add_file(data, std::move(*pending_));
        pending_.reset();
      }
      const string_view segment = cursor_.part();
      const PartHead head = parse_part_head(segment);
      // RAW parts count as fields; "+ 2" allows the preamble and the epilogue.
      if (head.kind != PartKind::kFile && ++post_keys_ > kMaxNumberFields + 2) {
        return failure(string(kTooManyFields));
      }
      size_t wanted = kPartHeaderWindow;  // skipped parts are read this far
      const string* raw_name = head.kind == PartKind::kRaw ? nullptr : head.disposition.get("name");
      if (raw_name != nullptr) {
        string name = decode(ascii_strip(*raw_name), codec_);
        if (head.kind == PartKind::kField) {
          data.fields.emplace_back(std::move(name), field_value(segment, head));
          wanted = PartCursor::kAll;
        } else {
          if (++files_ > kMaxNumberFiles) return failure(string(kTooManyFiles));
          if (std::optional<string> error = read_file(segment, head, std::move(name), wanted)) {
            return failure(std::move(*error));
          }
        }
      }
      cursor_.advance(wanted);
    }
    // A file part that nothing follows (a body ending right after a separator,
    // or cut short) is never completed by Django: it is dropped.
    return result;
  }

 private:
  size_t offset(string_view within_body) const {
    return static_cast<size_t>(within_body.data() - body_.data());
  }

  // An undecodable base64 field keeps its raw bytes.
  string field_value(string_view segment, const PartHead& head) const {
    const string_view content = segment.substr(head.content_offset);
    std::optional<string> decoded = is_base64(head) ? b64decode(content) : std::nullopt;
    return decode(decoded ? *decoded : content, codec_);
  }

  // A file part becomes pending (complete once another part follows), or is
  // skipped when its file name sanitizes to None (`wanted` then stays).
  // Returns the error for undecodable base64.
  std::optional<string> read_file(string_view segment, const PartHead& head, string name,
                                  size_t& wanted) {
    const string file_name = decode(*head.disposition.get("filename"), codec_);
    if (file_name_sanitizes_to_none(file_name)) return std::nullopt;
    const string_view content = segment.substr(head.content_offset);
    string bytes;
    if (is_base64(head)) {
      std::optional<string> decoded =
          decode_base64_file(body_, offset(content), offset(segment), cursor_.piece_ends());
      if (!decoded) return string(kMultipartError).append("Could not decode base64 data.");
      bytes = std::move(*decoded);
    } else {
      bytes = string(content);
    }
    // `if old_field_name:` in _parse: a file named "" is never completed.
    if (!name.empty()) pending_ = FormFile{std::move(name), std::move(bytes)};
    wanted = PartCursor::kAll;
    return std::nullopt;
  }

  string_view body_;
  Codec codec_;
  PartCursor cursor_;
  std::optional<FormFile> pending_;
  size_t post_keys_ = 0;
  size_t files_ = 0;
};

}  // namespace
}  // namespace cjs::server::form

namespace cjs::server {

FormParse parse_multipart(std::string_view content_type, std::string_view body) {
  // DRF never hands an empty body (Content-Length 0) to a parser.
  if (body.empty()) {
    FormParse empty;
    empty.data.emplace();
    return empty;
  }
  form::BoundaryCheck check = form::check_content_type(content_type);
  if (!check.boundary) return form::failure(std::move(check.error));
  return form::MultipartParser(body, *check.boundary, form::request_codec(content_type)).parse();
}

}  // namespace cjs::server
