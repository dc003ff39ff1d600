#pragma once
// Small text helpers shared by every component: strict name checks and safe quoting.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace picluster {

// True for an RFC 1123 host label: 1-63 of [a-z0-9-], not starting or ending with '-'.
// Lower case only, so a name maps to exactly one folder, export and hostname.
bool is_rfc1123_label(std::string_view name);

// True for an absolute POSIX path made only of [A-Za-z0-9._/-], with no "." or ".." component
// and no empty component: safe in an NFS export line, a kernel command line and a remote shell.
bool is_safe_absolute_path(std::string_view path);

// Quotes one argument for a POSIX shell (single quotes; embedded ' becomes '\''). Always quotes,
// so the result is safe whatever the input, including empty strings, newlines and NUL-free binary.
std::string shell_quote(std::string_view arg);

// Joins argv into one POSIX shell command line, quoting every element with shell_quote.
std::string shell_join(const std::vector<std::string>& argv);

// Renders a string for an error message: printable ASCII as is, anything else as \xNN, in quotes.
std::string printable(std::string_view text);

std::vector<std::string> split(std::string_view text, char separator);

// A byte count for people, in binary units: "512 B", "1.5 KiB", "3.2 GiB".
std::string human_bytes(std::uint64_t bytes);

}  // namespace picluster
