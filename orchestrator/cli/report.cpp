#include "orchestrator/cli/report.hpp"

#include "orchestrator/cli/cli.hpp"

namespace picluster::cli {

orchestrator::VerbContext verb_context(const Context& ctx, bool dry_run, orchestrator::Reporter reporter) {
  orchestrator::VerbContext v;
  v.inventory_path = ctx.inventory_path;
  v.shelf = ctx.shelf;
  v.dry_run = dry_run;
  v.reporter = std::move(reporter);
  v.verbose = ctx.verbose;
  return v;
}

StepPrinter::StepPrinter(bool json) : m_json(json), m_colour(!json && stdout_is_terminal()) {}

orchestrator::Reporter StepPrinter::reporter() {
  return [this](const orchestrator::StepReport& step) {
    if (step.result == "progress" && (m_json || !m_colour)) return;  // terminal only
    if (m_json) {
      m_steps.push_back(inventory::Json{{"pi", step.pi}, {"step", step.step},
                                        {"result", step.result}, {"detail", step.detail}});
      return;
    }
    if (step.result == "progress") {  // one line rewritten in place
      std::cout << "\r\033[K" << step.pi << ": " << step.step << ": " << step.detail << std::flush;
      m_progress_shown = true;
      return;
    }
    if (m_progress_shown) std::cout << "\r\033[K";
    m_progress_shown = false;
    std::string result = step.result;
    if (m_colour) {
      const char* c = step.result == "ok" ? "\033[32m" : step.result == "failed" ? "\033[31m"
                      : step.result == "planned" ? "\033[33m" : "\033[2m";
      result = std::string(c) + result + "\033[0m";
    }
    std::string head = (step.pi.empty() ? std::string("shelf") : step.pi) + ": " + step.step + ": " + result;
    if (step.detail.empty()) {
      std::cout << head << "\n";
    } else if (step.detail.find('\n') == std::string::npos) {
      std::cout << head << " (" << step.detail << ")\n";
    } else {
      std::cout << head << "\n";
      std::size_t start = 0;
      while (start < step.detail.size()) {
        auto end = step.detail.find('\n', start);
        if (end == std::string::npos) end = step.detail.size();
        std::cout << "    " << step.detail.substr(start, end - start) << "\n";
        start = end + 1;
      }
    }
    std::cout.flush();
  };
}

void StepPrinter::finish(const Result<void>& result, inventory::Json extra) {
  if (!m_json) return;
  extra["ok"] = result.has_value();
  extra["steps"] = m_steps;
  extra["error"] = result ? inventory::Json(nullptr) : inventory::Json(result.error().message);
  std::cout << extra.dump(2) << "\n";
}

// Passes everything to stdout's own buffer and remembers whether anything went through.
class JsonErrorFallback::Counting : public std::streambuf {
 public:
  explicit Counting(std::streambuf* inner) : m_inner(inner) {}
  [[nodiscard]] bool wrote() const { return m_wrote; }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    m_wrote = true;
    return m_inner->sputc(static_cast<char>(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n > 0) m_wrote = true;
    return m_inner->sputn(s, n);
  }
  int sync() override { return m_inner->pubsync(); }

 private:
  std::streambuf* m_inner;
  bool m_wrote = false;
};

JsonErrorFallback::JsonErrorFallback(CLI::App& app) {
  CLI::App* leaf = &app;
  while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
  const CLI::Option* json = leaf->get_option_no_throw("--json");
  m_json = json != nullptr && json->count() > 0;
  if (!m_json) return;
  m_counting = std::make_unique<Counting>(std::cout.rdbuf());
  m_stdout = std::cout.rdbuf(m_counting.get());
}

JsonErrorFallback::~JsonErrorFallback() {
  if (m_stdout != nullptr) {
    std::cout.flush();
    std::cout.rdbuf(m_stdout);
  }
}

void JsonErrorFallback::finish(const Error& error) {
  if (!m_json || m_counting->wrote()) return;
  std::cout << inventory::Json{{"ok", false}, {"error", error.message}}.dump(2) << "\n";
  std::cout.flush();
}

}  // namespace picluster::cli
