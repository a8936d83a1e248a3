"""Benchmark: a 20-task pipeline run with secrets (run_local) vs. plain kfp.local (secrets ignored).

Both runs use kfp.local's SubprocessRunner without a venv, in the same process, alternating, and
the medians are compared (goal: ratio <= 1.10). On a machine shared with other jobs the wall
medians move by +-20% between invocations, so the CPU time of each run (this process and the task
processes, from getrusage) is compared too: it hardly depends on other load. Every task has one
env secret; every second task also mounts a secret volume (bubblewrap); run_local also runs each
task in its own process group, masks values in its output and kills the group when the task ends.
Usage: ``.venv/bin/python bench/bench_local.py [repeats]``.
"""

import contextlib
import io
import logging
import os
import resource
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


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(call) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    sink = io.StringIO()
    start, cpu = time.perf_counter(), _cpu()
    with contextlib.redirect_stdout(sink):
        call()
    return time.perf_counter() - start, _cpu() - cpu


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
    plain_runs, secret_runs = [], []
    for _ in range(repeats):
        plain_runs.append(_timed(plain))
        secret_runs.append(_timed(with_secrets))
    plain_times, secret_times = [wall for wall, _ in plain_runs], [wall for wall, _ in secret_runs]
    plain_median, secret_median = statistics.median(plain_times), statistics.median(secret_times)
    plain_cpu = statistics.median(cpu for _, cpu in plain_runs)
    secret_cpu = statistics.median(cpu for _, cpu in secret_runs)
    print(f"{TASKS} tasks, {repeats} runs each (median), cpus={os.cpu_count()}")
    print(f"plain kfp.local (secrets ignored): {plain_median:.3f} s  runs={_rounded(plain_times)}")
    print(f"run_local with secrets:            {secret_median:.3f} s  runs={_rounded(secret_times)}")
    print(f"ratio: {secret_median / plain_median:.3f}x (goal <= 1.10x)")
    print(f"cpu: plain {plain_cpu:.3f} s, run_local {secret_cpu:.3f} s, ratio {secret_cpu / plain_cpu:.3f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
