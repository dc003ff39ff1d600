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

}  // namespace picluster::cli
