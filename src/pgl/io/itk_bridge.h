#pragma once
// Conversions between pgl images and ITK images. Private to src/pgl/io (the only place that sees ITK).
#include <itkImage.h>
#include <itkImportImageFilter.h>

#include <algorithm>

#include "pgl/core/image.h"

namespace pgl::io_detail {

template <class P>
using ItkImage = itk::Image<P, 3>;

template <class P>
Geometry geometry_of(const ItkImage<P>* image) {
  Geometry g;
  auto region = image->GetLargestPossibleRegion();
  for (unsigned a = 0; a < 3; ++a) {
    g.size[a] = static_cast<int64_t>(region.GetSize()[a]);
    g.spacing[a] = image->GetSpacing()[a];
    g.origin[a] = image->GetOrigin()[a];
    for (unsigned c = 0; c < 3; ++c) g.direction[a * 3 + c] = image->GetDirection()(a, c);
  }
  return g;
}

template <class P>
void set_geometry(ItkImage<P>* image, const Geometry& g) {
  typename ItkImage<P>::RegionType region;
  typename ItkImage<P>::SpacingType spacing;
  typename ItkImage<P>::PointType origin;
  typename ItkImage<P>::DirectionType direction;
  for (unsigned a = 0; a < 3; ++a) {
    region.SetSize(a, static_cast<itk::SizeValueType>(g.size[a]));
    region.SetIndex(a, 0);
    spacing[a] = g.spacing[a];
    origin[a] = g.origin[a];
    for (unsigned c = 0; c < 3; ++c) direction(a, c) = g.direction[a * 3 + c];
  }
  image->SetRegions(region);
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  image->SetDirection(direction);
}

// A new ITK image holding a copy of the voxels, converted to pixel type P.
template <class P, class T>
typename ItkImage<P>::Pointer to_itk(const Image<T>& image) {
  auto out = ItkImage<P>::New();
  set_geometry(out.GetPointer(), image.geometry);
  out->Allocate();
  P* dst = out->GetBufferPointer();
  std::transform(image.data.begin(), image.data.end(), dst, [](T v) { return static_cast<P>(v); });
  return out;
}

template <class T, class P>
Image<T> from_itk(const ItkImage<P>* image) {
  Image<T> out;
  out.geometry = geometry_of(image);
  const P* src = image->GetBufferPointer();
  out.data.resize(static_cast<size_t>(out.geometry.voxels()));
  std::transform(src, src + out.data.size(), out.data.begin(), [](P v) { return static_cast<T>(v); });
  return out;
}

}  // namespace pgl::io_detail
