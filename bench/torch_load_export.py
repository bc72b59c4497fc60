# Loads weights exported by `pgl export` into the PyTorch ResUNet3D of docs/architecture.md (strict) and runs it.
# Usage: python3 bench/torch_load_export.py weights.pt BASE LEVELS   (Debian python3-torch; not needed by pgl)
import sys
import torch, torch.nn as nn

class ConvNormAct(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, stride, 1, bias=False)
        self.norm = nn.InstanceNorm3d(cout, affine=True)
    def forward(self, x):
        return nn.functional.leaky_relu(self.norm(self.conv(x)), 0.01)

class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv3d(c, c, 3, 1, 1, bias=False); self.norm1 = nn.InstanceNorm3d(c, affine=True)
        self.conv2 = nn.Conv3d(c, c, 3, 1, 1, bias=False); self.norm2 = nn.InstanceNorm3d(c, affine=True)
    def forward(self, x):
        y = nn.functional.leaky_relu(self.norm1(self.conv1(x)), 0.01)
        return nn.functional.leaky_relu(self.norm2(self.conv2(y)) + x, 0.01)

class Encoder(nn.Module):
    def __init__(self, cin, c, level):
        super().__init__()
        if level > 0:
            self.down = ConvNormAct(cin, c, stride=2)
        self.block = ResidualBlock(c)
    def forward(self, x):
        return self.block(self.down(x) if hasattr(self, "down") else x)

class Decoder(nn.Module):
    def __init__(self, c_below, c):
        super().__init__()
        self.up = nn.ConvTranspose3d(c_below, c, 2, 2, bias=False)
        self.fuse = ConvNormAct(2 * c, c)
        self.block = ResidualBlock(c)
    def forward(self, below, skip):
        return self.block(self.fuse(torch.cat([self.up(below), skip], 1)))

class ResUNet3D(nn.Module):
    def __init__(self, in_channels=1, base=8, levels=4):
        super().__init__()
        c = [base * 2 ** i for i in range(levels)]
        self.stem = ConvNormAct(in_channels, c[0])
        self.enc = nn.ModuleList(Encoder(c[max(i - 1, 0)], c[i], i) for i in range(levels))
        self.dec = nn.ModuleList(Decoder(c[i + 1], c[i]) for i in range(levels - 1))
    def forward(self, x):
        skips, y = [], self.stem(x)
        for level in self.enc:
            y = level(y); skips.append(y)
        for i in reversed(range(len(self.dec))):
            y = self.dec[i](y, skips[i])
        return y  # [N, base, D, H, W]

if __name__ == "__main__":
    path, base, levels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    net = ResUNet3D(1, base=base, levels=levels)
    net.load_state_dict(torch.load(path), strict=True)
    patch = 2 ** (levels - 1) * 8
    out = net(torch.zeros(1, 1, patch, patch, patch))
    print(f"{path}: loaded strictly, {sum(p.numel() for p in net.parameters())} parameters, output {tuple(out.shape)}")
