// Request bodies as the reference's Django decodes them (api.md section 2):
// application/x-www-form-urlencoded and multipart/form-data, with Django's
// rules for which parts are files and which are fields: DRF's FormParser and
// MultiPartParser on top of Django 4.2's QueryDict and MultiPartParser, on
// CPython 3.11. Each rule names the Python behavior it reproduces; the few
// deliberate departures are marked "Departure". Not reproduced:
// DATA_UPLOAD_MAX_MEMORY_SIZE (the service takes 20 MiB bodies; size limits
// are the caller's) and LazyStream's "parser got stuck" check.
//
// The implementation is in server/form/, one concern per file: codec (the
// charsets), python_str (Python's str operations), header_params, base64,
// file_name (sanitize_file_name), part_cursor (where Django's stream finds
// each part), multipart, urlencoded, form_data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/upload.h"

namespace cjs::server {

// The upload type the worker protocol carries (common/upload.h).
using FormFile = UploadedFile;

struct FormData {
  // Ordinary fields in body order; a repeated name keeps every value (the
  // API reads the last, as Django's QueryDict.__getitem__ does).
  std::vector<std::pair<std::string, std::string>> fields;
  // Uploaded files; a repeated name: the last one wins (kept once, at the
  // position of its first occurrence, as a MultiValueDict keeps its keys).
  std::vector<FormFile> files;

  // The last value of field `name`, if any.
  std::optional<std::string> field(std::string_view name) const;
};

struct FormError {
  // For {"detail": ...} (400): e.g. "Multipart form parse error - Invalid
  // boundary in multipart: None". Django's own 400s for more than 1000 fields
  // or 100 files (DATA_UPLOAD_MAX_NUMBER_FIELDS/FILES) carry its message.
  std::string detail;
};

struct FormParse {
  std::optional<FormData> data;
  FormError error;
};

// The media type of a Content-Type header value, lower-cased, without
// parameters ("multipart/form-data; boundary=x" -> "multipart/form-data").
// The header's bytes are taken as ISO-8859-1 (as WSGI does); the result is UTF-8.
std::string media_type(std::string_view content_type);

// Parses `body` according to `content_type` (the full header value).
// Callers check the media type first (415 for anything else). A `charset`
// parameter is honored as Django honors it (UTF-8, ISO-8859-1 and ASCII; any
// other is taken as UTF-8). An empty body gives empty data, never an error:
// DRF does not run a parser on it.
FormParse parse_urlencoded(std::string_view body, std::string_view content_type = {});
FormParse parse_multipart(std::string_view content_type, std::string_view body);

}  // namespace cjs::server
