// Reconcile over fakes: a ShelfSession whose switch is the stateful fake SNMP agent and whose
// fileserver is the recording fake Host. Plans for missing, drifted and in-sync state, the order
// apply works in, the plan as the operator reads it (with file diffs) and as JSON, the Pi named
// on every step of a one-Pi apply, and a clone's progress reaching the reporter.

#include "orchestrator/reconcile.hpp"
#include "orchestrator/status.hpp"

#include <gmock/gmock.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>

#include "switchctl/mib.hpp"
#include "tests/unit/nfsroot/fake_host.hpp"
#include "tests/unit/switchctl/fake_snmp.hpp"

namespace picluster::orchestrator {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kExports = "/srv/etc/exports.d/picluster.exports";

// Sessions own their Host and SnmpSession; these hand each session the test's fakes, so their
// state carries over from one session to the next like a real switch and fileserver's.
class HostRef final : public nfsroot::Host {
 public:
  explicit HostRef(nfsroot::Host& host) : m_host(host) {}
  [[nodiscard]] std::string name() const override { return m_host.name(); }
  Result<nfsroot::CommandResult> run(const std::vector<std::string>& argv,
                                     const nfsroot::RunOptions& options) override {
    return m_host.run(argv, options);
  }
  Result<std::string> read_file(const std::string& path) override { return m_host.read_file(path); }
  Result<void> write_file(const std::string& path, std::string_view contents, unsigned mode,
                          std::optional<nfsroot::Owner> owner) override {
    return m_host.write_file(path, contents, mode, owner);
  }
  Result<nfsroot::FileStat> stat(const std::string& path) override { return m_host.stat(path); }
  Result<std::vector<std::string>> list(const std::string& dir) override {
    return m_host.list(dir);
  }
  Result<void> rename(const std::string& from, const std::string& to) override {
    return m_host.rename(from, to);
  }
  Result<void> remove(const std::string& path) override { return m_host.remove(path); }
  Result<void> make_dirs(const std::string& path) override { return m_host.make_dirs(path); }

 private:
  nfsroot::Host& m_host;
};

class SnmpRef final : public switchctl::SnmpSession {
 public:
  explicit SnmpRef(switchctl::SnmpSession& snmp) : m_snmp(snmp) {}
  [[nodiscard]] std::string endpoint() const override { return m_snmp.endpoint(); }
  Result<std::vector<switchctl::VarBind>> get(const std::vector<switchctl::Oid>& oids) override {
    return m_snmp.get(oids);
  }
  Result<std::vector<switchctl::VarBind>> get_next(
      const std::vector<switchctl::Oid>& oids) override {
    return m_snmp.get_next(oids);
  }
  Result<std::vector<switchctl::VarBind>> get_bulk(const std::vector<switchctl::Oid>& oids,
                                                   int non_repeaters,
                                                   int max_repetitions) override {
    return m_snmp.get_bulk(oids, non_repeaters, max_repetitions);
  }
  Result<switchctl::PduStatus> set(const std::vector<switchctl::VarBind>& varbinds) override {
    return m_snmp.set(varbinds);
  }
  [[nodiscard]] switchctl::SessionStats stats() const override { return m_snmp.stats(); }

