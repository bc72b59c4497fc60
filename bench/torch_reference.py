#!/usr/bin/python3
# PyTorch eager reference of pgl's three hot paths (issue 16), timed in one process on one fixed batch:
#   pretrain:  PGL step: online forward + backward on both views, target forward, aligner, loss, SGD, EMA
#   finetune:  fine-tuning step: forward, Dice + CE, backward, Adam (pgl finetune's default) or SGD Nesterov
#   inference: sliding-window inference of one volume with Gaussian blending (no TTA), windows batched as
#              pgl predict does
# Prints the same line as build/bench/bench_pgl_steps (pgl's side):
#   RESULT impl=torch kind=... preset=... base=... precision=... threads=... median_ms=... peak_rss_mb=...
#
# Usage (Debian python3-torch: /usr/bin/python3; bench only, pgl never needs it):
#   bench/torch_reference.py --kind pretrain|finetune|inference [--data DUMP] [--preset tiny|small]
#       [--base N] [--precision fp32|bf16] [--threads 2] [--steps 5] [--warmup 2] [--batch N] [--classes 8]
#       [--optimizer adam|sgd] [--volume D,H,W] [--window-batch 0]
#   bench/torch_reference.py --check DUMP [--threads 2] [--tolerance 1e-4] [--predicted LABELS.nii.gz]
# DUMP is written by `bench_pgl_steps --kind K --dump DUMP`: pgl's initial weights, its batch (or volume) and
# its losses (probabilities). With --data the reference times the same weights and data (preset, base, batch
# and precision then come from the dump unless given); without it, it makes its own synthetic batch and
# weights of the same shapes. --check replays pgl's first steps from the same weights and compares the
# losses (inference: probabilities and labels) and the parameter counts; exit status 1 when they differ.
# --predicted: the labels `pgl predict --model DUMP` wrote for the dump's synthetic input (which lies on the
# plan's grid, so the labels compare voxel for voxel with the reference's).
import argparse
import gzip
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_resunet as ref  # noqa: E402

# pgl's defaults (src/pgl/train/pretrain_config.h, src/pgl/seg/finetune_config.h), used without a dump.
PRETRAIN_OPTIMIZER = {"name": "sgd", "lr": 0.02, "momentum": 0.9, "weight_decay": 1e-5}
FINETUNE_OPTIMIZER = {"name": "adam", "lr": 1e-3, "momentum": 0.99, "weight_decay": 3e-5}


def load_dump(path):
    ck = torch.load(path)
    meta = json.loads(ck["meta"])
    state = ck["state"]
    weights = {k: v for k, v in state.items() if not k.startswith("bench.")}
    data = {k[len("bench."):]: v for k, v in state.items() if k.startswith("bench.")}
    return meta, weights, data


def read_nifti(path):
    """Voxels of a NIfTI-1 file as a [z, y, x] tensor (enough for pgl's own label maps: no nibabel here)."""
    import numpy as np
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    dims = np.frombuffer(raw, "<i2", 8, 40)
    dtype = {2: "u1", 4: "<i2", 8: "<i4", 16: "<f4", 64: "<f8", 256: "i1", 512: "<u2", 768: "<u4"}
    code = int(np.frombuffer(raw, "<i2", 1, 70)[0])
    offset = int(np.frombuffer(raw, "<f4", 1, 108)[0])
    x, y, z = (int(d) for d in dims[1:4])
    return torch.from_numpy(np.frombuffer(raw, dtype[code], x * y * z, offset).reshape(z, y, x).astype(np.int64))


