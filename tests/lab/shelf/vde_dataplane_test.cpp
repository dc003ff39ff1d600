// VdeDataPlane::apply_port against a real vde_switch: a port is programmed as the SNMP agent
// commits it, and a change that fails half-way puts the port back as it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lab/shelf/lab.hpp"
#include "lab/shelf/vde_dataplane.hpp"

namespace picluster::lab {
namespace {
namespace fs = std::filesystem;

class VdeDataPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_paths.dir = fs::temp_directory_path() / ("lab-dataplane-" + std::to_string(getpid()));
    fs::create_directories(m_paths.dir / "vde");
    std::ofstream(m_paths.state()) << R"({"version": 1, "pis": 2, "ssh_port": 1, "snmp_port": 1, "images": "/nonexistent"})";
    auto sw = VdeSwitch::start(m_paths.vde(), kLabPorts);
    ASSERT_TRUE(sw) << sw.error().message;
    m_switch.emplace(std::move(*sw));
    switchsim::DataPlaneOptions options;
    options.port_count = kLabPorts;
    options.options["lab"] = m_paths.dir.string();
    auto plane = VdeDataPlane::make(options);
    ASSERT_TRUE(plane) << plane.error().message;
    m_plane = std::move(*plane);
  }
  void TearDown() override {
    m_plane.reset();
    if (m_switch) {
      EXPECT_TRUE(m_switch->stop());
    }
    fs::remove_all(m_paths.dir);
  }
  // "untagged VLAN, tagged VLANs..." of a port, as vde_switch reports it.
  std::pair<int, std::vector<int>> port(int p) {
    int pvid = -1;
    std::vector<int> tagged;
    auto all = m_switch->vlans();
    EXPECT_TRUE(all);
    for (const auto& v : all ? *all : std::vector<VlanInfo>{}) {
      for (const auto& m : v.members) {
        if (m.port != p) continue;
        if (m.tagged) tagged.push_back(v.vlan);
        else pvid = v.vlan;
      }
    }
    return {pvid, tagged};
  }
  LabPaths m_paths;
  std::optional<VdeSwitch> m_switch;
  std::unique_ptr<switchsim::DataPlane> m_plane;
};

TEST_F(VdeDataPlaneTest, ProgramsThePortAsCommitted) {
  ASSERT_TRUE(m_plane->apply_port(1, 10, {10}, {131}));
  EXPECT_EQ(port(1), (std::pair<int, std::vector<int>>{10, {131}}));
  // Extra untagged VLANs travel tagged (one untagged VLAN per vde port); 131 is dropped.
  ASSERT_TRUE(m_plane->apply_port(1, 11, {11, 12}, {}));
  EXPECT_EQ(port(1), (std::pair<int, std::vector<int>>{11, {12}}));
}

TEST_F(VdeDataPlaneTest, AFailedChangePutsThePortBack) {
  ASSERT_TRUE(m_plane->apply_port(1, 10, {10}, {131}));
  // The PVID change succeeds, then the tagged VLAN cannot be created (out of range): the whole
  // change fails and the port is as it was.
  auto r = m_plane->apply_port(1, 20, {20}, {131, 9999});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("port 1"), std::string::npos) << r.error().message;
  EXPECT_EQ(port(1), (std::pair<int, std::vector<int>>{10, {131}}));
}

}  // namespace
}  // namespace picluster::lab
