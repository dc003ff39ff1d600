#include "lab/switchsim/dataplane.hpp"

namespace picluster::switchsim {

void DataPlaneRegistry::add(std::string name, DataPlaneFactory factory) {
  m_factories[std::move(name)] = std::move(factory);
}

Result<std::unique_ptr<DataPlane>> DataPlaneRegistry::make(const std::string& name,
                                                           const DataPlaneOptions& options) const {
  const auto it = m_factories.find(name);
  if (it == m_factories.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    return fail(ErrorCode::invalid_argument,
                "--dataplane: unknown data plane '" + name + "' (known: " + known + ")");
  }
  return with_context(it->second(options), "data plane " + name);
}

std::vector<std::string> DataPlaneRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, factory] : m_factories) out.push_back(name);
  return out;
}

DataPlaneRegistry default_dataplanes() {
  DataPlaneRegistry registry;
  registry.add("memory", [](const DataPlaneOptions& options) -> Result<std::unique_ptr<DataPlane>> {
    if (!options.options.empty()) {
      return fail(ErrorCode::invalid_argument, "takes no --dataplane-option");
    }
    return std::make_unique<InMemoryDataPlane>(options);
  });
  return registry;
}

InMemoryDataPlane::InMemoryDataPlane(DataPlaneOptions options) : m_options(std::move(options)) {}

Result<void> InMemoryDataPlane::apply_port(int front_port, int pvid, std::vector<int> untagged,
                                           std::vector<int> tagged) {
  PortRecord& port = m_ports[front_port];
  port.pvid = pvid;
  port.untagged = std::move(untagged);
  port.tagged = std::move(tagged);
  return {};
}

Result<void> InMemoryDataPlane::set_power(int front_port, bool on) {
  PortRecord& port = m_ports[front_port];
  if (port.powered != on) {
    ++port.power_changes;
    port.powered_since = std::chrono::steady_clock::now();
  }
  port.powered = on;
  return {};
}

std::vector<FdbEntry> InMemoryDataPlane::learned() {
  std::vector<FdbEntry> out;
  for (int front = 1; front <= m_options.port_count; ++front) {
    const auto mac = m_options.knobs.port(front).mac;
    const auto it = m_ports.find(front);
    if (!mac || it == m_ports.end()) continue;
    const int after = m_options.knobs.port(front).mac_after_poe_ms;
    if (after >= 0 && (!it->second.powered ||
                       std::chrono::steady_clock::now() - it->second.powered_since <
                           std::chrono::milliseconds(after))) {
      continue;
    }
    out.push_back({front, it->second.pvid, *mac});
  }
  return out;
}

}  // namespace picluster::switchsim
