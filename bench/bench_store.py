"""Benchmark: the local store under 4 processes x 200 mixed operations: nothing lost, corrupted, left over.

Each process adds, replaces (also secrets that share one multi-document file), removes, lists, reads and
imports (all-or-nothing, some with a broken document) on names of its own and on names shared by all
(tests/store_stress.py, also run by tests/test_store_concurrency.py with fewer operations). Baseline: the
same operations from 1 process. Each is run 3 times; rates are medians (the machine is shared). Then a writer
is SIGKILLed between writing its temp file and renaming it, 10 times: the next write must remove them all.

Run: .venv/bin/python bench/bench_store.py [OPERATIONS_PER_PROCESS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import store_stress  # noqa: E402

from kfp_nbsecrets.sources.store import LocalStore  # noqa: E402

WORKERS = 4
RUNS = 3
KILLS = 10
KILLED_WRITER = """
import os, sys, time
from kfp_nbsecrets.sources.store import LocalStore

def hang_before_rename(source, target):
    print("writing", flush=True)
    time.sleep(60)

os.replace = hang_before_rename
LocalStore(sys.argv[1]).add("db", {"k": "new"}, replace=True)
"""


def stress(workers: int, operations: int, run: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        return store_stress.run(Path(scratch) / "store", workers, operations, seed_value=19 + 100 * run)


def kills() -> tuple[int, int]:
    """SIGKILL writers mid-write; (temp files seen after the kills, temp files left after the next write)."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "store"
        store = LocalStore(directory)
        store.add("db", {"k": "old"})
        seen = 0
        for _ in range(KILLS):
            child = subprocess.Popen(
                [sys.executable, "-c", KILLED_WRITER, str(directory)], stdout=subprocess.PIPE, text=True
            )
            child.stdout.readline()
            child.kill()
            child.wait(timeout=10)
            child.stdout.close()
            seen += len(list(directory.glob(".tmp-*")))
        store.add("db", {"k": "after"}, replace=True)
        return seen, len(list(directory.glob(".tmp-*")))


def problem_counts(results: list[dict]) -> dict[str, int]:
    """Problems of every kind, summed over the runs."""
    kinds = ("lost", "corrupt", "raw", "unexpected", "mode", "temp")
    return {kind: sum(len(result["problems"].get(kind, [])) for result in results) for kind in kinds}


def median_rate(results: list[dict]) -> float:
    return statistics.median(result["ops_per_second"] for result in results)


def main() -> int:
    operations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    single = [stress(1, WORKERS * operations, run) for run in range(RUNS)]
    many = [stress(WORKERS, operations, run) for run in range(RUNS)]
    counts, baseline_counts = problem_counts(many), problem_counts(single)
    kinds: dict[str, int] = {}
    for result in many:
        for kind, count in result["counts"].items():
            kinds[kind] = kinds.get(kind, 0) + count
    print(f"operations by kind ({RUNS} runs x {WORKERS} processes): "
          + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
    print(f"baseline, 1 process x {WORKERS * operations} operations: median {median_rate(single):.0f} ops/s;"
          f" problems {sum(baseline_counts.values())}")
    print(
        f"store stress {WORKERS} processes x {operations} mixed operations, {RUNS} runs:"
        f" median {median_rate(many):.0f} ops/s (ratio {median_rate(many) / median_rate(single):.2f} against"
        f" 1 process); lost updates {counts['lost']}, corruptions {counts['corrupt']}, raw exceptions"
        f" {counts['raw']}, unexpected outcomes {counts['unexpected']}, files not 0600 {counts['mode']},"
        f" temp files left {counts['temp']} (goal: all 0)"
    )
    seen, left = kills()
    print(f"store kill safety: {KILLS} writers SIGKILLed mid-write left {seen} temp files in turn;"
          f" after the next write {left} left (goal: 0)")
    for result in many + single:
        for kind, found in result["problems"].items():
            for problem in found[:5]:
                print(f"  {kind}: {problem}")
    return 1 if any(counts.values()) or any(baseline_counts.values()) or left else 0


if __name__ == "__main__":
    raise SystemExit(main())
