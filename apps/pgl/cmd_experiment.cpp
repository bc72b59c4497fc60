// pgl experiment: the paper's comparison on one data set (methods x label fractions x seeds).
#include "commands.h"
#include "pgl/experiment/runner.h"
#include "plan_options.h"
#include "run_options.h"

namespace pgl::cli {

void register_experiment(CLI::App& app) {
  auto c = std::make_shared<experiment::ExperimentConfig>();
  auto* cmd =
      app.add_subcommand("experiment",
                         "Compare initialisations: pretrain each method, fine-tune every (method, label "
                         "fraction, seed) cell, evaluate on held-out test cases, summarise");
  cmd->add_option("--data", c->data, "Labelled data set")->required();
  cmd->add_option("--pretrain-data", c->pretrain_data, "Extra unlabeled data for pretraining (repeatable)");
  cmd->add_option("--methods", c->methods, "random, genesis, byol, pgl, pgl-crop, pgl-flip, pgl-none")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--label-fractions", c->label_fractions, "Shares of the training cases with labels")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--seeds", c->seeds, "Number of seeds (0..n-1)")->capture_default_str();
  cmd->add_option("--preset", c->preset, "tiny | small | base | paper")->capture_default_str();
  cmd->add_option("--base", c->base, "Channels of level 0 (default: preset)");
  cmd->add_option("--pretrain-steps", c->pretrain_steps, "Pretraining steps per method and seed")
      ->capture_default_str();
  cmd->add_option("--finetune-steps", c->finetune_steps, "Fine-tuning steps per cell")->capture_default_str();
  cmd->add_option("--pretrain-time-budget", c->pretrain_time_budget,
                  "Minutes per pretraining run (replaces --pretrain-steps)");
  cmd->add_option("--finetune-time-budget", c->finetune_time_budget,
                  "Minutes per fine-tuning run (replaces --finetune-steps)");
  cmd->add_option("--pretrain-lr", c->pretrain_lr, "Pretraining peak learning rate")->capture_default_str();
  cmd->add_option("--optimizer", c->optimizer, "Fine-tuning optimiser: adam | sgd")->capture_default_str();
  cmd->add_option("--finetune-lr", c->finetune_lr, "Fine-tuning learning rate (0: optimiser default)");
  cmd->add_option("--warmup-steps", c->warmup_steps, "Fine-tuning warm-up steps")->capture_default_str();
  cmd->add_option("--transfer", c->transfer, "Fine-tuning takes all of the backbone, or its encoder only")
      ->capture_default_str();
  cmd->add_option("--val-every", c->val_every, "Fine-tuning validation interval (0: 4 per run)");
  cmd->add_option("--val-max-cases", c->val_max_cases, "Validation cases per fine-tuning run")
      ->capture_default_str();
  cmd->add_option("--finetune-until-plateau", c->finetune_until_plateau,
                  "Fine-tuning stops once this many validation rounds in a row bring no new best (0 = off); "
                  "--finetune-steps or --finetune-time-budget is then the cap")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  auto* split = cmd->add_option("--test-split", c->test_split, "Test cases = this split of dataset.json");
  cmd->add_option("--test-fraction", c->test_fraction, "Else this seeded share of the cases")
      ->excludes(split)
      ->capture_default_str();
  cmd->add_option(
      "--test-data", c->test_data,
      "A labelled data set for testing only (never pretraining, fine-tuning or validation): every "
      "cell is also scored on it, in results_test_data.csv and the summary");
  add_plan_options(cmd, c->plan);
  cmd->add_option("--precision", c->precision, kPrecisionHelp)->capture_default_str();
  cmd->add_flag("--tta", c->tta, "Mirror test-time augmentation for the test predictions");
  cmd->add_option("--threads", c->threads, "LibTorch threads")->capture_default_str();
  add_device_option(cmd, &c->device);
  cmd->add_option(
         "--dist-timeout", c->dist_timeout,
         "Under torchrun or SLURM (the ranks share out the runs): seconds the rendezvous and the wait "
         "for the experiment's plan may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--cache", c->cache, "Preprocessing cache folder");
  cmd->add_option("--out", c->out, "Experiment folder (rerun the same command to resume)")->required();
  cmd->footer(
      "Example: pgl experiment --data ../shared/data/openkbp --test-split validation --methods "
      "random,byol,pgl "
      "--label-fractions 0.1,0.25,1 --seeds 3 --pretrain-steps 2000 --finetune-steps 2000 --out exp/openkbp");
  cmd->callback([c] { experiment::run_experiment(*c); });
}

}  // namespace pgl::cli
