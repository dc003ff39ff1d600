// rebuild.yml with the real picluster on two shelves whose fileservers are this machine
// (transport "local", root_prefix in a temp folder, rsync clones): one picluster run per shelf
// per batch builds the chosen Pis' roots, and a shelf whose rebuild fails stops the play before
// the next batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>

#include "tests/integration/ansible/run.hpp"

namespace picluster::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class RebuildPlaybook : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_program("ansible-playbook")) GTEST_SKIP() << "ansible is not installed (apt-get install ansible)";
    if (!have_program("rsync")) GTEST_SKIP() << "rsync is not installed";
    m_inventory = m_tmp.path() / "inventory.json";
    // south is listed first, so its Pi comes first in Ansible's order.
    for (const char* shelf : {"south", "north"}) {
      const fs::path prefix = m_tmp.path() / shelf;
      fs::create_directories(prefix / "srv/golden/raspios/etc");
      std::ofstream(prefix / "srv/golden/raspios/etc/golden-version") << "v1\n";
    }
    fs::create_directories(m_tmp.path() / "north/srv/nfsroot");  // south has none: its rebuilds fail
    ASSERT_EQ(picluster({"init", "--shelf-name", "south"}).status, 0);
    json doc = json::parse(std::ifstream(m_inventory));
    json north = doc["shelves"][0];
    north["name"] = "north";
    doc["shelves"].push_back(north);
    for (auto& shelf : doc["shelves"]) {
      shelf["fileserver"]["transport"] = "local";
      shelf["fileserver"]["root_prefix"] = (m_tmp.path() / shelf["name"].get<std::string>()).string();
      shelf["fileserver"]["clone_method"] = "rsync";
    }
    std::ofstream(m_inventory) << doc.dump(2);
    for (const auto& [shelf, pi, port] : {std::tuple{"south", "pi03", "1"}, {"north", "pi01", "1"},
                                          {"north", "pi02", "2"}, {"north", "pi04", "4"}})
      ASSERT_EQ(picluster({"--shelf", shelf, "add", pi, "--port", port, "--offline"}).status, 0) << pi;
  }

  RunResult picluster(std::vector<std::string> args) {
    args.insert(args.begin(), {picluster_exe().string(), "--inventory", m_inventory.string()});
    return run(args);
  }

  json play(const std::string& pis, int batch_size) {
    auto env = ansible_env(m_inventory);
    env.emplace_back("ANSIBLE_STDOUT_CALLBACK", "json");
    auto r = run({"ansible-playbook", "-i", (ansible_dir() / "inventory" / "picluster.sh").string(),
                  (ansible_dir() / "playbooks" / "rebuild.yml").string(), "-e", "pis=" + pis, "-e",
                  "batch_size=" + std::to_string(batch_size), "-e", "picluster_bin=" + picluster_exe().string()},
                 with_env(env, 600));
    m_output = r.out + r.err;
    m_status = r.status;
    return json::parse(r.out, nullptr, false);
  }

  bool root_built(const std::string& shelf, const std::string& pi) {
    std::ifstream in(m_tmp.path() / shelf / "srv/nfsroot" / pi / "etc/golden-version");
    std::string line;
    std::getline(in, line);
    return line == "v1";
  }

  // The argv of every picluster run the play made, in order.
  static std::vector<std::vector<std::string>> picluster_runs(const json& doc) {
    std::vector<std::vector<std::string>> runs;
    for (const auto& play : doc.at("plays"))
      for (const auto& task : play.at("tasks"))
        for (const auto& [host, result] : task.at("hosts").items())
          if (result.contains("cmd") && result.at("cmd").is_array())
            runs.push_back(result.at("cmd").get<std::vector<std::string>>());
    return runs;
  }

  TempDir m_tmp;
  fs::path m_inventory;
  std::string m_output;
  int m_status = -1;
};

TEST_F(RebuildPlaybook, OneRunPerShelfPerBatch) {
  const json doc = play("pi01,pi02,pi04", 2);
  ASSERT_FALSE(doc.is_discarded()) << m_output;
  EXPECT_EQ(m_status, 0) << m_output;
  const auto runs = picluster_runs(doc);
  ASSERT_EQ(runs.size(), 2U) << m_output;
  const std::vector<std::string> head{picluster_exe().string(), "--inventory", m_inventory.string(), "--shelf",
                                      "north", "rebuild"};
  auto expect = [&](std::vector<std::string> pis) {
    auto argv = head;
    argv.insert(argv.end(), pis.begin(), pis.end());
    return argv;
  };
  EXPECT_EQ(runs[0], expect({"pi01", "pi02"}));
  EXPECT_EQ(runs[1], expect({"pi04"}));
  EXPECT_TRUE(root_built("north", "pi01"));
  EXPECT_TRUE(root_built("north", "pi02"));
  EXPECT_TRUE(root_built("north", "pi04"));
}

