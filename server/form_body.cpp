// Request bodies decoded the way the reference does it: DRF's FormParser and
// MultiPartParser on top of Django 4.2's QueryDict and MultiPartParser, on
// CPython 3.11 (api.md section 2). Each rule names the Python behavior it
// reproduces; the few deliberate departures are marked "Departure". Not
// reproduced: DATA_UPLOAD_MAX_MEMORY_SIZE (the service takes 20 MiB bodies;
// size limits are the caller's) and LazyStream's "parser got stuck" check.
// fuzz/django_diff/ compares this file with Django itself.
#include "server/form_body.h"

#include <string.h>  // memmem: linear-time (two-way) search, glibc

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/utf8.h"

namespace cjs::server {
namespace {

using std::size_t;
using std::string;
using std::string_view;

constexpr size_t kNpos = string_view::npos;
constexpr string_view kMultipartError = "Multipart form parse error - ";

// Django settings defaults (the reference does not override them). Exceeding
// them is a SuspiciousOperation (400) in Django; for us a FormError.
constexpr size_t kMaxNumberFields = 1000;  // DATA_UPLOAD_MAX_NUMBER_FIELDS
constexpr size_t kMaxNumberFiles = 100;    // DATA_UPLOAD_MAX_NUMBER_FILES
constexpr string_view kTooManyFields =
    "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.";
constexpr string_view kTooManyFiles =
    "The number of files exceeded settings.DATA_UPLOAD_MAX_NUMBER_FILES.";

// MultiPartParser internals that shape what it sees.
constexpr size_t kPartHeaderWindow = 1024;  // parse_boundary_stream(stream, 1024)
constexpr size_t kChunkSize = 64 * 1024;    // the default upload handlers' chunk_size

unsigned char byte_at(string_view s, size_t i) { return static_cast<unsigned char>(s[i]); }

FormParse failure(string detail) {
  FormParse result;
  result.error.detail = std::move(detail);
  return result;
}

// ---------------------------------------------------------------------------
// Text: Python str values are kept as UTF-8.

enum class Codec { kUtf8, kLatin1, kAscii };

bool is_valid_utf8(string_view s) {
  for (size_t i = 0; i < s.size();) {
    const Utf8Step step = utf8_step(s, i);
    if (!step.valid) return false;
    i += step.length;
  }
  return true;
}

bool is_ascii(string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
}

// bytes.decode(codec, errors='replace'), appended to `out`.
void decode_into(string_view bytes, Codec codec, string& out) {
  switch (codec) {
    case Codec::kUtf8:
      for (size_t i = 0; i < bytes.size();) {
        const Utf8Step step = utf8_step(bytes, i);
        if (step.valid) {
          out.append(bytes.substr(i, step.length));
        } else {
          out += kUtf8Replacement;
        }
        i += step.length;
      }
      break;
    case Codec::kLatin1:
      for (const char ch : bytes) append_utf8(out, static_cast<unsigned char>(ch));
      break;
    case Codec::kAscii:
      for (const char ch : bytes) {
        if (static_cast<unsigned char>(ch) < 0x80) {
          out += ch;
        } else {
          out += kUtf8Replacement;
        }
      }
      break;
  }
}

string decode(string_view bytes, Codec codec) {
  string out;
  out.reserve(bytes.size());
  decode_into(bytes, codec, out);
  return out;
}

// The code point of the well-formed sequence s[i, i+len).
char32_t code_point(string_view s, size_t i, size_t len) {
  const unsigned char lead = byte_at(s, i);
  if (len == 1) return lead;
  char32_t cp = lead & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (byte_at(s, i + k) & 0x3F);
  return cp;
}

bool is_ascii_alnum(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

char ascii_lower(char ch) {
  return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
}

// str.lower() for what we compare it with: only ASCII letters matter there.
string ascii_lower(string_view s) {
  string out(s);
  for (char& ch : out) ch = ascii_lower(ch);
  return out;
}

// codecs.lookup(name), restricted to the codecs we implement; nullopt for
// anything else. Python normalizes the name (encodings.normalize_encoding) and
// then consults encodings.aliases.
std::optional<Codec> lookup_codec(string_view name) {
  string norm;
  bool punct = false;
  for (size_t i = 0; i < name.size();) {
    const Utf8Step step = utf8_step(name, i);
    const size_t len = step.length;
    // str.isalnum() for non-ASCII: exact in Latin-1, assumed beyond.
    bool alnum = false;  // invalid bytes are not alphanumeric
    if (step.valid && len == 1) {
      alnum = is_ascii_alnum(name[i]) || name[i] == '.';
    } else if (step.valid) {
      const char32_t cp = code_point(name, i, len);
      alnum = cp > 0xFF || cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 ||
              cp == 0xBA || (cp >= 0xBC && cp <= 0xBE) || (cp >= 0xC0 && cp != 0xD7 && cp != 0xF7);
    }
    if (alnum) {
      if (punct && !norm.empty()) norm += '_';
      if (len == 1) norm += ascii_lower(name[i]);  // non-ASCII ones are dropped
      punct = false;
    } else {
      punct = true;
    }
    i += len;
  }
  string dotless = norm;
  std::replace(dotless.begin(), dotless.end(), '.', '_');
  struct Alias {
    string_view name;
    Codec codec;
  };
  static constexpr Alias kAliases[] = {
      {"utf_8", Codec::kUtf8},
      {"cp65001", Codec::kUtf8},
      {"u8", Codec::kUtf8},
      {"utf", Codec::kUtf8},
      {"utf8", Codec::kUtf8},
      {"utf8_ucs2", Codec::kUtf8},
      {"utf8_ucs4", Codec::kUtf8},
      {"latin_1", Codec::kLatin1},
      {"8859", Codec::kLatin1},
      {"cp819", Codec::kLatin1},
      {"csisolatin1", Codec::kLatin1},
      {"ibm819", Codec::kLatin1},
      {"iso8859", Codec::kLatin1},
      {"iso8859_1", Codec::kLatin1},
      {"iso_8859_1", Codec::kLatin1},
      {"iso_8859_1_1987", Codec::kLatin1},
      {"iso_ir_100", Codec::kLatin1},
      {"l1", Codec::kLatin1},
      {"latin", Codec::kLatin1},
      {"latin1", Codec::kLatin1},
      {"ascii", Codec::kAscii},
      {"646", Codec::kAscii},
      {"ansi_x3.4_1968", Codec::kAscii},
      {"ansi_x3.4_1986", Codec::kAscii},
      {"ansi_x3_4_1968", Codec::kAscii},
      {"cp367", Codec::kAscii},
      {"csascii", Codec::kAscii},
      {"ibm367", Codec::kAscii},
      {"iso646_us", Codec::kAscii},
      {"iso_646.irv_1991", Codec::kAscii},
      {"iso_ir_6", Codec::kAscii},
      {"us", Codec::kAscii},
      {"us_ascii", Codec::kAscii},
  };
  for (const Alias& alias : kAliases) {
    // Module names ("utf_8") are found only without dots; aliases either way.
    const bool is_module =
        alias.name == "utf_8" || alias.name == "latin_1" || alias.name == "ascii";
    if (alias.name == norm || (!is_module && alias.name == dotless)) return alias.codec;
  }
  return std::nullopt;
}

// Python's str.isspace(), which str.strip() uses.
bool is_py_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// str.strip() on UTF-8 text.
string_view py_strip(string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end) {
    const Utf8Step step = utf8_step(s.substr(0, end), begin);
    if (!step.valid || !is_py_space(code_point(s, begin, step.length))) break;
    begin += step.length;
  }
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && end - start < 4 && (byte_at(s, start) & 0xC0) == 0x80) --start;
    const Utf8Step step = utf8_step(s.substr(0, end), start);
    if (!step.valid || step.length != end - start ||
        !is_py_space(code_point(s, start, step.length))) {
      break;
    }
    end = start;
  }
  return s.substr(begin, end - begin);
}