 private:
  switchctl::SnmpSession& m_snmp;
};

class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "picluster-reconcile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
    m_inventory = inventory::make_default("shelf1");
    auto& shelf = m_inventory.shelves.front();
    shelf.switch_.host = "127.0.0.1";
    shelf.fileserver.transport = inventory::Transport::local;
    shelf.fileserver.root_prefix = "/srv";  // live commands skipped, every path under /srv
    for (int i = 1; i <= 3; ++i) {
      auto pi = inventory::add_pi(shelf, {"pi0" + std::to_string(i), i, inventory::PiModel::pi4,
                                          std::nullopt, std::nullopt});
      ASSERT_TRUE(pi) << pi.error().message;
    }
    m_host.dir("/srv/srv/nfsroot");
    m_host.file("/srv/srv/golden/raspios/etc/hostname", "raspberrypi\n");
    m_host.file("/srv/srv/golden/raspios/etc/machine-id", "0123\n");
    m_snmp = switchctl::testing::fresh_qbridge(24);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  // A session on copies of the fakes' current state; `reports` collects what it reports.
  std::unique_ptr<ShelfSession> session(const std::string& verb = "apply") {
    auto s = std::make_unique<ShelfSession>(m_inventory, "shelf1", m_dir / "inventory.json", verb,
                                            [this](const StepReport& r) { reports.push_back(r); });
    s->use_host(std::make_unique<HostRef>(m_host));
    s->use_snmp(std::make_unique<SnmpRef>(m_snmp));
    return s;
  }
  // Runs apply and keeps the fakes' state for the next session.
  void apply(ApplyOptions options = {}) {
    auto s = session();
    auto ok = apply_shelf(*s, options);
    ASSERT_TRUE(ok) << ok.error().message;
  }
  ShelfPlan plan(ApplyOptions options = {}) {
    auto s = session("plan");
    auto p = plan_shelf(*s, options);
    EXPECT_TRUE(p) << p.error().message;
    return p ? *p : ShelfPlan{};
  }
  void power_off_port(int port) {
    m_snmp.put(switchctl::oid_cat(switchctl::mib::pethPsePortAdminEnable,
                                  {1, static_cast<std::uint32_t>(port)}),
               switchctl::Value::integer(2));
  }
  // The shelf applied without pi02, then pi02 described again: what `add pi02` finds.
  void apply_all_but_pi02() {
    auto& shelf = m_inventory.shelves.front();
    ASSERT_TRUE(inventory::remove_pi(shelf, "pi02"));
    apply();
    auto pi =
        inventory::add_pi(shelf, {"pi02", 2, inventory::PiModel::pi4, std::nullopt, std::nullopt});
    ASSERT_TRUE(pi) << pi.error().message;
    reports.clear();
  }
  std::vector<std::string> steps(const std::string& result_other_than = "progress") const {
    std::vector<std::string> out;
    for (const auto& r : reports) {
      if (r.result != result_other_than && r.result != "note") out.push_back(r.step);
    }
    return out;
  }

  fs::path m_dir;
  inventory::Inventory m_inventory;
  nfsroot::testing::FakeHost m_host;
  switchctl::testing::FakeSnmp m_snmp;
  std::vector<StepReport> reports;
};

TEST_F(ReconcileTest, AFreshShelfPlansEveryStage) {
  power_off_port(2);
  const auto p = plan();
  EXPECT_FALSE(p.empty());
  EXPECT_FALSE(p.switch_plan.empty());
  EXPECT_FALSE(p.network.empty());
  EXPECT_THAT(p.missing_roots, ElementsAre("pi01", "pi02", "pi03"));
  EXPECT_FALSE(p.exports.empty());
  EXPECT_FALSE(p.boot.empty());
  ASSERT_EQ(p.power_on.size(), 1U);
  EXPECT_EQ(p.power_on[0].pi, "pi02");
  EXPECT_EQ(p.power_on[0].port, 2);
  EXPECT_TRUE(p.prefixed);
  // Planning changed nothing.
  EXPECT_TRUE(m_snmp.sets.empty());
  EXPECT_TRUE(m_host.log.empty());
}

TEST_F(ReconcileTest, ApplyWorksInTheSafeOrderAndThenThePlanIsEmpty) {
  power_off_port(3);
  apply();
  EXPECT_THAT(steps(), ElementsAre("switch", "network", "root", "root", "root", "root-files",
                                   "exports", "boot", "power"));
  for (const auto& r : reports) {
    if (r.step == "root-files") {
      EXPECT_EQ(r.result, "unchanged") << "the new roots' files were installed by the clone";
    } else if (r.result != "note" && r.result != "progress") {
      EXPECT_EQ(r.result, "ok") << r.step;
    }
  }
  // The fileserver's files were written before the exports that name the roots, and every root
  // was cloned before it was exported.
  const auto& log = m_host.log;
  const auto index = [&](const std::string& needle) {
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (log[i].find(needle) != std::string::npos) return i;
    }
    ADD_FAILURE() << "no " << needle << " in the fake's log";
    return log.size();
  };
  EXPECT_LT(index("etc/network/interfaces"), index("rename /srv/srv/nfsroot/.staging/pi01"));
  EXPECT_LT(index("rename /srv/srv/nfsroot/.staging/pi03"),
            index("write " + std::string(kExports)));
  EXPECT_LT(index("write " + std::string(kExports)), index("/srv/srv/tftp"));

  const auto again = plan();
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(describe(again, false), "no changes: the shelf matches the inventory\n");
  EXPECT_EQ(to_json(again)["changes"], false);
  reports.clear();
  apply();
  for (const auto& r : reports) EXPECT_EQ(r.result, "unchanged") << r.step;
}

