// Subcommands for the 'ansible' area. Placeholder until that area's issue lands.
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

void register_ansible_commands(CLI::App& /*app*/, Context& /*ctx*/) {}

}  // namespace picluster::cli
