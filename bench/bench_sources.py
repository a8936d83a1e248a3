"""Benchmark: list 5,000 secrets through the Kubernetes source on loopback; prove no value stays in memory.

The emulator (kmock, tests/kube_emulator.py) runs in a child process, so this process holds only what the
client side keeps. Values are canaries sent to the child over stdin; after listing, every object the garbage
collector can reach is scanned for them (raw and base64-encoded).

Run: .venv/bin/python bench/bench_sources.py
"""

from __future__ import annotations

import base64
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_COUNT = 5_000
GOAL_SECONDS = 1.0
RUNS = 5
NAMESPACE = "bench"

CHILD = """
import sys
sys.path.insert(0, {tests!r})
from kube_emulator import KubeEmulator, secret_manifest
needle = sys.stdin.readline().strip()
emulator = KubeEmulator().start()
emulator.add_secrets([
    secret_manifest(f"secret-{{i:05d}}", {namespace!r},
                    {{"username": f"{{needle}}-u{{i}}", "password": f"{{needle}}-p{{i}}"}},
                    labels={{"app": "bench"}})
    for i in range({count})
])
print(emulator.url, flush=True)
sys.stdin.read()
emulator.stop()
"""


def start_emulator(needle: str) -> tuple[subprocess.Popen[str], str]:
    code = CHILD.format(tests=str(ROOT / "tests"), namespace=NAMESPACE, count=SECRET_COUNT)
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(needle + "\n")
    child.stdin.flush()
    url = child.stdout.readline().strip()
    if not url:
        child.kill()
        raise SystemExit("the emulator did not start")
    return child, url


def objects_holding(needles: list[object]) -> int:
    """How many str/bytes reachable from gc-tracked objects contain a needle (the needles excluded)."""
    gc.collect()
    texts = [needle for needle in needles if isinstance(needle, str)]
    blobs = [needle for needle in needles if isinstance(needle, bytes)]
    excluded = {id(needle) for needle in needles}
    seen: set[int] = set()
    found = 0
    pending = list(gc.get_objects())
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            found += id(obj) not in excluded and any(text in obj for text in texts)
        elif isinstance(obj, bytes | bytearray):
            found += id(obj) not in excluded and any(blob in obj for blob in blobs)
        elif obj is not needles:
            pending.extend(gc.get_referents(obj))
    return found


def main() -> None:
    needle = f"cnry{uuid.uuid4().hex}"  # 36 characters: its base64 form is a prefix of every value's
    needle_b64 = base64.b64encode(needle.encode()).decode()
    needles: list[object] = [needle, needle_b64, needle.encode(), needle_b64.encode()]

    child, url = start_emulator(needle)
    workdir = Path(tempfile.mkdtemp(prefix="bench-sources-"))
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        import yaml
        from kube_emulator import kubeconfig  # the tests directory is not a package

        config = workdir / "kubeconfig"
        config.write_text(yaml.safe_dump(kubeconfig(url, NAMESPACE, "bench")))
        os.environ["KUBECONFIG"] = str(config)
        from kfp_nbsecrets.sources.kube import KubernetesSource

        KubernetesSource().list_secrets()  # warm-up: imports, connection
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            source = KubernetesSource()  # end to end: kubeconfig loading included
            infos = source.list_secrets()
            timings.append(time.perf_counter() - started)
            assert len(infos) == SECRET_COUNT and infos[0].keys == ("password", "username")
        pages = -(-SECRET_COUNT // source.page_size)

        del infos
        gc.collect()
        tracemalloc.start()
        infos = KubernetesSource().list_secrets()
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        holders = objects_holding(needles)
        control_values = source.read_values_for_local_run(infos[0].name)
        control = objects_holding(needles)  # the scan must see the values a local run holds
        del control_values

        from kubernetes import client

        api = client.CoreV1Api(source._api.api_client)
        started = time.perf_counter()
        models = api.list_namespaced_secret(NAMESPACE)
        model_seconds = time.perf_counter() - started
        assert len(models.items) == SECRET_COUNT
        del models, api
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()

    best, median = min(timings), statistics.median(timings)
    print(f"list {SECRET_COUNT} secrets via the Kubernetes source (kmock emulator on loopback, {pages} pages"
          f" of {source.page_size}, kubeconfig loading included), {RUNS} runs:")
    print(f"  best   {best:.3f} s   ratio to the {GOAL_SECONDS:g} s goal: {best / GOAL_SECONDS:.2f}")
    print(f"  median {median:.3f} s   ratio to the {GOAL_SECONDS:g} s goal: {median / GOAL_SECONDS:.2f}")
    print(f"  for comparison, one unpaginated list through the client's typed models: {model_seconds:.3f} s")
    print(f"memory (tracemalloc, one listing): peak {peak / 1e6:.1f} MB, retained {retained / 1e6:.1f} MB"
          f" ({retained / SECRET_COUNT:.0f} bytes per SecretInfo)")
    print(f"objects holding a secret value after listing (gc scan, raw + base64): {holders}"
          f" (control: {control} while values read for a local run are alive)")
    if median > GOAL_SECONDS or holders or not control:
        raise SystemExit("FAILED: over the time goal, values left in memory, or a blind memory scan")


if __name__ == "__main__":
    main()
