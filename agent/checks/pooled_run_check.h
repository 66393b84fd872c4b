// An interval check whose runs borrow their state (socket, resolver, parser,
// buffers) from the agent's RunPool for the length of one run: HTTP, TCP and
// UDP checks. A check between runs holds only its configuration.
//
// RunT provides `Derived* check`, `std::string output`, `void start(Derived&)`
// and `void timed_out()`, and calls check->run_done(status) exactly once.
#pragma once

#include <memory>
#include <string_view>

#include "agent/checks/interval_check.h"

namespace cairn::checks {

template <class Derived, class RunT>
class PooledRunCheck : public IntervalCheck {
 public:
  using IntervalCheck::IntervalCheck;

  // The run ended with this status; its output is in the run.
  void run_done(std::string_view status) {
    std::unique_ptr<RunT> run = std::move(run_);
    run->check = nullptr;
    CheckEnv& env = env_;
    finish();
    report(status, run->output);  // last use of this: the sink may reach far
    env.runs.give(std::move(run));
  }

 protected:
  void start_run() {
    run_ = env_.runs.template take<RunT>(env_);
    run_->start(static_cast<Derived&>(*this));
  }

  // IntervalCheck
  void timed_out() override {
    if (run_) run_->timed_out();
  }

  std::unique_ptr<RunT> run_;
};

}  // namespace cairn::checks
