"""Stress the local store from several processes at once, then check that nothing was lost or corrupted.

Used by tests/test_store_concurrency.py and bench/bench_store.py. Each worker process owns some names (only it
writes them, so it always knows their exact state: a wrong read is a lost update) and shares others with every
worker. Every successful change of a shared name is logged with its CLOCK_MONOTONIC interval (system-wide on
Linux), so the final state of a shared name can be checked against the changes that could have come last.
Values are ``w<worker>-<op>-<random>``: a value of any other shape is a corruption.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import queue
import random
import re
import secrets
import stat
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kfp_nbsecrets.errors import KfpNbSecretsError
from kfp_nbsecrets.sources import SecretNotFound, StoreFormatError
from kfp_nbsecrets.sources.errors import SecretExistsError
from kfp_nbsecrets.sources.store import LocalStore

SHARED = ("shared-0", "shared-1", "shared-2")
MULTI_FILE = "team.yaml"
VALUE = re.compile(r"w\d+-\d+-[0-9a-f]{8}")
OPERATIONS = {"add": 3, "replace-multi": 2, "rm": 2, "list": 2, "read": 2, "import": 2, "import-broken": 1}


def owned_names(worker: int) -> tuple[str, ...]:
    """Names only ``worker`` writes: two in their own files, one in the multi-document file shared by all."""
    return (f"w{worker}-a", f"w{worker}-b", f"w{worker}-multi")


def seed(directory: Path, workers: int) -> None:
    """A private store whose hand-written multi-document file holds one secret per worker."""
    directory.mkdir(mode=0o700, parents=True)
    documents = [
        f"kind: Secret\nmetadata: {{name: w{worker}-multi}}\nstringData: {{k: w{worker}-0-00000000}}\n"
        for worker in range(workers)
    ]
    path = directory / MULTI_FILE
    path.write_text("# one file, many secrets\n" + "---\n".join(documents))
    path.chmod(0o600)


def _manifest(documents: list[tuple[str, str]], broken: bool) -> str:
    texts = [
        f"kind: Secret\nmetadata: {{name: {name}}}\ndata: {{k: {base64.b64encode(value.encode()).decode()}}}"
        for name, value in documents
    ]
    if broken:
        texts.append("kind: Secret\nmetadata: {name: broken}\ndata: {k: 'not base64!'}\n")
    return "\n---\n".join(texts)


def worker(index: int, directory: str, operations: int, seed_value: int, barrier: Any, results: Any) -> None:
    """Run ``operations`` random operations on the store; put a report (counts, problems, logs) on results."""
    rng = random.Random(seed_value)
    store = LocalStore(directory)
    own = owned_names(index)
    expected: dict[str, str | None] = {name: None for name in own}
    expected[own[2]] = f"w{index}-0-00000000"
    changes: list[tuple[str, str | None, int, int]] = []  # shared name, value (None: removed), start, end
    shared_reads: list[str] = []
    counts: Counter[str] = Counter()
    problems: dict[str, list[str]] = {"lost": [], "corrupt": [], "raw": [], "unexpected": []}
    scratch = Path(tempfile.mkdtemp(prefix=f"stress-w{index}-"))
    kinds = [kind for kind, weight in OPERATIONS.items() for _ in range(weight)]
    barrier.wait()
    started = time.monotonic()
    for number in range(1, operations + 1):
        kind = rng.choice(kinds)
        value = f"w{index}-{number}-{secrets.token_hex(4)}"
        name = (
            rng.choice((own if kind == "read" else own[:2]) + SHARED)
            if kind in ("add", "rm", "read")
            else rng.choice(SHARED)
        )
        mine = name in own
        replace = rng.random() < 0.6
        begin = time.monotonic_ns()
        try:
            if kind == "add":
                store.add(name, {"k": value}, replace=replace)
                if mine and expected[name] is not None and not replace:
                    problems["unexpected"].append(
                        f"add {name} without replace succeeded over an existing one"
                    )
                if mine:
                    expected[name] = value
                else:
                    changes.append((name, value, begin, time.monotonic_ns()))
            elif kind == "replace-multi":
                store.add(own[2], {"k": value}, replace=True)
                expected[own[2]] = value
            elif kind == "rm":
                store.remove(name)
                if mine:
                    if expected[name] is None:
                        problems["unexpected"].append(f"rm {name} succeeded but it did not exist")
                    expected[name] = None
                else:
                    changes.append((name, None, begin, time.monotonic_ns()))
            elif kind == "list":
                present = {info.name for info in store.list_secrets(include_system=True)}
                for owned in own:
                    if (owned in present) != (expected[owned] is not None):
                        problems["lost"].append(
                            f"list shows {owned} {'present' if owned in present else 'absent'}"
                        )
            elif kind == "read":
                try:
                    got = store.read_values_for_local_run(name)["k"].decode()
                except SecretNotFound:
                    got = None
                if mine and got != expected[name]:
                    problems["lost"].append(f"read {name}: expected {expected[name]}, got {got}")
                elif got is not None and not VALUE.fullmatch(got):
                    problems["corrupt"].append(f"read {name}: malformed value")
                elif got is not None and not mine:
                    shared_reads.append(got)
            else:  # import, import-broken: one owned name, one shared name, maybe a broken third document
                target = rng.choice(own)
                path = scratch / f"import-{number}.yaml"
                path.write_text(_manifest([(target, value), (name, value)], broken=kind == "import-broken"))
                try:
                    store.import_manifest(path, replace=replace)
                finally:
                    path.unlink()
                if kind == "import-broken":
                    problems["unexpected"].append("an import with a broken document succeeded")
                expected[target] = value
                changes.append((name, value, begin, time.monotonic_ns()))
            counts[kind] += 1
        except SecretExistsError:
            counts[f"{kind} refused: exists"] += 1
            if replace:
                problems["unexpected"].append(f"{kind} {name} with replace=True refused as existing")
        except SecretNotFound:
            counts[f"{kind} refused: not found"] += 1
            if mine and kind == "rm" and expected[name] is not None:
                problems["lost"].append(f"rm {name}: not found but it was written")
        except StoreFormatError as error:
            if kind == "import-broken" and "not valid base64" in str(error):
                counts[f"{kind} refused: broken"] += 1
            else:
                problems["corrupt"].append(f"{kind} {name}: {error}")
        except KfpNbSecretsError as error:
            problems["unexpected"].append(f"{kind} {name}: {type(error).__name__}: {error}")
        except Exception as error:  # the process boundary: count it, report its type, go on
            problems["raw"].append(f"{kind} {name}: {type(error).__name__}: {error}")
    finished = time.monotonic()
    scratch.rmdir()
    results.put(
        {
            "worker": index,
            "counts": counts,
            "problems": problems,
            "expected": expected,
            "changes": changes,
            "shared_reads": shared_reads,
            "started": started,
            "finished": finished,
        }
    )


def _final_candidates(changes: list[tuple[str, str | None, int, int]]) -> set[str | None]:
    """The states a name may end in: those of the changes that no other change surely followed."""
    if not changes:
        return {None}
    return {value for _, value, _, end in changes if not any(start > end for _, _, start, _ in changes)}


def check_store(directory: Path, reports: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Compare the store's final state with every worker's expectations; check files and their modes."""
    problems: dict[str, list[str]] = {"lost": [], "corrupt": [], "raw": [], "mode": [], "temp": []}
    store = LocalStore(directory)
    try:
        final = {
            info.name: store.read_values_for_local_run(info.name)["k"].decode()
            for info in store.list_secrets(include_system=True)
        }
    except KfpNbSecretsError as error:
        problems["corrupt"].append(f"final listing: {error}")
        return problems
    for report in reports:
        for name, value in report["expected"].items():
            if final.get(name) != value:
                problems["lost"].append(f"final {name}: expected {value}, found {final.get(name)}")
    written = {value for report in reports for _, value, _, _ in report["changes"]}
    for name in SHARED:
        changes = [change for report in reports for change in report["changes"] if change[0] == name]
        if final.get(name) not in _final_candidates(changes):
            problems["lost"].append(f"final {name}: {final.get(name)} is not the last change")
    for report in reports:
        problems["corrupt"] += [
            f"read a shared value nobody wrote: {value}"
            for value in report["shared_reads"]
            if value not in written
        ]
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        problems["mode"].append(f"{directory}: {stat.S_IMODE(directory.stat().st_mode):o}")
    for entry in os.scandir(directory):
        info = entry.stat(follow_symlinks=False)
        if entry.name.startswith(".tmp-"):
            problems["temp"].append(entry.name)
        if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != 0o600:
            problems["mode"].append(f"{entry.name}: {stat.S_IMODE(info.st_mode):o}")
    return problems


