// SshHost over libssh. One session per SshHost (TCP_NODELAY: an operation is a handful of small
// packets, which Nagle would hold back for the peer's delayed ACK) and one channel on it, opened
// by the first operation: it runs the persistent remote helper (nfsroot/remote_helper.hpp), and
// every operation is a request to it. run() sends the request and the command's stdin, then reads
// the helper's frames as packets arrive (poll(2) on the session's socket, no fixed slices) until
// the exit frame, sending an SSH ignore message (a keepalive) after 15 s of silence. At the
// deadline it asks the helper to kill the command's process group (kill_running) and fails with
// ErrorCode::timeout. A channel that is lost (or a helper that does not answer a kill) is closed;
// the next operation opens a new one.

#include "nfsroot/ssh_host.hpp"

#include <libssh/libssh.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>

#include "common/text.hpp"
#include "nfsroot/remote_batch.hpp"
#include "nfsroot/remote_helper.hpp"
#include "nfsroot/ssh_master.hpp"

namespace picluster::nfsroot {

struct SshHost::Impl {
  ssh_session session = nullptr;
  SshTarget target;
  std::uint64_t channels = 0;  // SSH channels opened: one per connection, unless one was lost
  std::uint64_t requests = 0;  // operations sent to the helper: one round trip each
  std::string marker;          // random per connection: the helper's hello line
  ssh_channel helper = nullptr;  // the persistent helper's channel (remote_helper.hpp)
  std::optional<remote::FrameReader> frames;
  std::string helper_err;  // the channel's stderr: for messages when the helper ends
  // Through a connection master (ssh_master.hpp): its Unix socket instead of session and helper;
  // mux_lost once it was closed after an error (the stream may be out of step).
  int mux = -1;
  bool mux_lost = false;
  std::string how;  // how_connected(): reuse, a new master, or why a direct connection
  ~Impl() {
    if (mux >= 0) {
      // Every answer was read (operations are synchronous): the helper is idle; say goodbye so
      // the master keeps it for the next verb.
      (void)::send(mux, "q\n", 2, MSG_NOSIGNAL);
      ::close(mux);
      mux = -1;
    }
    close_helper();
    if (session != nullptr) {
      ssh_disconnect(session);
      ssh_free(session);
    }
  }
  [[nodiscard]] std::string where() const {
    return "ssh " + target.user + "@" + target.host + ":" + std::to_string(target.port);
  }
  [[nodiscard]] std::string session_error() const {
    return session != nullptr ? ssh_get_error(session) : "the SSH connection master closed the connection";
  }
  Result<void> start_helper();
  void close_helper();
  bool write_all(std::string_view data);
  // Reads what the helper's channel holds (stdout to `frames`, stderr to helper_err), or waits up
  // to `wait` for the socket when nothing is there: bytes read, 0, SSH_EOF or SSH_ERROR.
  int pump(std::chrono::milliseconds wait);
  bool kill_running();
  // Sends one run request (argv under the remote `timeout`, and its stdin); await() reads its
  // answer.
  Result<void> send(const std::vector<std::string>& argv, const RunOptions& options,
                    std::string_view flags = {});
  // Sends one file request (remote_batch.hpp); await() reads its answer.
  Result<void> send_op(const remote::Request& request, std::string_view flags = {});
  // A file request's answer: its stdout, or its error (not_found for status 44).
  Result<std::string> op_result(const remote::Request& request, CommandResult r) const;
  // A file request and its answer: the helper's stdout, or its error (not_found for status 44).
  Result<std::string> call(const remote::Request& request);
  Result<CommandResult> await(const std::vector<std::string>& argv, const RunOptions& options);
  std::unexpected<Error> lost(const std::string& program);  // closes the channel
};

namespace {

using Clock = std::chrono::steady_clock;

// The name known_hosts uses for a host: "host" on port 22, "[host]:port" otherwise.
std::string known_hosts_name(const SshTarget& t) {
  if (t.port == 22) return t.host;
  return "[" + t.host + "]:" + std::to_string(t.port);
}

std::string short_key_type(std::string_view type) {
  if (type == "ssh-ed25519") return "ed25519";
  if (type == "ssh-rsa") return "rsa";
  if (type.starts_with("ecdsa")) return "ecdsa";
  return std::string(type);
}

struct ServerKey {
  std::string type;         // "ssh-ed25519"
  std::string fingerprint;  // "SHA256:..."
};

Result<ServerKey> server_key(ssh_session session) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(session, &key) != SSH_OK) {
    return fail(ErrorCode::ssh, std::string("cannot read the server's host key: ") +
                                    ssh_get_error(session));
  }
  ServerKey out;
  out.type = ssh_key_type_to_char(ssh_key_type(key));
  unsigned char* hash = nullptr;
  size_t hash_len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) == 0) {
    char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len);
    if (text != nullptr) {
      out.fingerprint = text;
      ssh_string_free_char(text);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return out;
}

