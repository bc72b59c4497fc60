// What pgl's input guards (docs/reliability.md, "Fuzzing") cost against the reads they protect. For each
// format: the guards alone, as pgl's reader calls them, and the whole read that includes them; for
// checkpoints: pgl's guarded load against LibTorch's own unguarded reading of the same file. Medians over
// repeats, one line per input:
//   GUARD input=... guard_ms=... read_ms=... share=...
//
// Usage: bench_guard_cost [--repeats 7] [--scratch DIR] [--shared ../shared/data]
// Inputs: the shared samples (a JPEG 2000 DICOM series, a .nii.gz CT), the CT written as gzip NRRD and
// compressed MetaImage, and checkpoints of the small and base presets with their Adam state.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "pgl/io/data_file_guard.h"
#include "pgl/io/dicom_guard.h"
#include "pgl/io/nifti_guard.h"
#include "pgl/io/volume_io.h"
#include "pgl/nn/presets.h"
#include "pgl/seg/seg_net.h"
#include "pgl/train/archive_guard.h"
#include "pgl/train/checkpoint.h"

namespace {

double median_ms(int repeats, const std::function<void()>& run) {
  run();  // warm the page cache and the libraries
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + repeats / 2, ms.end());
  return ms[repeats / 2];
}

void report(const std::string& input, int repeats, const std::function<void()>& guard,
            const std::function<void()>& read) {
  const double g = median_ms(repeats, guard), r = median_ms(repeats, read);
  std::printf("GUARD input=%s guard_ms=%.2f read_ms=%.2f share=%.3f\n", input.c_str(), g, r, g / r);
  std::fflush(stdout);
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A checkpoint as `pgl finetune` writes it: the network's weights and its Adam state after one step.
void checkpoint_case(const std::string& preset_name, const std::string& dir, int repeats) {
  const auto& preset = pgl::nn::preset(preset_name);
  torch::manual_seed(1);
  pgl::seg::SegNet net(preset.backbone_options(), 8);
  torch::optim::Adam adam(net->parameters(), 1e-3);
  for (auto& p : net->parameters()) p.mutable_grad() = torch::ones_like(p);
  adam.step();
  pgl::train::Checkpoint checkpoint;
  checkpoint.meta = {{"kind", "finetune"}, {"step", 1}};
  for (const auto& item : net->named_parameters()) checkpoint.state.insert(item.key(), item.value().detach());
  const std::string path = dir + "/" + preset_name + ".pt";
  pgl::train::save_checkpoint(path, checkpoint, &adam);
  // LibTorch alone: the pickle with its tensors, then the optimiser state nested in it.
  auto unguarded = [&] {
    auto root = torch::pickle_load(file_bytes(path)).toGenericDict();
    const at::Tensor t = root.at("optimizer").toTensor();
    std::istringstream stream(
        std::string(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel())));
    torch::serialize::InputArchive archive;
    archive.load_from(stream);
    adam.load(archive);
  };
  const double guarded = median_ms(repeats, [&] { pgl::train::load_checkpoint(path, &adam); });
  const double plain = median_ms(repeats, unguarded);
  std::printf(
      "GUARD input=checkpoint-%s bytes=%ju guard_ms=%.2f read_ms=%.2f share=%.3f (guarded load - "
      "LibTorch's own)\n",
      preset_name.c_str(), static_cast<uintmax_t>(std::filesystem::file_size(path)), guarded - plain, guarded,
      (guarded - plain) / guarded);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 7;
  std::string scratch = "/tmp/pgl-guard-bench", shared = "../shared/data";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--repeats") repeats = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--scratch") scratch = argv[i + 1];
    if (flag == "--shared") shared = argv[i + 1];
  }
  torch::set_num_threads(1);
  std::filesystem::create_directories(scratch);
  using namespace pgl;
  const std::string dicom = shared + "/samples/totalseg_dicom",
                    nifti = shared + "/samples/msd_spleen_8.nii.gz";
  if (!std::filesystem::exists(dicom) || !std::filesystem::exists(nifti)) {
    std::fprintf(stderr, "bench_guard_cost: %s or %s missing (--shared)\n", dicom.c_str(), nifti.c_str());
    return 2;
  }
  report(
      "dicom-jpeg2000-20-slices", repeats, [&] { io_detail::checked_dicom_files(dicom); },
      [&] { read_volume(dicom); });
  const Volume ct = read_volume(nifti);
  report(
      "nifti-gz", repeats,
      [&] {
        io_detail::check_nifti_geometry(nifti);
        io_detail::inspect_nifti_payload(nifti, ct.geometry.voxels());
      },
      [&] { read_volume(nifti); });
  const std::string nrrd = scratch + "/ct.nrrd", mha = scratch + "/ct.mha";
  write_volume(ct, nrrd);
  write_volume(ct, mha);
  const double bytes = static_cast<double>(ct.geometry.voxels()) * 2;  // int16 on disk
  report(
      "nrrd-gzip", repeats,
      [&] {
        io_detail::check_data_file(nrrd, true, -1);
        io_detail::check_data_file(nrrd, true, bytes);
        io_detail::preload_nrrd(nrrd);
      },
      [&] { read_volume(nrrd); });
  report(
      "metaimage-compressed", repeats,
      [&] {
        io_detail::check_data_file(mha, false, -1);
        io_detail::check_data_file(mha, false, bytes);
      },
      [&] { read_volume(mha); });
  for (const char* preset : {"small", "base"}) checkpoint_case(preset, scratch, repeats);
  return 0;
}
