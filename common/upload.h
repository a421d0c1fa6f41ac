// One uploaded file, from the form parser through the worker protocol into
// the sandbox dir.
#pragma once

#include <string>

namespace cjs {

struct UploadedFile {
  std::string name;     // the multipart part's field name (api.md 2: the file's name)
  std::string content;  // raw bytes
};

}  // namespace cjs
