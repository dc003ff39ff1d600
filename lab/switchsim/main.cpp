// picluster-switchsim: see docs/switchsim.md.
#include "lab/switchsim/switchsim_main.hpp"

int main(int argc, char** argv) {
  return picluster::switchsim::switchsim_main(argc, argv, picluster::switchsim::default_dataplanes());
}
