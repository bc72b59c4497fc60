#!/usr/bin/env python3
"""Kill -9 at random moments, resume, and compare with an uninterrupted run (reliability issue).

For each command (pretrain, finetune, experiment) on a small phantom:
  1. run it once without interruption (the reference);
  2. run it again in another folder, killing it with SIGKILL --kills times: half of the kills at a random
     moment of the run, half the moment a temporary file appears (in the middle of a checkpoint, cache or
     run-file write); after each kill every file under a final name must be whole (checkpoints are zip
     archives whose CRCs must match, JSON must parse, .nii.gz must decompress); then rerun with --resume
     (experiment: the same command) until it finishes;
  3. compare: the losses of every metrics.jsonl line and every tensor in every final checkpoint must equal
     the reference's bit for bit (the checkpoints' meta, with wall times, is left out), and so must the
     experiment's results.csv.

Standard library only; the product itself needs no Python.
  scripts/kill_resume.py [--pgl build/apps/pgl/pgl] [--kills 10] [--commands pretrain,finetune,experiment]
                         [--work DIR] [--seed 1]
Exit status 0 when every check holds; the last line sums up.
"""
import argparse
import gzip
import io
import json
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

COMMON = ["--preset", "tiny", "--base", "6", "--spacing", "6,6,6", "--threads", "2"]


def commands(data, unlabeled):
    """Each command's arguments without --out and --cache; `resume` is what a rerun adds."""
    return {
        "pretrain": (["pretrain", "--data", unlabeled, "--steps", "30", "--checkpoint-every", "3", "--log-every",
                      "1", "--seed", "3"] + COMMON, ["--resume"]),
        "finetune": (["finetune", "--data", data, "--init", "random", "--steps", "30", "--checkpoint-every", "3",
                      "--log-every", "1", "--val-every", "10", "--seed", "3"] + COMMON, ["--resume"]),
        "experiment": (["experiment", "--data", data, "--pretrain-data", unlabeled, "--methods", "random,pgl",
                        "--label-fractions", "1", "--seeds", "1", "--pretrain-steps", "12", "--finetune-steps", "12",
                        "--val-max-cases", "1", "--test-fraction", "0.34"] + COMMON, []),
    }


def whole(path):
    """Why the file at a final name is not whole, or None. Append-only logs may end in a torn line (a
    kill between two writes of one line); resume drops it, so only earlier lines must parse."""
    name = os.path.basename(path)
    try:
        if name.endswith(".pt"):
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
                return f"member {bad} fails its CRC" if bad else None
        if name.endswith(".json"):
            with open(path) as f:
                json.load(f)
            return None
        if name.endswith(".jsonl"):
            with open(path) as f:
                lines = f.read().split("\n")
            for line in lines[:-2]:  # the last element is "" when the file ends in a newline
                json.loads(line)
            return None
        if name.endswith(".gz"):
            with gzip.open(path) as f:
                while f.read(1 << 20):
                    pass
            return None
    except Exception as e:  # noqa: BLE001 - any failure to read is the finding
        return f"{type(e).__name__}: {e}"
    return None


def scan(folder):
    """(temporary files, [(file, problem)]) under folder."""
    temporary, broken = [], []
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if name.startswith(".tmp."):
                temporary.append(path)
                continue
            problem = whole(path)
            if problem:
                broken.append((path, problem))
    return temporary, broken


def has_temporary(folder):
    for root, _, files in os.walk(folder):
        if any(name.startswith(".tmp.") for name in files):
            return True
    return False


def run(pgl, args, log):
    with open(log, "a") as out:
        return subprocess.run([pgl] + args, stdout=out, stderr=subprocess.STDOUT).returncode


def killed_run(pgl, args, log, deadline, on_write):
    """Start the command and SIGKILL it at `deadline` seconds, or (on_write) as soon as a temporary file
    appears in its folders. Returns 'killed', 'killed in a write' or 'finished'."""
    folders = [args[args.index("--out") + 1], args[args.index("--cache") + 1]]
    with open(log, "a") as out:
        p = subprocess.Popen([pgl] + args, stdout=out, stderr=subprocess.STDOUT)
    start = time.monotonic()
    while p.poll() is None:
        if on_write and any(has_temporary(f) for f in folders if os.path.isdir(f)):
            p.send_signal(signal.SIGKILL)
            p.wait()
            return "killed in a write"
        if time.monotonic() - start > deadline:
            p.send_signal(signal.SIGKILL)
            p.wait()
            return "killed"
        time.sleep(0.0005 if on_write else 0.01)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed with status {p.returncode}; see {log}")
    return "finished"


