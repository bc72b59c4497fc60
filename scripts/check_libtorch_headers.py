#!/usr/bin/env python3
"""Compile every LibTorch-using source of a configured build against another LibTorch's headers
(-fsyntax-only), to catch API differences without that LibTorch's libraries or a GPU (docs/scaling.md).

    scripts/check_libtorch_headers.py BUILD_DIR TORCH_INCLUDE_DIR [JOBS]

TORCH_INCLUDE_DIR holds ATen/, c10/ and torch/ (e.g. the include folder of Debian trixie's libtorch-dev
2.6, unpacked with dpkg-deb -x). Prints ok/FAIL per file and the first errors; exits 1 if any file fails.
"""
import concurrent.futures
import json
import re
import subprocess
import sys

build, include = sys.argv[1], sys.argv[2]
jobs_count = int(sys.argv[3]) if len(sys.argv) > 3 else 2
extra = f"-isystem {include} -isystem {include}/torch/csrc/api/include "
jobs = set()
for entry in json.load(open(f"{build}/compile_commands.json")):
    command = entry["command"]
    if "pgl_torch_pch" not in command:  # only the translation units that include LibTorch
        continue
    command = re.sub(r"-include \S+cmake_pch.hxx", "-include torch/torch.h", command)
    command = command.replace("-Winvalid-pch", "")
    command = re.sub(r" -o \S+ -c ", " -fsyntax-only ", command)
    compiler, rest = command.split(" ", 1)
    jobs.add((entry["file"], f"{compiler} {extra}{rest}"))
print(len(jobs), "files", flush=True)


def check(job):
    result = subprocess.run(job[1], shell=True, capture_output=True, text=True, cwd=build)
    return job[0], result.returncode, result.stderr


failed = 0
with concurrent.futures.ThreadPoolExecutor(jobs_count) as pool:
    for path, status, errors in pool.map(check, sorted(jobs)):
        print(("FAIL " if status else "ok   ") + path, flush=True)
        if status:
            failed += 1
            print("\n".join([line for line in errors.splitlines() if "error" in line][:15]), flush=True)
print("failed", failed)
sys.exit(1 if failed else 0)
