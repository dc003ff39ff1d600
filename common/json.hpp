#pragma once
// Reading JSON text that anyone may have written (the inventory, the state folder's files, the
// simulator's knobs and state) without any exception or crash escaping:
// - nesting deeper than kMaxJsonDepth is refused before nlohmann sees the text (130,000 nested
//   '[' would otherwise overflow the stack in the recursive copies and dumps that follow);
// - a number a double cannot hold (1e400) is an error, not nlohmann's out_of_range exception;
// - every other nlohmann exception becomes an error with the byte offset it names.
// Callers turn JsonError into their own message ("FILE:LINE:COL: ..." or "line L, column C").

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace picluster {

// Deeper than any file picluster reads (the inventory nests 6 levels); far from the stack's limit.
inline constexpr std::size_t kMaxJsonDepth = 64;

struct JsonError {
  enum class Kind { syntax, too_deep, number, other };
  Kind kind = Kind::other;
  std::size_t byte = 0;  // offset of the problem in the text, 0-based (syntax: the last byte read)
  std::string message;   // "syntax error ...", "nesting deeper than 64 levels", ...
};

// The offset of the first '[' or '{' that opens level max_depth + 1, ignoring brackets inside
// strings; nullopt when the text nests no deeper than max_depth.
std::optional<std::size_t> json_too_deep(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// A 0-based offset as "line L, column C" (1-based).
std::string json_position(std::string_view text, std::size_t offset);

// The offset of the first number literal (outside strings) that a double cannot hold, if any.
std::optional<std::size_t> json_number_overflow(std::string_view text);

namespace detail {
// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string json_message(const char* what);
}  // namespace detail

// Parses `text` into J (nlohmann::json or nlohmann::ordered_json). Never throws.
template <typename J>
std::expected<J, JsonError> parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth) {
  if (const auto at = json_too_deep(text, max_depth)) {
    return std::unexpected(JsonError{JsonError::Kind::too_deep, *at, "nesting deeper than " + std::to_string(max_depth) + " levels"});
  }
  try {
    return J::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return std::unexpected(JsonError{JsonError::Kind::syntax, e.byte == 0 ? 0 : e.byte - 1, detail::json_message(e.what())});
  } catch (const nlohmann::json::exception& e) {  // out_of_range.406: number overflow (1e400)
    return std::unexpected(JsonError{JsonError::Kind::number, json_number_overflow(text).value_or(0), detail::json_message(e.what())});
  } catch (const std::exception& e) {  // bad_alloc on absurd input
    return std::unexpected(JsonError{JsonError::Kind::other, 0, e.what()});
  }
}

// An integer JSON value within [min, max]; nullopt for anything else (a float such as 1e300, an
// unsigned 2^64-1, a string), so nothing wraps, truncates or hits a float-to-int overflow.
template <typename J>
std::optional<long long> json_integer(const J& v, long long min, long long max) {
  if (v.is_number_unsigned()) {
    const auto u = v.template get<unsigned long long>();
    if (max < 0 || u > static_cast<unsigned long long>(max)) return std::nullopt;
    const auto value = static_cast<long long>(u);
    return value < min ? std::nullopt : std::optional<long long>(value);
  }
  if (!v.is_number_integer()) return std::nullopt;
  const auto value = v.template get<long long>();
  return value < min || value > max ? std::nullopt : std::optional<long long>(value);
}

// Serialises without throwing: strings that are not valid UTF-8 are written with U+FFFD.
template <typename J>
std::string dump_json(const J& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace picluster
