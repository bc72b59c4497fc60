// pgl finetune: train the segmentation network from random or pretrained weights.
#include "commands.h"
#include "pgl/seg/finetune.h"
#include "plan_options.h"
#include "run_options.h"

namespace pgl::cli {

void register_finetune(CLI::App& app) {
  auto c = std::make_shared<seg::FinetuneConfig>();
  auto resume = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("finetune",
                                 "Fine-tune the segmentation network (from random or pretrained weights)");
  cmd->add_option("--data", c->data, "Labelled data set (MSD or nnU-Net raw layout)")->required();
  cmd->add_option("--exclude", c->exclude,
                  "Cases never used (held-out test cases): ids or image paths, comma-separated")
      ->delimiter(',');
  cmd->add_option("--init", c->init, "random | pretraining run folder | exported weights.pt")
      ->capture_default_str();
  cmd->add_option("--transfer", c->transfer, "all | encoder (keep the fresh decoder)")->capture_default_str();
  cmd->add_flag("--allow-partial", c->allow_partial,
                "Load the weights that fit when some names/shapes differ");
  cmd->add_option("--out", c->out, "Run folder")->required();
  add_run_plan_options(cmd, *c);
  auto* fraction =
      cmd->add_option("--label-fraction", c->label_fraction, "Share of training cases whose labels are used")
          ->capture_default_str();
  cmd->add_option("--num-labeled", c->num_labeled, "Number of labelled training cases")->excludes(fraction);
  auto* vfrac = cmd->add_option("--val-fraction", c->val_fraction, "Share of cases held out for validation")
                    ->capture_default_str();
  cmd->add_option("--val-split", c->val_split, "Validation cases from this split of dataset.json")
      ->excludes(vfrac);
  cmd->add_option("--folds", c->folds, "Cross-validation: number of folds (their cases held out)");
  cmd->add_option("--fold", c->fold, "Cross-validation: the fold held out (0-based)")->capture_default_str();
  cmd->add_option("--test-split", c->test_split,
                  "Hold out this split of dataset.json as test cases (predicted and scored at the end)");
  cmd->add_option("--steps", c->steps, "Training steps (without --time-budget)")->capture_default_str();
  cmd->add_option("--val-every", c->val_every,
                  "Steps between validations (with --time-budget, the least: the budget chooses the rounds "
                  "and their cases)")
      ->capture_default_str();
  cmd->add_option("--val-max-cases", c->val_max_cases, "Validate on at most this many cases (0 = all)");
  cmd->add_option("--until-plateau", c->until_plateau,
                  "Stop once this many validation rounds in a row bring no new best (0 = run every step); "
                  "--steps or --time-budget is then the cap")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--optimizer", c->optimizer, "adam | sgd (Nesterov, nnU-Net's)")->capture_default_str();
  cmd->add_option("--lr", c->lr, "Learning rate (default 1e-3 adam, 1e-2 sgd; poly decay)");
  cmd->add_option("--momentum", c->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", c->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--warmup-steps", c->warmup_steps, "Linear warm-up steps")->capture_default_str();
  cmd->add_option("--freeze-encoder-steps", c->freeze_encoder_steps,
                  "Keep the encoder frozen for the first M steps")
      ->capture_default_str();
  cmd->add_option("--mirror-axes", c->mirror_axes,
                  "Flips in augmentation and TTA: auto (no left-right flip when labels name a side), none, "
                  "or letters of xyz")
      ->capture_default_str();
  add_precision_options(cmd, c.get());
  cmd->add_option("--threads", c->threads, "LibTorch threads")->capture_default_str();
  cmd->add_option("--data-workers", c->data_workers, "Threads preparing batches")->capture_default_str();
  cmd->add_option("--seed", c->seed, "Random seed (case split, labelled subset, patches)")
      ->capture_default_str();
  cmd->add_option("--checkpoint-every", c->checkpoint_every, "Steps between checkpoints/latest.pt")
      ->capture_default_str();
  cmd->add_option("--log-every", c->log_every, "Steps between metrics.jsonl lines")->capture_default_str();
  cmd->add_option("--stop-at", c->stop_at, "Stop with a checkpoint at this step (resume later)");
  add_distributed_options(cmd, c.get());
  add_device_option(cmd, &c->device);
  add_nonfinite_options(cmd, c.get());
  add_profile_option(cmd, c.get());
  cmd->add_option("--clip-grad", c->clip_grad, "Clip the global gradient norm (0 = off)")
      ->capture_default_str();
  cmd->add_option("--cache", c->cache, "Preprocessing cache folder (default: $PGL_CACHE or ~/.cache/pgl)");
  add_plan_options(cmd, c->plan);
  cmd->add_flag("--resume", *resume, "Continue the run in --out from checkpoints/latest.pt");
  cmd->footer(
      "Example: pgl finetune --data spleen/ --init runs/pgl-tiny --preset tiny --steps 500 --out runs/ft");
  cmd->callback([c, resume] { seg::run_finetuning(*c, *resume); });
}

}  // namespace pgl::cli
