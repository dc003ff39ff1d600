// picluster-lab-switch: picluster-switchsim's agent with the "vde" data plane added, so SNMP SETs
// reconfigure the lab's vde_switch and PoE powers the lab's Pi VMs (see vde_dataplane.hpp).
#include "lab/shelf/vde_dataplane.hpp"
#include "lab/switchsim/switchsim_main.hpp"

int main(int argc, char** argv) {
  auto registry = picluster::switchsim::default_dataplanes();
  picluster::lab::register_vde_dataplane(registry);
  return picluster::switchsim::switchsim_main(argc, argv, registry);
}
