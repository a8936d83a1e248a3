"""Leak canaries across the whole product: the example notebooks and the main flows.

Unique canary values are put where secret values live (the local store, a memory source, the Kubernetes
emulator); then every example notebook is executed (nbclient, in a private temp dir) and the main flows run
in-process (attach, bind, preview, lint, check, submit to the loopback KFP server, local run). Afterwards
every surface a value could reach is scanned for the canaries, raw and base64-encoded: notebook outputs and
metadata (widget state included), compiled IR, the requests the KFP server received, log records,
stdout/stderr, and every file written under the repository, the temp dirs and the pipeline root. The
only place a value may be is the local store itself (mode 0600 files in a 0700 dir), which is checked to
be private instead.
"""

import base64
import copy
import gzip
import json
import logging
import os
import re
import stat
import tempfile
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# Demo values in the notebooks all look like this; each is replaced by a canary before execution.
DEMO_VALUE = re.compile(r"demo-secret-[A-Za-z0-9-]+")
SKIP_DIRS = {".git", "node_modules", "__pycache__"}
MAX_FILE = 50 * 1024 * 1024

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


# ------------------------------------------------------------------------------------------- helpers


class Canaries:
    """Fresh unique values and every form in which a leak would show up."""

    def __init__(self) -> None:
        self.token = f"cnry{uuid.uuid4().hex[:12]}"
        self.values: list[str] = []

    def new(self) -> str:
        value = f"{self.token}v{len(self.values)}x{uuid.uuid4().hex[:6]}"
        self.values.append(value)
        return value

    def forms(self) -> list[str]:
        """The raw token (a prefix of every value) and each value base64-encoded at all three alignments."""
        forms = [self.token]
        for value in self.values:
            data = value.encode()
            for pad in range(3):
                encoded = base64.b64encode(b"\0" * pad + data).decode()
                # drop the characters that depend on the neighbouring bytes
                start = (pad * 4 + 2) // 3 + 1
                forms.append(encoded[start:start + 16])
                forms.append(base64.urlsafe_b64encode(b"\0" * pad + data).decode()[start:start + 16])
        return sorted(set(forms))

    def find(self, text: str) -> list[str]:
        return [form for form in self.forms() if form in text]


# The preview payload carries the IR gzip-compressed (base64): scan it decompressed too.
_IR_GZIP = re.compile(r'"irGzip"\s*:\s*"([A-Za-z0-9+/=\\n]+)"')


def with_ir_decompressed(text: str) -> str:
    """``text`` followed by every ``irGzip`` field it holds, decompressed."""
    parts = [text]
    for encoded in _IR_GZIP.findall(text):
        parts.append(gzip.decompress(base64.b64decode(encoded.replace("\\n", ""))).decode("utf-8", "replace"))
    return "\n".join(parts)


def leaks(canaries: Canaries, surfaces: dict[str, str]) -> list[str]:
    found = []
    for where, text in surfaces.items():
        text = with_ir_decompressed(text)
        hits = canaries.find(text)
        if hits:
            index = text.find(hits[0])
            found.append(f"{where}: {hits} ...{text[max(0, index - 80):index + 40]!r}...")
    return found


def files_under(root: Path, since: float | None = None, exclude_store: bool = True):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        if exclude_store and Path(dirpath).name == "store":
            check_private_store(Path(dirpath))
            dirnames[:] = []
            continue
        for name in filenames:
            path = Path(dirpath) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE:
                continue
            if since is not None and max(info.st_mtime, info.st_ctime) < since:
                continue
            yield path


def check_private_store(directory: Path) -> None:
    """The one place values may be: the local store, private to this user."""
    assert stat.S_IMODE(directory.stat().st_mode) & 0o077 == 0, f"{directory} is not private"
    for path in directory.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is not private"


def file_surfaces(paths) -> dict[str, str]:
    surfaces = {}
    for path in paths:
        try:
            surfaces[str(path)] = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
    return surfaces


