"""The Kubernetes source against kmock's emulator on loopback, through a real kubeconfig file."""

import html
import json
import os
import sys
import time

import kmock
import pytest
import yaml
from kube_emulator import SECRETS, KubeEmulator, free_port, kubeconfig, negotiate, silent_server

from kfp_nbsecrets import sources
from kfp_nbsecrets.sources import (
    AccessDenied,
    MissingKeysError,
    NamespaceNotFound,
    SecretNotFound,
    SourceUnavailable,
)
from kfp_nbsecrets.sources import kubeconfig as kubeconfig_module
from kfp_nbsecrets.sources.kube import KubernetesSource


@pytest.fixture
def kubeconfig_env(emulator, tmp_path, monkeypatch):
    """KUBECONFIG pointing at the emulator, with namespace "team-a" in the current context."""
    path = emulator.write_kubeconfig(tmp_path, namespace="team-a")
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@pytest.fixture
def populated(emulator, kubeconfig_env):
    emulator.add_secret("db", "team-a", {"user": "admin", "password": "pw"}, labels={"app": "x"})
    emulator.add_secret("api", "team-a", {"API_KEY": "k"})
    emulator.add_secret("default-token", "team-a", {"token": "t"}, type="kubernetes.io/service-account-token")
    emulator.add_secret("sh.helm.release.v1.x.v1", "team-a", {"release": "r"}, type="helm.sh/release.v1")
    emulator.add_secret("elsewhere", "team-b", {"k": "v"})
    return emulator


def test_kubeconfig_env_gives_host_context_and_namespace(populated):
    source = KubernetesSource()
    assert source.namespace == "team-a"
    assert source.host == populated.url
    assert "context 'emulator'" in source.describe()


def assert_lists_were_metadata_only(emulator):
    """From the emulator's side: every list asked for the Table form only, and got no secret data."""
    assert emulator.list_accepts
    for accept in emulator.list_accepts:
        assert negotiate(accept) == ("Table", "meta.k8s.io/v1"), accept
        assert all("as=Table" in clause for clause in accept.split(",")), accept  # no full-object fallback
    for body in emulator.list_bodies:
        answer = json.loads(body)
        assert answer["kind"] == "Table"
        assert all(set(row["object"]) == {"kind", "apiVersion", "metadata"} for row in answer["rows"])


def test_lists_with_metadata_skipping_system_secrets(populated):
    source = KubernetesSource(page_size=2)
    infos = source.list_secrets()
    assert [info.name for info in infos] == ["api", "db"]
    db = infos[1]
    assert (db.namespace, db.type, db.keys, db.key_count) == ("team-a", "Opaque", None, 2)
    assert db.keys_text() == "2 keys" and infos[0].keys_text() == "1 key"
    assert dict(db.labels) == {"app": "x"}
    assert db.created.isoformat() == "2026-01-02T03:04:05+00:00"
    everything = source.list_secrets(include_system=True)
    assert len(everything) == 4
    # Two pages of 2: the second request carried the continue token of the first.
    assert [req.get("continue") for req in populated.list_requests[:2]] == [None, "2"]
    assert all(req["limit"] == "2" and req["includeObject"] == "Metadata" for req in populated.list_requests)
    assert_lists_were_metadata_only(populated)
    assert populated.get_names == []  # listing read no secret


def test_key_names_are_read_with_one_get_of_that_secret(populated):
    source = KubernetesSource()
    assert source.list_secrets()[1].keys is None
    info = source.get("db")
    assert (info.keys, info.key_count, info.keys_unavailable) == (("password", "user"), 2, None)
    assert source.keys("api") == ("API_KEY",)
    assert populated.get_names == ["db", "api"]
    assert_lists_were_metadata_only(populated)


def test_list_allowed_but_get_forbidden(populated):
    """RBAC that allows list, not get: the list works; key names are unavailable, naming the permission."""
    populated.fail(403, kmock.action.FETCH, SECRETS, reason="Forbidden")
    source = KubernetesSource()
    assert [info.name for info in source.list_secrets()] == ["api", "db"]
    info = source.get("db")
    assert (info.name, info.keys, info.key_count) == ("db", None, 2)
    permission = "RBAC does not allow verb 'get' on resource 'secrets' in namespace 'team-a'"
    assert permission in info.keys_unavailable
    with pytest.raises(AccessDenied, match=f"key names of secret 'db' unavailable: forbidden .*{permission}"):
        source.keys("db")
    with pytest.raises(AccessDenied, match=permission):
        source.check("db", ["user"])
    assert source.exists("db") and not source.exists("nope")
    with pytest.raises(SecretNotFound):
        source.get("nope")
    # the fallback lists that one secret only, by field selector
    assert populated.list_requests[-1]["fieldSelector"] == "metadata.name=nope"
    assert_lists_were_metadata_only(populated)


