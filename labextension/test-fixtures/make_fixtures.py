"""Writes the renderer's test fixtures: real payloads of the pipelines in tests/pipelines.py.

Run from the repository root: .venv/bin/python labextension/test-fixtures/make_fixtures.py
(tests/test_renderer_fixtures.py regenerates them into a temp dir and compares).
"""

import base64
import copy
import gzip
import json
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))
warnings.filterwarnings("ignore", category=FutureWarning)

import pipelines  # noqa: E402

from kfp_nbsecrets.display import IR_MIME_TYPE, preview  # noqa: E402

HOSTILE = "<img src=x onerror=alert(1)>"


def payload(pipeline) -> dict:
    return preview(pipeline)._repr_mimebundle_(include=[IR_MIME_TYPE])[IR_MIME_TYPE]


def hostile(data: dict) -> dict:
    """The nested payload with markup in every string the renderer shows."""
    data = copy.deepcopy(data)
    renames = {}
    executor = None
    for task in data["tasks"]:
        if task["path"] == "exit-handler-1/for-loop-2/consume-3":
            renames[task["path"]] = f"exit-handler-1/for-loop-2/{HOSTILE}"
    for task in data["tasks"]:
        task["path"] = renames.get(task["path"], task["path"])
        if task["path"].endswith(HOSTILE):
            task["name"] = HOSTILE
            task["image"] = "<script>alert(2)</script>"
            executor = task["executor"]
    # the command comes from the IR's executor
    documents = json.loads(gzip.decompress(base64.b64decode(data["irGzip"])))
    container = documents[0]["deploymentSpec"]["executors"][executor]["container"]
    container["command"], container["args"] = ["<b>bold</b>"], ["&amp; <i>"]
    compact = json.dumps(documents, separators=(",", ":"), sort_keys=True).encode()
    data["irGzip"] = base64.b64encode(gzip.compress(compact, mtime=0)).decode("ascii")
    for binding in data["bindings"]:
        binding["task"] = renames.get(binding["task"], binding["task"])
        binding["source"]["text"] = binding["source"]["text"] + " <svg onload=alert(3)>"
    for finding in data["findings"]:
        finding["tasks"] = [renames.get(task, task) for task in finding["tasks"]]
        finding["message"] = "<a href=javascript:alert(4)>click</a>"
    data["pipeline"]["name"] = "<h1>pwned</h1>"
    return data


def write(folder: Path) -> list[Path]:
    """Writes the fixtures into ``folder``; returns their paths."""
    nested = payload(pipelines.nested())
    fixtures = {
        "nested.json": nested,
        "twice.json": payload(pipelines.twice()),
        "flat.json": payload(pipelines.flat()),
        "hostile.json": hostile(nested),
    }
    paths = []
    for name, data in fixtures.items():
        path = folder / name
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def main() -> None:
    for path in write(HERE):
        print("wrote", path)


if __name__ == "__main__":
    main()
