"""Run every benchmark under bench/ and print one table of their figures against their goals.

Each ``bench_*.py`` (load, ir, sources, local, picker, preview_size, renderer...) runs in its own
interpreter (so imports and caches do not leak between them);
its full output goes to ``out/bench.log``; every line it prints that names a goal becomes a row.
Usage: ``.venv/bin/python bench/run_all.py [NAME ...]`` (names like ``load`` or ``ir``).
"""

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOG = HERE.parent / "out" / "bench.log"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}),"
            f" Python {platform.python_version()}")


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    LOG.parent.mkdir(exist_ok=True)
    rows, failed = [], []
    with LOG.open("w") as log:
        for script in scripts:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=900)
            log.write(f"== {script.name} (exit {done.returncode}, {time.perf_counter() - started:.0f} s)\n")
            log.write(done.stdout + done.stderr + "\n")
            if done.returncode != 0:
                failed.append(script.name)
            rows += [(script.stem.removeprefix("bench_"), line.strip())
                     for line in done.stdout.splitlines() if "goal" in line]
    print(f"Measured on {machine()}, {time.strftime('%Y-%m-%d')}\n")
    print("| benchmark | figure (ratio against its goal or baseline) |\n|---|---|")
    for name, line in rows:
        print(f"| {name} | {line.replace('|', '/')} |")
    print(f"\nfull output: {LOG}")
    if failed:
        print(f"failed: {', '.join(failed)} (see the log)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
