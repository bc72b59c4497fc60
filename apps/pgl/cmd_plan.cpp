// pgl plan: a data set's fingerprint and the training plan derived from it, with the reason for each choice.
#include <fmt/format.h>

#include "commands.h"
#include "pgl/core/atomic_file.h"
#include "pgl/data/cache.h"
#include "pgl/plan/backbone.h"
#include "plan_options.h"

namespace pgl::cli {

namespace {
struct PlanCommand {
  std::string data, out, cache, preset = "small";
  int64_t base = 0, levels = 0, batch = 0;
  std::vector<int64_t> patch;
  int threads = 2;
  bool json = false;
  PlanOptions plan;
};
}  // namespace

void register_plan(CLI::App& app) {
  auto c = std::make_shared<PlanCommand>();
  auto* cmd = app.add_subcommand(
      "plan",
      "Fingerprint a data set and print the training plan derived from it (spacing, normalisation, "
      "patch, network), with the reasons");
  cmd->add_option("data", c->data, "Data set folder (MSD or nnU-Net raw; labels give CT statistics)")
      ->required();
  cmd->add_option("--out", c->out, "Also write the plan to this file (for --plan)");
  add_network_options(cmd, *c);
  add_plan_options(cmd, c->plan);
  cmd->add_option("--cache", c->cache,
                  "Cache folder for the fingerprint (default: $PGL_CACHE or ~/.cache/pgl)");
  cmd->add_option("--threads", c->threads, "Threads reading the volumes")->capture_default_str();
  cmd->add_flag("--json", c->json, "Print the plan as JSON");
  cmd->footer("Example: pgl plan ../shared/data/chaos_t2 --out chaos-plan.json");
  cmd->callback([c] {
    Dataset dataset = open_dataset(c->data);
    auto request =
        plan::network_request(c->preset, c->base, c->levels, c->patch, c->batch, c->plan.min_coverage);
    const std::string cache = c->cache.empty() ? default_cache_root() : c->cache;
    auto fingerprint = plan::fingerprint_datasets({dataset}, dataset.cases, true, cache, c->threads);
    plan::TrainingPlan plan = plan::make_training_plan(fingerprint, c->plan, request);
    if (c->json) {
      fmt::print("{}\n", plan.to_json().dump(2));
    } else {
      const Vec3 spacing = fingerprint.median_spacing(), size = fingerprint.median_body_size_at(spacing);
      fmt::print(
          "{}: {} cases, {}; median spacing {:.3g} x {:.3g} x {:.3g} mm, median body region {:.0f} x {:.0f} "
          "x "
          "{:.0f} voxels\n",
          dataset.root, fingerprint.cases.size(), fingerprint.modality, spacing[0], spacing[1], spacing[2],
          size[0], size[1], size[2]);
      if (fingerprint.foreground)
        fmt::print("foreground intensities: mean {:.1f}, std {:.1f}, 0.5-99.5 percentiles [{:.1f}, {:.1f}]\n",
                   fingerprint.foreground->mean, fingerprint.foreground->std,
                   fingerprint.foreground->percentile_00_5, fingerprint.foreground->percentile_99_5);
      fmt::print("plan ({} preset):\n{}", c->preset, plan.describe());
    }
    if (!c->out.empty()) write_text_atomically(c->out, plan.to_json().dump(2) + "\n");
  });
}

}  // namespace pgl::cli
