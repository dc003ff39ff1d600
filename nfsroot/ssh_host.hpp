#pragma once
// SshHost: the fileserver over SSH (libssh). Key authentication (an identity file, else ssh-agent,
// else the default keys), strict host-key checking against one known_hosts file (an unknown or
// changed key is an error telling the operator how to verify and accept it; nothing is ever
// accepted silently), TCP keepalive plus SSH-level keepalives during long commands, and a bound
// on every wait. One SSH channel per connection runs a persistent remote helper
// (nfsroot/remote_helper.hpp) and every operation is a request to it: argv travels framed and is
// exec'd without a shell, so each element reaches the remote program unchanged, and the login
// shell's start-up files run once per connection. File operations and batches are answered by
// the helper itself with perl builtins (nfsroot/remote_batch.hpp): no process per operation on the
// fileserver, paths and contents length-framed, never parsed by a shell. The only file linking
// libssh.

#include <csignal>
#include <memory>

#include "nfsroot/host.hpp"

namespace picluster::nfsroot {

struct SshTarget {
  std::string host;
  int port = 22;
  std::string user = "root";
  std::string identity_file;  // absolute; empty = ssh-agent, then ~/.ssh/id_*
  std::string known_hosts;    // absolute; never empty here
  std::chrono::seconds connect_timeout{15};
  // > 0: reuse the connection across verbs through a master that stays this long after its last
  // client (nfsroot/ssh_master.hpp); 0: every SshHost connects on its own. An inventory's
  // fileserver has its own default (inventory::ssh_persist_of); a bare SshTarget does not reuse.
  std::chrono::seconds persist{0};
};

class SshHost final : public Host {
 public:
  static Result<std::unique_ptr<SshHost>> connect(const SshTarget& target);
  ~SshHost() override;

  [[nodiscard]] std::string name() const override;
  Result<CommandResult> run(const std::vector<std::string>& argv,
                            const RunOptions& options) override;
  Result<std::string> read_file(const std::string& path) override;
  Result<void> write_file(const std::string& path, std::string_view contents, unsigned mode,
                          std::optional<Owner> owner) override;
  Result<FileStat> stat(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> remove(const std::string& path) override;
  Result<void> make_dirs(const std::string& path) override;
  // Each batch is one file request to the helper (nfsroot/remote_batch.hpp).
  Result<PathSnapshot> read_paths(const std::vector<PathRead>& paths) override;
  Result<void> write_files(const std::vector<FileWrite>& files) override;
  Result<std::map<std::string, std::vector<std::string>>> list_dirs(
      const std::vector<std::string>& dirs) override;
  Result<PathSnapshot> read_children(const std::string& dir, const std::vector<std::string>& inside) override;
  // All requests sent at once, then all answers read: one round trip.
  Result<std::vector<PipelineAnswer>> pipeline(const std::vector<PipelineRequest>& requests) override;
  Result<std::vector<CommandResult>> run_all(const std::vector<std::vector<std::string>>& commands,
                                             const RunOptions& options) override;
  [[nodiscard]] std::uint64_t round_trips() const override;
  [[nodiscard]] std::uint64_t channels() const override;
  [[nodiscard]] std::string how_connected() const override;

  // For the connection master (ssh_master.cpp): starts the remote helper now (the login shell's
  // errors surface here), then relays the helper's protocol between it and one client at a time
  // accepted on `listener`, until `idle` passes without a client, the connection is lost or
  // *stop is set (by a signal handler).
  Result<void> warm_up();
  void serve(int listener, std::chrono::seconds idle, const volatile std::sig_atomic_t* stop = nullptr);

 private:
  struct Impl;
  explicit SshHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace picluster::nfsroot
