#include "pgl/train/training_loop.h"

#include <fmt/format.h>
// --profile uses the legacy profiler (no Kineto needed); a LibTorch without it refuses --profile.
#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define PGL_HAVE_LEGACY_PROFILER 1
#endif

#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/progress.h"
#include "pgl/train/schedule.h"

namespace pgl::train {
namespace {
#ifdef PGL_HAVE_LEGACY_PROFILER
using OpProfiler = torch::autograd::profiler::RecordProfile;
constexpr bool kHaveOpProfiler = true;
#else
struct OpProfiler {
  explicit OpProfiler(std::ostream&) {}
};
constexpr bool kHaveOpProfiler = false;
#endif

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

LoopOutcome run_training_loop(LoopSettings s, const LoopHooks& h, LoopParts p) {
  if (!s.profile.empty() && !kHaveOpProfiler)  // before the first step
    throw Error("--profile: this LibTorch has no legacy profiler (torch/csrc/autograd/profiler_legacy.h)");
  LoopOutcome out;
  out.steps_done = s.start;
  bool chosen_here = false;  // this process chose the step count (and may revise it)
  double last_val_seconds = 0;
  auto progress = s.steps_chosen
                      ? std::make_unique<Progress>(s.label, s.steps)
                      : std::make_unique<Progress>(s.label + ": timing steps", StepBudget::kCalibrationSteps);
  auto restart_progress = [&](int64_t done) {
    progress = std::make_unique<Progress>(s.label, s.steps);
    progress->update(done);
  };
  StepWindow window(s.batch, p.started);
  // --profile: the ops of a few steps after a warm-up, from the legacy profiler (no Kineto needed)
  std::ostringstream trace;
  std::unique_ptr<OpProfiler> profiler;
  const int64_t profile_from = s.start + kProfileWarmup, profile_to = profile_from + kProfileSteps;
  auto finish_profile = [&](int64_t done) {
    if (!profiler) return;
    profiler.reset();  // writes the trace
    if (p.run.writes()) write_text_atomically(s.profile, trace.str());
    p.run.log(fmt::format("profile of steps {}-{} written to {}", profile_from + 1, done, s.profile));
  };
  for (int64_t step = s.start; !s.steps_chosen || step < s.steps; ++step) {
    if (!s.profile.empty() && step == profile_from) profiler = std::make_unique<OpProfiler>(trace);
    const auto t0 = std::chrono::steady_clock::now();
    if (h.before_step) h.before_step(step);
    const double lr = h.lr(step);
    set_learning_rate(p.optimizer, lr);
    double wait = 0;
    torch::Tensor loss = p.guard.poisoned(h.loss(step, &wait), step);
    p.optimizer.zero_grad();
    p.scaler.scaled(loss).backward();
    const auto t_sync = std::chrono::steady_clock::now();
    p.group.average_gradients(p.parameters);  // gradients are complete from here on
    if (p.group.world_size() > 1) window.add_value("sync_ms", 1000 * seconds_since(t_sync));
    const double value = p.group.mean(loss.item<double>());  // every rank sees the same value
    // Neither the optimiser nor the EMA sees a non-finite step (the ranks decide alike: same loss, same
    // averaged gradients).
    // With loss scaling, overflowing scaled gradients are the scaler's business (skip, halve the scale), not
    // a fault, until the scale reaches its floor; a non-finite loss is the guard's either way.
    const bool overflowed = std::isfinite(value) && !p.scaler.unscale(p.parameters);
    const bool admitted = !overflowed && p.guard.admit(value, p.parameters, step, p.run.path(), p.last_good);
    if (admitted) {
      p.scaler.step_taken();
      if (s.clip_grad > 0) torch::nn::utils::clip_grad_norm_(p.parameters, s.clip_grad);
      p.optimizer.step();
      if (h.after_update) h.after_update(step);
    }
    const double seconds = seconds_since(t0);
    if (admitted) window.add(value, wait, seconds);
    if (p.guard.skipped() > 0) window.add_value("skipped_steps", static_cast<double>(p.guard.skipped()));
    if (h.step_values) h.step_values(window);
    p.budget.record(step, seconds);
    progress->update(step + 1, h.status ? h.status(value, lr) : fmt::format("loss {:.4f}", value));
    const int64_t done = step + 1;
    if (done == profile_to) finish_profile(done);

    bool validated = false;
    if (!s.steps_chosen && p.budget.calibrated(done)) {
      // With validation, one round now: its time enters the plan, and its Dice is the curve's first point.
      const double val_seconds = h.validate ? h.validate(done) : 0.0;
      validated = static_cast<bool>(h.validate);
      last_val_seconds = val_seconds;
      if (h.plan_validation) {
        const ValidationPlan plan = h.plan_validation(val_seconds);
        s.val_every = plan.every;
        last_val_seconds = plan.round_seconds;
      }
      s.steps = p.group.from_rank0(  // rank 0's timing decides for all
          p.budget.total_steps(done, p.clock.seconds(), last_val_seconds, s.val_every,
                               2 * last_val_seconds + 5));
      s.steps_chosen = chosen_here = true;
      h.steps_changed(s.steps);
      p.run.log(fmt::format("time budget {:g} min: {:.0f} ms per step{} -> {} steps", s.time_budget,
                            1000 * p.budget.seconds_per_step(),
                            h.validate ? fmt::format(", {:.1f} s per validation", last_val_seconds) : "",
                            s.steps));
      progress->finish("calibrated");
      restart_progress(done);
      h.save("latest", done);  // a resume from here on follows the chosen schedule, like this run
    }
    const bool last = s.steps_chosen && done == s.steps;
    if (done % s.log_every == 0 || last) {
      out.final_loss = window.mean_loss();
      nlohmann::json line = window.flush(done, lr);
      if (p.scaler.enabled()) {  // the scaler's state after this step, not a mean over the window
        line["loss_scale"] = p.scaler.scale();
        line["loss_scale_overflows"] = p.scaler.overflows();
      }
      if (h.metrics_line) h.metrics_line(line, step);
      p.run.log_metrics(line);
    }
    const bool val_round = h.validate && s.val_every > 0 && done % s.val_every == 0;
    if (h.validate && s.steps_chosen && !validated && (val_round || last)) {
      last_val_seconds = h.validate(done);
      validated = true;
    }
    if (validated && !last && h.plateaued && p.group.from_rank0(h.plateaued() ? 1 : 0)) {
      h.save("latest", done);
      out.steps_done = done;
      out.plateaued = true;
      break;
    }
    const bool replan_point = h.validate ? val_round : done % s.checkpoint_every == 0;
    if (chosen_here && !last && replan_point) {
      // The step time of the first steps is often not the rest's: the count follows the measured rate.
      const int64_t k = p.group.from_rank0(p.budget.replanned_steps(done, p.clock.seconds(), last_val_seconds,
                                                                    s.val_every, 2 * last_val_seconds + 5));
      if (std::abs(k - s.steps) * 50 > s.steps) {
        p.run.log(fmt::format("time budget: {:.0f} ms per step -> {} steps instead of {}",
                              1000 * p.budget.recent_seconds_per_step(), k, s.steps));
        s.steps = k;
        h.steps_changed(k);
        restart_progress(done);
      }
    }
    const bool stop = s.stop_at > 0 && done >= s.stop_at && !last;
    if ((s.steps_chosen && done % s.checkpoint_every == 0) || last || stop) h.save("latest", done);
    out.steps_done = done;
    if (stop) {
      finish_profile(done);
      progress->finish("stopped");
      p.run.log(fmt::format("stopped at step {} (--stop-at); continue with --resume", done));
      out.stopped = true;
      return out;
    }
  }
  finish_profile(out.steps_done);  // a run shorter than the profile's steps
  progress->finish(fmt::format("loss {:.4f}", out.final_loss));
  return out;
}

}  // namespace pgl::train
