// pgl demo: the main job on built-in data (phantoms -> pretraining -> fine-tuning -> evaluation -> report).
#include "commands.h"
#include "pgl/experiment/demo.h"
#include "plan_options.h"
#include "run_options.h"

namespace pgl::cli {

void register_demo(CLI::App& app) {
  auto o = std::make_shared<experiment::DemoOptions>();
  auto* cmd = app.add_subcommand("demo",
                                 "Run a reduced PGL experiment on generated phantom CT (about 10 minutes) "
                                 "and write an HTML report");
  cmd->add_option("--out", o->out, "Output folder (rerun to resume)")->capture_default_str();
  cmd->add_option("--task", o->task, "Phantom task: liver | spleen | kidney | multiorgan")
      ->capture_default_str();
  cmd->add_option("--cases", o->labeled_cases, "Labelled phantom cases")->capture_default_str();
  cmd->add_option("--unlabeled-cases", o->unlabeled_cases, "Extra unlabeled phantoms for pretraining")
      ->capture_default_str();
  cmd->add_option("--preset", o->preset, "Network size: tiny | small | base | paper")->capture_default_str();
  cmd->add_option("--base", o->base, "Channels of level 0 (default: 8 with tiny, else the preset's)");
  cmd->add_option("--methods", o->methods, "Methods to compare")->delimiter(',')->capture_default_str();
  cmd->add_option("--label-fractions", o->label_fractions, "Label fractions")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--seeds", o->seeds, "Seeds")->capture_default_str();
  cmd->add_option("--pretrain-minutes", o->pretrain_minutes,
                  "Minutes per pretraining run (0: --pretrain-steps)")
      ->capture_default_str();
  cmd->add_option("--finetune-minutes", o->finetune_minutes,
                  "Minutes per fine-tuning cell (0: --finetune-steps)")
      ->capture_default_str();
  cmd->add_option("--pretrain-steps", o->pretrain_steps,
                  "Pretraining steps per method (with --pretrain-minutes 0)")
      ->capture_default_str();
  cmd->add_option("--finetune-steps", o->finetune_steps,
                  "Fine-tuning steps per cell (with --finetune-minutes 0)")
      ->capture_default_str();
  add_plan_options(cmd, o->plan);
  cmd->add_option("--threads", o->threads, "LibTorch threads")->capture_default_str();
  add_device_option(cmd, &o->device);
  cmd->footer(
      "Scale up: pgl demo --preset small --cases 40 --seeds 3 --label-fractions 0.1,0.25,1 "
      "--pretrain-minutes 30 --finetune-minutes 20");
  cmd->callback([o] { experiment::run_demo(*o); });
}

}  // namespace pgl::cli
