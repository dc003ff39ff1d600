#include "common/json.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace picluster {

namespace {

// Calls visit(offset) for each byte of `text` outside JSON strings (and each opening quote) until it
// returns false.
template <typename Visit>
void outside_strings(std::string_view text, Visit visit) {
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (!visit(i)) return;
  }
}

}  // namespace

std::optional<std::size_t> json_too_deep(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  std::optional<std::size_t> at;
  outside_strings(text, [&](std::size_t i) {
    const char c = text[i];
    if ((c == '[' || c == '{') && ++depth > max_depth) {
      at = i;
      return false;
    }
    if ((c == ']' || c == '}') && depth > 0) --depth;
    return true;
  });
  return at;
}

std::string json_position(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::optional<std::size_t> json_number_overflow(std::string_view text) {
  std::optional<std::size_t> at;
  std::size_t skip_to = 0;  // the end of the literal just checked
  outside_strings(text, [&](std::size_t i) {
    const char c = text[i];
    if (i < skip_to || !(c == '-' || (c >= '0' && c <= '9'))) return true;
    std::size_t end = i;
    while (end < text.size() && text[end] != '\0' && std::strchr("+-.eE0123456789", text[end]) != nullptr) ++end;
    skip_to = end;
    const std::string literal(text.substr(i, end - i));
    if (std::isfinite(std::strtod(literal.c_str(), nullptr))) return true;
    at = i;
    return false;
  });
  return at;
}

namespace detail {

std::string json_message(const char* what) {
  std::string out = what;
  if (out.starts_with("[json.exception.")) {
    if (const auto end = out.find("] "); end != std::string::npos) out.erase(0, end + 2);
  }
  return out;
}

}  // namespace detail
}  // namespace picluster
