// The wrapper's line numbering is API: tracebacks show its exec() line.
#include <catch2/catch.hpp>

#include <string>

#include "jail/wrapper_source.h"

namespace {

// 1-based line number of the first line equal to `line`, 0 when absent.
int line_of(const std::string& text, const std::string& line) {
  int number = 1;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.compare(start, end - start, line) == 0) return number;
    start = end + 1;
    ++number;
  }
  return 0;
}

}  // namespace

TEST_CASE("exec() is on line 19 without python_path entries", "[wrapper]") {
  std::string source = cjs::jail::wrapper_source({});
  CHECK(line_of(source, "exec(code, g_dict)") == 19);
  CHECK(source.find("#@CODEJAIL_PYTHON_PATH@") == std::string::npos);
}

TEST_CASE("each python_path entry adds a sys.path line before exec()", "[wrapper]") {
  std::string one = cjs::jail::wrapper_source({"python_lib.zip"});
  CHECK(line_of(one, "sys.path.append('python_lib.zip')") == 19);
  CHECK(line_of(one, "exec(code, g_dict)") == 20);

  std::string two = cjs::jail::wrapper_source({"python_lib.zip", "python_lib.zip"});
  CHECK(line_of(two, "exec(code, g_dict)") == 21);
}

TEST_CASE("python_path entries are quoted as Python literals", "[wrapper]") {
  std::string source = cjs::jail::wrapper_source({"it's\\odd"});
  CHECK(line_of(source, "sys.path.append('it\\'s\\\\odd')") == 19);
  CHECK_THROWS(cjs::jail::wrapper_source({"new\nline"}));
}

TEST_CASE("the wrapper swallows stdout and reports through sys.__stdout__", "[wrapper]") {
  std::string source = cjs::jail::wrapper_source({});
  CHECK(source.find("sys.stdout = DevNull()") != std::string::npos);
  CHECK(source.find("json.dump(g_dict, sys.__stdout__)") != std::string::npos);
}
