# Per-op totals of a Chrome trace written by `pgl pretrain|finetune --profile FILE` (LibTorch's legacy
# profiler: one complete event per op call, nested by time on each thread).
# Usage: /usr/bin/python3 bench/profile_summary.py FILE [TOP=25]
# Self time is an op's duration minus that of the ops it called; "outside any op" is the traced span not
# covered by a top-level op (pgl's own code, waits, the Python-free glue between calls).
import json
import sys
from collections import defaultdict


def load(path):
    text = open(path).read().strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # some LibTorch versions leave a comma before the closing bracket
        return json.loads(text.rstrip("]").rstrip().rstrip(",") + "]")


def summarise(events):
    by_thread = defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e["tid"]].append(e)
    calls, self_us, total_us = defaultdict(int), defaultdict(float), defaultdict(float)
    top_level_us, span_us = 0.0, 0.0
    for thread in by_thread.values():
        thread.sort(key=lambda e: (e["ts"], -e["dur"]))
        span_us += thread[-1]["ts"] + thread[-1]["dur"] - thread[0]["ts"]
        stack = []  # open events: [end, name, children's time]
        for e in thread:
            while stack and e["ts"] >= stack[-1][0] - 1e-3:
                end, name, children, start = stack.pop()
                self_us[name] += (end - start) - children
            if stack:
                stack[-1][2] += e["dur"]
            else:
                top_level_us += e["dur"]
            if not any(s[1] == e["name"] for s in stack):  # inclusive time once per recursion
                total_us[e["name"]] += e["dur"]
            calls[e["name"]] += 1
            stack.append([e["ts"] + e["dur"], e["name"], 0.0, e["ts"]])
        while stack:
            end, name, children, start = stack.pop()
            self_us[name] += (end - start) - children
    return calls, self_us, total_us, top_level_us, span_us


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    calls, self_us, total_us, top_level_us, span_us = summarise(load(path))
    all_self = sum(self_us.values())
    print(f"{path}: {sum(calls.values())} op calls, {span_us / 1e3:.1f} ms traced, "
          f"{(span_us - top_level_us) / 1e3:.1f} ms outside any op")
    print(f"{'op':<52} {'calls':>7} {'self ms':>9} {'self %':>7} {'total ms':>9}")
    for name in sorted(self_us, key=self_us.get, reverse=True)[:top]:
        print(f"{name[:52]:<52} {calls[name]:>7} {self_us[name] / 1e3:>9.1f} "
              f"{100 * self_us[name] / all_self:>6.1f}% {total_us[name] / 1e3:>9.1f}")


if __name__ == "__main__":
    main()
