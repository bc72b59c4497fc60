# Loads weights exported by `pgl export` into the PyTorch ResUNet3D of docs/architecture.md (strict) and runs it.
# Usage: python3 bench/torch_load_export.py weights.pt BASE LEVELS   (Debian python3-torch; not needed by pgl)
# The network is defined once, in torch_resunet.py beside this file.
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_resunet import ResUNet3D  # noqa: E402

if __name__ == "__main__":
    path, base, levels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    net = ResUNet3D(1, base=base, levels=levels)
    net.load_state_dict(torch.load(path), strict=True)
    patch = 2 ** (levels - 1) * 8
    out = net(torch.zeros(1, 1, patch, patch, patch))
    print(f"{path}: loaded strictly, {sum(p.numel() for p in net.parameters())} parameters, output {tuple(out.shape)}")