bool is_ascii_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

// bytes.strip(): ASCII whitespace only.
string_view ascii_strip(string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && is_ascii_space(s[begin])) ++begin;
  while (end > begin && is_ascii_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// urllib.parse.unquote(text, encoding=codec, errors='replace') on UTF-8 text:
// runs of ASCII are percent-decoded to bytes and decoded together; other
// characters pass through; a '%' not followed by two hex digits stays.
void py_unquote_into(string_view text, Codec codec, string& out) {
  if (text.find('%') == kNpos) {
    out.append(text);
    return;
  }
  string run;
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    if (byte_at(text, i) >= 0x80) {
      while (j < text.size() && byte_at(text, j) >= 0x80) ++j;
      out.append(text.substr(i, j - i));
      i = j;
      continue;
    }
    while (j < text.size() && byte_at(text, j) < 0x80) ++j;
    run.clear();
    for (size_t k = i; k < j; ++k) {
      if (text[k] == '%' && k + 2 < j) {
        const int hi = hex_value(text[k + 1]);
        const int lo = hex_value(text[k + 2]);
        if (hi >= 0 && lo >= 0) {
          run += static_cast<char>(hi * 16 + lo);
          k += 2;
          continue;
        }
      }
      run += text[k];
    }
    decode_into(run, codec, out);
    i = j;
  }
}

