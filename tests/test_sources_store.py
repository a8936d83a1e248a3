import base64
import os
import stat
import textwrap

import pytest
import yaml

from kfp_nbsecrets.sources import (
    InsecureStoreError,
    MissingKeysError,
    SecretNotFound,
    SourceError,
    StoreFormatError,
)
from kfp_nbsecrets.sources.store import LocalStore, default_store_dir


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def write_private(path, text):
    path.write_text(textwrap.dedent(text))
    path.chmod(0o600)
    return path


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_location_honours_env_and_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("KFP_NBSECRETS_STORE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_store_dir() == tmp_path / "xdg" / "kfp-nbsecrets" / "secrets"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_dir() == tmp_path / "home" / ".config" / "kfp-nbsecrets" / "secrets"
    monkeypatch.setenv("KFP_NBSECRETS_STORE", str(tmp_path / "explicit"))
    assert LocalStore().directory == tmp_path / "explicit"


def test_missing_store_is_empty(store):
    assert store.list_secrets() == [] and not store.exists("db")


def test_add_writes_private_manifest_atomically(store):
    info = store.add("db", {"user": "admin", "password": b"pw"}, labels={"team": "data"}, namespace="ns")
    assert (info.name, info.namespace, info.type, info.keys) == ("db", "ns", "Opaque", ("password", "user"))
    assert info.labels == {"team": "data"} and info.created is not None
    assert mode(store.directory) == 0o700
    path = store.directory / "db.yaml"
    assert mode(path) == 0o600
    assert sorted(p.name for p in store.directory.iterdir()) == ["db.yaml"]  # no temp file left behind
    manifest = yaml.safe_load(path.read_text())
    assert manifest["kind"] == "Secret" and manifest["data"]["user"] == base64.b64encode(b"admin").decode()
    assert dict(store.read_values_for_local_run("db")) == {"password": b"pw", "user": b"admin"}


def test_add_refuses_to_overwrite_unless_replace(store):
    store.add("db", {"user": "a"})
    with pytest.raises(SourceError, match="already exists .* replace=True"):
        store.add("db", {"user": "b"})
    store.add("db", {"token": "t"}, replace=True)
    assert store.keys("db") == ("token",)


def test_add_validates_names_and_keys(store):
    with pytest.raises(ValueError, match="not a valid Kubernetes name"):
        store.add("My_Secret", {"k": "v"})
    with pytest.raises(ValueError, match="not a valid Kubernetes secret key"):
        store.add("ok", {"bad key": "v"})
    assert not store.directory.exists()


def test_reads_hand_written_multi_document_files(store):
    store.directory.mkdir(mode=0o700)
    write_private(
        store.directory / "team.yml",
        f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: db, labels: {{team: data}}, creationTimestamp: "2026-01-02T03:04:05Z"}}
        data: {{user: {base64.b64encode(b"admin").decode()}}}
        stringData: {{password: pw}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: token}}
        type: kubernetes.io/service-account-token
        stringData: {{token: t}}
        """,
    )
    assert [info.name for info in store.list_secrets()] == ["db"]
    assert [info.name for info in store.list_secrets(include_system=True)] == ["db", "token"]
    db = store.get("db")
    assert db.keys == ("password", "user") and db.created.year == 2026 and db.namespace is None
    assert store.read_values_for_local_run("db", ["password", "user"])["password"] == b"pw"
    assert store.missing_keys("db", ["user", "host"]) == ["host"]

    # Removing / replacing one document keeps the other one in the same file.
    store.add("db", {"user": "other"}, replace=True)
    assert store.exists("token") and store.keys("db") == ("user",)
    store.remove("token")
    assert [info.name for info in store.list_secrets(include_system=True)] == ["db"]
    store.remove("db")
    assert list(store.directory.iterdir()) == []
    with pytest.raises(SecretNotFound):
        store.remove("db")


def test_add_does_not_clobber_a_hand_written_file_of_the_same_name(store):
    store.directory.mkdir(mode=0o700)
    write_private(store.directory / "db.yaml", "kind: Secret\nmetadata: {name: other}\nstringData: {k: v}\n")
    store.add("db", {"user": "u"})
    assert [info.name for info in store.list_secrets()] == ["db", "other"]
    assert (store.directory / "db.2.yaml").exists()


@pytest.mark.parametrize("target", ["dir", "file"])
@pytest.mark.parametrize("bad_mode", [0o640, 0o604])
def test_refuses_group_or_world_readable_store(store, target, bad_mode):
    store.add("db", {"user": "admin"})
    path = store.directory if target == "dir" else store.directory / "db.yaml"
    path.chmod(bad_mode | (0o100 if target == "dir" else 0) | (0o010 if target == "dir" else 0))
    fix = "700" if target == "dir" else "600"
    for operation in (store.list_secrets, lambda: store.get("db"), lambda: store.add("x", {"k": "v"})):
        with pytest.raises(InsecureStoreError) as caught:
            operation()
        assert f"run 'chmod {fix} {path}'" in str(caught.value)
    path.chmod(0o700 if target == "dir" else 0o600)
    assert store.keys("db") == ("user",)


def test_format_errors_name_file_and_line_never_content(store):
    store.directory.mkdir(mode=0o700)
    bad = write_private(store.directory / "bad.yaml", "kind: Secret\nmetadata: {name: x}\ndata: [sup3r\n")
    with pytest.raises(StoreFormatError) as caught:
        store.list_secrets()
    assert str(bad) in str(caught.value) and "line" in str(caught.value) and "sup3r" not in str(caught.value)
    write_private(bad, "kind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(StoreFormatError, match="not a Secret manifest"):
        store.list_secrets()
    write_private(bad, "kind: Secret\nmetadata: {name: x}\ndata: {k: 'not base64!'}\n")
    assert store.keys("x") == ("k",)
    with pytest.raises(StoreFormatError, match="not valid base64") as caught:
        store.read_values_for_local_run("x")
    assert "not base64!" not in str(caught.value)
    write_private(store.directory / "dup.yaml", "kind: Secret\nmetadata: {name: x}\n")
    with pytest.raises(StoreFormatError, match="defined twice"):
        store.list_secrets()


def test_import_manifest(store, tmp_path):
    manifest = tmp_path / "secrets.yaml"
    manifest.write_text(
        "kind: Secret\nmetadata: {name: a, namespace: ns1}\nstringData: {k: v}\n---\n"
        "kind: Secret\nmetadata: {name: b}\ntype: example.com/t\ndata: {k2: djI=}\n"
    )
    infos = store.import_manifest(manifest)
    assert [(i.name, i.namespace, i.type, i.keys) for i in infos] == [
        ("a", "ns1", "Opaque", ("k",)),
        ("b", None, "example.com/t", ("k2",)),
    ]
    assert store.read_values_for_local_run("b")["k2"] == b"v2"
    with pytest.raises(SourceError, match="already exists"):
        store.import_manifest(manifest)
    assert len(store.import_manifest(manifest, replace=True)) == 2


def test_import_dotenv(store, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\n\nexport API_KEY=abc123\nQUOTED=\"two words\"\nSINGLE='x y'\nTRAILING=v # note\nEMPTY=\n"
    )
    info = store.import_dotenv(dotenv, "api")
    assert info.keys == ("API_KEY", "EMPTY", "QUOTED", "SINGLE", "TRAILING")
    assert dict(store.read_values_for_local_run("api")) == {
        "API_KEY": b"abc123", "EMPTY": b"", "QUOTED": b"two words", "SINGLE": b"x y", "TRAILING": b"v",
    }
    store.import_dotenv(dotenv, "only", keys=["API_KEY"])
    assert store.keys("only") == ("API_KEY",)
    with pytest.raises(StoreFormatError, match=r"no line\(s\) for \['NOPE'\]"):
        store.import_dotenv(dotenv, "x", keys=["NOPE"])
    dotenv.write_text("GOOD=1\nthis line leaks s3cr3t\n")
    with pytest.raises(StoreFormatError, match="line 2 is not KEY=VALUE") as caught:
        store.import_dotenv(dotenv, "y")
    assert "s3cr3t" not in str(caught.value)


def test_add_from_prompt_uses_hidden_prompt(store):
    asked = []

    def fake_getpass(prompt):
        asked.append(prompt)
        return f"value-{len(asked)}"

    info = store.add_from_prompt("db", ["user", "password"], prompt=fake_getpass)
    assert info.keys == ("password", "user")
    assert asked == [f"Value of {key!r} for secret 'db' (hidden): " for key in ("user", "password")]
    assert store.read_values_for_local_run("db")["password"] == b"value-2"
    with pytest.raises(ValueError, match="at least one key"):
        store.add_from_prompt("db2", [], prompt=fake_getpass)


def test_missing_keys_and_not_found(store):
    store.add("db", {"user": "u"})
    with pytest.raises(MissingKeysError, match=r"no key\(s\) \['password'\]"):
        store.read_values_for_local_run("db", ["password"])
    with pytest.raises(SecretNotFound, match=f"secret 'nope' not found in local store {store.directory}"):
        store.read_values_for_local_run("nope")


def test_non_manifest_files_are_ignored(store):
    store.add("db", {"user": "u"})
    (store.directory / "README.txt").write_text("notes")
    os.chmod(store.directory / "README.txt", 0o644)
    assert [info.name for info in store.list_secrets()] == ["db"]
