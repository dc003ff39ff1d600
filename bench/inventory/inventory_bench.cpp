// Validate and render an inventory of 10,000 Pis across 100 shelves; print time and peak memory.
// Targets (issue 2): validate+render under 1 s and peak RSS under 200 MB; each line says whether
// it is MET or MISSED. Build Release (see docs/rendered-files.md, "Performance") to measure.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "bootcfg/bootcfg.hpp"
#include "inventory/inventory.hpp"

namespace {

using namespace picluster;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string make_text(int shelves, int pis_per_shelf) {
  inventory::Inventory inv;
  for (int s = 0; s < shelves; ++s) {
    inventory::Shelf shelf;
    shelf.name = "shelf" + std::to_string(s);
    shelf.switch_.port_count = pis_per_shelf + 1;
    shelf.fileserver.trunk_port = pis_per_shelf + 1;
    for (int p = 1; p <= pis_per_shelf; ++p) {
      inventory::PiRequest r{"s" + std::to_string(s) + "-pi" + std::to_string(p), p,
                             inventory::PiModel::pi4, {}, {}};
      if (!inventory::add_pi(shelf, r)) std::abort();
    }
    inv.shelves.push_back(std::move(shelf));
  }
  return inventory::serialize(inv);
}

}  // namespace

int main() {
  constexpr int kShelves = 100, kPis = 100;
  const std::string text = make_text(kShelves, kPis);

  auto t0 = Clock::now();
  auto inv = inventory::parse(text, "bench.json");  // parse includes validation
  const double parse_ms = ms_since(t0);
  if (!inv) {
    std::fprintf(stderr, "%s\n", inv.error().message.c_str());
    return 1;
  }
  t0 = Clock::now();
  if (!inventory::validate(*inv)) return 1;
  const double validate_ms = ms_since(t0);
  t0 = Clock::now();
  const auto files = bootcfg::render_tree(*inv, {});
  const double render_ms = ms_since(t0);
  std::size_t bytes = 0;
  for (const auto& f : files) bytes += f.contents.size();

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::printf("inventory: %d Pis in %d shelves, %zu KB of JSON\n", kShelves * kPis, kShelves,
              text.size() / 1024);
  std::printf("  parse+validate  %8.1f ms\n", parse_ms);
  std::printf("  validate again  %8.1f ms\n", validate_ms);
  std::printf("  render_tree     %8.1f ms  (%zu files, %zu KB)\n", render_ms, files.size(),
              bytes / 1024);
  const double total_ms = parse_ms + render_ms;
  const auto verdict = [](bool met) { return met ? "MET" : "MISSED"; };
  std::printf("  total           %8.1f ms  (target < 1000 ms: %s)\n", total_ms,
              verdict(total_ms < 1000.0));
  std::printf("  peak RSS        %8.1f MB  (target < 200 MB: %s)\n", peak_mb,
              verdict(peak_mb < 200.0));
  return 0;
}