// Netboot: each storage VLAN has its own TFTP root (vlan-N). After `renumber` (new VLAN,
// previous_vlan set), apply wrote the Pi's boot files under its new VLAN's root but left them under
// the old one, where a Pi later given that VLAN could read them.
TEST_F(ReconcileTest, ARenumberedNetbootPisBootFolderLeavesItsPreviousVlansTftpRoot) {
  auto& shelf = m_inventory.shelves.front();
  shelf.boot.mode = inventory::BootMode::netboot;
  inventory::Pi& pi01 = *shelf.find_pi("pi01");
  pi01.serial = "1234abcd";
  pi01.mac = *inventory::Mac::parse("dc:a6:32:00:00:01");
  apply();
  const int old_vlan = pi01.vlan;
  const std::string old_folder = "/srv/srv/tftp/vlan-" + std::to_string(old_vlan) + "/1234abcd";
  ASSERT_TRUE(m_host.exists(old_folder + "/cmdline.txt"));
  pi01.vlan = 40;  // what `picluster renumber pi01 --vlan 40` writes
  pi01.extra["previous_vlan"] = old_vlan;
  reports.clear();
  apply();
  EXPECT_TRUE(m_host.exists("/srv/srv/tftp/vlan-40/1234abcd/cmdline.txt"));
  EXPECT_FALSE(m_host.exists(old_folder + "/cmdline.txt"));
  EXPECT_FALSE(m_host.exists(old_folder));
  bool said = false;
  for (const auto& r : reports) said |= r.pi == "pi01" && r.step == "boot" && r.detail.find("removed " + old_folder) == 0;
  EXPECT_TRUE(said);
  reports.clear();
  apply();  // nothing left to remove: no step says so again
  for (const auto& r : reports) EXPECT_EQ(r.detail.find("removed"), std::string::npos) << r.step << ": " << r.detail;
}

TEST_F(ReconcileTest, ADriftedExportsFileIsPlannedAsADiffOfItsLines) {
  apply();
  const std::string installed = m_host.fs.at(kExports).contents;
  m_host.fs.at(kExports).contents += "/srv/nfsroot/rogue 10.0.0.9(rw,no_root_squash)\n";
  const auto p = plan();
  EXPECT_TRUE(p.switch_plan.empty());
  EXPECT_TRUE(p.network.empty());
  EXPECT_TRUE(p.missing_roots.empty());
  EXPECT_TRUE(p.boot.empty());
  ASSERT_FALSE(p.exports.empty());

  const std::string text = describe(p, false);
  EXPECT_THAT(text, HasSubstr("exports:\n  ~ write '" + std::string(kExports) + "' (0644, "));
  EXPECT_THAT(text, HasSubstr("\n      -/srv/nfsroot/rogue 10.0.0.9(rw,no_root_squash)\n"));
  EXPECT_THAT(text, HasSubstr("\n      @@ -"));
  EXPECT_THAT(text, Not(HasSubstr("\n      +")));  // nothing added: the line only goes
  EXPECT_THAT(text, Not(HasSubstr("\033[")));      // no colour off a terminal

  const std::string coloured = describe(p, true);
  EXPECT_THAT(coloured,
              HasSubstr("\033[31m-/srv/nfsroot/rogue 10.0.0.9(rw,no_root_squash)\033[0m"));

  const auto j = to_json(p);
  EXPECT_EQ(j["changes"], true);
  ASSERT_EQ(j["files"].size(), 1U);
  const auto& f = j["files"][0];
  EXPECT_EQ(f["stage"], "exports");
  EXPECT_EQ(f["path"], kExports);
  EXPECT_EQ(f["new"], installed);
  EXPECT_EQ(f["old"], installed + "/srv/nfsroot/rogue 10.0.0.9(rw,no_root_squash)\n");
  EXPECT_THAT(f["diff"].get<std::vector<std::string>>(),
              ::testing::Contains("-/srv/nfsroot/rogue 10.0.0.9(rw,no_root_squash)"));
  EXPECT_THAT(j["exports"][0].get<std::string>(), HasSubstr("write '" + std::string(kExports)));
}

TEST_F(ReconcileTest, ANewFileIsShownWhole) {
  const auto p = plan();
  const std::string text = describe(p, false);
  // The exports file does not exist yet: every line it will hold is shown added.
  const auto exports = export_files(m_inventory.shelves.front());
  ASSERT_FALSE(exports.empty());
  std::size_t start = 0;
  const std::string& contents = exports.front().contents;
  while (start < contents.size()) {
    const auto end = contents.find('\n', start);
    EXPECT_THAT(text, HasSubstr("      +" + contents.substr(start, end - start) + "\n"));
    start = end + 1;
  }
  EXPECT_THAT(text, HasSubstr("roots:\n  + clone root for pi01\n"));
}