// Host-key verification: only SSH_KNOWN_HOSTS_OK passes. Every other answer becomes an error that
// shows the fingerprint and the exact commands to verify and accept it.
Result<void> verify_host_key(ssh_session session, const SshTarget& t) {
  const ssh_known_hosts_e state = ssh_session_is_known_server(session);
  if (state == SSH_KNOWN_HOSTS_OK) return {};
  auto key = server_key(session);
  if (!key) return std::unexpected(key.error());
  const std::string name = known_hosts_name(t);
  const std::string type = short_key_type(key->type);
  const std::string verify = "verify it on the fileserver's console with `ssh-keygen -lf "
                             "/etc/ssh/ssh_host_" + type + "_key.pub`";
  const std::string accept = "`ssh-keyscan -p " + std::to_string(t.port) + " -t " + type + " " +
                             shell_quote(t.host) + " >> " + shell_quote(t.known_hosts) + "`";
  switch (state) {
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      return fail(ErrorCode::refused,
                  "host key for " + name + " CHANGED: the server offers " + key->type + " " +
                      key->fingerprint + " but " + t.known_hosts +
                      " holds a different key (a reinstalled fileserver, or someone in the "
                      "middle); refusing. If the change is expected, " + verify +
                      ", then remove the old entry with `ssh-keygen -R " + shell_quote(name) +
                      " -f " + shell_quote(t.known_hosts) + "` and accept the new one with " +
                      accept);
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      return fail(ErrorCode::refused,
                  "host key for " + name + " is not in " + t.known_hosts + " (server offers " +
                      key->type + " " + key->fingerprint + "); picluster never accepts a key "
                      "unverified: " + verify + ", then accept it with " + accept);
    default:
      return fail(ErrorCode::ssh, std::string("checking the host key against ") + t.known_hosts +
                                      ": " + ssh_get_error(session));
  }
}

Result<void> authenticate(ssh_session session, const SshTarget& t) {
  if (!t.identity_file.empty()) {
    ssh_key key = nullptr;
    if (ssh_pki_import_privkey_file(t.identity_file.c_str(), nullptr, nullptr, nullptr, &key) !=
        SSH_OK) {
      return fail(ErrorCode::ssh, "cannot read identity file " + t.identity_file +
                                      " (missing, unreadable or passphrase-protected: use "
                                      "ssh-agent for those)");
    }
    const int rc = ssh_userauth_publickey(session, nullptr, key);
    ssh_key_free(key);
    if (rc == SSH_AUTH_SUCCESS) return {};
    return fail(ErrorCode::ssh, "Permission denied (publickey " + t.identity_file + " for " +
                                    t.user + ")");
  }
  if (std::getenv("SSH_AUTH_SOCK") != nullptr &&
      ssh_userauth_agent(session, nullptr) == SSH_AUTH_SUCCESS) {
    return {};
  }
  if (ssh_userauth_publickey_auto(session, nullptr, nullptr) == SSH_AUTH_SUCCESS) return {};
  return fail(ErrorCode::ssh, "Permission denied (publickey: ssh-agent and default keys for " +
                                  t.user + "; set fileserver.identity_file)");
}

}  // namespace