def test_pre_run_check_notes_what_it_could_not_verify(populated):
    from kfp import dsl

    from kfp_nbsecrets import check, use_secret_as_env

    @dsl.component(base_image="python:3.11")
    def show() -> None:
        pass

    @dsl.pipeline(name="rbac")
    def pipeline(name: str = "db"):
        use_secret_as_env(show(), name, {"user": "DB_USER"})

    populated.fail(403, kmock.action.FETCH, SECRETS, reason="Forbidden")
    source = KubernetesSource()
    result = check.check_run(pipeline, {}, source=source)
    assert result.ok, repr(result)
    (note,) = result.items[0].notes
    assert note.startswith("secret 'db' exists; its key(s) ['user'] could not be verified: key names of")
    assert "RBAC does not allow verb 'get' on resource 'secrets' in namespace 'team-a'" in note
    missing = check.check_run(pipeline, {"name": "dbx"}, source=source)
    assert not missing.ok and "not found" in missing.problems()[0]


def test_namespace_override(populated):
    source = KubernetesSource()
    assert [info.name for info in source.list_secrets("team-b")] == ["elsewhere"]
    assert [info.name for info in KubernetesSource("team-b").list_secrets()] == ["elsewhere"]
    assert source.exists("elsewhere", "team-b") and not source.exists("elsewhere")


def test_keys_existence_and_values(populated):
    source = KubernetesSource()
    assert source.keys("db") == ("password", "user")
    assert source.exists("db") and not source.exists("nope")
    assert source.missing_keys("db", ["user", "host"]) == ["host"]
    with pytest.raises(MissingKeysError, match=r"'db' in namespace 'team-a' .* no key\(s\) \['host'\]"):
        source.check("db", ["host"])
    with pytest.raises(SecretNotFound, match=r"secret 'nope' not found in namespace 'team-a' at http://127"):
        source.keys("nope")
    values = source.read_values_for_local_run("db", ["password"])
    assert dict(values) == {"password": b"pw"} and "pw" not in repr(values)


def test_chosen_context_and_explicit_config_file(emulator, tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    config = kubeconfig(emulator.url, "ns-one", "one")
    second = kubeconfig(emulator.url, "ns-two", "two")
    config["contexts"] += second["contexts"]
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    assert KubernetesSource(config_file=path).namespace == "ns-one"
    assert KubernetesSource(config_file=path, context="two").namespace == "ns-two"
    with pytest.raises(SourceUnavailable, match=r"context 'three' not found .* use one of \['one', 'two'\]"):
        KubernetesSource(config_file=path, context="three")


def test_no_kubeconfig_and_not_in_a_pod(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    hint = "no kubeconfig found .* use the local store \\(source 'local'\\)"
    with pytest.raises(SourceUnavailable, match=hint):
        KubernetesSource()


def test_broken_kubeconfig(tmp_path):
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(SourceUnavailable, match=f"cannot load kubeconfig {path}"):
        KubernetesSource(config_file=path)


def test_in_cluster_namespace_from_service_account(tmp_path, monkeypatch):
    from kubernetes.config import incluster_config

    token, cert, namespace = tmp_path / "token", tmp_path / "ca.crt", tmp_path / "namespace"
    token.write_text("sa-token")
    cert.write_text("not really a certificate")
    namespace.write_text("pipelines\n")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(cert))
    monkeypatch.setattr(kubeconfig_module, "SERVICE_ACCOUNT_NAMESPACE_FILE", namespace)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(free_port()))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    source = KubernetesSource()
    assert source.namespace == "pipelines" and "in-cluster" in source.describe()
    assert KubernetesSource("override").namespace == "override"