class RecordAll:
    """Collects every log record created (also while kfp.local swaps the root logger's handlers)."""

    def __init__(self) -> None:
        self.records: list[logging.LogRecord] = []
        self._factory = logging.getLogRecordFactory()

    def __enter__(self) -> "RecordAll":
        def factory(*args, **kwargs):
            record = self._factory(*args, **kwargs)
            self.records.append(record)
            return record

        self._level = logging.getLogger().level
        logging.getLogger().setLevel(logging.DEBUG)
        logging.setLogRecordFactory(factory)
        return self

    def __exit__(self, *exc) -> None:
        logging.setLogRecordFactory(self._factory)
        logging.getLogger().setLevel(self._level)

    def text(self) -> str:
        lines = []
        for record in self.records:
            try:
                message = record.getMessage()
            except Exception:  # a record whose args do not match its format: keep both
                message = f"{record.msg!r} {record.args!r}"
            lines.append(f"{record.name} {record.levelname} {message} {record.exc_text or ''}")
        return "\n".join(lines)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Private HOME, TMPDIR and store for everything this test and its kernels write; no endpoint."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_UI_ENDPOINT", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(home / "no-token"))
    monkeypatch.setenv("KUBECONFIG", str(home / "no-kubeconfig"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return {"root": tmp_path, "home": home, "tmp": tmp, "start": time.time() - 1}


def scan_written_files(canaries: Canaries, sandbox: dict) -> list[str]:
    """Files under the sandbox, and files written under the repository and the system temp dir since."""
    paths = list(files_under(sandbox["root"]))
    paths += list(files_under(ROOT, since=sandbox["start"], exclude_store=False))
    system_tmp = Path("/tmp")
    if system_tmp.is_dir():
        # Every store of this test lives in the sandbox (scanned above): outside it, a value in any file
        # is a leak, whatever the directory is called.
        paths += [path for path in files_under(system_tmp, since=sandbox["start"], exclude_store=False)
                  if sandbox["root"] not in path.parents]
    return leaks(canaries, file_surfaces(sorted(set(paths))))


# ----------------------------------------------------------------------------------------- notebooks


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))


def without_sources(notebook) -> str:
    """The notebook as JSON with the (canary-carrying) cell sources blanked: outputs and metadata only."""
    shown = copy.deepcopy(notebook)
    for cell in shown.cells:
        cell.source = ""
    return json.dumps(shown, indent=1)


def test_notebooks_leak_nothing(sandbox):
    canaries = Canaries()
    executed = sandbox["root"] / "executed"
    executed.mkdir()
    surfaces: dict[str, str] = {}
    assert notebook_paths(), "no example notebooks found"
    for path in notebook_paths():
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                # keep the temp dirs (stores, pipeline roots) for the file scan: no clean-up cells
                if "cleanup" in cell.metadata.get("tags", []):
                    cell.source = "kfp_server.stop() if 'kfp_server' in globals() else None"
                    continue
                cell.source = DEMO_VALUE.sub(lambda _: canaries.new(), cell.source)
        for cell in notebook.cells:
            cell.outputs = [] if cell.cell_type == "code" else None
            if cell.outputs is None:
                del cell["outputs"]
        nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        shown = without_sources(notebook)
        # the executed copy as a user would keep it, minus the sources (they hold the demo inputs)
        (executed / path.name).write_text(shown)
        surfaces[f"notebook {path.name} (outputs and metadata)"] = shown
        states = [json.dumps(notebook.metadata.get("widgets", {}))]
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                states += [json.dumps(value) for key, value in output.get("data", {}).items()
                           if "widget" in key]
        surfaces[f"notebook {path.name} widget state"] = "\n".join(states)
    assert len(canaries.values) >= 4, "the notebooks no longer hold demo-secret-... values to replace"

    problems = leaks(canaries, surfaces) + scan_written_files(canaries, sandbox)
    assert not problems, "canary leaked:\n" + "\n".join(problems)
    private = [p for p in sandbox["tmp"].rglob("kfp-nbsecrets-*")
               if not p.name.startswith("kfp-nbsecrets-nb-")]
    assert not private, f"private temp dirs left behind: {private}"


# -------------------------------------------------------------------------------------- main flows


