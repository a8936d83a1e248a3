import pickle
import subprocess
import sys

import pytest

from kfp_nbsecrets import sources
from kfp_nbsecrets.errors import ConfigurationError
from kfp_nbsecrets.sources import MissingKeysError, SecretInfo, SecretNotFound
from kfp_nbsecrets.sources.memory import MemorySource


@pytest.fixture(autouse=True)
def fresh_configuration():
    sources.reset_configuration()
    yield
    sources.reset_configuration()


@pytest.fixture
def memory() -> MemorySource:
    return MemorySource(
        {
            "db": {"user": "admin", "password": "pw"},
            "sa-token": {"token": "t"},
            "api": {"API_KEY": b"\x00\x01"},
        },
        types={"sa-token": "kubernetes.io/service-account-token"},
        labels={"db": {"team": "data"}},
        namespace="kubeflow",
    )


def test_list_hides_system_secrets_unless_asked(memory):
    assert [info.name for info in memory.list_secrets()] == ["api", "db"]
    assert [info.name for info in memory.list_secrets(include_system=True)] == ["api", "db", "sa-token"]


def test_info_has_keys_type_labels_and_no_values(memory):
    info = memory.get("db")
    expected = SecretInfo("db", "kubeflow", "Opaque", ("password", "user"), {"team": "data"}, info.created)
    assert info == expected
    assert info.created is not None
    assert "admin" not in repr(info)


def test_existence_and_keys(memory):
    assert memory.exists("db") and not memory.exists("nope")
    assert memory.keys("db") == ("password", "user")
    assert memory.missing_keys("db", ["user", "host", "port"]) == ["host", "port"]
    assert memory.check("db", ["user"]).name == "db"
    with pytest.raises(MissingKeysError, match=r"secret 'db' .* has no key\(s\) \['host'\]; it has"):
        memory.check("db", ["user", "host"])


def test_missing_secret_is_one_clear_line(memory):
    with pytest.raises(SecretNotFound) as caught:
        memory.keys("nope")
    message = str(caught.value)
    assert "'nope'" in message and "\n" not in message and "check the name" in message


def test_read_values_selects_keys_and_hides_them(memory):
    values = memory.read_values_for_local_run("db", ["user"])
    assert dict(values) == {"user": b"admin"}
    assert "admin" not in repr(values) and "admin" not in str(values)
    assert dict(memory.read_values_for_local_run("api")) == {"API_KEY": b"\x00\x01"}
    with pytest.raises(TypeError):
        pickle.dumps(values)
    with pytest.raises(MissingKeysError):
        memory.read_values_for_local_run("db", ["host"])


def test_add_and_remove(memory):
    memory.add("new", {"k": "v"}, type="example.com/custom", labels={"a": "b"})
    assert memory.get("new").type == "example.com/custom"
    memory.remove("new")
    assert not memory.exists("new")
    with pytest.raises(SecretNotFound):
        memory.remove("new")
    with pytest.raises(TypeError, match="str or bytes"):
        memory.add("bad", {"k": 1})


def test_repr_says_where_not_what(memory):
    assert repr(memory) == "<MemorySource: in-memory source (3 secrets)>"


def test_configure_and_get_source(tmp_path, monkeypatch):
    monkeypatch.setenv("KFP_NBSECRETS_STORE", str(tmp_path / "store"))
    default = sources.get_source()
    assert default.kind == "local" and default.directory == tmp_path / "store"
    assert sources.get_source() is default

    settings = sources.configure(source="memory", namespace="team-a")
    assert settings.source == "memory" and settings.namespace == "team-a"
    shared = sources.get_source()
    assert shared.kind == "memory" and shared is sources.get_source() and shared.namespace == "team-a"

    mine = MemorySource({"x": {"k": "v"}})
    sources.configure(source=mine)
    assert sources.get_source() is mine
    assert sources.get_source("local", store_dir=str(tmp_path / "other")).directory == tmp_path / "other"


def test_configure_rejects_unknown_settings():
    with pytest.raises(ConfigurationError, match=r"unknown source setting\(s\) \['colour'\]"):
        sources.configure(colour="red")
    with pytest.raises(ConfigurationError, match="unknown source 'vault'"):
        sources.configure(source="vault")
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        sources.configure(timeout=0)
    assert sources.current_settings() == sources.SourceSettings()


def test_import_is_cheap():
    code = (
        "import sys, kfp_nbsecrets.sources, kfp_nbsecrets.sources.kube, kfp_nbsecrets.sources.store,"
        " kfp_nbsecrets.sources.memory;"
        "heavy = [m for m in ('kfp', 'kubernetes', 'IPython', 'ipywidgets') if m in sys.modules];"
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
