// Serializers matching the two JSON spellings the service must produce.
#pragma once

#include <string>

#include "common/json_value.h"

namespace cjs::json {

// The HTTP response body spelling: what the reference's Django REST framework
// renderer emits, i.e. json.dumps(v, ensure_ascii=False, separators=(',', ':'))
// with U+2028/U+2029 then escaped. Non-ASCII stays raw UTF-8; control
// characters become \n \r \t \b \f or \u00XX (lower-case hex); numbers are
// emitted as stored (NaN/Infinity bare). Lone surrogates, which cannot be
// encoded as UTF-8, are emitted as \udXXX escapes instead of failing.
std::string render_api(const Value& value);

// Pure-ASCII spelling, as json.dumps(v) with ensure_ascii=True and compact
// separators: every non-ASCII code point as \uXXXX (astral ones as surrogate
// pairs). Used for data we feed to the sandboxed interpreter, so that it
// decodes identically whatever the sandbox's locale.
std::string render_ascii(const Value& value);
// render_ascii appended to `out`, without a temporary copy of a large value.
void append_ascii(std::string& out, const Value& value);

// A JSON string literal (with quotes) in the API spelling; used for messages.
std::string quote_api(std::string_view wtf8);

}  // namespace cjs::json
