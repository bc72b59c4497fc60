#!/usr/bin/python3
"""pgl against the PyTorch eager reference, side by side (issue 16).

Usage (from the repository root, after `flock /tmp/pgl-build.lock ninja -C build bench_pgl_steps pgl`):
  /usr/bin/python3 bench/compare_torch.py --quick            # tiny (base 8), fp32, 2 threads, 2 repeats: a smoke run
  /usr/bin/python3 bench/compare_torch.py                    # the whole grid (takes hours on 2 cores)
  /usr/bin/python3 bench/compare_torch.py --check            # also check the reference against pgl first
Options: --presets tiny8,small  --precisions fp32,bf16  --threads 1,2  --kinds pretrain,finetune,inference,predict
  --repeats 3  --steps 5 --warmup 2 (training steps per process)  --case CT.nii.gz (inference input; default
  OpenKBP pt_201 from ../shared/data, else a synthetic volume of --volume D,H,W)  --out results.jsonl
  --omp-wait-policy VALUE (for every process; default: the caller's environment)

For every configuration (preset x precision x threads x kind) it runs pgl (A) and the reference (B)
alternately, A B A B ..., one process each, --repeats times, and prints the median over repeats of each
process's median step time, the ratio pgl / PyTorch, and the peak RSS of each process (/usr/bin/time).
Kinds:
  pretrain   PGL step: online forward + backward on both views, target forward, aligner, loss, SGD, EMA
  finetune   fine-tuning step: forward, Dice + CE, backward, Adam (pgl finetune's default)
  inference  sliding-window inference of one volume (Gaussian blending, no TTA) inside one process, pgl's
             predict_probabilities against the reference's forward passes plus blending
  predict    the whole `pgl predict` process (start, read, preprocess, inference, resample, write) against the
             same reference run as `inference`
Both sides start from the same weights and data: build/bench/bench_pgl_steps --dump writes them once per
preset, precision and kind (an inference dump doubles as the checkpoint `pgl predict` runs). Both see the
same environment (OMP_WAIT_POLICY included; `pgl predict` sets PASSIVE for itself when it is unset, the
bench binaries and Python do not). Machine-readable results: lines starting with RESULT (one per process)
and ROW (one per configuration); --out also writes them as JSON lines. Ratios, not absolute times, are
what this measures on a shared machine; the load average is printed before and after.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = {"tiny8": ("tiny", 8), "tiny": ("tiny", 0), "small": ("small", 0), "base": ("base", 0)}


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def timed(cmd, env):
    """Runs cmd under /usr/bin/time; returns (stdout, wall s, peak RSS MB) or raises with the output's tail."""
    full = ["/usr/bin/time", "-f", "TIMEV %e %M"] + cmd
    proc = subprocess.run(full, capture_output=True, text=True, env=env)
    match = re.findall(r"TIMEV ([\d.]+) (\d+)", proc.stderr)
    if proc.returncode != 0 or not match:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise RuntimeError(f"failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    wall, rss_kb = match[-1]
    return proc.stdout, float(wall), int(rss_kb) / 1024.0


def result_line(stdout):
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return line, dict(kv.split("=", 1) for kv in line.split()[1:])
    raise RuntimeError("no RESULT line in:\n" + stdout[-2000:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny8, fp32, 2 threads, 2 repeats, short runs")
    parser.add_argument("--check", action="store_true", help="check the reference against pgl first")
    parser.add_argument("--presets", default="tiny8,small")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--kinds", default="pretrain,finetune,inference,predict")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--case", default=os.path.join(ROOT, "../shared/data/openkbp/imagesTr/pt_201.nii.gz"))
    parser.add_argument("--spacing", default="3.91,3.91,2.5", help="x,y,z mm the case is resampled to")
    parser.add_argument("--volume", default="154,177,177", help="D,H,W of the synthetic volume without --case")
    parser.add_argument("--bench", default=os.path.join(ROOT, "build/bench/bench_pgl_steps"))
    parser.add_argument("--pgl", default=os.path.join(ROOT, "build/apps/pgl/pgl"))
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--omp-wait-policy", help="OMP_WAIT_POLICY for every process (default: as inherited; "
                        "an empty value keeps pgl predict from setting PASSIVE for itself)")
    parser.add_argument("--work", help="folder for the dumps (default: a temporary one, removed at the end)")
    parser.add_argument("--out", help="also write RESULT and ROW records here as JSON lines")
    args = parser.parse_args()
    if args.quick:
        args.presets, args.precisions, args.threads = "tiny8", "fp32", "2"
        args.repeats, args.steps, args.warmup = 2, 2, 1
        args.case, args.volume = "", "48,64,64"
    presets = args.presets.split(",")
    precisions = args.precisions.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    kinds = args.kinds.split(",")
    case = args.case if args.case and os.path.exists(args.case) else ""
    reference = [args.python, os.path.join(ROOT, "bench/torch_reference.py")]
    env = dict(os.environ)
    if args.omp_wait_policy is not None:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    work = args.work or tempfile.mkdtemp(prefix="pgl-vs-torch-")
    os.makedirs(work, exist_ok=True)
    out = open(args.out, "a") if args.out else None

    def record(what, **fields):
        if out:
            out.write(json.dumps({"record": what, **fields}) + "\n")
            out.flush()

    with open("/proc/cpuinfo") as f:
        flags = next((line for line in f if line.startswith("flags")), "")
    print(f"# pgl vs PyTorch eager: load average {load_average()}, {os.cpu_count()} CPUs, avx512_bf16 "
          f"{'yes' if 'avx512_bf16' in flags else 'no'}, OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY', '(unset)')}")
    print(f"# inference input: {case or 'synthetic volume ' + args.volume}; work folder {work}", flush=True)

    # Dumps: the same weights and data for both sides (steps-independent; one per preset, precision, kind).
    dumps = {}
    volume_args = ["--input", case, "--spacing", args.spacing] if case else ["--volume", args.volume]
    for preset in presets:
        name, base = PRESETS[preset]
        for precision in precisions:
            for kind in ("pretrain", "finetune", "inference"):
                if kind not in kinds and not (kind == "inference" and "predict" in kinds):
                    continue
                path = os.path.join(work, f"{kind}-{preset}-{precision}.pt")
                options = ["--kind", kind, "--preset", name, "--base", str(base), "--precision", precision]
                options += volume_args if kind == "inference" else []
                subprocess.run([args.bench] + options + ["--dump", path, "--check-steps", "2" if args.check else "0"],
                               check=True, capture_output=True, env=env)
                dumps[(kind, preset, precision)] = (path, options)
                if args.check:
                    check = reference + ["--check", path]
                    if kind == "inference" and not case:  # synthetic input on the plan grid: compare labels
                        pred = os.path.join(work, "pred-check")
                        subprocess.run([args.pgl, "predict", "--model", path, "--input", path + ".input.nii.gz",
                                        "--out", pred], check=True, capture_output=True, env=env)
                        check += ["--predicted", os.path.join(pred, os.path.basename(path) + ".input.nii.gz")]
                    proc = subprocess.run(check, capture_output=True, text=True, env=env)
                    print(proc.stdout, end="", flush=True)
                    if proc.returncode != 0:
                        print(proc.stderr[-2000:])
                        sys.exit("check failed")

    configs = [(k, p, x, t) for p in presets for x in precisions for t in threads for k in kinds]
    runs = {c: {"pgl": [], "torch": []} for c in configs}
    steps = ["--steps", str(args.steps), "--warmup", str(args.warmup)]
    one_volume = ["--steps", "1", "--warmup", "0"]  # one inference per process, as `pgl predict` does
    for repeat in range(args.repeats):
        for config in configs:
            kind, preset, precision, t = config
            if kind == "predict":
                continue  # measured together with inference (same reference run)
            path, dump_cmd = dumps[(kind, preset, precision)]
            s = one_volume if kind == "inference" else steps
            sides = [("pgl", [args.bench] + dump_cmd + ["--threads", str(t)] + s),
                     ("torch", reference + ["--data", path, "--threads", str(t)] + s)]
            if kind == "inference" and "predict" in kinds:
                pred = os.path.join(work, "pred")
                source = case or path + ".input.nii.gz"
                sides.insert(1, ("predict", [args.pgl, "predict", "--model", path, "--input", source, "--out", pred,
                                             "--threads", str(t)]))
            for side, cmd in sides:
                stdout, wall, rss = timed(cmd, env)
                if side == "predict":
                    ms = 1e3 * wall
                    line = (f"RESULT impl=pgl-predict kind=predict preset={preset} precision={precision} threads={t} "
                            f"median_ms={ms:.1f} peak_rss_mb={rss:.1f}")
                    runs[("predict", preset, precision, t)]["pgl"].append((ms, rss))
                else:
                    line, fields = result_line(stdout)
                    runs[config][side].append((float(fields["median_ms"]), rss))
                    if kind == "inference" and "predict" in kinds and side == "torch":
                        runs[("predict", preset, precision, t)]["torch"].append((float(fields["median_ms"]), rss))
                print(f"{line} repeat={repeat} process_rss_mb={rss:.1f} wall_s={wall:.1f}", flush=True)
                record("result", line=line, repeat=repeat, process_rss_mb=rss, wall_s=wall)

    print(f"\n# load average {load_average()}; medians over {args.repeats} repeats, peak RSS = the largest")
    header = (f"{'kind':<10} {'preset':<6} {'prec':<5} {'thr':>3} {'pgl ms':>10} {'torch ms':>10} {'pgl/torch':>9} "
              f"{'pgl MB':>8} {'torch MB':>8} {'RSS ratio':>9}")
    print(header)
    print("-" * len(header))
    rows = []
    for config in configs:
        kind, preset, precision, t = config
        a, b = runs[config]["pgl"], runs[config]["torch"]
        if not a or not b:
            continue
        ta, tb = statistics.median(x[0] for x in a), statistics.median(x[0] for x in b)
        ra, rb = max(x[1] for x in a), max(x[1] for x in b)
        print(f"{kind:<10} {preset:<6} {precision:<5} {t:>3} {ta:>10.1f} {tb:>10.1f} {ta / tb:>9.2f} "
              f"{ra:>8.0f} {rb:>8.0f} {ra / rb:>9.2f}")
        record("row", kind=kind, preset=preset, precision=precision, threads=t, pgl_ms=ta, torch_ms=tb,
               ratio=ta / tb, pgl_rss_mb=ra, torch_rss_mb=rb)
        rows.append(f"ROW kind={kind} preset={preset} precision={precision} threads={t} pgl_ms={ta:.1f} "
                    f"torch_ms={tb:.1f} ratio={ta / tb:.3f} pgl_rss_mb={ra:.0f} torch_rss_mb={rb:.0f}")
    print("\n" + "\n".join(rows))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
