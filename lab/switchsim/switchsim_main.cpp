#include "lab/switchsim/switchsim_main.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "lab/switchsim/agent.hpp"
#include "lab/switchsim/simulator.hpp"

namespace picluster::switchsim {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

struct Args {
  std::string listen;
  int ports = 0;
  std::string state_file;
  std::string config_file;
  std::string mode = "qbridge";
  std::string community = "private";
  std::string secrets_file;
  std::string v3_user;
  std::string v3_auth_pass;
  std::string v3_priv_pass;
  std::string pidfile;
  std::string dataplane = "memory";
  std::vector<std::string> dataplane_options;
};

void add_options(CLI::App& app, Args& a) {
  app.add_option("--listen", a.listen, "UDP address to serve on, loopback only (udp:127.0.0.1:PORT)")
      ->required();
  app.add_option("--ports", a.ports, "number of front-panel ports")->required()->check(CLI::Range(1, 1024));
  app.add_option("--state", a.state_file, "state JSON file (created with defaults if missing)")->required();
  app.add_option("--config", a.config_file, "knobs JSON file (faults, numbering, devices)");
  app.add_option("--mode", a.mode, "MIB flavour: qbridge or cisco")
      ->check(CLI::IsMember({"qbridge", "cisco"}));
  app.add_option("--community", a.community, "SNMPv1/v2c read-write community (default private; \"\" disables)");
  app.add_option("--secrets", a.secrets_file,
                 "JSON file with community, v3_user, v3_auth_pass, v3_priv_pass (keeps them off ps)");
  app.add_option("--v3-user", a.v3_user, "SNMPv3 authPriv user (SHA/AES)");
  app.add_option("--v3-auth-pass", a.v3_auth_pass, "SNMPv3 SHA passphrase");
  app.add_option("--v3-priv-pass", a.v3_priv_pass, "SNMPv3 AES passphrase");
  app.add_option("--pidfile", a.pidfile, "write the process id here once serving");
  app.add_option("--dataplane", a.dataplane, "data plane behind the agent (default memory)");
  app.add_option("--dataplane-option", a.dataplane_options, "KEY=VALUE passed to the data plane");
}

Result<void> read_secrets(Args& a) {
  if (a.secrets_file.empty()) return {};
  std::ifstream in(a.secrets_file);
  if (!in) return fail(ErrorCode::io, a.secrets_file + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  const auto parsed = parse_json<nlohmann::json>(text.str());
  if (!parsed) return fail(ErrorCode::invalid_argument, a.secrets_file + ": not a JSON object of strings");
  try {
    const auto& j = *parsed;
    a.community = j.value("community", a.community);
    a.v3_user = j.value("v3_user", a.v3_user);
    a.v3_auth_pass = j.value("v3_auth_pass", a.v3_auth_pass);
    a.v3_priv_pass = j.value("v3_priv_pass", a.v3_priv_pass);
  } catch (const nlohmann::json::exception&) {
    return fail(ErrorCode::invalid_argument, a.secrets_file + ": not a JSON object of strings");
  }
  return {};
}

Result<AgentOptions> agent_options(const Args& a) {
  AgentOptions out{a.listen, a.community, std::nullopt};
  for (const char c : a.community) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\'' || c == '\\' || c == '#') {
      return fail(ErrorCode::invalid_argument, "--community: printable ASCII without spaces or quotes only");
    }
  }
  if (a.v3_user.empty()) {
    if (!a.v3_auth_pass.empty() || !a.v3_priv_pass.empty()) {
      return fail(ErrorCode::invalid_argument, "--v3-auth-pass/--v3-priv-pass need --v3-user");
    }
    return out;
  }
  for (const char c : a.v3_user) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return fail(ErrorCode::invalid_argument, "--v3-user: letters, digits, '_', '-', '.' only");
    }
  }
  if (auto ok = check_passphrase(a.v3_auth_pass, "--v3-auth-pass"); !ok) return std::unexpected(ok.error());
  if (auto ok = check_passphrase(a.v3_priv_pass, "--v3-priv-pass"); !ok) return std::unexpected(ok.error());
  out.v3 = V3User{a.v3_user, a.v3_auth_pass, a.v3_priv_pass};
  return out;
}

Result<DataPlaneOptions> dataplane_options(const Args& a, const Knobs& knobs) {
  DataPlaneOptions out{a.ports, knobs, {}};
  for (const auto& kv : a.dataplane_options) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorCode::invalid_argument, "--dataplane-option '" + kv + "': expected KEY=VALUE");
    }
    out.options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

