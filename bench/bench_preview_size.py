"""Benchmark: bytes one preview stores in a notebook, per MIME type and in all, against the compiled YAML.

For a 10-task and a 1000-task pipeline (each task with one parameterized env secret, as in
``bench_ir.py``), and the nested 1000-task pipeline of ``bench_renderer.py`` (loops, conditions):
each MIME type of ``preview(pipeline)._repr_mimebundle_()`` is measured as nbformat stores it (JSON
text, UTF-8), and divided by the bytes of the YAML ``kfp.compiler.Compiler`` writes for the same
pipeline. Goal: all MIME types together at most 1.0x the compiled YAML. The time to build the
``text/html`` fallback (SVG layout included) is printed too.

Run: .venv/bin/python bench/bench_preview_size.py
"""

import json
import os
import sys
import tempfile
import time
import warnings

from kfp import compiler

sys.path.insert(0, os.path.dirname(__file__))
from bench_ir import defined_pipeline  # noqa: E402
from bench_renderer import big_pipeline  # noqa: E402

from kfp_nbsecrets.display import IR_MIME_TYPE, preview  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
GOAL = 1.0


def yaml_bytes(pipeline) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pipeline.yaml")
        compiler.Compiler().compile(pipeline, path)
        return os.path.getsize(path)


def measure(label: str, pipeline) -> dict:
    compiled = yaml_bytes(pipeline)
    shown = preview(pipeline)
    started = time.perf_counter()
    shown.html()
    html_seconds = time.perf_counter() - started
    bundle = shown._repr_mimebundle_()
    sizes = {mime: len(json.dumps(value).encode()) for mime, value in bundle.items()}
    total = sum(sizes.values())
    print(f"{label}: compiled YAML {compiled / 1e6:.3f} MB; text/html built in {html_seconds:.2f} s")
    for mime, size in sizes.items():
        print(f"    {mime:55s} {size / 1e6:8.3f} MB  {size / compiled:5.2f}x")
    verdict = "meets" if total / compiled <= GOAL else "MISSES"
    print(f"{label}: all MIME types {total / 1e6:.3f} MB = {total / compiled:.2f}x the compiled YAML"
          f" ({verdict} the goal of {GOAL:.1f}x); html {sizes.get('text/html', 0) / compiled:.2f}x,"
          f" payload {sizes[IR_MIME_TYPE] / compiled:.2f}x")
    return {"total": total / compiled, **{mime: size / compiled for mime, size in sizes.items()}}


def main() -> int:
    measure("10 tasks", defined_pipeline(10))
    measure("1000 tasks", defined_pipeline(1000))
    measure("1000 tasks nested", big_pipeline())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
