// Exported weights (weights.pt, src/pgl/train/checkpoint.cpp load_state_dict and src/pgl/seg/transfer.cpp
// load_init_weights): the bytes (see torch_input.h) as weights.pt, read as `pgl finetune --init weights.pt`
// reads it.
#include "fuzz_support.h"
#include "pgl/seg/transfer.h"
#include "pgl/train/checkpoint.h"
#include "torch_input.h"

namespace pgl::fuzz {

void weights(const uint8_t* data, size_t size) {
  const std::string bytes = torch_file_bytes(data, size);
  if (bytes.empty()) return;
  const std::string path = scratch_path("exported/weights.pt");
  write_file(path, bytes);
  attempt([&] { read_all(train::load_state_dict(path)); });
  attempt([&] { read_all(seg::load_init_weights(path).backbone); });
}

}  // namespace pgl::fuzz
