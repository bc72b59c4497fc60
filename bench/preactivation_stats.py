# Pre-activations of the last decoder block (before its LeakyReLU) of exported backbones, averaged over a
# spleen-centred 32^3 patch in the first 4 cached phantom cases: spleen, other soft tissue (-0.2..0.5 in
# network units, spleen excluded) and everything but the spleen (docs/RESULTS.md section 2).
# Usage: /usr/bin/python3 bench/preactivation_stats.py CACHE_PLAN_DIR random|weights.pt ...  (BASE/LEVELS env)
#   e.g. CACHE_PLAN_DIR = demo-out/cache/<plan hash>
import os, sys, torch, nibabel as nib, numpy as np, glob
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_load_export as T
f = sorted(glob.glob(os.path.join(sys.argv[1], 'case_00*_seg.nii')))
pre = {}
def fwd(self, x):
    y = torch.nn.functional.leaky_relu(self.norm1(self.conv1(x)), 0.01)
    s = self.norm2(self.conv2(y)) + x
    pre['s'] = s
    return torch.nn.functional.leaky_relu(s, 0.01)
for w in sys.argv[2:]:
    net = T.ResUNet3D(1, int(os.environ.get("BASE", 4)), int(os.environ.get("LEVELS", 3)))
    if w != 'random': net.load_state_dict(torch.load(w))
    net.dec[0].block.forward = fwd.__get__(net.dec[0].block)
    fgs, bgs, soft = [], [], []
    for seg in f[:4]:
        x = np.asarray(nib.load(seg.replace('_seg','')).dataobj, dtype=np.float32).transpose(2,1,0)
        y = np.asarray(nib.load(seg).dataobj).transpose(2,1,0)
        zz,yy,xx = [int(i) for i in np.argwhere(y>0).mean(0)]
        st = [min(max(c-16,0), n-32) for c, n in zip((zz,yy,xx), y.shape)]; sl = tuple(slice(a, a+32) for a in st)
        p = torch.from_numpy(np.ascontiguousarray(x[sl]))[None,None]; lab = torch.from_numpy(np.ascontiguousarray(y[sl]))
        with torch.no_grad(): net(p)
        s = pre['s'][0]
        tissue = (p[0,0] > -0.2) & (p[0,0] < 0.5) & (lab == 0)   # other soft tissue (HU ~ -100..+175)
        fgs.append(s[:, lab > 0].mean(1)); bgs.append(s[:, lab == 0].mean(1)); soft.append(s[:, tissue].mean(1))
    print(w, '\n  pre-act spleen', torch.stack(fgs).mean(0).numpy().round(2), '\n  other soft tissue', torch.stack(soft).mean(0).numpy().round(2), '\n  all non-spleen', torch.stack(bgs).mean(0).numpy().round(2))
