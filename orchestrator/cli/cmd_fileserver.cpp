// Subcommands for the 'fileserver' area. Placeholder until that area's issue lands.
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

void register_fileserver_commands(CLI::App& /*app*/, Context& /*ctx*/) {}

}  // namespace picluster::cli
