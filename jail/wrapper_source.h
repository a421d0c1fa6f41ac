// The in-sandbox wrapper program (jail/wrapper/jailed_code.py), embedded in
// the binary at build time so an installed service cannot pick up a stale or
// tampered copy from disk.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cjs::jail {

// The wrapper's text as shipped, with its python_path marker line.
std::string_view wrapper_template();

// The wrapper for one execution: the marker line replaced by one
// `sys.path.append('<entry>')` line per python_path entry, so the exec()
// line is 19 + entries.size(), as in the reference.
std::string wrapper_source(const std::vector<std::string>& python_path);

}  // namespace cjs::jail
