#include "pgl/nn/norm_act.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace pgl::nn {
namespace {

// bfloat16 values are handled as their bits (uint16_t) inside the kernels: c10::BFloat16's conversion from
// float branches on NaN, which keeps the loops from vectorising.
template <typename T>
using Math = std::conditional_t<std::is_same_v<T, double>, double, float>;

#define PGL_ALWAYS_INLINE inline __attribute__((always_inline))

template <typename T>
PGL_ALWAYS_INLINE Math<T> load(T v) {
  return v;
}
template <>
PGL_ALWAYS_INLINE float load(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float v;
  std::memcpy(&v, &wide, sizeof v);
  return v;
}

template <typename T>
PGL_ALWAYS_INLINE T store(Math<T> v) {
  return v;
}
// Round to nearest even, as c10::BFloat16 does; a NaN stays a NaN.
template <>
PGL_ALWAYS_INLINE uint16_t store(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(v != v ? 0x7FC0u : rounded);
}

// Both sides computed, then selected: a loop with a branch does not vectorise (nor, under GCC's default
// -ftrapping-math, one that computes a side only when selected; this file is built with -fno-trapping-math).
template <typename M>
PGL_ALWAYS_INLINE M leaky(M z, M slope) {
  const M negative = z * slope;
  return z > 0 ? z : negative;
}

// The loops are written for the compiler to vectorise; each public row kernel below is built twice
// (AVX2 with FMA, and the baseline) and picked at load time by the CPU, so the portable build stays portable.
#define PGL_CPU_CLONES __attribute__((target_clones("arch=haswell", "default")))

// Two sums over [0, n) of what add(i, a, b) adds to a and b: in the arithmetic type M over chunks (a
// vectorised `omp simd` reduction), the chunks in double, so that a plane of 10^5 or more voxels keeps
// double-like accuracy.
constexpr int64_t kChunk = 2048;

template <typename M, typename Add>
PGL_ALWAYS_INLINE void chunked_sums(int64_t n, Add add, double* first, double* second) {
  double total_a = 0, total_b = 0;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t end = std::min(n, start + kChunk);
    M a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = start; i < end; ++i) add(i, a, b);
    total_a += a;
    total_b += b;
  }
  *first = total_a;
  *second = total_b;
}

// Sum and sum of squares of one plane's deviations from `shift` (its first value: the variance is then not
// a difference of two large sums).
template <typename T>
PGL_ALWAYS_INLINE void plane_stats(const T* x, int64_t n, Math<T> shift, double* sum, double* sum_sq) {
  chunked_sums<double>(  // in double: the shifted sums cancel where the first voxel is unlike the rest
      n,
      [&](int64_t i, double& s, double& q) {
        const double v = static_cast<double>(load(x[i])) - static_cast<double>(shift);
        s += v;
        q += v * v;
      },
      sum, sum_sq);
}

// y = act((x - mean) * scale + bias [+ r]). Centring first, as LibTorch does: folding the mean into one
// offset (x * scale + (bias - mean * scale)) cancels two large numbers where a plane's mean is far above its
// spread (windows mostly of padding), and lost 1e-3 of the probabilities in sliding-window inference.
template <typename T>
PGL_ALWAYS_INLINE void plane_forward(const T* x, const T* r, T* y, int64_t n, Math<T> mean, Math<T> scale,
                                     Math<T> bias, Math<T> slope) {
  if (r != nullptr) {
    for (int64_t i = 0; i < n; ++i)
      y[i] = store<T>(leaky((load(x[i]) - mean) * scale + bias + load(r[i]), slope));
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = store<T>(leaky((load(x[i]) - mean) * scale + bias, slope));
  }
}

// The activation's gradient, read off the output: y > 0 exactly where z > 0, for slope >= 0.
template <typename T>
PGL_ALWAYS_INLINE Math<T> activation_grad(T g, T y, Math<T> slope) {
  using M = Math<T>;
  return load(g) * (load(y) > 0 ? M(1) : slope);
}