@pytest.mark.parametrize("action, verb", [(kmock.action.LIST, "list"), (kmock.action.FETCH, "get")])
def test_rbac_forbidden_names_verb_resource_namespace(populated, action, verb):
    populated.fail(403, action, SECRETS, reason="Forbidden")
    source = KubernetesSource()
    if verb == "get":  # with list allowed the secret is still found; with list forbidden too, get's refusal
        populated.fail(403, kmock.action.LIST, SECRETS, reason="Forbidden")
    with pytest.raises(AccessDenied) as caught:
        source.list_secrets() if verb == "list" else source.keys("db")
    message = str(caught.value)
    assert f"forbidden (403) to {verb} secret" in message
    assert f"RBAC does not allow verb '{verb}' on resource 'secrets' in namespace 'team-a'" in message
    assert "\n" not in message


def test_unauthenticated(populated):
    populated.fail(401, kmock.action.LIST, SECRETS, reason="Unauthorized")
    with pytest.raises(AccessDenied, match=r"not authenticated \(401\); refresh the credentials of kubeconf"):
        KubernetesSource().list_secrets()


def test_missing_namespace(populated):
    for action in (kmock.action.LIST, kmock.action.FETCH):
        populated.fail(404, action, SECRETS, kmock.namespace("ghost"), reason="NotFound", kind="namespaces")
    source = KubernetesSource()
    with pytest.raises(NamespaceNotFound, match="namespace 'ghost' not found at http://127"):
        source.list_secrets("ghost")
    with pytest.raises(NamespaceNotFound):
        source.exists("db", "ghost")


def test_server_error_is_one_line(populated):
    populated.fail(500, kmock.action.LIST, SECRETS, reason="InternalError")
    with pytest.raises(SourceUnavailable, match="the API server answered 500") as caught:
        KubernetesSource().list_secrets()
    assert "\n" not in str(caught.value)


def test_expired_continue_token_restarts_the_list(populated):
    populated.expire_continue_times = 1
    infos = KubernetesSource(page_size=1).list_secrets(include_system=True)
    assert [info.name for info in infos] == ["api", "db", "default-token", "sh.helm.release.v1.x.v1"]
    tokens = [req.get("continue") for req in populated.list_requests]
    assert tokens == [None, "1", None, "1", "2", "3"]  # restarted from the top after the 410


def test_list_that_keeps_expiring_gives_up(populated):
    populated.expire_continue_times = 100
    with pytest.raises(SourceUnavailable, match=r"expired \(410 Gone\) 4 times in a row"):
        KubernetesSource(page_size=1).list_secrets()
    assert len(populated.list_requests) == 8


@pytest.mark.parametrize("behaviour", ["hang", "trickle-headers", "trickle-body"])
@pytest.mark.parametrize("operation", ["list", "get"])
def test_timeout_bounds_the_whole_operation(tmp_path, behaviour, operation):
    """A server that hangs or trickles its answer: the operation ends at the deadline, whatever it sends."""
    with silent_server(behaviour) as (url, connections):
        path = KubeEmulator().write_kubeconfig(tmp_path, server=url)
        source = KubernetesSource(config_file=path, timeout=1)
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match=r"no complete answer within 1 s; .*\(timeout=...\)"):
            source.list_secrets() if operation == "list" else source.keys("db")
        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 3, elapsed  # timeout + 2 s at most
        assert len(connections) == 1  # no retries


def test_repeated_continue_token_is_detected(populated):
    populated.repeat_continue_token = True
    with pytest.raises(SourceUnavailable, match="sent the same continue token twice") as caught:
        KubernetesSource(page_size=1).list_secrets()
    assert "\n" not in str(caught.value)
    assert len(populated.list_requests) == 2


def test_pagination_is_bounded(populated, monkeypatch):
    from kfp_nbsecrets.sources import kube

    monkeypatch.setattr(kube, "MAX_PAGES", 3)
    with pytest.raises(SourceUnavailable, match="more than 3 pages of 1; raise the page size"):
        KubernetesSource(page_size=1).list_secrets(include_system=True)
    assert len(populated.list_requests) == 3
    assert len(KubernetesSource(page_size=2).list_secrets(include_system=True)) == 4