Result<std::unique_ptr<SshHost>> SshHost::connect(const SshTarget& target) {
  std::string how = "connected directly (ssh_persist_seconds is 0)";
  if (target.persist.count() > 0) {
    // Through a connection master: a live one, else a new one; a busy one (another verb), no
    // safe socket folder, or a process that cannot start one safely: a direct connection.
    const std::string kept = " (kept " + std::to_string(target.persist.count()) + " s after the last verb)";
    auto path = master::socket_path(target);
    if (!path) how = "connected directly: " + path.error().message;
    if (path) {
      int fd = master::connect_client(*path);
      bool started = false;
      if (fd < 0 && master::live_master(*path)) {
        how = "connected directly: another verb is using the SSH connection master";
      } else if (fd < 0) {
        // None yet, or the stale socket of a master that was killed (the new one replaces it).
        auto spawned = master::spawn(target, *path);
        if (!spawned) return std::unexpected(spawned.error());
        if (*spawned == master::Spawned::not_started) {
          how = "connected directly: this program runs " + std::to_string(master::thread_count()) +
                " threads and cannot exec a connection master, so it started none";
        } else if (*spawned == master::Spawned::died) {
          how = "connected directly: the SSH connection master exited before it could report";
        } else {
          started = true;
          fd = master::connect_client(*path);
        }
      }
      if (fd >= 0) {
        auto impl = std::make_unique<Impl>();
        impl->target = target;
        impl->channels = started ? 1 : 0;  // the master opened one for this verb
        impl->mux = fd;
        impl->marker = "picluster-master";
        impl->frames.emplace(impl->marker);
        impl->frames->feed(impl->marker + "\n");
        impl->how = (started ? "started an SSH connection master" : "reused the SSH connection master") + kept;
        return std::unique_ptr<SshHost>(new SshHost(std::move(impl)));
      }
    }
  }
  ssh_init();
  auto impl = std::make_unique<Impl>();
  impl->target = target;
  impl->session = ssh_new();
  if (impl->session == nullptr) return fail(ErrorCode::internal, "ssh_new failed");
  ssh_session s = impl->session;
  const long timeout = static_cast<long>(target.connect_timeout.count());
  const int process_config = 0;
  ssh_options_set(s, SSH_OPTIONS_HOST, target.host.c_str());
  ssh_options_set(s, SSH_OPTIONS_PORT, &target.port);
  ssh_options_set(s, SSH_OPTIONS_USER, target.user.c_str());
  ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, target.known_hosts.c_str());
  ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
  // Every operation is a few small packets each way (channel open, exec, EOF, exit status):
  // with Nagle's algorithm on, each one waits for the peer's delayed ACK (40 ms on Linux).
  const int nodelay = 1;
  ssh_options_set(s, SSH_OPTIONS_NODELAY, &nodelay);
  const std::string where = impl->where();
  if (ssh_connect(s) != SSH_OK) {
    return fail(ErrorCode::ssh, where + ": " + impl->session_error());
  }
  const int on = 1;
  ::setsockopt(ssh_get_fd(s), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  if (auto v = verify_host_key(s, target); !v) return std::unexpected(v.error().with_context(where));
  if (auto a = authenticate(s, target); !a) return std::unexpected(a.error().with_context(where));
  std::random_device random;
  char marker[48];
  std::snprintf(marker, sizeof marker, "picluster-%08x%08x%08x", random(), random(), random());
  impl->marker = marker;
  impl->how = how;
  return std::unique_ptr<SshHost>(new SshHost(std::move(impl)));
}

