# Output features of exported backbones on one spleen-centred 32^3 patch of a cached phantom case: per-channel
# mean over spleen voxels and over the rest, and the per-channel std (docs/RESULTS.md section 2, first table).
# Usage: /usr/bin/python3 bench/feature_stats.py CACHED_IMAGE.nii random|weights.pt ...   (BASE/LEVELS env, default 4 3)
#   e.g. CACHED_IMAGE = demo-out/cache/<plan hash>/case_000-<hash>.nii (its _seg.nii beside it)
import os, sys, torch, nibabel as nib, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_load_export import ResUNet3D
img = sys.argv[1]
seg = img.replace('.nii', '_seg.nii')
x = np.asarray(nib.load(img).dataobj, dtype=np.float32)
y = np.asarray(nib.load(seg).dataobj)
# nibabel gives x,y,z; torch D,H,W -> transpose
xt = torch.from_numpy(np.ascontiguousarray(x.transpose(2,1,0)))
yt = torch.from_numpy(np.ascontiguousarray(y.transpose(2,1,0)).astype(np.int64))
zz,yy,xx = [int(i) for i in torch.nonzero(yt>0).float().mean(0)]
def crop(t):
    return t[zz-16:zz+16, yy-16:yy+16, xx-16:xx+16]
p = crop(xt)[None,None]; lab = crop(yt)
for f in sys.argv[2:]:
    net = ResUNet3D(1, int(os.environ.get("BASE", 4)), int(os.environ.get("LEVELS", 3)))
    if f != 'random':
        net.load_state_dict(torch.load(f))
    with torch.no_grad():
        o = net(p)[0]
    fg = o[:, lab>0].mean(1); bg = o[:, lab==0].mean(1)
    print(f, 'feat mean', o.mean((1,2,3)).numpy().round(2), 'std', o.std((1,2,3)).numpy().round(2))
    print('   fg', fg.numpy().round(2), 'bg', bg.numpy().round(2))
