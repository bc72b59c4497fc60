# PyTorch eager reference of pgl's networks and training/inference steps, written from the C++ code:
#   ResUNet3D (src/pgl/nn/resunet.cpp, docs/architecture.md; same parameter names, so `pgl export` output and
#   pgl checkpoints load with strict=True), the local projector/predictor (nn/heads.cpp), the prior-guided
#   aligner (ssl/aligner.cpp: separable RoIAlign-3D weights), the local consistency loss (ssl/loss.cpp), the
#   EMA target (ssl/ema.cpp, siamese_model.cpp), PGL's loss (ssl/pgl_model.cpp), the segmentation network and
#   its Dice + CE loss (seg/seg_net.cpp, seg/seg_loss.cpp) and sliding-window inference with Gaussian blending
#   (seg/sliding_window.cpp). Only isotropic (preset) networks; planned strides/kernels are not mirrored.
# Bench only (Debian python3-torch 1.13, /usr/bin/python3); pgl and its tests never need it.
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SLOPE = 0.01
# name: (base, levels, patch, batch, backbone parameters) as in src/pgl/nn/presets.cpp
PRESETS = {
    "tiny": (4, 3, 32, 2, 32_732),
    "small": (8, 4, 48, 2, 534_264),
    "base": (16, 5, 64, 2, 8_592_112),
    "paper": (32, 5, 96, 4, 34_358_752),
}


class ConvNormAct(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, stride, 1, bias=False)
        self.norm = nn.InstanceNorm3d(cout, affine=True)

    def forward(self, x):
        return F.leaky_relu(self.norm(self.conv(x)), SLOPE)


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv3d(c, c, 3, 1, 1, bias=False)
        self.norm1 = nn.InstanceNorm3d(c, affine=True)
        self.conv2 = nn.Conv3d(c, c, 3, 1, 1, bias=False)
        self.norm2 = nn.InstanceNorm3d(c, affine=True)

    def forward(self, x):
        y = F.leaky_relu(self.norm1(self.conv1(x)), SLOPE)
        return F.leaky_relu(self.norm2(self.conv2(y)) + x, SLOPE)


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