def losses(folder):
    """{(metrics file, step): loss and validation Dice} of every metrics.jsonl under folder."""
    found = {}
    for root, _, files in os.walk(folder):
        if "metrics.jsonl" in files:
            rel = os.path.relpath(root, folder)
            with open(os.path.join(root, "metrics.jsonl")) as f:
                for line in f:
                    j = json.loads(line)
                    found[(rel, j["step"], "val_mean_dice" in j)] = (j.get("loss"), j.get("val_mean_dice"))
    return found


class _Stub:
    """Any class a LibTorch pickle names: its constructor arguments and state are kept as they are."""
    args, state = (), None

    def __init__(self, *args):
        self.args = args

    def __setstate__(self, state):
        self.state = state


class _Tensor:
    def __init__(self, storage, offset, size, stride, *_):
        self.key, self.layout = storage, (offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return _Tensor if name.startswith("_rebuild_tensor") else type(name, (_Stub,), {})

    def persistent_load(self, pid):
        return pid[2]  # ('storage', type, key, device, numel)


def _archive(blob):
    """(zip, unpickled data.pkl) of a LibTorch archive, without torch."""
    z = zipfile.ZipFile(io.BytesIO(blob))
    prefix = next(n for n in z.namelist() if n.endswith("/data.pkl"))[: -len("data.pkl")]
    root = _Unpickler(io.BytesIO(z.read(prefix + "data.pkl"))).load()
    return (lambda t: (t.layout, z.read(prefix + "data/" + t.key))), root


def _fields(obj):
    """The dict inside a pickled module (its state) or a typed dict (restore_type_tag(dict, type))."""
    if isinstance(obj, _Stub):
        return obj.state if isinstance(obj.state, dict) else obj.args[0]
    return obj


def _plain(obj, tensor):
    """Pickled modules and tensors as plain dicts and (layout, bytes), to compare by value."""
    if isinstance(obj, _Tensor):
        return tensor(obj)
    if isinstance(obj, _Stub):
        obj = _fields(obj)
    if isinstance(obj, dict):
        return {k: _plain(v, tensor) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, tensor) for v in obj]
    return obj


def checkpoint_contents(path):
    """{name: value} of a pgl checkpoint: every model tensor, the RNG state, the step, and the optimiser
    state keyed by (group, position of the parameter). LibTorch keys optimiser state by the parameter's
    address in memory, which differs between processes, so the archive's bytes are not compared as such."""
    with open(path, "rb") as f:
        tensor, root = _archive(f.read())
    root = _fields(root)
    found = {"step": json.loads(root["meta"])["step"]}
    for name, t in _fields(root["state"]).items():
        found["state/" + name] = tensor(t)
    if "torch_rng" in root:
        found["torch_rng"] = tensor(root["torch_rng"])
    if "optimizer" in root:
        inner, optimiser = _archive(tensor(root["optimizer"])[1])
        fields = _fields(optimiser)
        state = {k: _fields(v) for k, v in _fields(fields["state"]).items()}
        groups = {k: _fields(v) for k, v in _fields(fields["param_groups"]).items() if "/" in k and "size" not in k}
        for g, group in groups.items():
            for key, value in group.items():
                if key.startswith("params/") and key != "params/size":
                    for name, t in state.get(value, {}).items():
                        found[f"optimizer/{g}/{key}/{name}"] = _plain(t, inner)
                elif key != "params/size":
                    found[f"optimizer/{g}/{key}"] = _plain(value, inner)
    return found


def tensors(folder):
    """{(checkpoint, name): value} of every final.pt under folder."""
    found = {}
    for root, _, files in os.walk(folder):
        if "final.pt" in files:
            path = os.path.join(root, "final.pt")
            for name, value in checkpoint_contents(path).items():
                found[(os.path.relpath(path, folder), name)] = value
    return found


