# Re-initialises the decoder of exported ResUNet3D weights (keeps stem/enc), like pgl's Kaiming fan-out init.
# Used for the encoder-only transfer experiment in docs/RESULTS.md (Debian python3-torch; not needed by pgl).
# Usage: /usr/bin/python3 bench/reinit_decoder.py in.pt out.pt BASE LEVELS   (copy in.json to out.json for the plan)
import sys, torch
sys.path.insert(0,'bench')
from torch_load_export import ResUNet3D
torch.manual_seed(0)
sd = torch.load(sys.argv[1])
net = ResUNet3D(1, int(sys.argv[3]), int(sys.argv[4]))
for m in net.modules():
    if isinstance(m, (torch.nn.Conv3d, torch.nn.ConvTranspose3d)):
        torch.nn.init.kaiming_normal_(m.weight, a=0.01, mode='fan_out', nonlinearity='leaky_relu')
fresh = net.state_dict()
out = {k: (fresh[k] if k.startswith('dec.') else v) for k, v in sd.items()}
torch.save(out, sys.argv[2])
print(sum(k.startswith('dec.') for k in out), 'decoder tensors re-initialised')