// add runs apply for its one Pi: every step it takes is that Pi's, so `picluster log pi02`
// shows the switch, network, root, exports, boot and power steps, not only allocate and root.
TEST_F(ReconcileTest, EveryStepOfAOnePiApplyCarriesThePisName) {
  power_off_port(2);
  apply_all_but_pi02();
  ApplyOptions options;
  options.pis = {"pi02"};
  apply(options);
  EXPECT_THAT(steps(), ElementsAre("switch", "network", "root", "root-files", "exports", "boot", "power"));
  for (const auto& r : reports) EXPECT_EQ(r.pi, "pi02") << r.step;
  auto logged = Journal(state_dir(m_dir / "inventory.json")).read("pi02");
  ASSERT_TRUE(logged) << logged.error().message;
  std::vector<std::string> logged_steps;
  for (const auto& e : *logged) logged_steps.push_back(e.step);
  EXPECT_THAT(logged_steps, ElementsAre("switch", "network", "root", "root-files", "exports", "boot", "power"));
}

// Issue 13: every file picluster renders into a root is reconciled like the fileserver's. Per
// rendered root file: change the inventory field that goes into it, plan shows the diff (and when
// the running Pi picks it up), apply rewrites it, and plan is empty again.
struct RootFileCase {
  const char* file;
  std::function<void(inventory::Shelf&)> change;
  const char* added;  // a line the diff must add
};

class RootFilesTest : public ReconcileTest, public ::testing::WithParamInterface<RootFileCase> {};

TEST_P(RootFilesTest, AChangedFieldShowsInPlanAndApplyRewritesIt) {
  apply();
  ASSERT_TRUE(plan().empty());
  const RootFileCase& c = GetParam();
  c.change(m_inventory.shelves.front());
  const auto p = plan();
  ASSERT_FALSE(p.root_files.empty());
  EXPECT_EQ(p.root_files[0].pi, "pi01") << describe(p, false);
  const std::string path = "/srv/srv/nfsroot/pi01/" + std::string(c.file);
  const auto& actions = p.root_files[0].plan;
  const auto it = std::ranges::find_if(actions, [&](const nfsroot::Action& a) { return a.path == path; });
  ASSERT_NE(it, actions.end()) << describe(p, false);
  bool added = false;
  for (const auto& d : content_diff(*it)) {
    added = added || (d.kind == nfsroot::DiffLine::Kind::added && d.text.find(c.added) != std::string::npos);
  }
  EXPECT_TRUE(added) << describe(p, false);
  const std::string text = describe(p, false);
  EXPECT_THAT(text, HasSubstr("root files of pi01:\n"));
  EXPECT_THAT(text, HasSubstr("  ~ write '" + path + "'"));
  EXPECT_THAT(text, HasSubstr("takes effect " + takes_effect(c.file)));
  EXPECT_EQ(to_json(p)["root_files"][0]["pi"], "pi01");
  reports.clear();
  apply();
  EXPECT_EQ(m_host.fs.at(path).contents.find(c.added) != std::string::npos, true);
  bool journaled = false;
  for (const auto& r : reports) journaled = journaled || (r.step == "root-files" && r.result == "ok");
  EXPECT_TRUE(journaled);
  EXPECT_TRUE(plan().empty()) << describe(plan(), false);
}