// A fresh state gets the knobs' initial VLANs: rows with their members; an untagged member leaves
// VLAN 1 and takes the VLAN as PVID (Q-BRIDGE) and as access VLAN (Cisco).
void add_initial_vlans(SwitchState& state, const Knobs& knobs) {
  for (const auto& iv : knobs.initial_vlans) {
    Vlan& v = state.vlans[iv.id];
    v.name = iv.name;
    for (const int f : iv.tagged) v.egress.insert(f);
    for (const int f : iv.untagged) {
      v.egress.insert(f);
      v.untagged.insert(f);
      state.vlans[1].egress.erase(f);
      state.vlans[1].untagged.erase(f);
      state.ports[static_cast<std::size_t>(f - 1)].pvid = iv.id;
      state.ports[static_cast<std::size_t>(f - 1)].access_vlan = iv.id;
    }
  }
}

Result<int> serve(Args a, const DataPlaneRegistry& registry) {
  // 1. Check the listen address and gather secrets and knobs.
  if (auto ok = check_loopback_listen(a.listen); !ok) return std::unexpected(ok.error());
  if (auto ok = read_secrets(a); !ok) return std::unexpected(ok.error());
  auto options = agent_options(a);
  if (!options) return std::unexpected(options.error());
  Knobs knobs;
  if (!a.config_file.empty()) {
    auto loaded = load_knobs(a.config_file);
    if (!loaded) return std::unexpected(loaded.error());
    knobs = *loaded;
  }
  if (auto ok = validate_knobs(knobs, a.ports); !ok) return std::unexpected(ok.error().with_context(a.config_file));
  // 2. Load (or create) the state and build the data plane behind it.
  std::error_code ec;
  const bool fresh = !std::filesystem::exists(a.state_file, ec);
  auto state = load_state(a.state_file, a.ports);
  if (!state) return std::unexpected(state.error());
  if (fresh) add_initial_vlans(*state, knobs);
  auto dp_options = dataplane_options(a, knobs);
  if (!dp_options) return std::unexpected(dp_options.error());
  auto dataplane = registry.make(a.dataplane, *dp_options);
  if (!dataplane) return std::unexpected(dataplane.error());
  const Mode mode = a.mode == "cisco" ? Mode::cisco : Mode::qbridge;
  Simulator simulator({mode, knobs, a.state_file}, std::move(*state), std::move(*dataplane));
  if (auto ok = simulator.save(); !ok) return std::unexpected(ok.error());
  if (auto ok = simulator.sync_dataplane(); !ok) return std::unexpected(ok.error().with_context("data plane"));
  // 3. Serve until a signal, then save the state.
  auto agent = Agent::start(*options, simulator);
  if (!agent) return std::unexpected(agent.error());
  if (!a.pidfile.empty()) std::ofstream(a.pidfile) << ::getpid() << '\n';
  std::cout << "ready " << a.listen << std::endl;
  (*agent)->run(g_stop);
  agent->reset();
  if (!a.pidfile.empty()) std::remove(a.pidfile.c_str());
  if (auto ok = simulator.save(); !ok) return std::unexpected(ok.error());
  return 0;
}

}  // namespace

Result<void> check_loopback_listen(const std::string& listen) {
  const auto refuse = [&](const std::string& why) {
    return fail(ErrorCode::invalid_argument, "--listen '" + listen + "': " + why);
  };
  std::string host;
  std::string port;
  if (listen.starts_with("udp:")) {
    const auto colon = listen.rfind(':');
    host = listen.substr(4, colon - 4);
    port = listen.substr(colon + 1);
    in_addr addr{};
    if (colon <= 4 || inet_pton(AF_INET, host.c_str(), &addr) != 1) return refuse("expected udp:IPV4:PORT");
    if ((ntohl(addr.s_addr) >> 24) != 127) return refuse("only loopback addresses (127.0.0.0/8) are allowed");
  } else if (listen.starts_with("udp6:[::1]:")) {
    port = listen.substr(11);
  } else {
    return refuse("expected udp:127.x.y.z:PORT or udp6:[::1]:PORT");
  }
  int number = 0;
  for (const char c : port) {
    if (c < '0' || c > '9' || number > 65535) return refuse("bad port");
    number = number * 10 + (c - '0');
  }
  if (port.empty() || number < 1 || number > 65535) return refuse("port must be 1..65535");
  return {};
}

int switchsim_main(int argc, char** argv, const DataPlaneRegistry& registry) {
  CLI::App app{"picluster-switchsim: an SNMP agent that behaves like a PoE switch (loopback only)"};
  Args args;
  add_options(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  auto result = serve(std::move(args), registry);
  if (!result) {
    std::cerr << "picluster-switchsim: error: " << result.error().message << '\n';
    return exit_status(result.error());
  }
  return *result;
}

}  // namespace picluster::switchsim
