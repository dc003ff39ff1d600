// Subcommands for the 'lab' area. Placeholder until that area's issue lands.
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

void register_lab_commands(CLI::App& /*app*/, Context& /*ctx*/) {}

}  // namespace picluster::cli
