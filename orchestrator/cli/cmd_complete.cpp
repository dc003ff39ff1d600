// Hidden verbs for the shell and for the man-page test, both read from the CLI11 tree itself so
// they never drift from the real verbs and options:
//
//   picluster __complete [--] WORD...   the candidates for the last WORD (possibly ""), one per
//                                       line: verbs, options, choices ("on | off | ..."), or
//                                       the Pi names of the current inventory where a verb takes
//                                       Pi names. Nothing when a value is due (the shell then
//                                       completes file names). Never fails: a bad inventory just
//                                       gives no Pi names.
//   picluster __cli                     every verb path with its options and positionals, as JSON.
//
// The completion scripts (packaging/completion/) only call `picluster __complete`.

#include <algorithm>
#include <iostream>
#include <set>

#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {
namespace {

bool hidden_verb(const CLI::App* app) { return app->get_name().starts_with("__"); }

std::vector<const CLI::App*> verbs_of(const CLI::App* app) {
  return app->get_subcommands([](const CLI::App* a) { return !a->get_name().empty(); });
}

// "--json", "-n", ... of one app (not its parents).
std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const auto* opt : app->get_options()) {
    if (opt->get_positional()) continue;
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    for (const auto& s : opt->get_snames()) names.push_back("-" + s);
  }
  return names;
}

const CLI::Option* find_option(const CLI::App* app, const std::string& word) {
  for (const auto* a = app; a != nullptr; a = a->get_parent()) {
    for (const auto* opt : a->get_options()) {
      if (!opt->get_positional() && opt->check_name(word)) return opt;
    }
  }
  return nullptr;
}

// Positionals that name Pis already in the inventory (not `add`'s new name).
bool takes_pi_names(const CLI::App* app, const CLI::Option* positional) {
  const std::string& n = positional->get_name();
  return (n == "name" || n == "names") && app->get_name() != "add" &&
         (app->get_parent() == nullptr || app->get_parent()->get_name() != "lab");
}

// "on | off | cycle | status" in a positional's description: its choices.
std::vector<std::string> choices(const CLI::Option* positional) {
  std::vector<std::string> out;
  const std::string d = positional->get_description();
  if (d.find(" | ") == std::string::npos) return out;
  std::size_t start = 0;
  while (start <= d.size()) {
    const auto bar = d.find(" | ", start);
    out.push_back(d.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 3;
  }
  return out;
}

void print_pi_names(const Context& ctx) {
  auto inv = load_inventory(ctx);
  if (!inv) return;
  for (const auto& shelf : inv->shelves) {
    if (!ctx.shelf.empty() && shelf.name != ctx.shelf) continue;
    for (const auto& pi : shelf.pis) std::cout << pi.name << "\n";
  }
}

int complete(const CLI::App* root, Context ctx, const std::vector<std::string>& words) {
  const CLI::App* app = root;
  std::size_t positional = 0;
  bool value_due = false;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& w = words[i];
    if (value_due) {
      value_due = false;
      continue;
    }
    if (w.starts_with("-")) {
      const auto eq = w.find('=');
      const auto* opt = find_option(app, w.substr(0, eq));
      if (opt != nullptr && opt->get_type_size() != 0 && eq == std::string::npos) {
        value_due = true;
        if (opt->check_lname("inventory") && i + 2 < words.size()) ctx.inventory_path = words[i + 1];
        if (opt->check_lname("shelf") && i + 2 < words.size()) ctx.shelf = words[i + 1];
      }
      continue;
    }
    const auto subs = verbs_of(app);
    const auto it = std::ranges::find_if(subs, [&](const CLI::App* s) { return s->check_name(w); });
    if (it != subs.end()) {
      app = *it;
      positional = 0;
    } else {
      ++positional;
    }
  }
  if (value_due) return 0;  // a value is due: let the shell complete file names
  const std::string current = words.empty() ? "" : words.back();
  if (current.starts_with("-")) {
    for (const auto* a = app; a != nullptr; a = a->get_parent()) {
      for (const auto& n : option_names(a)) std::cout << n << "\n";
    }
    return 0;
  }
  for (const auto* sub : verbs_of(app)) {
    if (!hidden_verb(sub)) std::cout << sub->get_name() << "\n";
  }
  std::vector<const CLI::Option*> positionals;
  for (const auto* opt : app->get_options()) {
    if (opt->get_positional()) positionals.push_back(opt);
  }
  if (positionals.empty()) return 0;
  // The last positional takes every further word when it is a list (names...).
  const auto* pos = positionals[std::min(positional, positionals.size() - 1)];
  if (positional >= positionals.size() && pos->get_expected_max() <= 1) return 0;
  for (const auto& c : choices(pos)) std::cout << c << "\n";
  if (takes_pi_names(app, pos)) print_pi_names(ctx);
  return 0;
}

void dump(const CLI::App* app, const std::string& path, inventory::Json& out) {
  inventory::Json entry{{"path", path}};
  inventory::Json opts = inventory::Json::array(), pos = inventory::Json::array();
  for (const auto* opt : app->get_options()) {
    if (opt->get_positional()) {
      pos.push_back(opt->get_name());
      continue;
    }
    for (const auto& l : opt->get_lnames()) opts.push_back("--" + l);
    for (const auto& s : opt->get_snames()) opts.push_back("-" + s);
  }
  entry["options"] = opts;
  entry["positionals"] = pos;
  out.push_back(entry);
  for (const auto* sub : verbs_of(app)) {
    if (!hidden_verb(sub)) dump(sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
  }
}

}  // namespace

void register_complete_commands(CLI::App& app, Context& ctx) {
  // The words come after "--", so that "--json" among them is a word, not an option.
  auto words = std::make_shared<std::vector<std::string>>();
  auto* complete_cmd = app.add_subcommand("__complete", "Shell completion candidates");
  complete_cmd->group("");  // hidden from --help
  complete_cmd->add_option("words", *words, "The command line after `picluster`, then the word to complete");
  CLI::App* root = &app;
  complete_cmd->callback([&ctx, root, words] {
    ctx.action = [&ctx, root, words]() -> Result<int> { return complete(root, ctx, *words); };
  });

  auto* cli_cmd = app.add_subcommand("__cli", "Every verb with its options, as JSON");
  cli_cmd->group("");
  cli_cmd->callback([&ctx, root] {
    ctx.action = [root]() -> Result<int> {
      inventory::Json out = inventory::Json::array();
      dump(root, "", out);
      std::cout << out.dump(2) << "\n";
      return 0;
    };
  });
}

}  // namespace picluster::cli
