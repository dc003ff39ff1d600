// `picluster doctor` against the real switch simulator and a real fileserver (this machine, and
// a loopback sshd): all ok, then each fault the issue names gives exactly that one fail with its
// fix, exit status 1.
//
// The fileserver is a folder (root_prefix), so its kernel facts are files under it: the test
// makes <prefix>/proc/fs/nfsd/threads and <prefix>/sys/module/8021q for a healthy fileserver and
// takes them away for a faulty one.

#include <gmock/gmock.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "tests/integration/orchestrator/shelf_checks.hpp"

namespace picluster::orchestrator::it {
namespace {

using ::testing::HasSubstr;

// A healthy fileserver's kernel: nfsd with 8 threads, the 8021q module loaded.
void healthy_kernel(const TestShelf& shelf) {
  testing::write_file(shelf.prefix() / "proc/fs/nfsd/threads", "8\n");
  fs::create_directories(shelf.prefix() / "sys/module/8021q");
}

struct Doctor {
  int status = -1;
  json report;
  std::string text;  // the whole run, for messages
};

Doctor doctor(const TestShelf& shelf, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"doctor", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = shelf.pic(args);
  Doctor d{r.status, json::parse(r.out, nullptr, false), TestShelf::describe(args, r)};
  return d;
}

// The failing checks as "area: check".
std::vector<std::string> fails(const Doctor& d) {
  std::vector<std::string> out;
  if (!d.report.is_object()) return {"(no JSON report)"};
  for (const auto& c : d.report["checks"]) {
    if (c["status"] == "fail") out.push_back(c["area"].get<std::string>() + ": " + c["check"].get<std::string>());
  }
  return out;
}

json check(const Doctor& d, const std::string& area, const std::string& name) {
  for (const auto& c : d.report["checks"]) {
    if (c["area"] == area && c["check"] == name) return c;
  }
  return json();
}

// Exactly one fail, the named one, with a fix; exit status 1.
void expect_one_fail(const Doctor& d, const std::string& area, const std::string& name,
                     const std::string& detail_part, const std::string& fix_part) {
  EXPECT_EQ(d.status, 1) << d.text;
  EXPECT_EQ(fails(d), std::vector<std::string>{area + ": " + name}) << d.text;
  const json c = check(d, area, name);
  ASSERT_TRUE(c.is_object()) << d.text;
  EXPECT_THAT(c["detail"].get<std::string>(), HasSubstr(detail_part)) << d.text;
  EXPECT_THAT(c["fix"].get<std::string>(), HasSubstr(fix_part)) << d.text;
}

// Adds keys to the simulator's knobs and restarts it with them.
void restart_switch_with(TestShelf& shelf, const json& more) {
  shelf.stop_switch();
  const fs::path knobs = shelf.dir() / "switchsim-knobs.json";
  json k = json::parse(testing::read_file(knobs));
  k.update(more);
  testing::write_file(knobs, k.dump(2) + "\n");
  ASSERT_TRUE(shelf.start_switch()) << shelf.why_not();
}

void edit_inventory(const TestShelf& shelf, const std::function<void(json&)>& edit) {
  json inv = json::parse(testing::read_file(shelf.inventory_path()));
  edit(inv["shelves"][0]);
  testing::write_file(shelf.inventory_path(), inv.dump(2) + "\n");
}

TEST(DoctorTest, AHealthySiteOverSshIsAllOkAndTheWriteTestLeavesNoVlanBehind) {
  TestShelf shelf(Transport::ssh);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  // Two Pis with their roots (doctor checks the site, not whether apply has run: that is plan's
  // job; a full add over SSH takes minutes on a loaded machine).
  for (int i : {1, 2}) {
    ASSERT_EQ(shelf.add(i, {"--offline"}).status, 0);
    fs::create_directories(shelf.root(pi_name(i)) / "etc");
  }
  healthy_kernel(shelf);
  const auto before = shelf.pic_json({"switch", "show", "--json"});

  const Doctor d = doctor(shelf, {"--write-test"});
  EXPECT_EQ(d.status, 0) << d.text;
  ASSERT_TRUE(d.report.is_object()) << d.text;
  EXPECT_EQ(d.report["ok"], true) << d.text;
  std::set<std::string> names;
  for (const auto& c : d.report["checks"]) {
    EXPECT_EQ(c["status"], "ok") << c.dump() << "\n" << d.text;
    names.insert(c["area"].get<std::string>() + ": " + c["check"].get<std::string>());
  }
  for (const char* expected :
       {"inventory: valid", "switch: reachable", "switch: vlan table", "switch: vlan table writable",
        "switch: trunk port", "switch: pi ports", "switch: poe table", "fileserver: reachable",
        "fileserver: nfsd", "fileserver: 8021q", "fileserver: nftables", "fileserver: golden image",
        "fileserver: clone method", "fileserver: free space", "fileserver: pi roots"}) {
    EXPECT_TRUE(names.contains(expected)) << expected << "\n" << d.text;
  }
  EXPECT_THAT(check(d, "switch", "vlan table writable")["detail"].get<std::string>(),
              HasSubstr("created and deleted spare VLAN 4094"));
  // The spare VLAN is gone again: the switch reads as before.
  EXPECT_EQ(shelf.pic_json({"switch", "show", "--json"}), before);
  EXPECT_THAT(shelf.snmpget(vlan_row_oid(4094)).out, HasSubstr("No Such Instance"));

  // The terminal form: one line per check, and exit 0.
  const auto text = shelf.pic({"doctor"});
  EXPECT_EQ(text.status, 0) << text.out << text.err;
  EXPECT_THAT(text.out, HasSubstr("ok    switch: reachable: "));
  EXPECT_THAT(text.out, HasSubstr("ok    fileserver: nfsd: running with 8 threads"));
}

TEST(DoctorTest, AWrongCommunityIsOneFailNamingTheSecretsFile) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  testing::write_file(shelf.dir() / "switch-secrets.json", "{\"community\": \"not-the-one\"}\n");
  fs::permissions(shelf.dir() / "switch-secrets.json", fs::perms(0600));
  expect_one_fail(doctor(shelf), "switch", "reachable", shelf.switch_address(),
                  "switch-secrets.json");
  // The human form says the same, with the fix on the next line.
  const auto text = shelf.pic({"doctor"});
  EXPECT_EQ(text.status, 1);
  EXPECT_THAT(text.out, HasSubstr("fail  switch: reachable: "));
  EXPECT_THAT(text.out, HasSubstr("      fix: check switch.host"));
}

TEST(DoctorTest, AReadOnlyVlanTableFailsTheWriteTestOnly) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  restart_switch_with(shelf, {{"fail_set", {{{"oid", ".1.3.6.1.2.1.17.7.1.4.3"}, {"status", "notWritable"}}}}});
  // Reading is fine: without --write-test all is well.
  EXPECT_EQ(doctor(shelf).status, 0);
  expect_one_fail(doctor(shelf, {"--write-test"}), "switch", "vlan table writable", "notWritable",
                  "write access to dot1qVlanStaticTable");
}