// With dz = g * act'(z) and xhat = (x - mean) * rstd: the sums of dz and of dz * xhat over the plane.
template <typename T>
PGL_ALWAYS_INLINE void plane_backward_sums(const T* g, const T* x, const T* y, int64_t n, Math<T> mean,
                                           Math<T> rstd, Math<T> slope, double* sum_dz, double* sum_dz_xhat) {
  chunked_sums<Math<T>>(
      n,
      [&](int64_t i, Math<T>& s, Math<T>& q) {
        const Math<T> dz = activation_grad(g[i], y[i], slope);
        s += dz;
        q += dz * ((load(x[i]) - mean) * rstd);
      },
      sum_dz, sum_dz_xhat);
}

// dx = gamma * rstd * (dz - mean(dz) - xhat * mean(dz * xhat)); dr = dz (when dr is not null).
template <typename T>
PGL_ALWAYS_INLINE void plane_backward_input(const T* g, const T* x, const T* y, T* dx, T* dr, int64_t n,
                                            Math<T> mean, Math<T> rstd, Math<T> slope, Math<T> gamma_rstd,
                                            Math<T> mean_dz, Math<T> mean_dz_xhat) {
  auto input_grad = [&](int64_t i, Math<T> dz) {
    return store<T>(gamma_rstd * (dz - mean_dz - (load(x[i]) - mean) * rstd * mean_dz_xhat));
  };
  if (dr != nullptr) {
    for (int64_t i = 0; i < n; ++i) {
      const Math<T> dz = activation_grad(g[i], y[i], slope);
      dx[i] = input_grad(i, dz);
      dr[i] = store<T>(dz);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) dx[i] = input_grad(i, activation_grad(g[i], y[i], slope));
  }
}

// The row kernels per storage type, each with a CPU-dispatched AVX2 + FMA (haswell) clone.
#define PGL_ROW_KERNELS(T, suffix)                                                                           \
  PGL_CPU_CLONES void stats_##suffix(const T* x, int64_t n, Math<T> shift, double* s, double* q) {           \
    plane_stats(x, n, shift, s, q);                                                                          \
  }                                                                                                          \
  PGL_CPU_CLONES void forward_##suffix(const T* x, const T* r, T* y, int64_t n, Math<T> mean, Math<T> scale, \
                                       Math<T> bias, Math<T> slope) {                                        \
    plane_forward(x, r, y, n, mean, scale, bias, slope);                                                     \
  }                                                                                                          \
  PGL_CPU_CLONES void backward_sums_##suffix(const T* g, const T* x, const T* y, int64_t n, Math<T> mean,    \
                                             Math<T> rstd, Math<T> slope, double* a, double* b) {            \
    plane_backward_sums(g, x, y, n, mean, rstd, slope, a, b);                                                \
  }                                                                                                          \
  PGL_CPU_CLONES void backward_input_##suffix(const T* g, const T* x, const T* y, T* dx, T* dr, int64_t n,   \
                                              Math<T> mean, Math<T> rstd, Math<T> slope, Math<T> a,          \
                                              Math<T> b, Math<T> c) {                                        \
    plane_backward_input(g, x, y, dx, dr, n, mean, rstd, slope, a, b, c);                                    \
  }
PGL_ROW_KERNELS(float, f32)
PGL_ROW_KERNELS(double, f64)
PGL_ROW_KERNELS(uint16_t, bf16)
#undef PGL_ROW_KERNELS

// The type the kernels work on for a storage type: bfloat16 as its bits.
template <typename T>
using Kernel = std::conditional_t<std::is_same_v<T, c10::BFloat16>, uint16_t, T>;

template <typename K, typename T>
K* kernel_data(const torch::Tensor& t) {
  return reinterpret_cast<K*>(t.data_ptr<T>());
}

template <typename T>
struct Rows;
#define PGL_ROWS(T, suffix)                                         \
  template <>                                                       \
  struct Rows<T> {                                                  \
    static constexpr auto stats = stats_##suffix;                   \
    static constexpr auto forward = forward_##suffix;               \
    static constexpr auto backward_sums = backward_sums_##suffix;   \
    static constexpr auto backward_input = backward_input_##suffix; \
  };