def smooth_field(size, seed):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(1, 1, *[max(2, s // 12) for s in size], generator=g)
    return F.interpolate(coarse, size=list(size), mode="trilinear", align_corners=True)


def priors_from_tensor(t):
    return [([float(v) for v in row[0:3]], [float(v) for v in row[3:6]], tuple(bool(v) for v in row[6:9]))
            for row in t.tolist()]


def synthetic_priors(batch, patch):
    """Two overlapping boxes per element (1.2-1.3 x the patch) with mixed flips, like make_view_pair's."""
    p1, p2 = [], []
    for b in range(batch):
        s1 = [1.25 * patch, 1.2 * patch, 1.3 * patch]
        s2 = [1.2 * patch, 1.3 * patch, 1.25 * patch]
        o1 = [10.0 + 5 * b, 20.0, 30.0]
        o2 = [o1[0] + 0.2 * patch, o1[1] + 0.1 * patch, o1[2] + 0.15 * patch]
        p1.append((o1, s1, (b % 2 == 1, True, False)))
        p2.append((o2, s2, (False, b % 2 == 0, True)))
    return p1, p2


def make_optimizer(params, o):
    if o["name"] == "adam":
        return torch.optim.Adam(params, lr=o["lr"], weight_decay=o["weight_decay"])
    if o["name"] == "sgd-nesterov":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], nesterov=True,
                               weight_decay=o["weight_decay"])
    return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"])


def autocast(precision):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


class Config:
    """What one run measures: from the dump (when given), then the command line, then the preset."""

    def __init__(self, args, meta=None):
        meta = meta or {}
        preset = meta.get("preset", args.preset)
        base, levels, patch, batch, _ = ref.PRESETS[preset]
        self.kind = args.kind
        self.preset = preset
        # A dump's shapes win: its weights and data have them.
        self.base = meta.get("base") or args.base or base
        self.levels = meta.get("levels", levels)
        self.patch = meta.get("patch", patch)
        self.batch = meta.get("batch") or args.batch or batch
        self.precision = args.precision or meta.get("precision", "fp32")
        self.classes = meta.get("classes", args.classes)
        self.threads = args.threads


# ---- the three steps: each returns (step function(k, total) -> loss or result, description) ----


def pretrain_setup(cfg, meta, weights, data, optimizer=None):
    align = (meta.get("align_size", 16), meta.get("align_samples", 2)) if meta else (16, 2)
    model = ref.PglModel(cfg.base, cfg.levels, output_size=align[0], samples=align[1],
                         tau_base=meta.get("tau_base", 0.996) if meta else 0.996)
    if weights:
        model.load_state_dict(weights, strict=True)
        view1, view2 = data["view1"], data["view2"]
        priors1, priors2 = priors_from_tensor(data["priors1"]), priors_from_tensor(data["priors2"])
    else:
        p = cfg.patch
        view1 = smooth_field((cfg.batch * p, p, p), 0).view(cfg.batch, 1, p, p, p)
        view2 = smooth_field((cfg.batch * p, p, p), 1).view(cfg.batch, 1, p, p, p)
        priors1, priors2 = synthetic_priors(cfg.batch, p)
    opt = make_optimizer(model.online_parameters(), optimizer or meta.get("optimizer", PRETRAIN_OPTIMIZER))

    def step(k, total):
        with autocast(cfg.precision):
            loss = model.loss(view1, view2, priors1, priors2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.update_target(k, total)
        return loss

    counts = {"backbone_parameters": ref.count_parameters(model.online.backbone),
              "online_parameters": sum(p.numel() for p in model.online_parameters()),
              "parameters": ref.count_parameters(model)}
    return step, counts


def finetune_setup(cfg, meta, weights, data, optimizer_name=None):
    net = ref.SegNet(cfg.base, cfg.levels, cfg.classes)
    if weights:
        net.load_state_dict(weights, strict=True)
        image, labels = data["image"], data["labels"]
    else:
        p = cfg.patch
        image = smooth_field((cfg.batch * p, p, p), 2).view(cfg.batch, 1, p, p, p)
        scaled = (image - image.min()) / (image.max() - image.min())
        labels = (scaled * cfg.classes).floor().clamp(0, cfg.classes - 1).long().squeeze(1)
    net.train()
    o = dict(meta.get("optimizer", FINETUNE_OPTIMIZER)) if meta else dict(FINETUNE_OPTIMIZER)
    if optimizer_name:
        o["name"] = optimizer_name
        if not meta:
            o["lr"] = 1e-3 if optimizer_name == "adam" else 1e-2
    if o["name"] == "sgd":
        o["name"] = "sgd-nesterov"  # pgl finetune's SGD is Nesterov
    opt = make_optimizer(net.parameters(), o)

    def step(k, total):
        with autocast(cfg.precision):
            loss = ref.dice_ce_loss(net(image), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    counts = {"backbone_parameters": ref.count_parameters(net.backbone), "parameters": ref.count_parameters(net)}
    return step, counts


def inference_setup(cfg, meta, weights, data, volume_size=(154, 177, 177), window_batch=0):
    net = ref.SegNet(cfg.base, cfg.levels, cfg.classes)
    if weights:
        net.load_state_dict(weights, strict=True)
        volume, pad = data["volume"], float(meta["pad_value"])
        window_batch = window_batch or meta.get("window_batch", 0)
    else:
        # As bench_pgl_steps' synthetic CT after the CT window: HU / 1000, clipped to [-1, 1].
        volume = ((400.0 * smooth_field(volume_size, 3)).round() / 1000.0).clamp(-1, 1)[0]
        pad = volume.min().item()
    net.eval()
    patch = (cfg.patch,) * 3

    def logits_fn(x):
        with autocast(cfg.precision):
            return net(x)

    def step(k, total):
        return ref.sliding_window_probabilities(volume, logits_fn, cfg.classes, patch, pad, batch=window_batch)

    starts = [len(ref.window_starts(max(volume.shape[a + 1], cfg.patch), cfg.patch, 0.5)) for a in range(3)]
    info = {"backbone_parameters": ref.count_parameters(net.backbone), "parameters": ref.count_parameters(net),
            "windows": math.prod(starts), "volume": "x".join(str(s) for s in volume.shape[1:]),
            "window_batch": window_batch or ref.windows_per_batch(patch)}
    return step, info


def setup(cfg, meta, weights, data, args):
    if cfg.kind == "pretrain":
        return pretrain_setup(cfg, meta, weights, data)
    if cfg.kind == "finetune":
        return finetune_setup(cfg, meta, weights, data, args.optimizer)
    volume = tuple(int(v) for v in args.volume.split(","))
    return inference_setup(cfg, meta, weights, data, volume, args.window_batch)


def run_timing(args):
    meta, weights, data = load_dump(args.data) if args.data else ({}, None, None)
    if meta and not args.kind:
        args.kind = meta["kind"].replace("bench-", "")
    if meta.get("kind") == "finetune":  # an inference dump is a fine-tuned checkpoint
        args.kind = "inference"
    cfg = Config(args, meta)
    torch.set_num_threads(cfg.threads)
    step, info = setup(cfg, meta, weights, data, args)
    total = args.warmup + args.steps
    for k in range(args.warmup):
        step(k, total)
    ms = []
    for k in range(args.steps):
        start = time.perf_counter()
        step(args.warmup + k, total)
        ms.append(1e3 * (time.perf_counter() - start))
    ms.sort()
    batch = info["window_batch"] if cfg.kind == "inference" else cfg.batch
    extra = f" windows={info['windows']} volume={info['volume']}" if cfg.kind == "inference" else ""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"RESULT impl=torch kind={cfg.kind} preset={cfg.preset} base={cfg.base} levels={cfg.levels} "
          f"patch={cfg.patch} batch={batch} precision={cfg.precision} threads={cfg.threads} steps={len(ms)} "
          f"median_ms={ms[len(ms) // 2]:.1f} best_ms={ms[0]:.1f} peak_rss_mb={rss:.1f}{extra}", flush=True)


def run_check(args):
    meta, weights, data = load_dump(args.check)
    kind = "inference" if meta["kind"] == "finetune" else meta["kind"].replace("bench-", "")
    args.kind = kind
    cfg = Config(args, meta)
    torch.set_num_threads(cfg.threads)
    bf16 = cfg.precision == "bf16"
    tolerance = args.tolerance if args.tolerance else (2e-2 if bf16 else 1e-4)
    ok = True

    def report(name, pgl, torch_value, good, detail=""):
        nonlocal ok
        ok = ok and good
        print(f"CHECK {kind} {cfg.preset} base={cfg.base} {cfg.precision} {name}: pgl={pgl} torch={torch_value}"
              f"{detail} {'ok' if good else 'MISMATCH'}", flush=True)

    step, counts = setup(cfg, meta, weights, data, args)  # load_state_dict(strict=True): names and shapes
    for key in ("backbone_parameters", "online_parameters", "parameters"):
        if key in meta:
            report(key, meta[key], counts[key], meta[key] == counts[key])
    preset_base, _, _, _, preset_count = ref.PRESETS[cfg.preset]
    if cfg.base == preset_base:
        report("backbone_parameters (DESIGN.md preset table)", preset_count, counts["backbone_parameters"],
               preset_count == counts["backbone_parameters"])

    if kind in ("pretrain", "finetune"):
        total = meta["check_steps"]
        for k, pgl_loss in enumerate(meta["losses"]):
            loss = step(k, total).item()
            rel = abs(loss - pgl_loss) / max(abs(pgl_loss), 1e-12)
            report(f"loss step {k}", f"{pgl_loss:.8g}", f"{loss:.8g}", rel <= tolerance,
                   f" rel.diff={rel:.2e} (tolerance {tolerance:g})")
    else:
        if "labels" not in data:
            print("CHECK: this inference dump has no probabilities (made with --check-steps 0)")
            return 1
        probabilities = step(0, 1)
        sub = probabilities[:, ::4, ::4, ::4]
        diff = (sub - data["probabilities_sub"]).abs().max().item()
        prob_tolerance = args.tolerance if args.tolerance else (5e-2 if bf16 else 1e-4)
        report("probabilities (every 4th voxel) max abs diff", "", f"{diff:.2e}", diff <= prob_tolerance,
               f" (tolerance {prob_tolerance:g})")
        labels = probabilities.argmax(0).to(torch.uint8)
        differ = (labels != data["labels"]).sum().item()
        share = differ / labels.numel()
        limit = 1e-3 if bf16 else 1e-5
        report("labels differing", "", f"{differ} of {labels.numel()} voxels ({share:.2e})", share <= limit,
               f" (limit {limit:g})")
        if args.predicted:
            predicted = read_nifti(args.predicted)
            same_shape = tuple(predicted.shape) == tuple(labels.shape)
            differ = (predicted != labels.long()).sum().item() if same_shape else labels.numel()
            share = differ / labels.numel()
            report("pgl predict labels differing", args.predicted, f"{differ} of {labels.numel()} voxels",
                   same_shape and share <= limit, "" if same_shape else f" (shape {tuple(predicted.shape)})")
    print("CHECK PASS" if ok else "CHECK FAIL", flush=True)
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=["pretrain", "finetune", "inference"])
    parser.add_argument("--data", help="dump of bench_pgl_steps --dump: same weights and data as pgl")
    parser.add_argument("--check", help="compare against the pgl losses / probabilities in this dump")
    parser.add_argument("--preset", default="small", choices=sorted(ref.PRESETS))
    parser.add_argument("--base", type=int, default=0)
    parser.add_argument("--precision", choices=["fp32", "bf16"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--optimizer", choices=["adam", "sgd"])
    parser.add_argument("--volume", default="154,177,177", help="D,H,W of the synthetic inference volume")
    parser.add_argument("--window-batch", type=int, default=0)
    parser.add_argument("--predicted", help="with --check: labels pgl predict wrote for the dump's input")
    parser.add_argument("--tolerance", type=float, default=0.0, help="relative (losses) / absolute (probabilities)")
    args = parser.parse_args()
    if args.check:
        return run_check(args)
    if not args.kind and not args.data:
        parser.error("--kind or --data is needed")
    run_timing(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