@pytest.mark.parametrize("payload", [[1, 2], "x", 5, None])  # None: the JSON document null
@pytest.mark.parametrize("action", [kmock.action.LIST, kmock.action.FETCH])
def test_json_that_is_not_an_object(populated, payload, action):
    populated.answer(json.dumps(payload).encode(), action, SECRETS)
    with pytest.raises(SourceUnavailable, match="the answer is JSON but not an object") as caught:
        KubernetesSource().list_secrets() if action == kmock.action.LIST else KubernetesSource().keys("db")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("answer, problem", [
    ({"kind": "SecretList", "apiVersion": "v1", "items": []}, "is a 'SecretList', not a Table"),
    ({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "rows": []}, "no Type and Data columns"),
    ({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "rows": {},
      "columnDefinitions": [{"name": "Type"}, {"name": "Data"}]}, "rows are not a list"),
    ({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "rows": [{"cells": "x"}],
      "columnDefinitions": [{"name": "Type"}, {"name": "Data"}]}, "fewer cells than columns"),
])
def test_malformed_table(populated, answer, problem):
    populated.answer(json.dumps(answer).encode(), kmock.action.LIST, SECRETS)
    with pytest.raises(SourceUnavailable, match=problem):
        KubernetesSource().list_secrets()


def test_server_without_the_table_form(populated):
    populated.fail(406, kmock.action.LIST, SECRETS, reason="NotAcceptable")
    with pytest.raises(SourceUnavailable, match=r"cannot answer a list in the Table form \(406 Not"):
        KubernetesSource().list_secrets()


def test_emulator_negotiates_like_the_api_server():
    assert negotiate("application/json") == ("SecretList", "v1")
    assert negotiate("application/json;as=Table;v=v1beta1;g=meta.k8s.io") == ("Table", "meta.k8s.io/v1beta1")
    assert negotiate("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json") == (
        "PartialObjectMetadataList", "meta.k8s.io/v1")
    assert negotiate("application/json;as=Table;v=v2;g=meta.k8s.io") is None
    assert negotiate("application/yaml") is None


# ---------------------------------------------------------------------- exec credential plugins


def exec_kubeconfig(tmp_path, emulator, script: str):
    """A kubeconfig whose user authenticates with ``script`` as exec plugin (run by this Python)."""
    plugin = tmp_path / "plugin.py"
    plugin.write_text(f"import json, os, sys, time\n{script}\n")
    config = kubeconfig(emulator.url, "team-a", "emulator")
    config["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                           "command": sys.executable, "args": [str(plugin)],
                                           "env": [{"name": "PLUGIN_DIR", "value": str(tmp_path)}]}}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


TOKEN_PLUGIN = """
open(os.path.join(os.environ["PLUGIN_DIR"], f"run-{time.monotonic_ns()}"), "w").close()
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
assert info["spec"]["interactive"] is False
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": "from-plugin", "expirationTimestamp": sys.argv[1] if len(sys.argv) > 1
                             else "2999-01-01T00:00:00Z"}}))
"""


def test_exec_plugin_gives_the_token(populated, tmp_path):
    path = exec_kubeconfig(tmp_path, populated, TOKEN_PLUGIN)
    source = KubernetesSource(config_file=path)
    assert [info.name for info in source.list_secrets()] == ["api", "db"]
    assert populated.list_headers[-1]["Authorization"] == "Bearer from-plugin"
    source.list_secrets()
    assert len(list(tmp_path.glob("run-*"))) == 1  # the token has not expired: not run again


def test_exec_plugin_runs_again_when_its_token_expired(populated, tmp_path):
    path = exec_kubeconfig(tmp_path, populated, TOKEN_PLUGIN)
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"]["exec"]["args"].append("2000-01-01T00:00:00Z")
    path.write_text(yaml.safe_dump(config))
    source = KubernetesSource(config_file=path)
    source.list_secrets()
    source.list_secrets()
    assert len(list(tmp_path.glob("run-*"))) == 3  # at load, then before each list


