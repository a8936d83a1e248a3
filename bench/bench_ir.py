"""Benchmarks of the compiled-IR model, measured side by side in one run.

1. preview (all three MIME types) of a 1000-task pipeline with 1000 secret bindings vs a bare
   ``kfp.compiler.Compiler().compile`` of the same pipeline (goal: at most 1.15x);
2. bind and inspect at 10,000 tasks vs 1,000 tasks (goal: at most 11x, i.e. linear).

Run: .venv/bin/python bench/bench_ir.py
"""

import copy
import gc
import os
import sys
import tempfile
import time
import warnings

from kfp import compiler, dsl, kubernetes

from kfp_nbsecrets import ir
from kfp_nbsecrets.bind import bind
from kfp_nbsecrets.display import preview

warnings.filterwarnings("ignore", category=FutureWarning)


@dsl.component(base_image="python:3.11")
def work(index: int) -> str:
    return str(index)


def defined_pipeline(tasks: int):
    """A pipeline function with ``tasks`` tasks, each with one parameterized env secret."""

    @dsl.pipeline(name="bench")
    def bench(secret_name: str = "db-creds"):
        for index in range(tasks):
            task = work(index=index)
            kubernetes.use_secret_as_env(task, secret_name, {"password": "DB_PASSWORD"})

    return bench


def generated_ir(tasks: int) -> ir.CompiledPipeline:
    """A compiled pipeline of ``tasks`` independent tasks, written as IR dicts directly."""
    seed = ir.load(defined_pipeline(1))
    spec, platform = seed.pipeline_spec, seed.platform_spec
    component, executor = spec["components"]["comp-work"], spec["deploymentSpec"]["executors"]["exec-work"]
    template = spec["root"]["dag"]["tasks"]["work"]
    config = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-work"]
    spec["components"], spec["deploymentSpec"]["executors"], spec["root"]["dag"]["tasks"] = {}, {}, {}
    platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"] = {}
    # sorted, as when the IR is loaded from compiled YAML (written with sorted keys): the dicts then
    # lie in memory in the order the model walks them
    for name in sorted(f"work-{index}" for index in range(tasks)):
        spec["components"][f"comp-{name}"] = {**component, "executorLabel": f"exec-{name}"}
        spec["deploymentSpec"]["executors"][f"exec-{name}"] = executor
        task = copy.deepcopy(template)
        task["taskInfo"]["name"] = name
        task["componentRef"]["name"] = f"comp-{name}"
        spec["root"]["dag"]["tasks"][name] = task
        platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"][f"exec-{name}"] = config
    return ir.load(seed)


def best_of(repeat: int, action) -> float:
    """The fastest of ``repeat`` runs, in seconds, with the garbage collector off (as timeit does)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
        finally:
            gc.enable()
    return min(times)


def preview_vs_compile() -> float:
    """Seconds of preview / seconds of compile, for a 1000-task pipeline with 1000 bindings."""
    started = time.perf_counter()
    pipeline = defined_pipeline(1000)
    print(f"defined a 1000-task pipeline with 1000 bindings in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.yaml")
        compile_time = best_of(3, lambda: compiler.Compiler().compile(pipeline, path))
    preview_time = best_of(3, lambda: preview(pipeline)._repr_mimebundle_())
    ratio = preview_time / compile_time
    print(f"compile {compile_time:.3f} s, preview {preview_time:.3f} s: {ratio:.2f}x (goal <= 1.15x)")
    return ratio


def large_vs_small() -> dict[str, float]:
    """Seconds at 10,000 tasks / seconds at 1,000 tasks, for inspect and bind."""
    small, large = generated_ir(1000), generated_ir(10_000)
    results = {}
    for what, action in (
        ("inspect", lambda source: ir.read_pipeline(source)),
        ("bind", lambda source: bind(source, "work-7", "other-creds", mount_path="/other")),
    ):
        small_time = best_of(3, lambda action=action: action(small))
        large_time = best_of(3, lambda action=action: action(large))
        results[what] = large_time / small_time
        print(f"{what}: 1,000 tasks {small_time:.3f} s, 10,000 tasks {large_time:.3f} s:"
              f" {results[what]:.1f}x (goal <= 11x)")
    return results


def main() -> int:
    ratio = preview_vs_compile()
    scaling = large_vs_small()
    return 0 if ratio <= 1.15 and all(value <= 11 for value in scaling.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
