#!/usr/bin/env python3
"""Two seeds of one experiment cell, compared the way summary.md compares methods: the mean Dice of each seed,
the paired difference over test cases with its 95% CI and t, and the per-class Dice of each seed.

    python3 bench/seed_pair.py EXP METHOD FRACTION SEED_A SEED_B   # e.g. exp/openkbp-seeds random 0.1 0 1
"""
import collections
import csv
import math
import sys

T975 = {32: 2.036933}  # t(0.975, df); other df fall back to the normal quantile


def main(exp, method, fraction, seed_a, seed_b):
    case = collections.defaultdict(list)
    per_class = collections.defaultdict(list)
    with open(f"{exp}/results.csv") as f:
        for r in csv.DictReader(f):
            if r["method"] != method or r["fraction"] != fraction or r["dice"] in ("", "nan", "NaN"):
                continue
            case[(r["seed"], r["case"])].append(float(r["dice"]))
            per_class[(r["seed"], r["class_name"])].append(float(r["dice"]))
    score = {k: sum(v) / len(v) for k, v in case.items()}
    ids = sorted({c for s, c in score if (seed_a, c) in score and (seed_b, c) in score})
    d = [score[(seed_b, c)] - score[(seed_a, c)] for c in ids]
    n = len(d)
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    half = T975.get(n - 1, 1.959964) * sd / math.sqrt(n)
    for s in (seed_a, seed_b):
        print(f"seed {s}: Dice {100 * sum(score[(s, c)] for c in ids) / n:.2f} over {n} cases")
    print(f"seed {seed_b} - seed {seed_a}: {100 * mean:+.2f} points, 95% CI [{100 * (mean - half):+.2f}, "
          f"{100 * (mean + half):+.2f}], t = {mean / (sd / math.sqrt(n)):.2f}")
    for name in sorted({k[1] for k in per_class}):
        row = [per_class.get((s, name), []) for s in (seed_a, seed_b)]
        print(f"  {name:14s}" + "".join(f" seed {s}: {100 * sum(v) / len(v):6.2f}" if v else f" seed {s}:      -"
                                       for s, v in zip((seed_a, seed_b), row)))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
