#include "pgl/phantom/filters.h"

#include <algorithm>
#include <cmath>

#include "pgl/phantom/random.h"

namespace pgl::phantom {
namespace {

std::vector<float> kernel(double sigma) {
  int radius = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<float> k(static_cast<size_t>(2 * radius + 1));
  double sum = 0;
  for (int n = -radius; n <= radius; ++n) sum += std::exp(-0.5 * n * n / (sigma * sigma));
  for (int n = -radius; n <= radius; ++n)
    k[static_cast<size_t>(n + radius)] = static_cast<float>(std::exp(-0.5 * n * n / (sigma * sigma)) / sum);
  return k;
}

// Blur along x: each of `lines` contiguous rows of nx floats, edges replicated.
void blur_x(float* data, int64_t nx, int64_t lines, const std::vector<float>& k) {
  const int64_t r = static_cast<int64_t>(k.size() / 2);
  std::vector<float> line(static_cast<size_t>(nx + 2 * r));
  for (int64_t l = 0; l < lines; ++l) {
    float* row = data + l * nx;
    for (int64_t i = 0; i < nx + 2 * r; ++i)
      line[static_cast<size_t>(i)] = row[std::clamp<int64_t>(i - r, 0, nx - 1)];
    for (int64_t i = 0; i < nx; ++i) {
      float acc = 0;
      for (size_t t = 0; t < k.size(); ++t) acc += k[t] * line[static_cast<size_t>(i) + t];
      row[i] = acc;
    }
  }
}

// Blur along an axis whose neighbours are `block` floats apart (a row for y, a slice for z); `count`
// blocks per group (ny or nz), `groups` independent groups (nz for y, 1 for z).
void blur_blocks(float* data, int64_t block, int64_t count, int64_t groups, const std::vector<float>& k) {
  const int64_t r = static_cast<int64_t>(k.size() / 2);
  std::vector<float> out(static_cast<size_t>(block * count));
  for (int64_t g = 0; g < groups; ++g) {
    float* base = data + g * block * count;
    std::fill(out.begin(), out.end(), 0.f);
    for (int64_t c = 0; c < count; ++c) {
      float* dst = out.data() + c * block;
      for (size_t t = 0; t < k.size(); ++t) {
        int64_t src_c = std::clamp<int64_t>(c + static_cast<int64_t>(t) - r, 0, count - 1);
        const float* src = base + src_c * block;
        const float w = k[t];
        for (int64_t i = 0; i < block; ++i) dst[i] += w * src[i];
      }
    }
    std::copy(out.begin(), out.end(), base);
  }
}

double kernel_gain(double sigma) {  // standard deviation of white noise after the 1-D kernel
  if (sigma < 0.2) return 1.0;
  double s = 0;
  for (float w : kernel(sigma)) s += static_cast<double>(w) * w;
  return std::sqrt(s);
}

}  // namespace

void gaussian_blur(std::vector<float>* data, const Size3& size, const Vec3& sigma) {
  const int64_t nx = size[0], ny = size[1], nz = size[2];
  if (sigma[0] >= 0.2 && nx > 1) blur_x(data->data(), nx, ny * nz, kernel(sigma[0]));
  if (sigma[1] >= 0.2 && ny > 1) blur_blocks(data->data(), nx, ny, nz, kernel(sigma[1]));
  if (sigma[2] >= 0.2 && nz > 1) blur_blocks(data->data(), nx * ny, nz, 1, kernel(sigma[2]));
}

std::vector<float> smooth_noise(const Size3& size, const Vec3& sigma, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(size[0] * size[1] * size[2]));
  FastRng rng(seed);
  size_t n = 0;
  for (; n + 1 < v.size(); n += 2) rng.normal_pair(&v[n], &v[n + 1]);
  if (n < v.size()) {
    float unused;
    rng.normal_pair(&v[n], &unused);
  }
  gaussian_blur(&v, size, sigma);
  const float gain =
      static_cast<float>(1.0 / (kernel_gain(sigma[0]) * kernel_gain(sigma[1]) * kernel_gain(sigma[2])));
  for (float& x : v) x *= gain;
  return v;
}

void add_noise(std::vector<float>* data, double sd, uint64_t seed) {
  FastRng rng(seed);
  const float s = static_cast<float>(sd);
  std::vector<float>& v = *data;
  size_t n = 0;
  for (; n + 1 < v.size(); n += 2) {
    float a, b;
    rng.normal_pair(&a, &b);
    v[n] += s * a;
    v[n + 1] += s * b;
  }
  if (n < v.size()) {
    float a, b;
    rng.normal_pair(&a, &b);
    v[n] += s * a;
  }
}

}  // namespace pgl::phantom
