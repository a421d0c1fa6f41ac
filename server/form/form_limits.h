// Django's limits on a request body's fields and files, with its messages
// (settings defaults; the reference does not override them). Exceeding one
// is a SuspiciousOperation (400) in Django; for us a FormError.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "server/form_body.h"

namespace cjs::server::form {

inline constexpr std::size_t kMaxNumberFields = 1000;  // DATA_UPLOAD_MAX_NUMBER_FIELDS
inline constexpr std::size_t kMaxNumberFiles = 100;    // DATA_UPLOAD_MAX_NUMBER_FILES
inline constexpr std::string_view kTooManyFields =
    "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.";
inline constexpr std::string_view kTooManyFiles =
    "The number of files exceeded settings.DATA_UPLOAD_MAX_NUMBER_FILES.";

inline FormParse failure(std::string detail) {
  FormParse result;
  result.error.detail = std::move(detail);
  return result;
}

}  // namespace cjs::server::form