def initialize_weights(module):
    """Kaiming normal (fan_out, LeakyReLU 0.01) for convolutions, zero biases; norms weight 1, bias 0."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
                nn.init.kaiming_normal_(m.weight, a=SLOPE, mode="fan_out", nonlinearity="leaky_relu")
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.InstanceNorm3d, nn.LayerNorm)) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()


class ResUNet3D(nn.Module):
    def __init__(self, in_channels=1, base=8, levels=4):
        super().__init__()
        c = [base * 2**i for i in range(levels)]
        self.stem = ConvNormAct(in_channels, c[0])
        self.enc = nn.ModuleList(Encoder(c[max(i - 1, 0)], c[i], i) for i in range(levels))
        self.dec = nn.ModuleList(Decoder(c[i + 1], c[i]) for i in range(levels - 1))
        initialize_weights(self)

    def forward(self, x):
        skips, y = [], self.stem(x)
        for level in self.enc:
            y = level(y)
            skips.append(y)
        for i in reversed(range(len(self.dec))):
            y = self.dec[i](y, skips[i])
        return y  # [N, base, D, H, W]


class LocalHead(nn.Module):
    """PGL projector g / predictor q: Conv1x1 (no bias) + IN + ReLU + Conv1x1 (bias)."""

    def __init__(self, cin, hidden, cout):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, hidden, 1, bias=False)
        self.norm = nn.InstanceNorm3d(hidden, affine=True)
        self.conv2 = nn.Conv3d(hidden, cout, 1)
        initialize_weights(self)

    def forward(self, x):
        return self.conv2(F.relu(self.norm(self.conv1(x))))


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


# ---- prior-guided aligner (ssl/aligner.cpp) ----
# A view's priors: (start[3], size[3], flip[3]) in volume voxels (edge convention), axes (D, H, W).


def intersect(a_start, a_size, b_start, b_size):
    start = [max(a_start[i], b_start[i]) for i in range(3)]
    size = [max(0.0, min(a_start[i] + a_size[i], b_start[i] + b_size[i]) - start[i]) for i in range(3)]
    return start, size


def alignment_regions(priors1, priors2, patch, feature_shape, crop=True, flip=True):
    """Per view: list of (start[3], size[3]) regions in feature voxels and the flips to undo."""
    out = ([], []), ([], [])
    full = ([0.0, 0.0, 0.0], [float(s) for s in feature_shape])
    for v1, v2 in zip(priors1, priors2):
        if crop:
            o_start, o_size = intersect(v1[0], v1[1], v2[0], v2[1])
            for view, out_k in ((v1, out[0]), (v2, out[1])):
                start, size = [], []
                for a in range(3):
                    scale = float(patch[a]) / view[1][a]  # region_in_view
                    s, z = (o_start[a] - view[0][a]) * scale, o_size[a] * scale
                    f = float(feature_shape[a]) / float(patch[a])  # to feature voxels
                    start.append(s * f)
                    size.append(z * f)
                out_k[0].append((start, size))
        else:
            out[0][0].append(full)
            out[1][0].append(full)
        no_flip = (False, False, False)
        out[0][1].append(tuple(v1[2]) if flip else no_flip)
        out[1][1].append(tuple(v2[2]) if flip else no_flip)
    return out


def make_roi_weights(regions, feature_shape, output_size=16, samples=2, dtype=torch.float32):
    """Three [N, A, extent] matrices (D, H, W); the same double arithmetic as make_roi_weights in C++."""
    boxes, unflip = regions
    n = output_size * samples
    matrices = []
    for a in range(3):
        extent = feature_shape[a]
        rows = []
        for b, (start, size) in enumerate(boxes):
            m = [[0.0] * extent for _ in range(output_size)]
            for k in range(n):
                x = start[a] + (k + 0.5) * size[a] / n
                if unflip[b][a]:
                    x = extent - x
                c = min(max(x - 0.5, 0.0), float(extent - 1))
                i0 = int(math.floor(c))
                i1 = min(i0 + 1, extent - 1)
                w1 = c - i0
                row = m[k // samples]
                row[i0] += (1.0 - w1) / samples
                row[i1] += w1 / samples
            rows.append(m)
        matrices.append(torch.tensor(rows, dtype=torch.float64).to(dtype))
    return matrices


def roi_align_3d(features, weights):
    wd, wh, ww = weights
    dtype = features.dtype
    y = torch.einsum("ncdhw,nzw->ncdhz", features, ww.to(dtype))
    y = torch.einsum("ncdhz,nyh->ncdyz", y, wh.to(dtype))
    return torch.einsum("ncdyz,nxd->ncxyz", y, wd.to(dtype))


# ---- losses (ssl/loss.cpp) ----


def cosine_distance(p, z):
    pn = F.normalize(p.float(), dim=1, eps=1e-12)
    zn = F.normalize(z.float(), dim=1, eps=1e-12)
    return 2.0 - 2.0 * (pn * zn).sum(1)


def consistency_loss(p, z):
    return cosine_distance(p, z).mean()


def direction_spread(z):
    with torch.no_grad():
        c = z.shape[1]
        zn = F.normalize(z.float(), dim=1, eps=1e-12).transpose(0, 1).reshape(c, -1)
        if zn.shape[1] < 2:
            return 0.0
        return zn.std(1).mean().item() * math.sqrt(c)


# ---- EMA (ssl/ema.cpp) ----


TAU_AUTO = -1.0  # ssl::kTauAuto: the base follows the run's length


def auto_tau_base(total_steps):
    return min(0.996, 1.0 - 2.0 * math.log(100.0) / max(total_steps, 1))


def ema_tau(step, total_steps, tau_base=0.996):
    if total_steps <= 0:
        return 1.0
    if tau_base == TAU_AUTO:
        tau_base = auto_tau_base(total_steps)
    k = float(min(max(step, 0), total_steps))
    return 1.0 - (1.0 - tau_base) * (math.cos(math.pi * (k / total_steps)) + 1.0) / 2.0


@torch.no_grad()
def ema_update(target, online, tau):
    online_params = dict(online.named_parameters())
    for name, t in target.named_parameters():
        t.mul_(tau).add_(online_params[name], alpha=1.0 - tau)
    online_buffers = dict(online.named_buffers())
    for name, t in target.named_buffers():
        t.copy_(online_buffers[name])


class PglModel(nn.Module):
    """Online f, g, q and target f', g'; state names online.{backbone,projector,predictor}.*, target.*."""

    def __init__(self, base, levels, in_channels=1, output_size=16, samples=2, tau_base=0.996):
        super().__init__()
        backbone = ResUNet3D(in_channels, base, levels)
        projector = LocalHead(base, 4 * base, 2 * base)
        predictor = LocalHead(2 * base, 4 * base, 2 * base)
        self.online = nn.ModuleDict({"backbone": backbone, "projector": projector, "predictor": predictor})
        self.target = nn.ModuleDict(
            {"backbone": copy.deepcopy(backbone), "projector": copy.deepcopy(projector)})
        for p in self.target.parameters():
            p.requires_grad_(False)
        self.output_size, self.samples, self.tau_base = output_size, samples, tau_base
        self.target_spread = float("nan")

    def online_parameters(self):
        o = self.online
        return [*o.backbone.parameters(), *o.projector.parameters(), *o.predictor.parameters()]

    def loss(self, view1, view2, priors1, priors2):
        n = view1.shape[0]
        # Both views in one pass, as pgl does (InstanceNorm is per sample).
        views = torch.cat([view1, view2], 0)
        o, t = self.online, self.target
        p = o.predictor(o.projector(o.backbone(views)))
        with torch.no_grad():
            z = t.projector(t.backbone(views))
        self.target_spread = direction_spread(z)
        patch = tuple(view1.shape[2:])
        feature_shape = tuple(p.shape[2:])
        r1, r2 = alignment_regions(priors1, priors2, patch, feature_shape)
        w1 = make_roi_weights(r1, feature_shape, self.output_size, self.samples)
        w2 = make_roi_weights(r2, feature_shape, self.output_size, self.samples)
        p1, p2 = roi_align_3d(p.narrow(0, 0, n), w1), roi_align_3d(p.narrow(0, n, n), w2)
        z1, z2 = roi_align_3d(z.narrow(0, 0, n), w1), roi_align_3d(z.narrow(0, n, n), w2)
        return consistency_loss(p1, z2) + consistency_loss(p2, z1)

    def update_target(self, step, total_steps):
        tau = ema_tau(step, total_steps, self.tau_base)
        ema_update(self.target.backbone, self.online.backbone, tau)
        ema_update(self.target.projector, self.online.projector, tau)


# ---- fine-tuning (seg/seg_net.cpp, seg/seg_loss.cpp) ----


class SegNet(nn.Module):
    """Backbone + Conv1x1(c0 -> K) head; names backbone.*, head.{weight,bias}."""

    def __init__(self, base, levels, classes, in_channels=1):
        super().__init__()
        self.backbone = ResUNet3D(in_channels, base, levels)
        self.head = nn.Conv3d(base, classes, 1)
        with torch.no_grad():
            nn.init.kaiming_normal_(self.head.weight, a=SLOPE, mode="fan_out", nonlinearity="leaky_relu")
            self.head.bias.zero_()

    def forward(self, x):
        return self.head(self.backbone(x))


def soft_dice_loss(probabilities, one_hot, smooth=1e-5):
    reduce = [0] + list(range(2, probabilities.dim()))
    p = probabilities.narrow(1, 1, probabilities.shape[1] - 1)
    t = one_hot.narrow(1, 1, one_hot.shape[1] - 1)
    intersection = (p * t).sum(reduce)
    denominator = p.sum(reduce) + t.sum(reduce)
    dice = (2 * intersection + smooth) / (denominator + smooth)
    return 1 - dice.mean()


def dice_ce_loss(logits, target, smooth=1e-5):
    logits32 = logits.float()
    ce = F.cross_entropy(logits32, target)
    probabilities = torch.softmax(logits32, 1)
    one_hot = F.one_hot(target, logits.shape[1]).movedim(-1, 1).float()
    return ce + soft_dice_loss(probabilities, one_hot, smooth)


# ---- sliding-window inference (seg/sliding_window.cpp) ----


def gaussian_importance_map(patch, sigma_scale=1.0 / 8.0):
    axes = []
    for a in range(3):
        sigma = patch[a] * sigma_scale
        x = torch.arange(patch[a], dtype=torch.float64) - (patch[a] - 1) / 2.0
        axes.append(torch.exp(-(x * x) / (2 * sigma * sigma)))
    m = axes[0].view(-1, 1, 1) * axes[1].view(1, -1, 1) * axes[2].view(1, 1, -1)
    m = m / m.max()
    smallest = m.masked_select(m > 0).min().item()
    return m.clamp_min(smallest).float()


def windows_per_batch(patch):
    voxels = patch[0] * patch[1] * patch[2]
    return min(max(4 * 48 * 48 * 48 // max(1, voxels), 2), 8)


def window_starts(size, patch, step_fraction):
    target_step = patch * step_fraction
    steps = int(math.ceil((size - patch) / target_step)) + 1
    actual = (size - patch) / (steps - 1) if steps > 1 else 0.0
    return [int(math.floor(actual * s + 0.5)) for s in range(steps)]  # llround (values are >= 0)


@torch.no_grad()
def sliding_window_probabilities(volume, logits_fn, classes, patch, pad_value, step=0.5, batch=0,
                                 mirror_axes=(False, False, False)):
    """volume [1, D, H, W] -> softmax probabilities [K, D, H, W] (as pgl's sliding_window_probabilities)."""
    pad, padded, before = [], [0, 0, 0], [0, 0, 0]
    for a in (2, 1, 0):
        size = volume.shape[a + 1]
        missing = max(0, patch[a] - size)
        before[a] = missing // 2
        pad += [missing // 2, missing - missing // 2]
        padded[a] = size + missing
    x = volume.float()
    needs_pad = tuple(padded) != tuple(volume.shape[1:])
    if needs_pad:
        x = F.pad(x, pad, value=pad_value)
    weight_map = gaussian_importance_map(patch)
    total = torch.zeros(classes, *padded)
    weights = torch.zeros(*padded)
    starts = [window_starts(padded[a], patch[a], step) for a in range(3)]
    flips = []
    for subset in range(8):
        dims = [2 + a for a in range(3) if subset & (1 << a)]
        if all(mirror_axes[a] for a in range(3) if subset & (1 << a)):
            flips.append(dims)
    origins = [(d, h, w) for d in starts[0] for h in starts[1] for w in starts[2]]

    def window_of(t, o):
        f = t.dim() - 3
        return t.narrow(f, o[0], patch[0]).narrow(f + 1, o[1], patch[1]).narrow(f + 2, o[2], patch[2])

    batch = batch if batch > 0 else windows_per_batch(patch)
    for first in range(0, len(origins), batch):
        count = min(batch, len(origins) - first)
        crops = [window_of(x, origins[first + i]) for i in range(count)]
        if count == 1:  # as pgl: a lone window runs twice (LibTorch's slow N = 1 convolution path)
            crops.append(crops[0])
        windows = torch.stack(crops)
        probabilities = None
        for dims in flips:
            inp = windows.flip(dims) if dims else windows
            logits = logits_fn(inp).float()
            if dims:
                logits = logits.flip(dims)
            p = torch.softmax(logits, 1)
            probabilities = p if probabilities is None else probabilities + p
        probabilities /= float(len(flips))
        for i in range(count):
            o = origins[first + i]
            window_of(total, o).add_(probabilities[i] * weight_map)
            window_of(weights, o).add_(weight_map)
    result = total / weights
    if needs_pad:
        result = result[:, before[0]:before[0] + volume.shape[1], before[1]:before[1] + volume.shape[2],
                        before[2]:before[2] + volume.shape[3]]
    return result.contiguous()
