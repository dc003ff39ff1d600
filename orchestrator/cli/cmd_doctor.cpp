// `picluster doctor`: the read-only preflight of a site (orchestrator/doctor.hpp).

#include <iostream>

#include "orchestrator/cli/cli.hpp"
#include "orchestrator/doctor.hpp"

namespace picluster::cli {

void register_doctor_commands(CLI::App& app, Context& ctx) {
  struct Args {
    bool json = false;
    bool write_test = false;
    int roots = 0;
  };
  auto a = std::make_shared<Args>();
  auto* doctor = app.add_subcommand(
      "doctor",
      "Check a site before the first apply: inventory, switch (SNMP, VLAN and PoE tables, ports) "
      "and fileserver (SSH, nfsd, 8021q, nftables, clone method, space, images); changes nothing");
  doctor->add_flag("--json", a->json, "Print JSON");
  doctor->add_flag("--write-test", a->write_test,
                   "Also check the VLAN table is writable: create and delete a spare VLAN");
  doctor->add_option("--roots", a->roots,
                     "Check free space for N more roots (default: the Pis without one, at least 1)")
      ->check(CLI::Range(1, 100000));
  doctor->callback([&ctx, a] {
    ctx.action = [&ctx, a]() -> Result<int> {
      orchestrator::DoctorOptions o;
      o.inventory_path = ctx.inventory_path;
      o.shelf = ctx.shelf;
      o.write_test = a->write_test;
      o.roots = a->roots;
      const auto report = orchestrator::run_doctor(o);
      if (a->json) {
        std::cout << orchestrator::to_json(report).dump(2) << "\n";
      } else {
        std::cout << orchestrator::describe(report);
      }
      return report.failed() ? 1 : 0;
    };
  });
}

}  // namespace picluster::cli
