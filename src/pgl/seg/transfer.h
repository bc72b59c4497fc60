#pragma once
// Initialising a segmentation network from pretrained weights, by parameter name (DESIGN.md §2): only the
// backbone is transferred; the head is new. Every name is accounted for in a report.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/seg/seg_net.h"
#include "pgl/train/checkpoint.h"

namespace pgl::seg {

struct InitWeights {
  std::string source;            // "random", a run folder or a .pt file
  train::NamedTensors backbone;  // ResUNet3D names (no prefix); empty for random
  nlohmann::json description;    // plan, method, backbone size ... when known
  std::string warning;           // set when the weights come from an unfinished run (latest.pt, no final.pt)
};

// "random" | a pretraining run folder (checkpoints/final.pt, else latest.pt) | an exported weights.pt
// (with weights.json beside it when present). Throws pgl::Error naming the source.
InitWeights load_init_weights(const std::string& spec);

struct TransferReport {
  std::string source;
  std::vector<std::string> loaded, missing, unexpected, mismatched, reinitialised;
  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string to_text() const;
  nlohmann::json to_json() const;
};

// Copies matching backbone tensors into `net`. Throws pgl::Error on missing, unexpected or mis-shaped names
// unless allow_partial. For "random" nothing is copied and the report says so. encoder_only keeps the
// network's fresh decoder (its names are listed as reinitialised, the weights' decoder tensors are skipped).
TransferReport transfer_backbone(SegNet& net, const InitWeights& init, bool allow_partial,
                                 bool encoder_only = false);

// Stem and down path: what --transfer encoder and --freeze-encoder-steps act on (ResUNet3D names).
bool is_encoder_name(const std::string& backbone_name);

}  // namespace pgl::seg
