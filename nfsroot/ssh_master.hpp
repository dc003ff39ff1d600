#pragma once
// Reusing a fileserver connection across verbs (OpenSSH's ControlPersist, Ansible's default;
// mitogen keeps its interpreter the same way). On unless fileserver.ssh_persist_seconds is 0.
//
// Every new SSH connection costs sshd's own start (key exchange, authentication, the privilege
// separated session: about half a second on a loaded 2-core machine, for OpenSSH's client too)
// and the login shell's start-up files (root's ~/.bashrc, which bash sources for commands that
// sshd runs, cannot be skipped by the client). A verb that finds a live master reuses its
// connection and its remote helper: no connection, no channel, no login shell, just requests.
//
// How it works:
//   - The master is a process of its own, detached (forked twice, a session of its own,
//     stdin/stdout/stderr on /dev/null, no other inherited descriptor: a caller's $(...) or pipe
//     sees EOF when the verb exits). A program whose main() calls main_if_master() starts it by
//     fork+exec of /proc/self/exe with argv[1] = kMasterArgument, the target passed over a
//     socketpair on fd 3 (never on the command line): safe while other threads hold locks. Any
//     other program forks without exec only while it runs a single thread (libssh in the child
//     of a multi-threaded fork could deadlock on a lock held by a thread that is gone); with more
//     threads it starts no master and connects directly (SshHost::how_connected says why).
//   - The master connects (host key checked, authenticated, as a direct connection would),
//     starts the remote helper, listens on a Unix socket and reports "ok" (or the error, which
//     the verb returns as its own) on the pipe.
//   - The socket lives in a folder only the user may enter ($XDG_RUNTIME_DIR/picluster, else
//     /tmp/picluster-UID, created 0700 and checked: owned by the user, no access for others, not a
//     symlink); its name is a hash of user, host, port, identity file and known_hosts file, so a
//     connection is only reused by a verb that would have checked the same host key the same
//     way. The master also checks each client's uid (SO_PEERCRED).
//   - A client gets "ready\n", then speaks the helper's protocol (remote_helper.hpp) through the
//     master, which relays bytes both ways. One client at a time: another one gets "busy\n" and
//     connects directly (a verb never waits on another).
//   - A client that is done sends "q\n" (the helper ignores it) and closes; the helper is then
//     idle and serves the next client. A client that closes without it (killed mid-request) may
//     have left the helper in the middle of a request: the master ends the connection and exits.
//   - The master exits after ssh_persist_seconds without a client, when the connection is lost,
//     on SIGTERM, or when stop() asks (`picluster fileserver disconnect`).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace picluster::nfsroot {

struct SshTarget;

namespace master {

// The master's socket for a target; an error when no safe folder for it can be had.
Result<std::string> socket_path(const SshTarget& target);

// Connects to a live, idle master: the descriptor (greeting consumed), or -1 when there is none,
// it is busy, or it is not the user's.
int connect_client(const std::string& path);

// The Unix socket's peer runs as this process's user (SO_PEERCRED).
bool peer_is_us(int fd);

// argv[1] of a program started as a connection master; never typed by anyone.
inline constexpr std::string_view kMasterArgument = "__ssh-master";

// For main(), first thing: when argv[1] is kMasterArgument, runs the connection master (its
// target read from fd 3) and returns its exit status; otherwise returns nothing and, from then
// on, spawn() starts masters by exec of this program (safe from a process with threads).
std::optional<int> main_if_master(int argc, char** argv);

enum class Spawned {
  exec,         // fork+exec of /proc/self/exe (main_if_master)
  fork,         // fork alone: a program without main_if_master, running a single thread
  not_started,  // a program without main_if_master running several threads: connect directly
  died,         // the master exited without a word (its exec failed, it was killed): connect directly
};

// Starts a master for `target` listening on `path`; returns once it listens, or with the error
// it met connecting (host key, authentication, the login shell), as a direct connection would.
Result<Spawned> spawn(const SshTarget& target, const std::string& path);

// The threads this process runs (/proc/self/task).
int thread_count();

// The pid of the live master on `path` (idle or busy), or nothing. An idle one is told "q" and
// stays as it was.
std::optional<pid_t> live_master(const std::string& path);

// Ends the master on `path` now (an idle one by leaving without "q"; a busy one, whose verb then
// loses its connection, by SIGTERM) and waits for it to exit: true when one was running.
Result<bool> stop(const std::string& path);

}  // namespace master
}  // namespace picluster::nfsroot
