"""Benchmark: list 5,000 secrets through the Kubernetes source on loopback: time, bytes received, values.

Baseline ("before"): the plain ``application/json`` list the source made until issue 18 (pages of 500, every
Secret with its values, key names taken from ``data``). Now ("after"): the source's own list, the server-side
Table form (metadata, type and key count per secret; no values). For each: time (kubeconfig loading
included), bytes of the answers' bodies received by the client, and how many secret values were in them.

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
RUNS = 9
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


class WireCounter:
    """Bytes of response bodies this process reads (urllib3), and how many canary values they hold."""

    def __init__(self, needle_b64: bytes) -> None:
        import urllib3.response

        self.response_class = urllib3.response.HTTPResponse
        self.original = self.response_class.read
        self.needle_b64 = needle_b64
        self.bytes = self.values = 0

    def __enter__(self) -> WireCounter:
        counter, original = self, self.original

        def read(response, *args, **kwargs):
            data = original(response, *args, **kwargs)
            counter.bytes += len(data)
            counter.values += data.count(counter.needle_b64)
            return data

        self.response_class.read = read
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.response_class.read = self.original


def plain_json_list(source) -> list:
    """The baseline: the plain JSON list the source made before issue 18, values and all."""
    import json

    from kfp_nbsecrets.sources.kube import _info_from_object

    infos, token = [], None
    while True:
        query = [("limit", source.page_size)] + ([("continue", token)] if token else [])
        response = source._api_client.call_api(
            "/api/v1/namespaces/{namespace}/secrets", "GET", path_params={"namespace": NAMESPACE},
            query_params=query, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
            _preload_content=False, _return_http_data_only=True, _request_timeout=(5, 5))
        page = json.loads(response.read())
        response.release_conn()
        infos.extend(_info_from_object(item) for item in page["items"])
        token = page["metadata"].get("continue")
        if not token:
            return infos


def measure(needle_b64: bytes, forms: dict) -> dict[str, tuple[list[float], int, int]]:
    """For each form: timings of RUNS end-to-end lists (the forms interleaved, so load changes hit both),
    and the bytes / values received by one more list."""
    from kfp_nbsecrets.sources.kube import KubernetesSource

    timings: dict[str, list[float]] = {label: [] for label in forms}
    for list_secrets in forms.values():
        list_secrets(KubernetesSource())  # warm-up: imports, connection
    for _ in range(RUNS):
        for label, list_secrets in forms.items():
            started = time.perf_counter()
            infos = list_secrets(KubernetesSource())  # end to end: kubeconfig loading included
            timings[label].append(time.perf_counter() - started)
            assert len(infos) == SECRET_COUNT and infos[0].key_count == 2
    results = {}
    for label, list_secrets in forms.items():
        with WireCounter(needle_b64) as wire:
            list_secrets(KubernetesSource())
        results[label] = (timings[label], wire.bytes, wire.values)
    return results


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

        forms = {"before: plain JSON list": plain_json_list,
                 "after: Table (metadata)": lambda source: source.list_secrets()}
        results = measure(needle_b64.encode(), forms)
        before, after = results.values()
        source = KubernetesSource()
        pages = -(-SECRET_COUNT // source.page_size)

        gc.collect()
        tracemalloc.start()
        infos = KubernetesSource().list_secrets()
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        holders = objects_holding(needles)
        control_values = source.read_values_for_local_run(infos[0].name)
        control = objects_holding(needles)  # the scan must see the values a local run holds
        del control_values
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()

    print(f"list {SECRET_COUNT} secrets via the Kubernetes source (kmock emulator on loopback, {pages} pages"
          f" of {source.page_size}, kubeconfig loading included), {RUNS} runs each:")
    print("  form                          best      median    bytes received   values in them")
    for label, (timings, size, values) in results.items():
        best, median = min(timings), statistics.median(timings)
        print(f"  {label:28s}  {best:.3f} s   {median:.3f} s   {size / 1e6:7.2f} MB"
              f"       {values}")
    time_ratio = statistics.median(after[0]) / statistics.median(before[0])
    print(f"  median time after/before: {time_ratio:.2f} (goal: no worse, <= 1 within noise);"
          f" bytes after/before: {after[1] / before[1]:.2f}; values on the wire after: {after[2]} (goal 0)")
    median = statistics.median(after[0])
    print(f"  median {median:.3f} s   ratio to the {GOAL_SECONDS:g} s goal: {median / GOAL_SECONDS:.2f}")
    print(f"memory (tracemalloc, one listing): peak {peak / 1e6:.1f} MB, retained {retained / 1e6:.1f} MB"
          f" ({retained / SECRET_COUNT:.0f} bytes per SecretInfo)")
    print(f"objects holding a secret value after listing (gc scan, raw + base64): {holders}"
          f" (control: {control} while values read for a local run are alive)")
    if median > GOAL_SECONDS or holders or not control or after[2] or not before[2]:
        raise SystemExit("FAILED: over the time goal, values on the wire or left in memory, or a blind scan")


if __name__ == "__main__":
    main()