TEST_F(RebuildPlaybook, AFailedShelfStopsThePlayAndIsReported) {
  const json doc = play("pi03,pi01", 1);
  ASSERT_FALSE(doc.is_discarded()) << m_output;
  EXPECT_NE(m_status, 0) << m_output;
  EXPECT_EQ(doc.at("stats").at("pi03").value("failures", 0), 1) << m_output;
  // The failure carries picluster's own message, naming the Pi.
  EXPECT_NE(doc.dump().find("pi03: picluster rebuild on shelf south failed"), std::string::npos) << m_output;
  EXPECT_NE(doc.dump().find("picluster: error: pi03"), std::string::npos) << m_output;
  // The next batch (pi01) never ran.
  EXPECT_EQ(picluster_runs(doc).size(), 1U) << m_output;
  EXPECT_FALSE(root_built("north", "pi01"));
}

// Each shelf keeps its own picluster inventory file, and Ansible gets one dynamic-inventory
// source per file (docs/ansible-multishelf.md). Both files call their shelf "rack" (as files made
// one per shelf with the same defaults would): a shelf is its file and its name, so one batch
// holding Pis of both runs picluster once per file, each on its own file, and builds every root.
TEST_F(RebuildPlaybook, TwoShelvesFromTwoInventoryFilesInOneBatch) {
  fs::create_directories(m_tmp.path() / "south/srv/nfsroot");  // this time south's rebuild works
  json doc = json::parse(std::ifstream(m_inventory));
  std::vector<std::string> sources;
  std::map<std::string, fs::path> files;
  for (const auto& shelf : doc["shelves"]) {
    const std::string name = shelf["name"].get<std::string>();
    json one = doc;
    one["shelves"] = json::array({shelf});
    one["shelves"][0]["name"] = "rack";
    // Each file in its own folder, as each shelf's controller would keep it (picluster's shelf
    // lock lives beside the inventory file, named after the shelf).
    files[name] = m_tmp.path() / ("inventory-" + name) / "inventory.json";
    fs::create_directories(files[name].parent_path());
    std::ofstream(files[name]) << one.dump(2);
    for (const auto& e : fs::directory_iterator(m_tmp.path())) {
      if (e.path().extension() == ".json" && e.path().filename().string().find("secret") != std::string::npos)
        fs::copy_file(e.path(), files[name].parent_path() / e.path().filename());
    }
    // The source Ansible runs for this shelf: the project's wrapper on this shelf's file.
    const fs::path source = m_tmp.path() / ("inventory-" + name + ".sh");
    std::ofstream(source) << "#!/bin/sh\nPICLUSTER_INVENTORY='" << files[name].string() << "' exec '"
                          << (ansible_dir() / "inventory" / "picluster.sh").string() << "' \"$@\"\n";
    fs::permissions(source, fs::perms(0755));
    sources.insert(sources.end(), {"-i", source.string()});
  }
  fs::remove(m_inventory);  // only the per-shelf files exist now
  auto env = ansible_env(m_inventory);
  env.emplace_back("ANSIBLE_STDOUT_CALLBACK", "json");
  std::vector<std::string> argv{"ansible-playbook"};
  argv.insert(argv.end(), sources.begin(), sources.end());
  argv.insert(argv.end(), {(ansible_dir() / "playbooks" / "rebuild.yml").string(), "-e", "pis=pi03,pi01,pi02", "-e",
                           "batch_size=3", "-e", "picluster_bin=" + picluster_exe().string()});
  auto r = run(argv, with_env(env, 600));
  const json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out << r.err;
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  auto runs = picluster_runs(out);
  std::sort(runs.begin(), runs.end());
  const std::vector<std::vector<std::string>> expected{
      {picluster_exe().string(), "--inventory", files["north"].string(), "--shelf", "rack", "rebuild", "pi01", "pi02"},
      {picluster_exe().string(), "--inventory", files["south"].string(), "--shelf", "rack", "rebuild", "pi03"}};
  EXPECT_EQ(runs, expected) << r.out;
  // One batch: a single play batch ran both (serial 3 and three Pis), and every root is built.
  EXPECT_TRUE(root_built("south", "pi03"));
  EXPECT_TRUE(root_built("north", "pi01"));
  EXPECT_TRUE(root_built("north", "pi02"));
  EXPECT_FALSE(root_built("north", "pi04"));  // not chosen
}

}  // namespace
}  // namespace picluster::testing
