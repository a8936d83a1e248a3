"""Canary values: run every operation of every source and look for the value everywhere it must not be."""

import base64
import dataclasses
import json
import logging
import os
import tempfile
import time
import traceback
import uuid
from pathlib import Path

import kmock
import pytest
from kube_emulator import SECRETS

from kfp_nbsecrets.sources import SecretInfo, SecretValues, SourceError
from kfp_nbsecrets.sources.kube import KubernetesSource
from kfp_nbsecrets.sources.memory import MemorySource
from kfp_nbsecrets.sources.store import LocalStore

LOGGERS = ("", "kubernetes", "kubernetes.client.rest", "urllib3", "urllib3.connectionpool", "kfp_nbsecrets")


@pytest.fixture
def canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


@pytest.fixture
def debug_logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


class Witness:
    """Collects every text a user could see: results, reprs, exceptions (whole chain), log records."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def result(self, value) -> None:
        if isinstance(value, SecretValues):  # the one place values may be: only its repr is visible
            self.texts += [repr(value), str(value)]
            return
        self.texts += [repr(value), str(value)]
        if isinstance(value, list | tuple):
            for item in value:
                self.result(item)
        if isinstance(value, SecretInfo):
            self.texts += [repr(dataclasses.asdict(value))]

    def call(self, operation, *args, **kwargs):
        try:
            value = operation(*args, **kwargs)
        except SourceError as error:
            self.exception(error)
            return None
        self.result(value)
        return value

    def exception(self, error: BaseException) -> None:
        self.texts += traceback.format_exception(error)
        seen = set()
        while error is not None and id(error) not in seen:  # the whole chain, even suppressed context
            seen.add(id(error))
            self.texts += [repr(error), str(error), repr(error.args)]
            error = error.__cause__ or error.__context__

    def assert_clean(self, canary: str, records) -> None:
        texts = self.texts + [f"{record.getMessage()} {record.args!r}" for record in records]
        assert texts, "nothing was observed"
        encoded = base64.b64encode(canary.encode()).decode()
        leaks = [text for text in texts if canary in text or encoded in text]
        assert not leaks, leaks[:3]


def run_reads(witness: Witness, source, name: str, keys: list[str], namespace=None) -> None:
    witness.call(source.list_secrets, namespace)
    witness.call(source.list_secrets, namespace, include_system=True)
    witness.call(source.get, name, namespace)
    witness.call(source.keys, name, namespace)
    witness.call(source.exists, name, namespace)
    witness.call(source.missing_keys, name, [*keys, "absent"], namespace)
    witness.call(source.check, name, keys, namespace)
    witness.call(source.check, name, ["absent"], namespace)
    witness.call(source.get, "no-such-secret", namespace)
    witness.call(source.read_values_for_local_run, name, ["absent"], namespace)
    witness.call(repr, source)
    values = witness.call(source.read_values_for_local_run, name, keys, namespace)
    assert values is not None and all(values[key] for key in keys)


def assert_no_file_outside(directory: Path, since: float, canary: str, allowed: set[Path]) -> None:
    encoded = base64.b64encode(canary.encode())
    # os.walk, not rglob: other processes' temp dirs may vanish while the scan runs
    paths = (Path(folder) / name for folder, _, names in os.walk(tempfile.gettempdir()) for name in names)
    for path in paths:
        try:
            if not path.is_file() or path.stat().st_mtime < since or path in allowed:
                continue
            if directory in path.parents:
                continue
            content = path.read_bytes()
        except OSError:
            continue
        assert canary.encode() not in content and encoded not in content, f"canary leaked into {path}"


def test_memory_source(canary, debug_logs):
    witness = Witness()
    source = MemorySource({"db": {"password": canary}, "token": {"t": canary}},
                          types={"token": "kubernetes.io/service-account-token"})
    witness.call(source.add, "other", {"key": canary})
    run_reads(witness, source, "db", ["password"])
    witness.call(source.remove, "other")
    witness.call(source.remove, "other")
    witness.assert_clean(canary, debug_logs.records)


def test_local_store(canary, debug_logs, tmp_path):
    started = time.time() - 1
    witness = Witness()
    store = LocalStore(tmp_path / "store")
    manifest = tmp_path / "in.yaml"
    manifest.write_text(f"kind: Secret\nmetadata: {{name: imported}}\nstringData: {{k: {canary}}}\n")
    dotenv = tmp_path / "in.env"
    dotenv.write_text(f"API_KEY={canary}\nbroken line {canary}\n")

    witness.call(store.add, "db", {"password": canary, "binary": canary.encode()})
    witness.call(store.add, "db", {"password": canary})  # already exists
    witness.call(store.add_from_prompt, "prompted", ["pin"], prompt=lambda _: canary)
    witness.call(store.import_manifest, manifest)
    witness.call(store.import_dotenv, dotenv, "env-secret")  # broken line
    dotenv.write_text(f"API_KEY={canary}\n")
    witness.call(store.import_dotenv, dotenv, "env-secret")
    run_reads(witness, store, "db", ["password", "binary"])
    run_reads(witness, store, "env-secret", ["API_KEY"])

    broken = store.directory / "broken.yaml"
    broken.write_text(f"kind: Secret\nmetadata: {{name: broken}}\ndata: {{k: [{canary}\n")
    broken.chmod(0o600)
    witness.call(store.list_secrets)  # invalid YAML, quoting the canary
    broken.write_text(f"kind: Secret\nmetadata: {{name: broken}}\ndata: {{k: '{canary}!'}}\n")
    witness.call(store.read_values_for_local_run, "broken")  # invalid base64
    broken.chmod(0o644)
    witness.call(store.list_secrets)  # insecure file
    broken.unlink()
    witness.call(store.remove, "db")
    witness.call(store.remove, "db")

    witness.assert_clean(canary, debug_logs.records)
    assert_no_file_outside(store.directory, started, canary, allowed={manifest, dotenv})


def test_kubernetes_source(canary, debug_logs, emulator, tmp_path, monkeypatch):
    started = time.time() - 1
    witness = Witness()
    emulator.add_secret("db", "default", {"password": canary, "user": canary})
    emulator.add_secret("sa", "default", {"token": canary}, type="kubernetes.io/service-account-token")
    monkeypatch.setenv("KUBECONFIG", str(emulator.write_kubeconfig(tmp_path)))
    source = KubernetesSource(page_size=1)
    run_reads(witness, source, "db", ["password", "user"])
    emulator.expire_continue_times = 1
    witness.call(source.list_secrets)
    emulator.fail(403, kmock.action.FETCH, SECRETS, kmock.name("sa"), reason="Forbidden")
    witness.call(source.keys, "sa")
    emulator.fail(500, kmock.action.LIST, SECRETS, reason="InternalError")
    witness.call(source.list_secrets)
    assert source._api_client.last_response is None  # the client keeps no raw response

    witness.assert_clean(canary, debug_logs.records)
    assert any(record.name.startswith("urllib3") for record in debug_logs.records), "urllib3 logged nothing"
    assert_no_file_outside(tmp_path / "none", started, canary, allowed=set())
    assert_lists_sent_no_value(emulator, canary)
    # control: the scan finds a value in what a plain (full-object) list would have sent
    plain = {"kind": "SecretList", "items": [emulator.secret("db", "default")]}
    emulator.list_bodies.append(json.dumps(plain).encode())
    with pytest.raises(AssertionError, match="crossed the wire"):
        assert_lists_sent_no_value(emulator, canary)


def assert_lists_sent_no_value(emulator, canary: str) -> None:
    """What the emulator sent for every list: no canary, raw or base64; every list asked for a Table only."""
    assert emulator.list_bodies
    assert all("as=Table" in clause for accept in emulator.list_accepts for clause in accept.split(","))
    encoded = base64.b64encode(canary.encode())
    sent = [body for body in emulator.list_bodies if canary.encode() in body or encoded in body]
    assert not sent, f"a canary value crossed the wire in {len(sent)} list answer(s)"
