// libFuzzer target: the payload JSON handling (api.md 2.1-2.2 and 3).
// Invariants: nothing throws or crashes; every refusal has a message; a
// parsed document survives both of our spellings unchanged (what we echo
// and what we feed the sandbox are the document the client sent).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json_parse.h"
#include "common/json_render.h"
#include "common/payload.h"
#include "common/python_repr.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  cjs::json::ParseResult parsed = cjs::json::parse(text);
  if (parsed) {
    for (const std::string& spelling :
         {cjs::json::render_api(*parsed.value), cjs::json::render_ascii(*parsed.value)}) {
      cjs::json::ParseResult again = cjs::json::parse(spelling);
      if (!again || !(*again.value == *parsed.value)) std::abort();
    }
    (void)cjs::python_value_repr(*parsed.value);
  } else if (parsed.error.message.empty()) {
    std::abort();
  }

  cjs::PayloadCheck check = cjs::check_payload(text, {"python_lib.zip"});
  if (!check.payload && (check.error.message.empty() || check.error.http_status != 400)) {
    std::abort();
  }
  if (check.payload && !check.payload->globals.is_object()) std::abort();
  return 0;
}
