#include "common/json_render.h"

#include <string_view>
#include <utility>
#include <vector>

#include "common/utf8.h"

namespace cjs::json {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";  // Python escapes in lower case

void append_u_escape(std::string& out, char32_t unit) {
  out += "\\u";
  out += kHexDigits[(unit >> 12) & 0xF];
  out += kHexDigits[(unit >> 8) & 0xF];
  out += kHexDigits[(unit >> 4) & 0xF];
  out += kHexDigits[unit & 0xF];
}

// Appends the escape for an ASCII byte that needs one, or returns false.
bool append_ascii_escape(std::string& out, unsigned char byte) {
  switch (byte) {
    case '"':
      out += "\\\"";
      return true;
    case '\\':
      out += "\\\\";
      return true;
    case '\n':
      out += "\\n";
      return true;
    case '\r':
      out += "\\r";
      return true;
    case '\t':
      out += "\\t";
      return true;
    case '\b':
      out += "\\b";
      return true;
    case '\f':
      out += "\\f";
      return true;
    default:
      if (byte < 0x20) {
        append_u_escape(out, byte);
        return true;
      }
      return false;
  }
}

void append_string(std::string& out, std::string_view text, bool ascii_only) {
  out += '"';
  std::size_t run = 0;  // start of bytes still to copy verbatim
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\') {
      ++i;
      continue;
    }
    if (byte < 0x80) {
      if (byte == 0x7F && !ascii_only) {
        ++i;  // ensure_ascii=False leaves DEL alone
        continue;
      }
      out.append(text, run, i - run);
      if (!append_ascii_escape(out, byte)) append_u_escape(out, byte);  // DEL
      run = ++i;
      continue;
    }
    // Strings are WTF-8 (lone surrogates allowed). Bytes that are not (our
    // parser never produces them) become U+FFFD, one per maximal invalid
    // subpart, so the output is always valid.
    const utf8::Step cp = utf8::step(text, i, utf8::Form::kWtf8);
    const bool surrogate = cp.code_point >= 0xD800 && cp.code_point <= 0xDFFF;
    const bool line_separator = cp.code_point == 0x2028 || cp.code_point == 0x2029;
    if (cp.valid && !ascii_only && !surrogate && !line_separator) {
      i += cp.length;  // raw UTF-8
      continue;
    }
    out.append(text, run, i - run);
    if (!ascii_only && !surrogate && !line_separator) {
      out += utf8::kReplacement;  // invalid bytes
    } else if (cp.code_point >= 0x10000) {
      const char32_t offset = cp.code_point - 0x10000;
      append_u_escape(out, 0xD800 + (offset >> 10));
      append_u_escape(out, 0xDC00 + (offset & 0x3FF));
    } else {
      append_u_escape(out, cp.code_point);
    }
    i += cp.length;
    run = i;
  }
  out.append(text, run, i - run);
  out += '"';
}

void append_scalar(std::string& out, const Value& value, bool ascii_only) {
  if (value.is_null()) {
    out += "null";
  } else if (value.is_bool()) {
    out += value.as_bool() ? "true" : "false";
  } else if (value.is_number()) {
    out += value.as_number().text;
  } else {
    append_string(out, value.as_string(), ascii_only);
  }
}

void render_into(std::string& out, const Value& root, bool ascii_only) {
  // Iterative walk: containers on an explicit stack with the index of the next
  // child, so nesting depth never becomes C++ stack depth.
  struct Open {
    const Value* container;
    std::size_t next;
  };
  std::vector<Open> stack;
  const Value* current = &root;
  for (;;) {
    if (current->is_array()) {
      out += '[';
      stack.push_back({current, 0});
    } else if (current->is_object()) {
      out += '{';
      stack.push_back({current, 0});
    } else {
      append_scalar(out, *current, ascii_only);
    }
    current = nullptr;
    while (current == nullptr && !stack.empty()) {
      Open& top = stack.back();
      if (top.container->is_array()) {
        const Array& items = top.container->as_array();
        if (top.next == items.size()) {
          out += ']';
          stack.pop_back();
          continue;
        }
        if (top.next > 0) out += ',';
        current = &items[top.next++];
      } else {
        const Object& members = top.container->as_object();
        if (top.next == members.size()) {
          out += '}';
          stack.pop_back();
          continue;
        }
        if (top.next > 0) out += ',';
        const Member& member = members[top.next++];
        append_string(out, member.first, ascii_only);
        out += ':';
        current = &member.second;
      }
    }
    if (current == nullptr) return;
  }
}

std::string render(const Value& root, bool ascii_only) {
  std::string out;
  render_into(out, root, ascii_only);
  return out;
}

}  // namespace

std::string render_api(const Value& value) { return render(value, false); }

std::string render_ascii(const Value& value) { return render(value, true); }

void append_ascii(std::string& out, const Value& value) { render_into(out, value, true); }

std::string quote_api(std::string_view wtf8) {
  std::string out;
  out.reserve(wtf8.size() + 2);
  append_string(out, wtf8, false);
  return out;
}

}  // namespace cjs::json
