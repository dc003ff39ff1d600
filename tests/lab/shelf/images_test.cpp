// The lab's image recipe: the fileserver root is prepared by the project's Ansible role, so the
// role's files are part of the cache key, and the lab no longer writes the role's files itself.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lab/shelf/images.hpp"

namespace picluster::lab {
namespace {
namespace fs = std::filesystem;

const fs::path kAnsible = fs::path(PICLUSTER_SOURCE_DIR) / "ansible";

bool has_file(const std::vector<std::pair<std::string, std::string>>& files, const std::string& path) {
  return std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.first == path; });
}

TEST(LabImages, RecipeCarriesTheRoleAndNotItsDuplicates) {
  auto recipe = default_recipe();
  ASSERT_TRUE(recipe) << recipe.error().message;
  EXPECT_TRUE(has_file(recipe->role_files, "playbooks/fileservers.yml"));
  EXPECT_TRUE(has_file(recipe->role_files, "roles/picluster_fileserver/tasks/kernel.yml"));
  EXPECT_TRUE(has_file(recipe->role_files, "roles/picluster_fileserver/templates/nfs.conf.j2"));
  EXPECT_TRUE(std::is_sorted(recipe->role_files.begin(), recipe->role_files.end()));
  // 8021q at boot and the NFS folders come from the role (tasks/kernel.yml, folders.yml).
  for (const auto& [path, text] : recipe->fileserver_files) {
    EXPECT_FALSE(path.starts_with("etc/modules-load.d/")) << path;
    EXPECT_EQ(text.find("8021q"), std::string::npos) << path;
  }
}

TEST(LabImages, ChangingARoleFileChangesTheCacheKey) {
  auto recipe = default_recipe();
  ASSERT_TRUE(recipe) << recipe.error().message;
  const std::string key = recipe_key(*recipe);
  EXPECT_EQ(key.size(), 16u);
  EXPECT_EQ(recipe_key(*recipe), key);  // stable
  Recipe changed = *recipe;
  for (auto& [path, text] : changed.role_files) {
    if (path == "roles/picluster_fileserver/defaults/main.yml") text += "# edited\n";
  }
  EXPECT_NE(recipe_key(changed), key);
  changed = *recipe;
  changed.role_files.emplace_back("roles/picluster_fileserver/tasks/new.yml", "---\n");
  EXPECT_NE(recipe_key(changed), key);
  // The folder's location is not part of the key (a moved checkout reuses the cache).
  changed = *recipe;
  changed.ansible_dir = "/elsewhere/ansible";
  EXPECT_EQ(recipe_key(changed), key);
}

TEST(LabImages, RoleFilesAreReadFromPicluster_ANSIBLE_DIR) {
  const fs::path copy = fs::temp_directory_path() / ("lab-images-test-" + std::to_string(getpid()));
  fs::remove_all(copy);
  fs::create_directories(copy / "roles");
  fs::create_directories(copy / "playbooks");
  fs::copy_file(kAnsible / "ansible.cfg", copy / "ansible.cfg");
  fs::copy_file(kAnsible / "playbooks/fileservers.yml", copy / "playbooks/fileservers.yml");
  fs::copy(kAnsible / "roles/picluster_fileserver", copy / "roles/picluster_fileserver", fs::copy_options::recursive);
  setenv("PICLUSTER_ANSIBLE_DIR", copy.c_str(), 1);
  auto same = default_recipe();
  std::ofstream(copy / "roles/picluster_fileserver/templates/nfs.conf.j2", std::ios::app) << "# edited\n";
  auto edited = default_recipe();
  fs::remove_all(copy / "roles");
  auto missing = default_recipe();
  unsetenv("PICLUSTER_ANSIBLE_DIR");
  auto original = default_recipe();
  fs::remove_all(copy);
  ASSERT_TRUE(same && edited && original);
  EXPECT_EQ(same->ansible_dir, copy);
  EXPECT_EQ(recipe_key(*same), recipe_key(*original));
  EXPECT_NE(recipe_key(*edited), recipe_key(*original));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("picluster_fileserver"), std::string::npos) << missing.error().message;
}

TEST(LabImages, ChrootInventoryPointsTheRoleAtTheRoot) {
  const auto j = nlohmann::json::parse(role_chroot_inventory("/stage/fileserver-root", "ssh-ed25519 AAAA lab\n"));
  const auto& host = j.at("all").at("children").at("fileservers").at("hosts").at("lab-fileserver");
  EXPECT_EQ(host.at("ansible_connection"), "community.general.chroot");
  EXPECT_EQ(host.at("ansible_host"), "/stage/fileserver-root");
  // The lab inventory's paths (lab.cpp), so the role over SSH finds everything in place.
  EXPECT_EQ(host.at("picluster_nfs_root"), "/srv/nfsroot");
  EXPECT_EQ(host.at("picluster_golden_image"), "/srv/golden/pi");
  EXPECT_EQ(host.at("picluster_apt_update_cache"), false);
  EXPECT_EQ(host.at("picluster_ssh_public_key"), "ssh-ed25519 AAAA lab");
}

}  // namespace
}  // namespace picluster::lab
