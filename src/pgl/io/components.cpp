#include "pgl/io/components.h"

#include <itkConnectedComponentImageFilter.h>

#include <algorithm>
#include <vector>

#include "pgl/io/itk_bridge.h"

namespace pgl {

void keep_largest_component(LabelMap& map, const std::set<int>& labels) {
  Image<uint8_t> mask(map.geometry);
  bool any = false;
  for (size_t n = 0; n < map.data.size(); ++n) {
    mask.data[n] = labels.count(map.data[n]) ? 1 : 0;
    any |= mask.data[n] != 0;
  }
  if (!any) return;
  using Filter =
      itk::ConnectedComponentImageFilter<io_detail::ItkImage<uint8_t>, io_detail::ItkImage<uint32_t>>;
  auto filter = Filter::New();
  filter->SetInput(io_detail::to_itk<uint8_t>(mask));
  filter->SetFullyConnected(true);
  filter->Update();
  const uint32_t* component = filter->GetOutput()->GetBufferPointer();
  std::vector<int64_t> sizes(filter->GetObjectCount() + 1, 0);
  for (size_t n = 0; n < map.data.size(); ++n) ++sizes[component[n]];
  sizes[0] = 0;  // background
  const int64_t largest = *std::max_element(sizes.begin(), sizes.end());
  for (size_t n = 0; n < map.data.size(); ++n)
    if (mask.data[n] && sizes[component[n]] < largest) map.data[n] = 0;
}

}  // namespace pgl