PGL_ROWS(float, f32)
PGL_ROWS(double, f64)
PGL_ROWS(uint16_t, bf16)
#undef PGL_ROWS

std::atomic<int> g_enabled{-1};  // -1: not yet read from the environment

bool fusable(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
             const torch::Tensor& residual, double negative_slope) {
  const auto dtype = x.scalar_type();
  return fused_norm_act_enabled() && x.device().is_cpu() && x.dim() >= 3 && negative_slope >= 0 &&
         (dtype == torch::kFloat || dtype == torch::kDouble || dtype == torch::kBFloat16) &&
         weight.defined() && bias.defined() && weight.dim() == 1 && weight.size(0) == x.size(1) &&
         bias.sizes() == weight.sizes() && (!residual.defined() || residual.sizes() == x.sizes()) &&
         x.numel() > 0;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class InstanceNormAct : public torch::autograd::Function<InstanceNormAct> {
 public:
  // x and residual arrive contiguous and of one dtype; weight and bias in the arithmetic type. No residual
  // is an empty tensor: autograd::Function reads the device of every tensor argument, so none may be
  // undefined.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& residual, double slope,
                               double eps) {
    const int64_t planes = x.size(0) * x.size(1), channels = x.size(1), n = x.numel() / planes;
    torch::Tensor y = torch::empty_like(x);
    const auto stat_options = weight.options();
    torch::Tensor mean = torch::empty({planes}, stat_options), rstd = torch::empty({planes}, stat_options);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "pgl_instance_norm_act", [&] {
      using K = Kernel<scalar_t>;
      using M = Math<K>;
      const K* xp = kernel_data<K, scalar_t>(x);
      const K* rp = residual.numel() > 0 ? kernel_data<K, scalar_t>(residual) : nullptr;
      K* yp = kernel_data<K, scalar_t>(y);
      const M* w = weight.data_ptr<M>();
      const M* b = bias.data_ptr<M>();
      M* mp = mean.data_ptr<M>();
      M* sp = rstd.data_ptr<M>();
      at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          double sum = 0, sum_sq = 0;
          const M shift = load(xp[p * n]);
          Rows<K>::stats(xp + p * n, n, shift, &sum, &sum_sq);
          const double shifted_mean = sum / static_cast<double>(n);
          const double m = shifted_mean + static_cast<double>(shift);
          const double var = std::max(sum_sq / static_cast<double>(n) - shifted_mean * shifted_mean, 0.0);
          const double r = 1.0 / std::sqrt(var + eps);
          const int64_t c = p % channels;
          const double scale = static_cast<double>(w[c]) * r;
          mp[p] = static_cast<M>(m);
          sp[p] = static_cast<M>(r);
          Rows<K>::forward(xp + p * n, rp ? rp + p * n : nullptr, yp + p * n, n, static_cast<M>(m),
                           static_cast<M>(scale), b[c], static_cast<M>(slope));
        }
      });
    });
    ctx->save_for_backward({x, y, weight, mean, rstd});
    ctx->saved_data["slope"] = slope;
    ctx->saved_data["residual"] = residual.numel() > 0;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &y = saved[1], &weight = saved[2], &mean = saved[3], &rstd = saved[4];
    const double slope = ctx->saved_data["slope"].toDouble();
    const bool has_residual = ctx->saved_data["residual"].toBool();
    const torch::Tensor g = grads[0].to(x.scalar_type()).contiguous();
    const int64_t batch = x.size(0), channels = x.size(1), planes = batch * channels, n = x.numel() / planes;
    torch::Tensor dx = torch::empty_like(x);
    torch::Tensor dr = has_residual ? torch::empty_like(x) : torch::Tensor();
    // Per-plane sums in double; reduced over the batch afterwards in a fixed order (deterministic).
    torch::Tensor sums = torch::empty({planes, 2}, torch::kDouble);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "pgl_instance_norm_act_backward", [&] {
      using K = Kernel<scalar_t>;
      using M = Math<K>;
      const K* gp = kernel_data<K, scalar_t>(g);
      const K* xp = kernel_data<K, scalar_t>(x);
      const K* yp = kernel_data<K, scalar_t>(y);
      K* dxp = kernel_data<K, scalar_t>(dx);
      K* drp = has_residual ? kernel_data<K, scalar_t>(dr) : nullptr;
      const M* w = weight.data_ptr<M>();
      const M* mp = mean.data_ptr<M>();
      const M* sp = rstd.data_ptr<M>();
      double* sums_p = sums.data_ptr<double>();
      at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          const int64_t o = p * n;
          double sum_dz = 0, sum_dz_xhat = 0;
          Rows<K>::backward_sums(gp + o, xp + o, yp + o, n, mp[p], sp[p], static_cast<M>(slope), &sum_dz,
                                 &sum_dz_xhat);
          sums_p[2 * p] = sum_dz;
          sums_p[2 * p + 1] = sum_dz_xhat;
          const M gamma_rstd = w[p % channels] * sp[p];
          Rows<K>::backward_input(gp + o, xp + o, yp + o, dxp + o, drp ? drp + o : nullptr, n, mp[p], sp[p],
                                  static_cast<M>(slope), gamma_rstd,
                                  static_cast<M>(sum_dz / static_cast<double>(n)),
                                  static_cast<M>(sum_dz_xhat / static_cast<double>(n)));
        }
      });
    });
    // d weight = sum over samples of sum(dz * xhat); d bias = sum over samples of sum(dz).
    const torch::Tensor per_channel = sums.view({batch, channels, 2}).sum(0);
    const torch::Tensor d_weight = per_channel.select(1, 1).to(weight.scalar_type());
    const torch::Tensor d_bias = per_channel.select(1, 0).to(weight.scalar_type());
    return {dx, d_weight, d_bias, dr, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool fused_norm_act_enabled() {
  int state = g_enabled.load(std::memory_order_relaxed);
  if (state < 0) {
    const char* env = std::getenv("PGL_FUSED_NORM_ACT");
    state = (env != nullptr && std::strcmp(env, "0") == 0) ? 0 : 1;
    g_enabled.store(state, std::memory_order_relaxed);
  }
  return state == 1;
}

void set_fused_norm_act_enabled(bool enabled) { g_enabled.store(enabled ? 1 : 0, std::memory_order_relaxed); }

torch::Tensor instance_norm_act_reference(const torch::Tensor& x, const torch::Tensor& weight,
                                          const torch::Tensor& bias, const torch::Tensor& residual,
                                          double negative_slope, double eps) {
  torch::Tensor z =
      torch::instance_norm(x, weight, bias, /*running_mean=*/{}, /*running_var=*/{},
                           /*use_input_stats=*/true, /*momentum=*/0.1, eps, /*cudnn_enabled=*/true);
  if (residual.defined()) z = z + residual;
  // Not in place: InstanceNorm returns a view, and an in-place op on it makes autograd copy the whole
  // gradient (CopySlices) in backward, which cost ~20% of a CPU step.
  return negative_slope == 0 ? torch::relu(z) : torch::leaky_relu(z, negative_slope);
}

torch::Tensor instance_norm_act(const torch::Tensor& x, const torch::Tensor& weight,
                                const torch::Tensor& bias, const torch::Tensor& residual,
                                double negative_slope, double eps) {
  if (!fusable(x, weight, bias, residual, negative_slope))
    return instance_norm_act_reference(x, weight, bias, residual, negative_slope, eps);
  const auto math = x.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  return InstanceNormAct::apply(
      x.contiguous(), weight.to(math).contiguous(), bias.to(math).contiguous(),
      residual.defined() ? residual.to(x.scalar_type()).contiguous() : x.new_empty({0}), negative_slope, eps);
}

}  // namespace pgl::nn