TEST(DoctorTest, ASwitchWithoutAPoeTableFails) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  restart_switch_with(shelf, {{"poe_mib", false}});
  expect_one_fail(doctor(shelf), "switch", "poe table", "pethPsePortTable", "PoE");
}

TEST(DoctorTest, ATrunkPortTheSwitchDoesNotHaveFails) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  // The inventory says a 48-port switch with the trunk on 48; the switch has 24 ports.
  edit_inventory(shelf, [](json& s) {
    s["switch"]["port_count"] = 48;
    s["fileserver"]["trunk_port"] = 48;
  });
  expect_one_fail(doctor(shelf), "switch", "trunk port", "48 is not on the switch (it has ports 1-24)",
                  "fileserver.trunk_port");
}

// switch.numbering forced to a source the switch does not serve: the port map fails, and the fix
// is the inventory's numbering (it said to serve ifName/dot1dBasePortIfIndex, which the switch does).
TEST(DoctorTest, AForcedNumberingTheSwitchCannotServeFailsNamingTheField) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  edit_inventory(shelf, [](json& s) { s["switch"]["numbering"] = "lldp"; });
  expect_one_fail(doctor(shelf), "switch", "port map",
                  "switch.numbering is \"lldp\" but LLDP-MIB's local port table cannot number the ports",
                  "set switch.numbering");
}

TEST(DoctorTest, AnUnknownHostKeyFailsWithHowToPinIt) {
  TestShelf shelf(Transport::ssh);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  json inv = json::parse(testing::read_file(shelf.inventory_path()));
  const fs::path known = inv["shelves"][0]["fileserver"]["known_hosts"].get<std::string>();
  testing::write_file(known, "");
  expect_one_fail(doctor(shelf), "fileserver", "reachable", "is not in", "known_hosts");
  EXPECT_THAT(check(doctor(shelf), "fileserver", "reachable")["detail"].get<std::string>(),
              HasSubstr("ssh-keyscan"));
}

TEST(DoctorTest, NoNfsdFails) {
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  fs::remove(shelf.prefix() / "proc/fs/nfsd/threads");
  expect_one_fail(doctor(shelf), "fileserver", "nfsd", "no NFS server", "nfs-kernel-server");
}

// nfs_root on a tiny loop filesystem with less room than one copy of the golden image.
TEST(DoctorTest, AFullDiskFailsFreeSpace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a loop mount";
  if (!testing::have_program("mkfs.ext4")) GTEST_SKIP() << "needs e2fsprogs";
  TestShelf shelf(Transport::local);
  if (!shelf.ready()) GTEST_SKIP() << shelf.why_not();
  healthy_kernel(shelf);
  edit_inventory(shelf, [](json& s) { s["fileserver"]["clone_method"] = "rsync"; });
  const fs::path image = shelf.dir() / "tiny.img";
  const fs::path mnt = shelf.prefix() / "srv/nfsroot";
  ASSERT_EQ(testing::run({"truncate", "-s", "4M", image.string()}).status, 0);
  const auto mk = testing::run({"mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", image.string()});
  ASSERT_EQ(mk.status, 0) << mk.err;
  const auto mounted = testing::run({"mount", "-o", "loop", image.string(), mnt.string()});
  if (mounted.status != 0) GTEST_SKIP() << "cannot loop-mount: " << mounted.err;
  struct Unmount {
    fs::path dir;
    ~Unmount() { testing::run({"umount", "-d", dir.string()}); }
  } unmount{mnt};
  // Fill it, leaving less than the golden image's 180 KiB.
  testing::run({"dd", "if=/dev/zero", "of=" + (mnt / "fill").string(), "bs=64k", "status=none"});
  testing::run({"sync"});
  expect_one_fail(doctor(shelf), "fileserver", "free space", "1 more root(s) need", "free space");
}

}  // namespace
}  // namespace picluster::orchestrator::it