def test_main_flows_leak_nothing(sandbox, capfd):
    from kfp import compiler, dsl, local
    from kfp_server import KfpServer
    from kube_emulator import KubeEmulator

    import kfp_nbsecrets
    from kfp_nbsecrets import check, display, lint, sources, submit
    from kfp_nbsecrets.bind import bind
    from kfp_nbsecrets.local_run import hook
    from kfp_nbsecrets.local_run import sandbox as local_sandbox
    from kfp_nbsecrets.sources.memory import MemorySource
    from kfp_nbsecrets.sources.store import LocalStore

    canaries = Canaries()
    values = {"db": {"user": canaries.new(), "password": canaries.new()}, "tls": {"crt": canaries.new()},
              "team-b": {"token": canaries.new()}}
    store = LocalStore(str(sandbox["home"] / "store"))
    for name, secret in values.items():
        store.add(name, secret)
    memory = MemorySource(values)
    cluster = KubeEmulator().start()
    server = KfpServer().start()
    surfaces: dict[str, str] = {}
    with RecordAll() as records:
        try:
            for name, secret in values.items():
                cluster.add_secret(name, "canary", secret)
            kubeconfig = cluster.write_kubeconfig(sandbox["home"], namespace="canary")
            sources.configure(kubeconfig=str(kubeconfig), namespace="canary")

            @dsl.component(base_image="python:3.11", install_kfp_package=False)
            def digest(label: str) -> str:
                import hashlib
                import os

                seen = [os.environ.get(name, "") for name in ("DB_USER", "DB_PASSWORD")]
                if os.path.isdir("/secrets/tls"):
                    seen += [open(os.path.join("/secrets/tls", n)).read() for n in os.listdir("/secrets/tls")]
                print("digest", label, hashlib.sha256("".join(seen).encode()).hexdigest()[:12])
                return f"{label}: {len(seen)} values"

            volumes = local_sandbox.sandbox_problem() is None

            @dsl.pipeline(name="canary")
            def canary_pipeline(db_secret: str = "db") -> str:
                task = digest(label="main")
                kfp_nbsecrets.use_secret_as_env(task, db_secret,
                                                {"user": "DB_USER", "password": "DB_PASSWORD"})
                if volumes:
                    kfp_nbsecrets.use_secret_as_volume(task, "tls", "/secrets/tls")
                return task.output

            # attach + compile (IR), bind, preview, lint
            ir_path = sandbox["tmp"] / "canary.yaml"
            compiler.Compiler().compile(canary_pipeline, str(ir_path))
            bound = bind(str(ir_path), task="digest", secret="{{team_secret}}", env={"token": "TEAM_TOKEN"},
                         param="team_secret", default="team-b")
            surfaces["bound IR"] = bound
            shown = display.preview(bound)
            surfaces["preview"] = json.dumps(shown._repr_mimebundle_(), default=str)
            surfaces["lint"] = "\n".join(map(str, lint.lint(bound)))
            surfaces["inspect"] = repr(kfp_nbsecrets.read_pipeline(bound))

            # pre-run checks against every source
            for source in (memory, store, "k8s"):
                result = check.check_run(canary_pipeline, {"db_secret": "db"}, source=source,
                                         namespace="canary")
                assert result.ok, repr(result)
                surfaces[f"check {source!r}"] = repr(result) + json.dumps(result.to_json()) + \
                    json.dumps(result._repr_mimebundle_())
            missing = check.check_run(canary_pipeline, {"db_secret": "dbx"}, source="k8s", namespace="canary")
            assert not missing.ok
            surfaces["failing check"] = repr(missing)
            # what crossed the wire for every list: Tables asked for, and no value in any answer
            assert cluster.list_bodies and all("as=Table" in accept for accept in cluster.list_accepts)
            surfaces["Kubernetes list answers"] = b"\n".join(cluster.list_bodies).decode()

            # submit to the loopback KFP server (check through the emulator), follow the run
            handle = submit.submit(bound, {"db_secret": "db"}, host=server.url, namespace="canary",
                                   experiment="canary", run_name="canary-run", source="k8s",
                                   backoff=submit.Backoff(0.01, 0.05), timeout=5)
            assert handle.wait(10) == "SUCCEEDED"
            surfaces["run handle"] = repr(handle) + json.dumps(handle._repr_mimebundle_(), default=str)
            surfaces["KFP server requests"] = "\n".join(
                f"{r.method} {r.path} {r.query} {r.headers} {r.body}" for r in server.requests)
            assert server.bodies("POST", "/apis/v2beta1/runs")
            assert not server.problems

            # a real local run with the values injected from the store
            root = sandbox["tmp"] / "pipeline_root"
            outputs = kfp_nbsecrets.run_local(canary_pipeline, {"db_secret": "db"}, source=store,
                                              runner=local.SubprocessRunner(use_venv=False),
                                              pipeline_root=str(root))
            assert outputs["Output"] == f"main: {3 if volumes else 2} values"
            surfaces["local run outputs"] = repr(outputs)
            assert any(root.rglob("*")), "the local run wrote nothing under its pipeline root"
        finally:
            sources.reset_configuration()
            server.stop()
            cluster.stop()
    out, err = capfd.readouterr()
    surfaces["stdout"], surfaces["stderr"] = out, err
    surfaces["log records"] = records.text()
    assert "digest main" in out + err + surfaces["log records"], "the local run's output was not captured"

    problems = leaks(canaries, surfaces) + scan_written_files(canaries, sandbox)
    assert not problems, "canary leaked:\n" + "\n".join(problems)
    # control: the scanner does find a canary where one is
    assert leaks(canaries, {"control": base64.b64encode(b"k=" + values["db"]["user"].encode()).decode()})
    assert leaks(canaries, {"control": values["tls"]["crt"]})
    assert not [p for p in sandbox["tmp"].iterdir() if p.name.startswith(hook.TEMP_PREFIX)]


def test_the_scan_sees_inside_the_compressed_ir():
    """Control: a canary hidden in a preview payload's irGzip is found (as one in a notebook's JSON)."""
    canaries = Canaries()
    value = canaries.new()
    hidden = base64.b64encode(gzip.compress(json.dumps([{"x": value}]).encode(), mtime=0)).decode()
    assert leaks(canaries, {"payload": json.dumps({"irGzip": hidden})})
    assert not leaks(canaries, {"payload": json.dumps({"irGzip": hidden.replace(hidden, "")})})
