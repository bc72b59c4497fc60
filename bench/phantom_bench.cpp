// Time to generate one 256x256x100 phantom case on one thread (target: a few seconds), with a baseline
// from the same process: one pass over the same number of voxels writing a constant.
#include <chrono>
#include <cstdio>
#include <vector>

#include "pgl/phantom/phantom.h"

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main() {
  using namespace pgl::phantom;
  CaseOptions options;
  options.size = {256, 256, 100};
  const char* tasks[] = {"multiorgan", "liver", "kidney"};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> baseline(256 * 256 * 100);
  for (size_t n = 0; n < baseline.size(); ++n) baseline[n] = static_cast<float>(n & 7);
  std::printf("baseline: fill %zu floats: %.3f s (checksum %g)\n", baseline.size(), seconds_since(t0),
              static_cast<double>(baseline[12345]));
  for (const char* name : tasks) {
    options.task = parse_task(name);
    for (int rep = 0; rep < 2; ++rep) {
      auto t = std::chrono::steady_clock::now();
      PhantomCase c = generate_case(options, case_seed(7, rep));
      std::printf("phantom %-10s 256x256x100, 1 thread: %.2f s (spacing %.2f x %.2f x %.2f mm)\n", name,
                  seconds_since(t), c.image.geometry.spacing[0], c.image.geometry.spacing[1],
                  c.image.geometry.spacing[2]);
    }
  }
  return 0;
}
