#pragma once
// Golden files: each case is a folder under tests/unit/bootcfg/golden/ holding every rendered file
// at its rendered path. By default the test compares byte for byte and also fails on a golden
// file that is no longer rendered. PICLUSTER_UPDATE_GOLDEN=1 rewrites the case's folder instead.

#include <string>
#include <vector>

#include "common/rendered_file.hpp"

namespace picluster::bootcfg::test {

// Adds a gtest failure for each difference; rewrites the goldens in update mode.
void expect_golden(const std::string& case_name, const std::vector<RenderedFile>& files);

// Prefixes every path with `prefix` + "/" (to keep several renderers in one case folder).
std::vector<RenderedFile> under(const std::string& prefix, std::vector<RenderedFile> files);

}  // namespace picluster::bootcfg::test
