#pragma once
// The persistent remote helper behind SshHost (mitogen-style): ONE SSH exec channel per
// connection starts a small perl interpreter on the fileserver (perl-base is Essential on
// Debian), and every remote operation of the verb is a request on that channel. So the login
// shell that sshd starts for a channel (and the ~/.bashrc that bash sources for commands run by
// sshd) runs once per connection, not once per operation, and whatever it prints never reaches a
// result.
//
// How it works:
//   - sshd runs helper_command_line(): `exec env -i PATH=... LC_ALL=C perl -e SCRIPT NONCE`. The
//     helper's first output is NONCE and a newline; everything the login shell's start-up files
//     printed before it is skipped (NONCE is random per connection). Nothing is sent to the
//     helper before that line arrived, so an rc file that reads stdin reads nothing of ours.
//   - A run request is "r NARGS INPUTLEN\n", then per argument "LEN\n" and its bytes, then
//     INPUTLEN bytes of the command's stdin. The helper forks, puts the child in a process group
//     of its own and execs argv (no shell), forwarding stdin as it arrives (a command whose input
//     is cut short sees its input end early).
//   - A file request is "f NARGS INPUTLEN\n" framed the same way; the first argument names an
//     operation the helper does itself with perl builtins, no process started (remote_batch.hpp:
//     read_paths, write_files, list_dirs, stat, read, list, mkdir, rename, remove). Exit status 0
//     done, 44 the path is not there, 1 failed; the stderr frame then says "WHAT PATH: REASON".
//     A batched write stages each file as its record arrives and renames only after the last:
//     input that ends early (connection lost) renames nothing and removes the temporaries.
//   - The answer is a sequence of frames: "o LEN\n"+bytes (stdout, as it arrives, for progress),
//     "e LEN\n"+bytes (stderr), and last "x STATUS\n" (exit status; 128+N for signal N).
//   - "k\n" while a command runs SIGKILLs its process group (the command and its children); the
//     helper then answers "x 137" and serves the next request. A stray "k" between requests is
//     ignored. (A file operation cannot be killed; it does no more than a few syscalls per path.)
//   - Requests may be sent before the answers of earlier ones are read (pipelining): the helper
//     serves them in order. A request line may end with FLAGS ("r NARGS INPUTLEN FLAGS"): "c" the
//     request is chained, carried out only if no request since the last unchained one failed
//     (non-zero exit status), else its input is dropped and it is answered "x 999" (skipped);
//     "t" its own non-zero exit does not fail the chain (Host::pipeline).
//   - End of input ends the helper; a command still running goes on (SshHost wraps every command
//     in `timeout --signal=KILL`, so its deadline is enforced on the fileserver all the same).
// Everything here is pure (strings in, frames out) and unit-tested; SshHost does the I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace picluster::nfsroot::remote {

// The command line for the exec channel; every element quoted with shell_quote.
std::string helper_command_line(std::string_view nonce);

// The helper's perl source (nfsroot/remote_helper_script.cpp).
std::string_view helper_script();

// A request to run argv; exactly `input_size` bytes of stdin must follow it on the channel.
// flags: "" or "c", "t", "ct" (see above).
std::string encode_run(const std::vector<std::string>& argv, std::size_t input_size,
                       std::string_view flags = {});
// A file request (args[0] names the operation); exactly `input_size` bytes of input must follow.
std::string encode_op(const std::vector<std::string>& args, std::size_t input_size,
                      std::string_view flags = {});

// Exit status of a chained request that was not carried out (an earlier one failed).
inline constexpr int kSkippedStatus = 999;

// Exit status of a file request whose path is not there.
inline constexpr int kMissingStatus = 44;

inline constexpr std::string_view kKillRequest = "k\n";

struct Frame {
  char kind = 0;     // 'o' stdout, 'e' stderr, 'x' exit
  std::string data;  // bytes of 'o' and 'e'
  int status = 0;    // of 'x'
};

// Splits the helper's stdout into frames, after skipping everything up to its hello line.
class FrameReader {
 public:
  explicit FrameReader(std::string nonce) : m_nonce(std::move(nonce) + "\n") {}
  void feed(std::string_view bytes);
  // The hello line has arrived: the helper runs.
  [[nodiscard]] bool started() const { return m_started; }
  // The next complete frame; nullopt while more bytes are needed; an error for malformed input.
  std::optional<Result<Frame>> next();

 private:
  std::string m_nonce;
  bool m_started = false;
  std::string m_buffer;
  std::size_t m_at = 0;  // parsed up to here
};

}  // namespace picluster::nfsroot::remote