string replace_all(string_view s, string_view from, string_view to) {
  string out;
  out.reserve(s.size());
  size_t i = 0;
  while (true) {
    const size_t hit = s.find(from, i);
    if (hit == kNpos) break;
    out.append(s.substr(i, hit - i));
    out.append(to);
    i = hit + from.size();
  }
  out.append(s.substr(i));
  return out;
}

// ---------------------------------------------------------------------------
// Header parameters: django.utils.http.parse_header_parameters (4.2), the
// cgi.parse_header algorithm, on UTF-8 text.

// _parseparam: ';'-separated pieces, each str.strip()ped; a ';' inside an odd
// number of (unescaped) double quotes does not separate.
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

struct HeaderParams {
  string key;                                     // the first piece, lower-cased
  std::vector<std::pair<string, string>> params;  // a dict: the last assignment wins

  const string* get(string_view name) const {
    for (const auto& [param, value] : params) {
      if (param == name) return &value;
    }
    return nullptr;
  }
  void set(string name, string value) {
    for (auto& [param, existing] : params) {
      if (param == name) {
        existing = std::move(value);
        return;
      }
    }
    params.emplace_back(std::move(name), std::move(value));
  }
};

// nullopt where Python raises ValueError (a malformed RFC 2231 value).
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
      // encoding, lang, value = value.split("'")
      const size_t q1 = value.find('\'');
      const size_t q2 = q1 == kNpos ? kNpos : value.find('\'', q1 + 1);
      if (q2 == kNpos || value.find('\'', q2 + 1) != kNpos) return std::nullopt;
      const string_view encoding = string_view(value).substr(0, q1);
      const string_view quoted = string_view(value).substr(q2 + 1);
      // unquote() looks the codec up only if there is a '%'; a NUL in its
      // name is a ValueError then.
      if (quoted.find('%') != kNpos && encoding.find('\0') != kNpos) return std::nullopt;
      // Departure: Python decodes with any codec it knows and raises
      // LookupError (a 500) for unknown ones; we know three, else use UTF-8.
      const Codec codec = lookup_codec(encoding).value_or(Codec::kUtf8);
      string decoded;
      py_unquote_into(quoted, codec, decoded);
      value = std::move(decoded);
    }
    result.set(std::move(name), std::move(value));
  }
  return result;
}

