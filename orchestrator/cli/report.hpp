#pragma once
// How the operator verbs show their named steps: one line per step on the terminal (with colour
// when stdout is one), or collected and printed as one JSON document with --json.

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <streambuf>

#include "orchestrator/shelf_session.hpp"
#include "orchestrator/verbs.hpp"

namespace picluster::cli {

struct Context;

// The orchestrator's view of the global options, with the reporter the verb should use.
orchestrator::VerbContext verb_context(const Context& ctx, bool dry_run, orchestrator::Reporter reporter);

class StepPrinter {
 public:
  explicit StepPrinter(bool json);
  // The reporter to hand to the orchestrator; the printer must outlive it.
  orchestrator::Reporter reporter();
  // With --json: prints {"ok": ..., "steps": [...], "error": ...}; without: nothing more.
  void finish(const Result<void>& result, inventory::Json extra = inventory::Json::object());

 private:
  bool m_json;
  bool m_colour;               // stdout is a terminal and no --json: colour and progress
  bool m_progress_shown = false;  // a progress line waits to be overwritten
  inventory::Json m_steps = inventory::Json::array();
};

// With --json, a verb that fails before printing its document still gives a machine-readable
// answer: main() wraps stdout in this while the verb runs, and when the verb failed and wrote
// nothing on stdout, finish() prints {"ok": false, "error": "..."} there (the error also goes to
// stderr as always).
class JsonErrorFallback {
 public:
  explicit JsonErrorFallback(CLI::App& app);
  ~JsonErrorFallback();
  JsonErrorFallback(const JsonErrorFallback&) = delete;
  JsonErrorFallback& operator=(const JsonErrorFallback&) = delete;
  void finish(const Error& error);

 private:
  class Counting;
  bool m_json = false;
  std::unique_ptr<Counting> m_counting;
  std::streambuf* m_stdout = nullptr;
};

}  // namespace picluster::cli