def run(
    directory: Path, workers: int = 4, operations: int = 200, seed_value: int = 19, timeout: float = 300
) -> dict[str, Any]:
    """Seed a store, run ``workers`` processes of ``operations`` each, check it; the figures and problems."""
    seed(directory, workers)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(
            target=worker, args=(index, str(directory), operations, seed_value + index, barrier, results)
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    reports, deadline = [], time.monotonic() + timeout
    try:
        while len(reports) < workers and time.monotonic() < deadline:
            if not any(process.is_alive() for process in processes) and results.empty():
                break
            try:
                reports.append(results.get(timeout=0.5))
            except queue.Empty:
                continue
    finally:
        for process in processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
    problems = check_store(directory, reports)
    for report in reports:
        for kind, found in report["problems"].items():
            problems.setdefault(kind, []).extend(found)
    if len(reports) < workers:
        problems.setdefault("raw", []).append(f"only {len(reports)} of {workers} workers reported")
    counts: Counter[str] = Counter()
    for report in reports:
        counts.update(report["counts"])
    elapsed = max((r["finished"] for r in reports), default=0.0) - min(
        (r["started"] for r in reports), default=0.0
    )
    total = workers * operations
    return {
        "operations": total,
        "seconds": elapsed,
        "ops_per_second": total / elapsed if elapsed else 0.0,
        "counts": dict(counts),
        "problems": problems,
    }
