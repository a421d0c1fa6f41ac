#include "jail/wrapper_source.h"

#include <stdexcept>

#include "common/python_repr.h"

namespace cjs::jail {

// Defined in the file CMake generates from jail/wrapper/jailed_code.py.
extern const char kJailedCodeTemplate[];

namespace {
constexpr std::string_view kMarkerLine = "#@CODEJAIL_PYTHON_PATH@\n";
}  // namespace

std::string_view wrapper_template() { return kJailedCodeTemplate; }

std::string wrapper_source(const std::vector<std::string>& python_path) {
  std::string_view tmpl = wrapper_template();
  auto marker = tmpl.find(kMarkerLine);
  if (marker == std::string_view::npos) {
    throw std::logic_error("wrapper template lost its python_path marker");
  }
  std::string out(tmpl.substr(0, marker));
  // The entries are validated upstream to be exactly "python_lib.zip"; the
  // literal stays correct regardless.
  for (const auto& entry : python_path) {
    for (char c : entry) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        throw std::invalid_argument("python_path entry is not printable ASCII");
      }
    }
    out += "sys.path.append(" + python_str_literal(entry) + ")\n";
  }
  out += tmpl.substr(marker + kMarkerLine.size());
  return out;
}

}  // namespace cjs::jail
