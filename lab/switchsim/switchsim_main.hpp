#pragma once
// The whole picluster-switchsim program as a function, so another executable (lab/shelf) can run
// the same agent with its own data planes:
//
//   int main(int argc, char** argv) {
//     auto registry = picluster::switchsim::default_dataplanes();
//     registry.add("vde", make_vde_dataplane);   // picked with --dataplane vde
//     return picluster::switchsim::switchsim_main(argc, argv, registry);
//   }

#include <optional>
#include <string>

#include "common/error.hpp"
#include "lab/switchsim/dataplane.hpp"

namespace picluster::switchsim {

// Parses the command line, serves until SIGTERM/SIGINT, returns the exit status
// (0 clean stop, 1 failure, 2 usage error). Prints exactly one line on stdout: "ready <listen>".
int switchsim_main(int argc, char** argv, const DataPlaneRegistry& registry);

// "udp:127.0.0.1:1161" -> ok; anything not on 127.0.0.0/8 (or udp6:[::1]) is refused.
Result<void> check_loopback_listen(const std::string& listen);

}  // namespace picluster::switchsim