SshHost::SshHost(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
SshHost::~SshHost() = default;

std::string SshHost::name() const { return m_impl->where(); }

namespace {

// Reads whatever one stream holds right now, without waiting, handing each chunk to `deliver`;
// returns bytes read, 0 for none yet, SSH_EOF once the stream is finished, or SSH_ERROR.
int drain(ssh_channel ch, int is_stderr, const std::function<void(std::string_view)>& deliver) {
  std::array<char, 32768> buffer{};
  int total = 0;
  for (;;) {
    const int available = ssh_channel_poll(ch, is_stderr);  // also reads pending packets
    if (available == SSH_EOF) return total > 0 ? total : SSH_EOF;
    if (available < 0) return SSH_ERROR;
    if (available == 0) return total;
    const auto want = std::min<std::size_t>(static_cast<std::size_t>(available), buffer.size());
    const int n = ssh_channel_read(ch, buffer.data(), static_cast<std::uint32_t>(want), is_stderr);
    if (n < 0) return SSH_ERROR;
    if (n == 0) return total;
    deliver(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    total += n;
  }
}

// Waits until the session's socket has something to read, at most `wait`.
void wait_readable(ssh_session s, std::chrono::milliseconds wait) {
  pollfd p{ssh_get_fd(s), POLLIN, 0};
  (void)::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(wait.count(), 0)));
}

// How a command that runs past its deadline is killed. Closing the channel would not do it (the
// command only notices when it next writes), and OpenSSH's sshd ignores the "signal" channel
// request. The helper runs every command in a process group of its own and, asked with "k",
// SIGKILLs that group: the command and the children it started (rsync, cp under flock) all go,
// and the helper answers "x 137" once they are, so the command is gone when the caller hears of
// the timeout. Every command also runs under coreutils' `timeout --signal=KILL`, set
// kRemoteGraceSeconds after our own deadline (timeout kills its whole process group too), so the
// fileserver enforces the deadline even when picluster is gone.
constexpr double kRemoteGraceSeconds = 1.0;

// The longest pump() sleeps on the socket at once: a bound on the delay should an answer still
// slip into libssh's buffer unseen (the check before the sleep closes the window but for a race).
constexpr auto kLongestSleep = std::chrono::milliseconds(100);

// How long the login shell may take to start the helper (a slow ~/.bashrc runs first).
constexpr auto kHelperStartLimit = std::chrono::seconds(60);

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (const auto nl = text.rfind('\n'); nl != std::string::npos) text.erase(0, nl + 1);
  return text;
}

}  // namespace

void SshHost::Impl::close_helper() {
  if (mux >= 0) {  // without a goodbye: the master ends the connection, the helper exits
    ::close(mux);
    mux = -1;
    mux_lost = true;
    frames.reset();
    return;
  }
  if (helper == nullptr) return;
  ssh_channel_send_eof(helper);  // the helper ends at the end of its input
  ssh_channel_close(helper);
  ssh_channel_free(helper);
  helper = nullptr;
  frames.reset();
}