def compare(reference, resumed):
    problems = []
    a, b = losses(reference), losses(resumed)
    if a.keys() != b.keys():
        problems.append(f"metrics lines differ: {len(a)} in the reference, {len(b)} after the kills")
    problems += [f"{k[0]} step {k[1]}: {a[k]} != {b[k]}" for k in a.keys() & b.keys() if a[k] != b[k]]
    a, b = tensors(reference), tensors(resumed)
    if not a:
        problems.append("no final checkpoint in the reference")
    if a.keys() != b.keys():
        problems.append(f"checkpoint tensors differ in number: {len(a)} against {len(b)}")
    problems += [f"{k[0]} {k[1]} differs" for k in a.keys() & b.keys() if a[k] != b[k]]
    for name in ["results.csv"]:
        x, y = os.path.join(reference, name), os.path.join(resumed, name)
        if os.path.exists(x) and (not os.path.exists(y) or open(x).read() != open(y).read()):
            problems.append(f"{name} differs")
    return problems, len(a)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pgl", default="build/apps/pgl/pgl")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--commands", default="pretrain,finetune,experiment")
    parser.add_argument("--work", help="Working folder (default: a temporary one, removed on success)")
    parser.add_argument("--seed", type=int, default=1)
    o = parser.parse_args()
    pgl = os.path.abspath(o.pgl)
    rng = random.Random(o.seed)
    work = o.work or tempfile.mkdtemp(prefix="pgl-kill-")
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "pgl.log")
    data, unlabeled = os.path.join(work, "spleen"), os.path.join(work, "unlabeled")
    if not os.path.exists(os.path.join(data, "dataset.json")):
        for args in (["--cases", "6", "--seed", "7", "--out", data],
                     ["--cases", "3", "--seed", "8", "--unlabeled", "--out", unlabeled]):
            if run(pgl, ["phantom", "--task", "spleen"] + args, log) != 0:
                sys.exit(f"phantom failed; see {log}")
    failures = 0
    for name in o.commands.split(","):
        args, resume = commands(data, unlabeled)[name]
        reference, resumed = os.path.join(work, name + "-reference"), os.path.join(work, name + "-killed")
        for folder in (reference, resumed):
            shutil.rmtree(folder, ignore_errors=True)
        # The reference run, timed: its start-up (until the first metrics.jsonl appears) and its whole length.
        start = time.monotonic()
        with open(log, "a") as out:
            p = subprocess.Popen([pgl] + args + ["--out", reference, "--cache", reference + "-cache"], stdout=out,
                                 stderr=subprocess.STDOUT)
        startup = None
        while p.poll() is None:
            if startup is None and any("metrics.jsonl" in files for _, _, files in os.walk(reference)):
                startup = time.monotonic() - start
            time.sleep(0.01)
        if p.returncode != 0:
            sys.exit(f"{name}: the reference run failed; see {log}")
        duration = time.monotonic() - start
        startup = min(startup if startup is not None else 0.0, duration)
        outcomes, broken = [], []

        def rerun():  # --resume once the run folder has its config (experiment: the same command)
            started = os.path.exists(os.path.join(resumed, "config.json"))
            return args + ["--out", resumed, "--cache", resumed + "-cache"] + (resume if started else [])

        for k in range(o.kills):
            # Spread over the run: each attempt lives through the start-up and then on average about 1/kills
            # of the training, so that the kills fall from the first preprocessing to the last steps.
            deadline = rng.uniform(0.2, startup + 1.5 * (duration - startup) / o.kills)
            outcome = killed_run(pgl, rerun(), log, deadline, on_write=k % 2 == 1)
            outcomes.append(outcome)
            if outcome == "finished":
                break
            for folder in (resumed, resumed + "-cache"):
                broken += scan(folder)[1]
        if outcomes[-1] != "finished" and run(pgl, rerun(), log) != 0:
            sys.exit(f"{name}: resuming after the kills failed; see {log}")
        problems, checkpoints = compare(reference, resumed)
        problems += [f"{path}: {why}" for path, why in broken]
        leftover = scan(resumed)[0]
        kills = sum(o_.startswith("killed") for o_ in outcomes)
        in_write = sum(o_ == "killed in a write" for o_ in outcomes)
        print(f"{name}: {kills} kills ({in_write} in the middle of a write), reference {duration:.1f} s, "
              f"{checkpoints} tensors compared, {len(leftover)} temporary files left, "
              f"{'bit-identical' if not problems else 'DIFFERENT'}")
        for p in problems[:20]:
            print("  " + p)
        failures += bool(problems) or kills < o.kills
        if kills < o.kills:
            print(f"  only {kills} kills: the run finished before the rest")
    print("all bit-identical" if not failures else f"{failures} command(s) failed")
    if not failures and not o.work:
        shutil.rmtree(work)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
