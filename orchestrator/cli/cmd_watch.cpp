// Subcommand `watch`. Placeholder until the watch work lands.
#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

void register_watch_commands(CLI::App& /*app*/, Context& /*ctx*/) {}

}  // namespace picluster::cli
