#pragma once
// Errors travel as values: every fallible function returns Result<T> = std::expected<T, Error>.
// Nothing throws across a component boundary. Context is prepended on the way up, so the message
// main prints reads outermost-first: "pi09: clone rootfs: ssh fs1: Permission denied (publickey)".

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace picluster {

enum class ErrorCode {
  invalid_inventory,  // the inventory file or a value in it is wrong
  invalid_argument,   // the operator's command line is wrong (exit status 2)
  not_found,          // a named Pi, shelf, file or object does not exist
  conflict,           // the request contradicts current state (duplicate, in use, mismatch)
  locked,             // another run holds the lock
  io,                 // local file system or process failure
  ssh,                // SSH transport or authentication
  snmp,               // SNMP transport or agent error
  timeout,            // a bounded wait ran out
  command_failed,     // a command ran and exited non-zero
  refused,            // a safety check refused the action (override with --force where offered)
  internal,           // a bug in picluster
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;

  // Returns a copy whose message reads "<context>: <message>".
  [[nodiscard]] Error with_context(std::string_view context) const;
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for `return fail(ErrorCode::io, "...")` in any function returning Result<T>.
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

// Prepends context to the error of a failed result; passes a success through untouched.
template <typename T>
Result<T> with_context(Result<T> result, std::string_view context) {
  if (!result) return std::unexpected(result.error().with_context(context));
  return result;
}

// Exit status that main returns for an error: 2 for usage errors, 1 for everything else.
int exit_status(const Error& error);

}  // namespace picluster
