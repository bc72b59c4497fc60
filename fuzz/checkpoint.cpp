// A pgl checkpoint (src/pgl/train/checkpoint.cpp, src/pgl/seg/transfer.cpp): the bytes (see torch_input.h)
// as checkpoints/latest.pt of a run folder, read as resuming reads it (with the optimiser state of a small
// Adam, then the RNG state restored) and as `pgl finetune --init RUN` reads it.
#include "pgl/train/checkpoint.h"

#include <torch/torch.h>

#include "fuzz_support.h"
#include "pgl/seg/transfer.h"
#include "torch_input.h"

namespace pgl::fuzz {

void checkpoint(const uint8_t* data, size_t size) {
  const std::string bytes = torch_file_bytes(data, size);
  if (bytes.empty()) return;
  const std::string run = scratch_path("run");
  const std::string path = scratch_path("run/checkpoints/latest.pt");
  write_file(path, bytes);
  attempt([&] { read_all(train::load_checkpoint(path).state); });
  // The parameters of the seeds' optimiser state (make_seeds.cpp): weight [4, 3], bias [4].
  std::vector<torch::Tensor> parameters{torch::zeros({4, 3}, torch::requires_grad()),
                                        torch::zeros({4}, torch::requires_grad())};
  torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(1e-3));
  attempt([&] {
    train::Checkpoint ck = train::load_checkpoint(path, &optimizer);
    train::restore_rng_state(ck);
    for (const auto& group : optimizer.param_groups())
      for (const auto& p : group.params()) (void)p.clone();
  });
  attempt([&] { read_all(seg::load_init_weights(run).backbone); });
}

}  // namespace pgl::fuzz