INSTANTIATE_TEST_SUITE_P(
    EveryRenderedRootFile, RootFilesTest,
    ::testing::Values(
        RootFileCase{"etc/network/interfaces",
                     [](inventory::Shelf& s) { s.public_net.gateway = *inventory::Ipv6::parse("2a00:1098:0:84::fe"); },
                     "gateway\t2a00:1098:0:84::fe"},
        RootFileCase{"etc/fstab", [](inventory::Shelf& s) { s.boot.nfs_options = "vers=4.2,tcp"; },
                     "vers=4.2,tcp"},
        RootFileCase{"etc/hosts",
                     [](inventory::Shelf& s) { s.pis[0].ipv6 = *inventory::Ipv6::parse("2a00:1098:0:84::77"); },
                     "2a00:1098:0:84::77\tpi01"},
        // etc/hostname holds only the Pi's name, which no field changes: the edited-file test
        // below covers it.
        RootFileCase{"etc/modules-load.d/picluster.conf", [](inventory::Shelf& s) { s.public_net.vlan = 77; },
                     "# eth0.77 needs 802.1Q"}),
    [](const auto& param_info) {
      std::string n = param_info.param.file;
      std::ranges::replace_if(n, [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
      return n;
    });

// Issue 16: the clone-method probe (stat -f, stat -c, findmnt of both paths) runs once per verb,
// not once per Pi: three roots cloned by one apply probe each path once.
TEST_F(ReconcileTest, TheCloneMethodIsProbedOncePerVerb) {
  ASSERT_EQ(m_inventory.shelves.front().fileserver.clone_method, inventory::CloneMethod::automatic);
  apply();
  const auto findmnts = std::ranges::count_if(m_host.commands, [](const auto& argv) { return argv[0] == "findmnt"; });
  EXPECT_EQ(findmnts, 2);  // golden image and nfs_root, for three Pis
}

// Issue 16: status reads each root's size from the record written when it was built, and runs
// no du; --sizes measures every root with one du.
TEST_F(ReconcileTest, StatusTakesRootSizesFromTheRecordAndRunsNoDu) {
  apply();
  const auto du_count = [&] {
    return std::ranges::count_if(m_host.commands, [](const auto& argv) { return argv[0] == "du"; });
  };
  const auto before = du_count();
  m_host.file("/srv/srv/nfsroot/pi01/grown", std::string(1000, 'x'));
  auto s = session("status");
  const auto recorded = collect_status(*s, {});
  EXPECT_EQ(du_count(), before);
  ASSERT_TRUE(recorded.pis[0].root_bytes.has_value());
  const auto measured = collect_status(*s, {}, true);
  EXPECT_EQ(du_count(), before + 1);
  ASSERT_TRUE(measured.pis[0].root_bytes.has_value());
  // (du now also counts the record itself, written after the build's du.)
  EXPECT_EQ(*measured.pis[0].root_bytes - *measured.pis[1].root_bytes,
            1000 + *recorded.pis[0].root_bytes - *recorded.pis[1].root_bytes);
  EXPECT_GT(*measured.pis[1].root_bytes, *recorded.pis[1].root_bytes);
}

TEST_F(ReconcileTest, AFileEditedInsideARootIsSeenAndRestored) {
  apply();
  const std::string hostname = "/srv/srv/nfsroot/pi02/etc/hostname";
  m_host.fs.at(hostname).contents = "intruder\n";
  m_host.fs.erase("/srv/srv/nfsroot/pi03/etc/fstab");
  const auto p = plan();
  ASSERT_EQ(p.root_files.size(), 2U) << describe(p, false);
  EXPECT_EQ(p.root_files[0].pi, "pi02");
  EXPECT_EQ(p.root_files[1].pi, "pi03");
  const std::string text = describe(p, false);
  EXPECT_THAT(text, HasSubstr("      -intruder\n      +pi02\n"));
  EXPECT_THAT(text, HasSubstr("root files of pi03:\n  ~ write '/srv/srv/nfsroot/pi03/etc/fstab'"));
  apply();
  EXPECT_EQ(m_host.fs.at(hostname).contents, "pi02\n");
  EXPECT_TRUE(plan().empty());
}

TEST_F(ReconcileTest, AChangedGoldenImageIsNamedAsNeedingARebuild) {
  apply();
  m_host.file("/srv/srv/golden/other/etc/hostname", "x\n");
  m_inventory.shelves.front().fileserver.golden_image = "/srv/golden/other";
  const auto p = plan();
  ASSERT_EQ(p.rebuild_needed.size(), 3U);
  EXPECT_EQ(p.rebuild_needed[0], "pi01: root built from /srv/srv/golden/raspios, golden_image is now "
                                 "/srv/srv/golden/other: only `picluster rebuild pi01` changes it");
  EXPECT_THAT(describe(p, false), HasSubstr("needs a rebuild (apply does not change these)"));
}

// The clone's progress (rsync's --info=progress2 lines) reaches the reporter as "progress"
// reports of the Pi's root step, and is never journaled.
TEST_F(ReconcileTest, ACloneReportsProgressThroughTheSession) {
  apply_all_but_pi02();
  ApplyOptions options;
  options.pis = {"pi02"};
  apply(options);
  std::vector<std::string> progress;
  for (const auto& r : reports) {
    if (r.result == "progress") {
      EXPECT_EQ(r.pi, "pi02");
      EXPECT_EQ(r.step, "root");
      progress.push_back(r.detail);
    }
  }
  // The fake's rsync prints "      1,024  50%   1.00MB/s    0:00:01 (xfr#1, to-chk=1/2)".
  EXPECT_THAT(progress, ElementsAre("1.0 KiB 50% 1.00MB/s 0:00:01 elapsed"));
  auto logged = Journal(state_dir(m_dir / "inventory.json")).read();
  ASSERT_TRUE(logged);
  for (const auto& e : *logged) EXPECT_NE(e.result, "progress");
}

}  // namespace
}  // namespace picluster::orchestrator