bool SshHost::Impl::write_all(std::string_view data) {
  while (mux >= 0 && !data.empty()) {
    const ssize_t n = ::send(mux, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  while (!data.empty()) {
    const auto chunk = std::min<std::size_t>(data.size(), 1U << 20);
    const int n = ssh_channel_write(helper, data.data(), static_cast<std::uint32_t>(chunk));
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int SshHost::Impl::pump(std::chrono::milliseconds wait) {
  if (mux >= 0) {
    pollfd p{mux, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(wait.count(), 0))) <= 0) return 0;
    std::array<char, 65536> buffer{};
    const ssize_t n = ::read(mux, buffer.data(), buffer.size());
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : SSH_ERROR;
    if (n == 0) return SSH_EOF;
    frames->feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    return static_cast<int>(n);
  }
  const std::function<void(std::string_view)> to_frames = [this](std::string_view c) { frames->feed(c); };
  const std::function<void(std::string_view)> to_err = [this](std::string_view c) {
    helper_err.append(c);
    if (helper_err.size() > 65536) helper_err.erase(0, helper_err.size() - 65536);
  };
  const int out = drain(helper, 0, to_frames);
  const int err = drain(helper, 1, to_err);
  if (out == SSH_ERROR || err == SSH_ERROR) return SSH_ERROR;
  if (out == SSH_EOF) return SSH_EOF;
  if (out <= 0 && err <= 0) {
    // Draining stderr reads packets from the socket, and one of them may have brought stdout
    // bytes that now wait in libssh's buffer, not in the socket: never sleep on the socket then.
    if (ssh_channel_poll(helper, 0) > 0 || ssh_channel_poll(helper, 1) > 0) return 0;
    wait_readable(session, std::min(wait, kLongestSleep));
    return 0;
  }
  return std::max(out, 0) + std::max(err, 0);
}

Result<void> SshHost::Impl::start_helper() {
  if (helper != nullptr || mux >= 0) return {};
  if (mux_lost) return fail(ErrorCode::ssh, where() + ": the connection through the SSH connection master was lost");
  ++channels;
  helper_err.clear();
  frames.emplace(marker);
  helper = ssh_channel_new(session);
  if (helper == nullptr || ssh_channel_open_session(helper) != SSH_OK ||
      ssh_channel_request_exec(helper, remote::helper_command_line(marker).c_str()) != SSH_OK) {
    const std::string why = session_error();
    close_helper();
    return fail(ErrorCode::ssh, where() + ": cannot open a channel: " + why);
  }
  const auto until = Clock::now() + kHelperStartLimit;
  while (!frames->started()) {
    const int got = pump(std::chrono::milliseconds(200));
    if (got == SSH_ERROR) {
      const std::string why = session_error();
      close_helper();
      return fail(ErrorCode::ssh, where() + ": connection lost while starting the remote helper: " + why);
    }
    if (got == SSH_EOF) {
      const int status = ssh_channel_get_exit_status(helper);
      const std::string said = last_line(helper_err);
      close_helper();
      return fail(ErrorCode::ssh, where() + ": the login shell of " + target.user + " exited (status " +
                                      std::to_string(status) + ") before starting picluster's remote "
                                      "helper (perl)" + (said.empty() ? "" : ": " + said));
    }
    if (Clock::now() > until) {
      close_helper();
      return fail(ErrorCode::timeout, where() + ": the login shell of " + target.user +
                                          " did not start picluster's remote helper (perl) within " +
                                          std::to_string(kHelperStartLimit.count()) + " s");
    }
  }
  helper_err.clear();  // the start-up files' noise: not ours
  return {};
}

// Asks the helper to kill the running command's process group and waits for its answer; true
// once the command is gone. Without an answer the channel is given up (the next operation opens
// a new one) and the remote `timeout` ends the command.
bool SshHost::Impl::kill_running() {
  if (!write_all(remote::kKillRequest)) {
    close_helper();
    return false;
  }
  const auto until = Clock::now() + std::chrono::seconds(static_cast<int>(kRemoteGraceSeconds) + 5);
  while (Clock::now() < until) {
    while (auto f = frames->next()) {
      if (!*f) break;
      if ((*f)->kind == 'x') return true;
    }
    const int got = pump(std::chrono::milliseconds(200));
    if (got == SSH_ERROR || got == SSH_EOF) break;
  }
  close_helper();
  return false;
}

std::unexpected<Error> SshHost::Impl::lost(const std::string& program) {
  std::string why = session_error();
  if (const std::string said = last_line(helper_err); !said.empty()) why += (why.empty() ? "" : "; ") + said;
  close_helper();
  return fail(ErrorCode::ssh, where() + ": connection lost during " + program + ": " + why);
}

Result<void> SshHost::Impl::send(const std::vector<std::string>& argv, const RunOptions& options,
                                 std::string_view flags) {
  if (auto started = start_helper(); !started) {
    return std::unexpected(started.error().with_context("run " + argv[0]));
  }
  // The remote end enforces the timeout too (see kRemoteGraceSeconds), a second after ours.
  char limit[32];
  std::snprintf(limit, sizeof limit, "%.3f",
                static_cast<double>(options.timeout.count()) / 1000.0 + kRemoteGraceSeconds);
  std::vector<std::string> wrapped{"timeout", "--signal=KILL", limit};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  if (!write_all(remote::encode_run(wrapped, options.input.size(), flags)) || !write_all(options.input)) {
    return lost(argv[0]);
  }
  return {};
}

Result<void> SshHost::Impl::send_op(const remote::Request& request, std::string_view flags) {
  if (auto started = start_helper(); !started) {
    return std::unexpected(started.error().with_context(request.args[0]));
  }
  if (!write_all(remote::encode_op(request.args, request.input.size(), flags)) || !write_all(request.input)) {
    return lost(request.args[0]);
  }
  return {};
}

// File requests do a few syscalls per path on the fileserver; the limit only bounds a helper that
// stopped answering (a hung mount), and the channel is then given up.
constexpr auto kFileRequestLimit = std::chrono::minutes(5);

Result<std::string> SshHost::Impl::call(const remote::Request& request) {
  if (auto sent = send_op(request); !sent) return std::unexpected(sent.error());
  ++requests;
  RunOptions options;
  options.timeout = kFileRequestLimit;
  auto r = await(request.args, options);
  if (!r) return std::unexpected(r.error());
  return op_result(request, std::move(*r));
}

Result<std::string> SshHost::Impl::op_result(const remote::Request& request, CommandResult r) const {
  if (r.exit_status == 0) return std::move(r.out);
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  if (err.empty()) err = request.args[0] + ": exit " + std::to_string(r.exit_status);
  return fail(r.exit_status == remote::kMissingStatus ? ErrorCode::not_found : ErrorCode::io, where() + ": " + err);
}

Result<CommandResult> SshHost::Impl::await(const std::vector<std::string>& argv, const RunOptions& options) {
  CommandResult result;
  const auto deadline = Clock::now() + options.timeout;
  auto last_traffic = Clock::now();
  bool ended = false;
  for (;;) {
    while (auto f = frames->next()) {
      if (!*f) {
        close_helper();
        return fail(ErrorCode::ssh, where() + ": " + f->error().message);
      }
      const remote::Frame& frame = **f;
      if (frame.kind == 'x') {
        result.exit_status = frame.status;
        return result;
      }
      if (frame.kind == 'e') {
        result.err.append(frame.data);
        continue;
      }
      if (!options.discard_output) result.out.append(frame.data);
      if (options.on_output) options.on_output(frame.data);
    }
    if (ended) return lost(argv[0]);
    const auto now = Clock::now();
    if (now > deadline) {
      const bool gone = kill_running();
      return fail(ErrorCode::timeout, where() + ": " + shell_join(argv) + ": still running after " +
                                          std::to_string(options.timeout.count() / 1000) + " s; " +
                                          (gone ? "killed it" : "sent it SIGKILL"));
    }
    if (now - last_traffic > std::chrono::seconds(15)) {
      if (session != nullptr) ssh_send_ignore(session, "keepalive");  // the master sends its own
      last_traffic = now;
    }
    // Sleep until the socket has more (or the next keepalive, or the deadline).
    const auto until = std::min(deadline, last_traffic + std::chrono::seconds(15));
    const int got = pump(std::chrono::duration_cast<std::chrono::milliseconds>(until - now) +
                         std::chrono::milliseconds(1));
    if (got == SSH_ERROR) return lost(argv[0]);
    if (got == SSH_EOF) ended = true;
    if (got > 0) last_traffic = Clock::now();
  }
}

Result<CommandResult> SshHost::run(const std::vector<std::string>& argv,
                                   const RunOptions& options) {
  if (auto sent = m_impl->send(argv, options); !sent) return std::unexpected(sent.error());
  ++m_impl->requests;
  return m_impl->await(argv, options);
}

Result<std::vector<CommandResult>> SshHost::run_all(const std::vector<std::vector<std::string>>& commands,
                                                    const RunOptions& options) {
  std::vector<CommandResult> out;
  if (commands.empty()) return out;
  RunOptions quiet = options;
  quiet.on_output = nullptr;
  for (const auto& argv : commands) {
    if (auto sent = m_impl->send(argv, quiet); !sent) return std::unexpected(sent.error());
  }
  ++m_impl->requests;
  for (const auto& argv : commands) {
    auto r = m_impl->await(argv, quiet);
    if (!r) {
      m_impl->close_helper();  // the answers still queued belong to no one now
      return std::unexpected(r.error());
    }
    out.push_back(std::move(*r));
  }
  return out;
}

// The file operations: one file request each, answered by the helper itself (remote_batch.hpp).
Result<std::string> SshHost::read_file(const std::string& path) { return m_impl->call({{"read", path}, {}}); }

Result<void> SshHost::write_file(const std::string& path, std::string_view contents,
                                 unsigned mode, std::optional<Owner> owner) {
  return write_files({{path, std::string(contents), mode, owner, false}});
}

Result<FileStat> SshHost::stat(const std::string& path) {
  auto r = m_impl->call({{"stat", path}, {}});
  if (!r) return std::unexpected(r.error());
  auto st = remote::parse_stat(*r);
  if (!st) return std::unexpected(st.error().with_context(name()));
  return st;
}

Result<std::vector<std::string>> SshHost::list(const std::string& dir) {
  auto r = m_impl->call({{"list", dir}, {}});
  if (!r) return std::unexpected(r.error());
  return remote::parse_names(*r);
}

// rename(2) only: the helper refuses two paths on different filesystems or mounts (EXDEV) instead
// of copying as mv would, which is neither atomic nor what the Host contract promises.
Result<void> SshHost::rename(const std::string& from, const std::string& to) {
  auto r = m_impl->call({{"rename", from, to}, {}});
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> SshHost::remove(const std::string& path) {
  auto r = m_impl->call({{"remove", path}, {}});
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> SshHost::make_dirs(const std::string& path) {
  auto r = m_impl->call({{"mkdir", path}, {}});
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> SshHost::warm_up() { return m_impl->start_helper(); }

void SshHost::serve(int listener, std::chrono::seconds idle, const volatile std::sig_atomic_t* stop) {
  Impl& m = *m_impl;
  if (m.helper == nullptr) return;
  int client = -1;
  std::string tail;  // the client's last two bytes: "q\n" when it left cleanly
  bool broken = false;
  const auto to_client = [&](std::string_view c) {
    if (client < 0) return;  // nobody asked: nothing should come
    while (!c.empty()) {
      const ssize_t n = ::send(client, c.data(), c.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken = true;
        return;
      }
      c.remove_prefix(static_cast<std::size_t>(n));
    }
  };
  const std::function<void(std::string_view)> out = to_client;
  const std::function<void(std::string_view)> err = [](std::string_view) {};
  auto idle_until = Clock::now() + idle;
  auto last_traffic = Clock::now();
  std::array<char, 65536> buffer{};
  while (!broken && (stop == nullptr || *stop == 0)) {
    const int o = drain(m.helper, 0, out);
    const int e = drain(m.helper, 1, err);
    if (o == SSH_ERROR || e == SSH_ERROR || o == SSH_EOF) break;
    if (o > 0) last_traffic = Clock::now();
    if (ssh_channel_poll(m.helper, 0) > 0 || ssh_channel_poll(m.helper, 1) > 0) continue;
    const auto now = Clock::now();
    if (client < 0 && now >= idle_until) break;
    if (now - last_traffic > std::chrono::seconds(15)) {
      ssh_send_ignore(m.session, "keepalive");
      last_traffic = now;
    }
    std::array<pollfd, 3> fds{pollfd{ssh_get_fd(m.session), POLLIN, 0}, pollfd{listener, POLLIN, 0},
                              pollfd{client, POLLIN, 0}};
    const auto sleep = client >= 0 ? kLongestSleep : std::chrono::milliseconds(1000);
    (void)::poll(fds.data(), client >= 0 ? 3 : 2, static_cast<int>(sleep.count()));
    // The client first: one that just said goodbye closes right after it, and the next verb may
    // already be knocking; it must find the master free.
    if (client >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::read(client, buffer.data(), buffer.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n > 0) {
        const std::string_view got(buffer.data(), static_cast<std::size_t>(n));
        tail += got.substr(got.size() > 2 ? got.size() - 2 : 0);
        if (tail.size() > 2) tail.erase(0, tail.size() - 2);
        if (!m.write_all(got)) break;
        last_traffic = Clock::now();
        pollfd p{client, POLLIN, 0};  // after a goodbye, wait a moment for the close
        if (tail != "q\n" || ::poll(&p, 1, 200) <= 0) continue;
        if (::recv(client, buffer.data(), 1, MSG_PEEK) != 0) continue;
      }
      // The client left: after its goodbye ("q") the helper is idle; without it, out of step.
      ::close(client);
      client = -1;
      if (tail != "q\n") break;
      idle_until = Clock::now() + idle;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        if (client >= 0 || !master::peer_is_us(fd)) {
          (void)::send(fd, "busy\n", 5, MSG_NOSIGNAL);
          ::close(fd);
        } else if (::send(fd, "ready\n", 6, MSG_NOSIGNAL) == 6) {
          client = fd;
          tail.clear();
        } else {
          ::close(fd);
        }
      }
    }
  }
  if (client >= 0) ::close(client);
}

std::uint64_t SshHost::round_trips() const { return m_impl->requests; }
std::uint64_t SshHost::channels() const { return m_impl->channels; }
std::string SshHost::how_connected() const { return m_impl->how; }

Result<PathSnapshot> SshHost::read_paths(const std::vector<PathRead>& paths) {
  if (paths.empty()) return PathSnapshot{};
  auto r = m_impl->call(remote::read_paths_request(paths));
  if (!r) return std::unexpected(r.error());
  auto snapshot = remote::parse_read_paths(*r);
  if (!snapshot) return std::unexpected(snapshot.error().with_context(name()));
  return snapshot;
}

Result<void> SshHost::write_files(const std::vector<FileWrite>& files) {
  if (files.empty()) return {};
  auto r = m_impl->call(remote::write_files_request(files));
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<PathSnapshot> SshHost::read_children(const std::string& dir, const std::vector<std::string>& inside) {
  auto r = m_impl->call(remote::read_children_request(dir, inside));
  if (!r) return std::unexpected(r.error());
  auto snapshot = remote::parse_read_paths(*r);
  if (!snapshot) return std::unexpected(snapshot.error().with_context(name()));
  return snapshot;
}

namespace {

// The helper's request for a pipelined file request (not a run).
remote::Request file_request(const PipelineRequest& r) {
  using Kind = PipelineRequest::Kind;
  switch (r.kind) {
    case Kind::read_paths: return remote::read_paths_request(r.reads);
    case Kind::read_children: return remote::read_children_request(r.path, r.names);
    case Kind::list_dirs: return remote::list_dirs_request(r.names);
    case Kind::write_files: return remote::write_files_request(r.writes);
    case Kind::rename: return {{"rename", r.path, r.to}, {}};
    case Kind::remove: return {{"remove", r.path}, {}};
    case Kind::run: break;
  }
  return {};
}

}  // namespace

// Every request sent at once, then every answer read in order: one round trip. The helper keeps
// the chains (remote_helper.hpp's "c" and "t" flags).
Result<std::vector<PipelineAnswer>> SshHost::pipeline(const std::vector<PipelineRequest>& requests) {
  using Kind = PipelineRequest::Kind;
  std::vector<PipelineAnswer> out;
  if (requests.empty()) return out;
  const auto named = [](const PipelineRequest& r, const Error& e) {
    return std::unexpected(r.what.empty() ? e : e.with_context(r.what));
  };
  std::vector<remote::Request> files(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    std::string flags = std::string(r.chained ? "c" : "") + (r.tolerate ? "t" : "");
    if (r.kind == Kind::run) {
      if (auto sent = m_impl->send(r.argv, r.options, flags); !sent) return named(r, sent.error());
      continue;
    }
    files[i] = file_request(r);
    if (auto sent = m_impl->send_op(files[i], flags); !sent) return named(r, sent.error());
  }
  ++m_impl->requests;
  RunOptions file_options;
  file_options.timeout = kFileRequestLimit;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    const bool run = r.kind == Kind::run;
    auto got = run ? m_impl->await(r.argv, r.options) : m_impl->await(files[i].args, file_options);
    if (!got) {
      m_impl->close_helper();  // the answers still queued belong to no one now
      return named(r, got.error());
    }
    PipelineAnswer a;
    if (got->exit_status == remote::kSkippedStatus) {
      a.skipped = true;
    } else if (run) {
      a.result = std::move(*got);
    } else if (auto text = m_impl->op_result(files[i], std::move(*got)); !text) {
      a.error = text.error();
    } else if (r.kind == Kind::list_dirs) {
      auto listed = remote::parse_list_dirs(*text);
      if (!listed) {
        m_impl->close_helper();  // the answers still queued belong to no one now
        return named(r, listed.error().with_context(name()));
      }
      a.listing = std::move(*listed);
    } else if (r.kind == Kind::read_paths || r.kind == Kind::read_children) {
      auto snapshot = remote::parse_read_paths(*text);
      if (!snapshot) {
        m_impl->close_helper();  // the answers still queued belong to no one now
        return named(r, snapshot.error().with_context(name()));
      }
      a.snapshot = std::move(*snapshot);
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::map<std::string, std::vector<std::string>>> SshHost::list_dirs(
    const std::vector<std::string>& dirs) {
  if (dirs.empty()) return std::map<std::string, std::vector<std::string>>{};
  auto r = m_impl->call(remote::list_dirs_request(dirs));
  if (!r) return std::unexpected(r.error());
  auto listed = remote::parse_list_dirs(*r);
  if (!listed) return std::unexpected(listed.error().with_context(name()));
  return listed;
}

}  // namespace picluster::nfsroot