// The request's encoding: Django's HttpRequest.encoding is the Content-Type's
// charset when codecs.lookup() knows it, else DEFAULT_CHARSET (utf-8).
// Departure: charsets other than UTF-8, ISO-8859-1 and ASCII are taken as UTF-8.
Codec request_codec(string_view content_type) {
  const std::optional<HeaderParams> params =
      parse_header_parameters(decode(content_type, Codec::kLatin1));
  if (!params) return Codec::kUtf8;
  const string* charset = params->get("charset");
  if (charset == nullptr) return Codec::kUtf8;
  return lookup_codec(*charset).value_or(Codec::kUtf8);
}

// ---------------------------------------------------------------------------
// File names: MultiPartParser.sanitize_file_name.

// Appends to `out` one symbol per character html.unescape(name) produces,
// reduced to what sanitize_file_name looks at: '.', '/', '\' stay, any other
// character becomes 'x'. Only html5 entities "period;", "sol;" and "bsol;"
// produce those characters; numeric references may also produce nothing.
void unescape_symbols(string_view name, string& out) {
  const auto classify = [&out](char ch) {
    out += (ch == '.' || ch == '/' || ch == '\\') ? ch : 'x';
  };
  const auto numeric = [&out](std::uint32_t num) {
    if (num == 0x2E || num == 0x2F || num == 0x5C) {
      out += static_cast<char>(num);
      return;
    }
    // html._invalid_charrefs (0, CR, 0x80-0x9F) map to a character, so do
    // surrogates and out-of-range values (U+FFFD); html._invalid_codepoints
    // map to nothing.
    if (num == 0 || num == 0x0D || (num >= 0x80 && num <= 0x9F)) {
      out += 'x';
    } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
      out += 'x';
    } else if ((num >= 0x01 && num <= 0x08) || num == 0x0B || (num >= 0x0E && num <= 0x1F) ||
               num == 0x7F || (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE) {
      // nothing
    } else {
      out += 'x';
    }
  };
  // html._charref: &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)
  for (size_t i = 0; i < name.size();) {
    if (name[i] != '&') {
      classify(name[i]);
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (j < name.size() && name[j] == '#') {
      const bool hex = j + 1 < name.size() && (name[j + 1] == 'x' || name[j + 1] == 'X');
      const bool dec = j + 1 < name.size() && name[j + 1] >= '0' && name[j + 1] <= '9';
      const size_t digits = dec ? j + 1 : j + 2;
      if (dec || (hex && digits < name.size() && hex_value(name[digits]) >= 0)) {
        std::uint32_t num = 0;
        size_t k = digits;
        for (; k < name.size(); ++k) {
          const int digit =
              dec ? ((name[k] >= '0' && name[k] <= '9') ? name[k] - '0' : -1) : hex_value(name[k]);
          if (digit < 0) break;
          // Saturate: anything above U+10FFFF behaves the same.
          num = std::min<std::uint32_t>(num * (dec ? 10 : 16) + static_cast<std::uint32_t>(digit),
                                        0x110000);
        }
        if (k < name.size() && name[k] == ';') ++k;
        numeric(num);
        i = k;
        continue;
      }
      classify('&');  // "&#" without digits is literal text
      ++i;
      continue;
    }
    size_t k = j;
    while (k < name.size() && name[k] != '\t' && name[k] != '\n' && name[k] != '\f' &&
           name[k] != ' ' && name[k] != '<' && name[k] != '&' && name[k] != '#' && name[k] != ';') {
      ++k;
    }
    if (k == j) {
      classify('&');
      ++i;
      continue;
    }
    const string_view entity = name.substr(j, k - j);
    const bool semicolon = k < name.size() && name[k] == ';';
    if (semicolon && (entity == "period" || entity == "sol" || entity == "bsol")) {
      out += entity == "period" ? '.' : (entity == "sol" ? '/' : '\\');
      i = k + 1;
      continue;
    }
    // Any other reference yields a non-empty replacement of its alphanumeric
    // prefix followed by the rest literally, or stays literal: in symbols, an
    // 'x' for the '&' and the text as is.
    out += 'x';
    i = j;
  }
}

// True when sanitize_file_name(name) returns None, i.e. the part is skipped.
bool file_name_sanitizes_to_none(string_view name) {
  string symbols;
  if (name.find('&') == kNpos) {
    symbols = string(name);
  } else {
    unescape_symbols(name, symbols);
  }
  const size_t slash = symbols.find_last_of("/\\");
  const string_view last =
      slash == kNpos ? string_view(symbols) : string_view(symbols).substr(slash + 1);
  return last.empty() || last == "." || last == "..";
}

// ---------------------------------------------------------------------------
// base64.b64decode(data) (validate=False): CPython's binascii.a2b_base64 in
// non-strict mode. nullopt where it raises binascii.Error.
std::optional<string> b64decode(string_view data) {
  string out;
  out.reserve(data.size() / 4 * 3);
  int quad_pos = 0;
  int pads = 0;
  unsigned left = 0;
  for (const char ch : data) {
    if (ch == '=') {
      // Enough padding ends the data; anything after it is ignored.
      if (quad_pos >= 2 && quad_pos + ++pads >= 4) return out;
      continue;
    }
    int value;
    if (ch >= 'A' && ch <= 'Z') {
      value = ch - 'A';
    } else if (ch >= 'a' && ch <= 'z') {
      value = ch - 'a' + 26;
    } else if (ch >= '0' && ch <= '9') {
      value = ch - '0' + 52;
    } else if (ch == '+') {
      value = 62;
    } else if (ch == '/') {
      value = 63;
    } else {
      continue;  // not base64: skipped
    }
    pads = 0;
    const auto v = static_cast<unsigned>(value);
    switch (quad_pos) {
      case 0:
        quad_pos = 1;
        left = v;
        break;
      case 1:
        quad_pos = 2;
        out += static_cast<char>(((left << 2) | (v >> 4)) & 0xFF);
        left = v & 0x0F;
        break;
      case 2:
        quad_pos = 3;
        out += static_cast<char>(((left << 4) | (v >> 2)) & 0xFF);
        left = v & 0x03;
        break;
      default:
        quad_pos = 0;
        out += static_cast<char>(((left << 6) | v) & 0xFF);
        left = 0;
        break;
    }
  }
  if (quad_pos != 0) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------------------
// Multipart.

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
    if (is_valid_utf8(line)) {
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

// Django's parser reads the body through a LazyStream of 64 KiB chunks and a
// BoundaryIter per part, and it abandons skipped parts after their first 1024
// bytes without draining them; the next "part" then starts where the stream
// stands, which may be inside the abandoned one. This class reproduces where
// that is (it assumes the WSGI input returns full 64 KiB reads, as gunicorn's
// does), so that such bodies parse the same.
class PartCursor {
 public:
  PartCursor(string_view body, string separator)
      : body_(body), separator_(std::move(separator)), rollback_(separator_.size() + 6) {}

  bool done() const { return pos_ >= body_.size(); }

  // The next part: [pos, end) with the CR/LF before the separator removed.
  string_view part() {
    if (read_end_ <= pos_) pull();  // BoundaryIter.__init__ reads a byte
    sep_ = find_separator(pos_);
    part_end_ = body_.size();  // unterminated: kept whole
    if (sep_ != kNpos) {
      part_end_ = sep_;
      // _find_boundary backs up over one "\n", then one "\r".
      if (part_end_ > pos_ && body_[part_end_ - 1] == '\n') --part_end_;
      if (part_end_ > pos_ && body_[part_end_ - 1] == '\r') --part_end_;
    }
    return body_.substr(pos_, part_end_ - pos_);
  }

  // Moves past the current part after the parser read `wanted` bytes of it
  // (kNpos: all of it).
  void advance(size_t wanted) { pos_ = steps(wanted, &read_end_, nullptr); }

  // Where the pieces Django's parser gets for the current part end (body
  // offsets), if it reads all of it.
  std::vector<size_t> piece_ends() const {
    std::vector<size_t> ends;
    size_t read_end = read_end_;
    steps(kNpos, &read_end, &ends);
    return ends;
  }

 private:
  // Runs BoundaryIter steps over the current part until `wanted` bytes of it
  // were returned (kNpos: all) and gives the stream position after them. A
  // step takes 64 KiB chunks until it holds more than `rollback` bytes, and
  // returns all but the last `rollback` of them unless it found the separator.
  size_t steps(size_t wanted, size_t* read_end, std::vector<size_t>* ends) const {
    const auto pull_into = [this, read_end] {
      *read_end = std::min(*read_end + kChunkSize, body_.size());
    };
    const size_t start = pos_;
    const size_t sep_end = sep_ == kNpos ? kNpos : sep_ + separator_.size();
    size_t q = start;
    while (*read_end - q <= rollback_ && *read_end < body_.size()) pull_into();
    while (true) {
      if (sep_end != kNpos && sep_end <= *read_end) {
        if (ends) ends->push_back(part_end_);
        return sep_end;
      }
      if (*read_end - q <= rollback_) {  // input exhausted: the rest is the part
        if (ends) ends->push_back(*read_end);
        return *read_end;
      }
      q = *read_end - rollback_;
      if (ends) ends->push_back(q);
      if (wanted != kNpos && q - start >= wanted) return q;
      if (*read_end < body_.size()) pull_into();
    }
  }

 private:
  void pull() { read_end_ = std::min(read_end_ + kChunkSize, body_.size()); }

  // First separator at or after `from`; remembered, so that resuming inside a
  // part does not search the same bytes again (quadratic on huge parts).
  size_t find_separator(size_t from) {
    if (cached_from_ != kNpos && from >= cached_from_ && (cached_ == kNpos || cached_ >= from)) {
      return cached_;
    }
    const void* hit =
        memmem(body_.data() + from, body_.size() - from, separator_.data(), separator_.size());
    cached_from_ = from;
    cached_ =
        hit == nullptr ? kNpos : static_cast<size_t>(static_cast<const char*>(hit) - body_.data());
    return cached_;
  }

  string_view body_;
  string separator_;
  size_t rollback_;
  size_t pos_ = 0;       // where Django's main stream stands
  size_t read_end_ = 0;  // how much of the input it has read
  size_t sep_ = kNpos;   // separator ending the current part
  size_t part_end_ = 0;  // end of the current part's data
  size_t cached_from_ = kNpos;
  size_t cached_ = kNpos;
};

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

}  // namespace

std::optional<std::string> FormData::field(std::string_view name) const {
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

std::string media_type(std::string_view content_type) {
  // DRF's _MediaType: parse_header_parameters(...)[0] (the header is latin-1).
  return ascii_lower(split_params(decode(content_type, Codec::kLatin1)).front());
}

FormParse parse_urlencoded(std::string_view body, std::string_view content_type) {
  const Codec codec = request_codec(content_type);
  // QueryDict(bytes): decode with the request's encoding, or as ISO-8859-1
  // when that fails.
  string text;
  if ((codec == Codec::kUtf8 && is_valid_utf8(body)) ||
      (codec == Codec::kAscii && is_ascii(body))) {
    text = string(body);
  } else {
    text = decode(body, Codec::kLatin1);
  }
  // parse_qsl(max_num_fields=1000) counts separators, empty fields included.
  if (!text.empty() &&
      static_cast<size_t>(std::count(text.begin(), text.end(), '&')) + 1 > kMaxNumberFields) {
    return failure(string(kTooManyFields));
  }
  FormParse result;
  FormData& data = result.data.emplace();
  // parse_qsl(keep_blank_values=True): '&' only, empty pieces skipped, a piece
  // without '=' is a name with an empty value, '+' is a space.
  const string_view all(text);
  for (size_t start = 0; start < all.size();) {
    size_t amp = all.find('&', start);
    if (amp == kNpos) amp = all.size();
    const string_view piece = all.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    string name(piece.substr(0, eq));
    string value(eq == kNpos ? string_view() : piece.substr(eq + 1));
    std::replace(name.begin(), name.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    std::pair<string, string> field;
    py_unquote_into(name, codec, field.first);
    py_unquote_into(value, codec, field.second);
    data.fields.push_back(std::move(field));
  }
  return result;
}

FormParse parse_multipart(std::string_view content_type, std::string_view body) {
  // DRF never hands an empty body (Content-Length 0) to a parser.
  if (body.empty()) {
    FormParse empty;
    empty.data.emplace();
    return empty;
  }
  // MultiPartParser.__init__ checks, in Django's order and wording. The
  // header value is latin-1, as WSGI decodes it.
  // (Messages are built with append(): GCC 12 misreports string + chains
  // under -O2 as out-of-bounds, bug 105651.)
  if (!content_type.starts_with("multipart/")) {
    return failure(string(kMultipartError)
                       .append("Invalid Content-Type: ")
                       .append(decode(content_type, Codec::kLatin1)));
  }
  if (!is_ascii(content_type)) {
    return failure(string(kMultipartError)
                       .append("Invalid non-ASCII Content-Type in multipart: ")
                       .append(decode(content_type, Codec::kLatin1)));
  }
  // Departure: a malformed RFC 2231 parameter is a ValueError (500) in Django;
  // we report the boundary as unreadable.
  const std::optional<HeaderParams> params = parse_header_parameters(content_type);
  const string* boundary = params ? params->get("boundary") : nullptr;
  if (boundary == nullptr || !valid_boundary(*boundary)) {
    return failure(string(kMultipartError)
                       .append("Invalid boundary in multipart: ")
                       .append(boundary == nullptr ? string("None") : *boundary));
  }
  const Codec codec = request_codec(content_type);

  FormParse result;
  FormData& data = result.data.emplace();
  std::optional<FormFile> pending;  // a file is complete when another part follows
  size_t post_keys = 0;
  size_t files = 0;
  PartCursor cursor(body, "--" + *boundary);
  while (!cursor.done()) {
    if (pending) {
      add_file(data, std::move(*pending));
      pending.reset();
    }
    const string_view segment = cursor.part();
    const PartHead head = parse_part_head(segment);
    size_t wanted = kPartHeaderWindow;  // skipped parts are read this far
    // RAW parts count as fields; "+ 2" allows the preamble and the epilogue.
    if (head.kind != PartKind::kFile && ++post_keys > kMaxNumberFields + 2) {
      return failure(string(kTooManyFields));
    }
    const string* raw_name = head.kind == PartKind::kRaw ? nullptr : head.disposition.get("name");
    if (raw_name != nullptr) {
      string name = decode(ascii_strip(*raw_name), codec);
      const bool base64 = head.transfer_encoding && py_strip(*head.transfer_encoding) == "base64";
      const string_view content = segment.substr(head.content_offset);
      if (head.kind == PartKind::kField) {
        // An undecodable base64 field keeps its raw bytes.
        std::optional<string> decoded = base64 ? b64decode(content) : std::nullopt;
        data.fields.emplace_back(std::move(name), decode(decoded ? *decoded : content, codec));
        wanted = kNpos;
      } else {
        if (++files > kMaxNumberFiles) return failure(string(kTooManyFiles));
        const string file_name = decode(*head.disposition.get("filename"), codec);
        if (!file_name_sanitizes_to_none(file_name)) {
          string bytes;
          if (base64) {
            std::optional<string> decoded = decode_base64_file(
                body, static_cast<size_t>(content.data() - body.data()),
                static_cast<size_t>(segment.data() - body.data()), cursor.piece_ends());
            if (!decoded) return failure(string(kMultipartError) + "Could not decode base64 data.");
            bytes = std::move(*decoded);
          } else {
            bytes = string(content);
          }
          // `if old_field_name:` in _parse: a file named "" is never completed.
          if (!name.empty()) pending = FormFile{std::move(name), std::move(bytes)};
          wanted = kNpos;
        }
      }
    }
    cursor.advance(wanted);
  }
  // A file part that nothing follows (a body ending right after a separator,
  // or cut short) is never completed by Django: it is dropped.
  return result;
}

}  // namespace cjs::server
