// base64.b64decode(data) (validate=False): CPython's binascii.a2b_base64 in
// non-strict mode, as Django decodes Content-Transfer-Encoding: base64 parts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cjs::server::form {

// Characters outside the alphabet are skipped; enough '=' ends the data.
// nullopt where Python raises binascii.Error.
std::optional<std::string> b64decode(std::string_view data);

}  // namespace cjs::server::form
