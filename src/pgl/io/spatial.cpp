#include "pgl/io/spatial.h"

#include <itkLinearInterpolateImageFunction.h>
#include <itkNearestNeighborInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>

#include <algorithm>
#include <cmath>

#include "pgl/io/itk_bridge.h"

namespace pgl {
using io_detail::ItkImage;

Reorientation canonical_reorientation(const Geometry& g) {
  // Assign each physical axis (L, P, S) the index axis most aligned with it, strongest alignment first,
  // so oblique directions still give a permutation.
  Reorientation r;
  std::array<bool, 3> axis_used{false, false, false}, row_used{false, false, false};
  for (int round = 0; round < 3; ++round) {
    int best_c = -1, best_r = -1;
    double best = -1;
    for (int c = 0; c < 3; ++c)
      for (int row = 0; row < 3; ++row)
        if (!axis_used[c] && !row_used[row] && std::fabs(g.direction[row * 3 + c]) > best) {
          best = std::fabs(g.direction[row * 3 + c]);
          best_c = c;
          best_r = row;
        }
    axis_used[best_c] = row_used[best_r] = true;
    r.permutation[best_r] = best_c;
    r.flip[best_r] = g.direction[best_r * 3 + best_c] < 0;
  }
  return r;
}

Geometry reoriented_geometry(const Geometry& g, const Reorientation& r) {
  Geometry og = g;
  Vec3 first_voxel{0, 0, 0};  // input index of output voxel (0,0,0)
  for (int a = 0; a < 3; ++a) {
    int p = r.permutation[a];
    og.size[a] = g.size[p];
    og.spacing[a] = g.spacing[p];
    for (int row = 0; row < 3; ++row)
      og.direction[row * 3 + a] = g.direction[row * 3 + p] * (r.flip[a] ? -1 : 1);
    first_voxel[p] = r.flip[a] ? static_cast<double>(g.size[p] - 1) : 0.0;
  }
  og.origin = g.index_to_point(first_voxel);
  return og;
}

template <class T>
Image<T> reorient(const Image<T>& in, const Reorientation& r) {
  const Geometry& g = in.geometry;
  const Geometry og = reoriented_geometry(g, r);
  Image<T> out(og);
  // Input strides of each output axis, with flips as negative strides.
  std::array<int64_t, 3> in_stride{1, g.size[0], g.size[0] * g.size[1]}, step{}, start{};
  int64_t base = 0;
  for (int a = 0; a < 3; ++a) {
    int p = r.permutation[a];
    step[a] = r.flip[a] ? -in_stride[p] : in_stride[p];
    start[a] = r.flip[a] ? (g.size[p] - 1) * in_stride[p] : 0;
    base += start[a];
  }
  size_t n = 0;
  for (int64_t k = 0; k < og.size[2]; ++k)
    for (int64_t j = 0; j < og.size[1]; ++j) {
      int64_t src = base + k * step[2] + j * step[1];
      for (int64_t i = 0; i < og.size[0]; ++i, src += step[0])
        out.data[n++] = in.data[static_cast<size_t>(src)];
    }
  return out;
}

template <class T>
Image<T> undo_reorientation(const Image<T>& image, const Reorientation& r) {
  Reorientation inverse;
  for (int a = 0; a < 3; ++a) {
    inverse.permutation[r.permutation[a]] = a;
    inverse.flip[r.permutation[a]] = r.flip[a];
  }
  return reorient(image, inverse);
}

Geometry resampled_geometry(const Geometry& g, const Vec3& spacing) {
  Geometry out = g;
  for (int a = 0; a < 3; ++a) {
    double extent = static_cast<double>(g.size[a]) * g.spacing[a];
    out.size[a] = std::max<int64_t>(1, std::llround(extent / spacing[a]));
    out.spacing[a] = spacing[a];
  }
  return out;
}

namespace {

template <class P, class Interpolator>
Image<P> itk_resample(const Image<P>& image, const Geometry& target, P outside) {
  auto in = io_detail::to_itk<P>(image);
  using Filter = itk::ResampleImageFilter<ItkImage<P>, ItkImage<P>>;
  auto filter = Filter::New();
  filter->SetInput(in);
  filter->SetInterpolator(Interpolator::New());
  filter->SetDefaultPixelValue(outside);
  auto reference = ItkImage<P>::New();
  io_detail::set_geometry(reference.GetPointer(), target);
  filter->SetOutputParametersFromImage(reference);
  filter->Update();
  return io_detail::from_itk<P>(filter->GetOutput());
}

template <class P>
using Linear = itk::LinearInterpolateImageFunction<ItkImage<P>, double>;
template <class P>
using Nearest = itk::NearestNeighborInterpolateImageFunction<ItkImage<P>, double>;

// Index of the one axis more than 3x coarser than both others (source or target), or -1.
int anisotropic_axis(const Vec3& a, const Vec3& b) {
  for (const Vec3* s : {&a, &b}) {
    int coarse = static_cast<int>(std::max_element(s->begin(), s->end()) - s->begin());
    bool separate = true;
    for (int o = 0; o < 3; ++o)
      if (o != coarse && (*s)[coarse] <= 3 * (*s)[o]) separate = false;
    if (separate) return coarse;
  }
  return -1;
}

}  // namespace

Volume resample_volume_to(const Volume& image, const Geometry& target, float outside) {
  return itk_resample<float, Linear<float>>(image, target, outside);
}

LabelMap resample_labels_to(const LabelMap& labels, const Geometry& target) {
  return itk_resample<uint16_t, Nearest<uint16_t>>(labels, target, 0);
}

Volume resample_volume(const Volume& image, const Vec3& spacing) {
  Geometry target = resampled_geometry(image.geometry, spacing);
  int coarse = anisotropic_axis(image.geometry.spacing, spacing);
  if (coarse < 0) return resample_volume_to(image, target, 0.f);
  // In-plane first (linear), keeping the coarse axis as it is; then nearest along the coarse axis only,
  // so thick slices are not blended into each other (nnU-Net's "separate z" resampling).
  Vec3 in_plane = spacing;
  in_plane[coarse] = image.geometry.spacing[coarse];
  Volume step = resample_volume_to(image, resampled_geometry(image.geometry, in_plane), 0.f);
  return itk_resample<float, Nearest<float>>(step, target, 0.f);
}

LabelMap resample_labels(const LabelMap& labels, const Vec3& spacing) {
  return resample_labels_to(labels, resampled_geometry(labels.geometry, spacing));
}

template <class T>
Image<T> crop_or_pad(const Image<T>& image, const Size3& start, const Size3& size, T fill) {
  Geometry g = image.geometry;
  g.size = size;
  g.origin = image.geometry.index_to_point(
      {static_cast<double>(start[0]), static_cast<double>(start[1]), static_cast<double>(start[2])});
  Image<T> out(g, fill);
  const Size3& in = image.geometry.size;
  int64_t i0 = std::max<int64_t>(0, -start[0]), i1 = std::min(size[0], in[0] - start[0]);
  for (int64_t k = 0; k < size[2]; ++k) {
    int64_t sk = k + start[2];
    if (sk < 0 || sk >= in[2]) continue;
    for (int64_t j = 0; j < size[1]; ++j) {
      int64_t sj = j + start[1];
      if (sj < 0 || sj >= in[1] || i1 <= i0) continue;
      std::copy_n(&image.at(i0 + start[0], sj, sk), i1 - i0, &out.at(i0, j, k));
    }
  }
  return out;
}

template Image<float> reorient(const Image<float>&, const Reorientation&);
template Image<uint16_t> reorient(const Image<uint16_t>&, const Reorientation&);
template Image<float> undo_reorientation(const Image<float>&, const Reorientation&);
template Image<uint16_t> undo_reorientation(const Image<uint16_t>&, const Reorientation&);
template Image<float> crop_or_pad(const Image<float>&, const Size3&, const Size3&, float);
template Image<uint16_t> crop_or_pad(const Image<uint16_t>&, const Size3&, const Size3&, uint16_t);

}  // namespace pgl
