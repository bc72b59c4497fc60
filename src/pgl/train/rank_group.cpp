#include "pgl/train/rank_group.h"

namespace pgl::train {

std::vector<CachedCase> build_cache_by_ranks(RankGroup& group, const std::vector<Case>& cases,
                                             const PreprocessingPlan& plan, const std::string& cache_root,
                                             bool with_labels, int threads) {
  if (group.world_size() > 1) {
    std::vector<Case> share;
    for (size_t i = 0; i < cases.size(); ++i)
      if (static_cast<int>(i % static_cast<size_t>(group.world_size())) == group.rank())
        share.push_back(cases[i]);
    build_cache(share, plan, cache_root, with_labels, threads);
    group.barrier();
  }
  return build_cache(cases, plan, cache_root, with_labels, threads);
}

}  // namespace pgl::train