def test_hanging_exec_plugin_is_bounded_and_killed(populated, tmp_path):
    path = exec_kubeconfig(tmp_path, populated, """
open(os.path.join(os.environ["PLUGIN_DIR"], "pid"), "w").write(str(os.getpid()))
time.sleep(120)
""")
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"exec credential plugin .* within 1 s") as caught:
        KubernetesSource(config_file=path, timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    assert "\n" not in str(caught.value)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


@pytest.mark.parametrize("script, problem", [
    ("sys.exit('login required')", r"failed \(exit 1\): login required"),
    ("print('[1, 2]')", "did not print an ExecCredential"),
    ("print(json.dumps({'apiVersion': 'v0', 'kind': 'ExecCredential', 'status': {'token': 't'}}))",
     "answered apiVersion 'v0'"),
    ("print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'status': {}}))", "neither a token"),
])
def test_broken_exec_plugin(populated, tmp_path, script, problem):
    path = exec_kubeconfig(tmp_path, populated, script)
    with pytest.raises(SourceUnavailable, match=problem):
        KubernetesSource(config_file=path)


def test_server_closing_the_connection(tmp_path):
    with silent_server("close") as (url, connections):
        path = KubeEmulator().write_kubeconfig(tmp_path, server=url)
        with pytest.raises(SourceUnavailable, match="closed the connection without answering"):
            KubernetesSource(config_file=path, timeout=2).keys("db")
        assert len(connections) == 1  # no retries


def test_connection_refused(tmp_path):
    path = KubeEmulator().write_kubeconfig(tmp_path, server=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="connection refused or host unreachable; is the cluster"):
        KubernetesSource(config_file=path, timeout=2).list_secrets()
    assert time.monotonic() - started < 2


def test_tls_failure(emulator, tmp_path):
    port = emulator.url.rsplit(":", 1)[1]
    path = emulator.write_kubeconfig(tmp_path, server=f"https://127.0.0.1:{port}")
    with pytest.raises(SourceUnavailable, match="TLS failed .* check certificate-authority") as caught:
        KubernetesSource(config_file=path, timeout=2).list_secrets()
    assert "\n" not in str(caught.value)


def test_get_source_builds_a_configured_kubernetes_source(populated):
    sources.reset_configuration()
    try:
        sources.configure(source="k8s", namespace="team-b", timeout=2)
        source = sources.get_source()
        assert isinstance(source, KubernetesSource) and source.timeout == 2
        assert [info.name for info in source.list_secrets()] == ["elsewhere"]
        assert sources.get_source() is source
    finally:
        sources.reset_configuration()


def test_answer_that_is_not_json(populated):
    populated.answer(b"<html>login</html>", kmock.action.LIST, SECRETS)
    with pytest.raises(SourceUnavailable, match="the answer is not JSON; is it a Kubernetes API"):
        KubernetesSource().list_secrets()


def test_picker_reads_the_key_names_of_the_chosen_secret_only(populated):
    from kfp_nbsecrets.widgets.picker import SecretPicker

    picker = SecretPicker(source=KubernetesSource(), debounce=0)
    assert [label for label, _ in picker.secret_list.options] == ["api  \u00b7  Opaque  \u00b7  1 key",
                                                                  "db  \u00b7  Opaque  \u00b7  2 keys"]
    assert populated.get_names == []
    picker.select("db")
    assert sorted(picker._key_rows) == ["password", "user"] and populated.get_names == ["db"]

    populated.fail(403, kmock.action.FETCH, SECRETS, reason="Forbidden")
    picker.select("api")
    assert picker._key_rows == {} and "key names unavailable" in picker.secret_title.value
    title = html.unescape(picker.secret_title.value)
    assert "RBAC does not allow verb 'get' on resource 'secrets' in namespace 'team-a'" in title


def test_exec_plugin_client_certificate(populated, tmp_path):
    """A plugin that answers with a client certificate: the client presents it (files from the PEM data)."""
    path = exec_kubeconfig(tmp_path, populated, """
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"clientCertificateData": "-----BEGIN CERTIFICATE-----\\nMIIB\\n",
                             "clientKeyData": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n"}}))
""")
    config = yaml.safe_load(path.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    path.write_text(yaml.safe_dump(config))
    configuration, _, _ = kubeconfig_module.load(config_file=path)
    assert open(configuration.cert_file).read().startswith("-----BEGIN CERTIFICATE-----")
    assert open(configuration.key_file).read().startswith("-----BEGIN PRIVATE KEY-----")


def test_operations_leave_no_thread_behind(populated):
    import threading

    source = KubernetesSource()
    for _ in range(5):
        source.list_secrets()
        source.keys("db")
    time.sleep(0.2)  # a cancelled timer thread ends at once
    assert not [thread for thread in threading.enumerate() if isinstance(thread, threading.Timer)]
