"""Benchmark: a 20-task pipeline run with secrets (run_local) vs. plain kfp.local (secrets ignored).

Both runs use kfp.local's SubprocessRunner without a venv, in the same process, alternating, and
the medians are compared (goal: ratio <= 1.10). Every task has one env secret; every second task
also mounts a secret volume (bubblewrap). Usage: ``.venv/bin/python bench/bench_local.py [repeats]``.
"""

import contextlib
import io
import logging
import os
import statistics
import sys
import tempfile
import time

from kfp import dsl, local

from kfp_nbsecrets import attach
from kfp_nbsecrets.local_run import run_local
from kfp_nbsecrets.local_run.sandbox import sandbox_problem
from kfp_nbsecrets.sources.memory import MemorySource

TASKS = 20


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def use_secret(index: int, mount: str) -> str:
    import hashlib
    import os

    data = os.environ.get("TOKEN", "").encode()
    if mount and os.path.isdir(mount):
        for name in sorted(os.listdir(mount)):
            with open(os.path.join(mount, name), "rb") as handle:
                data += handle.read()
    return f"{index}:{hashlib.sha256(data).hexdigest()[:8]}"


@dsl.pipeline(name="bench-20")
def bench_pipeline(secret: str = "bench-token"):
    for index in range(TASKS):
        mount = f"/secrets/bench-{index}" if index % 2 else ""
        task = use_secret(index=index, mount=mount)
        attach.use_secret_as_env(task, secret, {"token": "TOKEN"})
        if mount:
            attach.use_secret_as_volume(task, secret, mount)


def _timed(call) -> float:
    sink = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        call()
    return time.perf_counter() - start


def _rounded(times: list[float]) -> list[float]:
    return [round(t, 3) for t in times]


def main(repeats: int = 5) -> None:
    logging.disable(logging.INFO)
    if problem := sandbox_problem():
        print(f"secret volumes unavailable here: {problem}")
        sys.exit(1)
    root = tempfile.mkdtemp(prefix="kfp-bench-")
    source = MemorySource({"bench-token": {"token": "bench-value", "extra": "x" * 64}})
    runner = local.SubprocessRunner(use_venv=False)
    local.init(runner=runner, pipeline_root=root)

    def plain():
        local.init(runner=runner, pipeline_root=root)
        bench_pipeline()

    def with_secrets():
        run_local(bench_pipeline, source=source, runner=runner, pipeline_root=root)

    _timed(plain)  # warm-up: imports, compiled spec, page cache
    _timed(with_secrets)
    plain_times, secret_times = [], []
    for _ in range(repeats):
        plain_times.append(_timed(plain))
        secret_times.append(_timed(with_secrets))
    plain_median, secret_median = statistics.median(plain_times), statistics.median(secret_times)
    print(f"{TASKS} tasks, {repeats} runs each (median), cpus={os.cpu_count()}")
    print(f"plain kfp.local (secrets ignored): {plain_median:.3f} s  runs={_rounded(plain_times)}")
    print(f"run_local with secrets:            {secret_median:.3f} s  runs={_rounded(secret_times)}")
    print(f"ratio: {secret_median / plain_median:.3f}x (goal <= 1.10x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
