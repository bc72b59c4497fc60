// pgl pretrain: self-supervised pretraining (PGL, BYOL, Models Genesis) on unlabeled volumes.
#include "commands.h"
#include "pgl/train/pretrain.h"
#include "plan_options.h"
#include "run_options.h"

namespace pgl::cli {

void register_pretrain(CLI::App& app) {
  auto c = std::make_shared<train::PretrainConfig>();
  auto resume = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("pretrain",
                                 "Pretrain the 3-D backbone without labels (PGL, BYOL or Models Genesis)");
  cmd->add_option("--data", c->data, "Data set folder (MSD, nnU-Net raw or plain folder); repeat for several")
      ->required();
  cmd->add_option("--out", c->out, "Run folder")->required();
  cmd->add_option("--exclude", c->exclude,
                  "Case ids or image paths never used (held-out test cases), comma-separated")
      ->delimiter(',');
  cmd->add_option("--method", c->method, "pgl | byol | genesis")->capture_default_str();
  cmd->add_option("--priors", c->priors, "PGL priors: crop,flip | crop | flip | none")->capture_default_str();
  add_run_plan_options(cmd, *c);
  cmd->add_option("--plan-from", c->plan_from,
                  "Plan from this labelled data set (the one to fine-tune on), so the weights fit it");
  cmd->add_option("--steps", c->steps, "Training steps")->capture_default_str();
  cmd->add_option("--lr", c->lr, "Peak learning rate (SGD with momentum, warm-up + cosine)")
      ->capture_default_str();
  cmd->add_option("--warmup-steps", c->warmup_steps, "Linear warm-up steps (default: 5% of --steps)");
  cmd->add_option("--momentum", c->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", c->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--clip-grad", c->clip_grad, "Clip the global gradient norm (0 = off)")
      ->capture_default_str();
  cmd->add_option("--intensity-augmentation", c->intensity_augmentation,
                  "Noise, blur, brightness, contrast and gamma on each view (true | false)")
      ->capture_default_str();
  cmd->add_option_function<std::string>(
         "--tau",
         [c](const std::string& text) {
           if (text == "auto") return void(c->tau_base = -1.0);
           c->tau_base = std::stod(text);
           if (!(c->tau_base > 0 && c->tau_base < 1))
             throw CLI::ValidationError("--tau", "must be in (0, 1) or auto");
         },
         "EMA base momentum of the target network, or auto: min(0.996, 1 - 9.2 / steps), which leaves at "
         "most 1% "
         "of the random initialisation in the target (default auto; docs/method.md)")
      ->default_str("auto");
  cmd->add_option("--align-size", c->align_size, "Aligned grid edge A (PGL)")->capture_default_str();
  cmd->add_option("--align-samples", c->align_samples, "RoIAlign samples per axis and voxel")
      ->capture_default_str();
  cmd->add_option("--min-overlap", c->min_overlap, "Minimum overlap share of the two views")
      ->capture_default_str();
  add_precision_options(cmd, c.get());
  cmd->add_option("--threads", c->threads, "LibTorch threads for the training step")->capture_default_str();
  cmd->add_option("--data-workers", c->data_workers, "Threads preparing batches")->capture_default_str();
  cmd->add_option("--prefetch", c->prefetch, "Batches prepared ahead")->capture_default_str();
  cmd->add_option("--seed", c->seed, "Random seed")->capture_default_str();
  cmd->add_option("--checkpoint-every", c->checkpoint_every, "Steps between checkpoints/latest.pt")
      ->capture_default_str();
  cmd->add_option("--log-every", c->log_every, "Steps between metrics.jsonl lines")->capture_default_str();
  cmd->add_option("--cache", c->cache, "Preprocessing cache folder (default: $PGL_CACHE or ~/.cache/pgl)");
  add_plan_options(cmd, c->plan);
  cmd->add_option("--stop-at", c->stop_at, "Stop with a checkpoint at this step (resume later)");
  add_distributed_options(cmd, c.get());
  add_device_option(cmd, &c->device);
  add_nonfinite_options(cmd, c.get());
  add_profile_option(cmd, c.get());
  cmd->add_flag("--resume", *resume, "Continue the run in --out from checkpoints/latest.pt");
  cmd->footer("Example: pgl pretrain --data phantoms/ --preset tiny --steps 200 --out runs/pgl-tiny");
  cmd->callback([c, resume] { train::run_pretraining(*c, *resume); });
}

}  // namespace pgl::cli
