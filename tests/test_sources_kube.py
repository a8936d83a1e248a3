"""The Kubernetes source against kmock's emulator on loopback, through a real kubeconfig file."""

import time

import kmock
import pytest
import yaml
from kube_emulator import SECRETS, KubeEmulator, free_port, kubeconfig, silent_server

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


def test_lists_with_metadata_skipping_system_secrets(populated):
    source = KubernetesSource(page_size=2)
    infos = source.list_secrets()
    assert [info.name for info in infos] == ["api", "db"]
    db = infos[1]
    assert (db.namespace, db.type, db.keys) == ("team-a", "Opaque", ("password", "user"))
    assert dict(db.labels) == {"app": "x"}
    assert db.created.isoformat() == "2026-01-02T03:04:05+00:00"
    everything = source.list_secrets(include_system=True)
    assert len(everything) == 4
    # Two pages of 2: the second request carried the continue token of the first.
    assert [req.get("continue") for req in populated.list_requests[:2]] == [None, "2"]
    assert all(req["limit"] == "2" for req in populated.list_requests)


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


def test_timeout_is_bounded(tmp_path):
    with silent_server("hang") as (url, connections):
        path = KubeEmulator().write_kubeconfig(tmp_path, server=url)
        source = KubernetesSource(config_file=path, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match=r"no answer within 0.3 s; .*configure\(timeout=...\)"):
            source.list_secrets()
        assert time.monotonic() - started < 2
        assert len(connections) == 1  # no retries


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
