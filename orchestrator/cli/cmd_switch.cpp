// Subcommands for the 'switch' area. Placeholder until that area's issue lands.
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

void register_switch_commands(CLI::App& /*app*/, Context& /*ctx*/) {}

}  // namespace picluster::cli
