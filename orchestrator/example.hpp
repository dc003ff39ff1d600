#pragma once
// The built-in example shelf: the whole job on one machine with no hardware. It starts
// picluster-switchsim on 127.0.0.1 as the PoE switch, uses this machine as the fileserver
// (transport "local", root_prefix = a folder, so the host's own /etc and network are untouched),
// makes a small synthetic golden image, and then runs the operator's verbs for real:
// init, add of N Pis, plan (no changes), power cycle, rebuild, status.

#include <filesystem>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "orchestrator/shelf_session.hpp"

namespace picluster::orchestrator {

struct ExampleOptions {
  std::filesystem::path dir;            // where everything lives; created if missing
  std::filesystem::path switchsim;      // the simulator binary
  int pis = 8;
  bool keep_running = false;            // leave the simulator running afterwards (<dir>/switchsim.pid)
  // Called at the end while the simulator still runs (e.g. to print `status`).
  std::function<void(const std::filesystem::path& inventory)> before_stop;
};

// The simulator next to `self` (installed together) or in the build tree, else from PATH.
std::filesystem::path find_switchsim(const std::filesystem::path& self);

// Runs the example; every step is reported through `reporter` and journaled in <dir>.
Result<void> run_example(const ExampleOptions& options, const Reporter& reporter);

// Where a kept simulator's pid is, relative to the example's folder.
inline constexpr const char* kSwitchsimPidfile = "switchsim.pid";

// Stops the simulator a kept example left running (SIGTERM, then SIGKILL after 10 s) and waits
// until it is gone. Only signals the pid in <dir>/switchsim.pid if it is that example's
// picluster-switchsim; a simulator that is already gone is not an error, no pidfile is.
Result<void> stop_example(const std::filesystem::path& dir);

}  // namespace picluster::orchestrator
