import base64
import errno
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
from kfp_nbsecrets.sources.errors import PromptCancelled, SecretExistsError, StoreBusyError, StoreWriteError
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
    assert sorted(p.name for p in store.directory.iterdir()) == [".lock", "db.yaml"]  # no temp file left
    assert mode(store.directory / ".lock") == 0o600
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
    assert [p.name for p in store.directory.iterdir()] == [".lock"]
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
    with pytest.raises(SourceError, match="already exist"):
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


# -- all-or-nothing imports, checks before prompts, hostile files (issue 19)


@pytest.mark.parametrize("second", [
    "kind: Secret\nmetadata: {name: second}\ndata: {k: 'not base64!'}\n",   # fails when its values are read
    "kind: Secret\nmetadata: {name: exists}\nstringData: {k: new}\n",        # already in the store
    "kind: Secret\nmetadata: {name: first}\nstringData: {k: twice}\n",       # the same name twice in the file
])
def test_import_is_all_or_nothing(store, tmp_path, second):
    store.add("exists", {"k": "old"})
    manifest = tmp_path / "in.yaml"
    manifest.write_text("kind: Secret\nmetadata: {name: first}\nstringData: {k: v}\n---\n" + second)
    with pytest.raises(SourceError, match=f"{manifest}|'exists' already exists"):
        store.import_manifest(manifest)
    assert [info.name for info in store.list_secrets()] == ["exists"]
    assert store.read_values_for_local_run("exists")["k"] == b"old"
    assert sorted(p.name for p in store.directory.iterdir() if not p.name.startswith(".")) == ["exists.yaml"]


def test_import_refuses_all_existing_names_at_once(store, tmp_path):
    store.add("a", {"k": "old"})
    store.add("b", {"k": "old"})
    manifest = tmp_path / "in.yaml"
    manifest.write_text("".join(f"---\nkind: Secret\nmetadata: {{name: {n}}}\nstringData: {{k: new}}\n"
                                for n in "abc"))
    with pytest.raises(SecretExistsError, match="secrets 'a', 'b' already exist in .*replace=True") as caught:
        store.import_manifest(manifest)
    assert caught.value.names == ("a", "b") and not store.exists("c")
    assert [i.name for i in store.import_manifest(manifest, replace=True)] == ["a", "b", "c"]
    assert store.read_values_for_local_run("a")["k"] == b"new"


def assert_no_chain(error):
    """No other exception (a YAML or OS error may quote the file) is shown with ``error``."""
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def refusing_prompt(prompt):
    raise AssertionError(f"prompted before the checks: {prompt}")


def test_add_from_prompt_checks_before_prompting(store):
    store.add("db", {"k": "v"})
    with pytest.raises(SecretExistsError, match="already exists"):
        store.add_from_prompt("db", ["k"], prompt=refusing_prompt)
    with pytest.raises(ValueError, match="not a valid Kubernetes name"):
        store.add_from_prompt("Bad_Name", ["k"], prompt=refusing_prompt)
    store.directory.chmod(0o755)
    with pytest.raises(InsecureStoreError):
        store.add_from_prompt("new", ["k"], prompt=refusing_prompt)
    store.directory.chmod(0o700)


def test_end_of_input_at_the_prompt_cancels_and_writes_nothing(store):
    answers = iter(["first value"])

    def prompt(text):
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    with pytest.raises(PromptCancelled, match="cancelled.*'password'.*'db'.*nothing was stored") as caught:
        store.add_from_prompt("db", ["user", "password"], prompt=prompt)
    assert "\n" not in str(caught.value) and "first value" not in str(caught.value)
    assert not store.exists("db")


HOSTILE_MANIFESTS = {
    "labels-list": "kind: Secret\nmetadata: {name: x, labels: [s3cr3t]}\nstringData: {k: v}\n",
    "labels-nested": "kind: Secret\nmetadata: {name: x, labels: {a: [s3cr3t]}}\nstringData: {k: v}\n",
    "data-list": "kind: Secret\nmetadata: {name: x}\ndata: [s3cr3t]\n",
    "metadata-int": "kind: Secret\nmetadata: 5\nstringData: {k: s3cr3t}\n",
    "namespace-list": "kind: Secret\nmetadata: {name: x, namespace: [s3cr3t]}\nstringData: {k: v}\n",
    "type-mapping": "kind: Secret\nmetadata: {name: x}\ntype: {s3cr3t: 1}\nstringData: {k: v}\n",
    "key-int": "kind: Secret\nmetadata: {name: x}\nstringData: {1: s3cr3t}\n",
    "value-list": "kind: Secret\nmetadata: {name: x}\nstringData: {k: [s3cr3t]}\n",
    "data-value-mapping": "kind: Secret\nmetadata: {name: x}\ndata: {k: {s3cr3t: 1}}\n",
    "top-level-list": "[s3cr3t]\n",
    "binary": b"\x00\x01\xff\xfes3cr3t\x80",
    "nul-in-utf8": "kind: Secret\x00s3cr3t\n",
    "deep-nesting": "s3cr3t: " + "[" * 100_000 + "]" * 100_000,
    "deep-but-parsable": "kind: Secret\nmetadata: {name: x}\nstringData: {k: " + "[" * 900 + "]" * 900 + "}",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_MANIFESTS))
def test_hostile_manifest_to_import_gives_one_line_naming_the_file(store, tmp_path, case):
    content = HOSTILE_MANIFESTS[case]
    manifest = tmp_path / f"{case}.yaml"
    (manifest.write_bytes if isinstance(content, bytes) else manifest.write_text)(content)
    with pytest.raises(StoreFormatError) as caught:
        store.import_manifest(manifest)
    message = str(caught.value)
    assert str(manifest) in message and "\n" not in message and "s3cr3t" not in message
    assert_no_chain(caught.value)
    assert not store.directory.exists() or store.list_secrets() == []


@pytest.mark.parametrize("case", sorted(HOSTILE_MANIFESTS))
def test_hostile_manifest_inside_the_store_gives_one_line_naming_the_file(store, case):
    content = HOSTILE_MANIFESTS[case]
    store.add("good", {"k": "v"})
    path = store.directory / f"{case}.yaml"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    path.chmod(0o600)
    for operation in (store.list_secrets, lambda: store.get("good"), lambda: store.add("other", {"k": "v"})):
        with pytest.raises(StoreFormatError) as caught:
            operation()
        message = str(caught.value)
        assert str(path) in message and "\n" not in message and "s3cr3t" not in message
    if case not in ("binary", "nul-in-utf8", "deep-nesting", "deep-but-parsable"):
        assert "document 1" in str(caught.value)


@pytest.mark.parametrize("kind", ["directory", "missing", "fifo", "dangling-link"])
@pytest.mark.parametrize("importer", ["manifest", "dotenv"])
def test_import_of_something_that_is_not_a_file_gives_one_line(store, tmp_path, kind, importer):
    path = tmp_path / "given"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
        writer = os.open(path, os.O_RDWR)  # a reader that waits for the end of this FIFO would hang
    elif kind == "dangling-link":
        path.symlink_to(tmp_path / "nowhere")
    do_import = store.import_manifest if importer == "manifest" else lambda p: store.import_dotenv(p, "x")
    try:
        with pytest.raises(StoreFormatError) as caught:
            do_import(path)
    finally:
        if kind == "fifo":
            os.close(writer)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert_no_chain(caught.value)
    assert not store.directory.exists()


def test_binary_dotenv_gives_one_line_naming_the_file(store, tmp_path):
    dotenv = tmp_path / "bin.env"
    dotenv.write_bytes(b"KEY=\xff\xfes3cr3t\n")
    with pytest.raises(StoreFormatError, match=f"{dotenv}: not UTF-8") as caught:
        store.import_dotenv(dotenv, "x")
    assert "s3cr3t" not in str(caught.value)


def test_a_directory_or_link_named_like_a_manifest_in_the_store_is_skipped(store, tmp_path):
    store.add("db", {"k": "v"})
    (store.directory / "sub.yaml").mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("kind: Secret\nmetadata: {name: linked}\nstringData: {k: v}\n")
    (store.directory / "linked.yaml").symlink_to(elsewhere)
    assert [info.name for info in store.list_secrets()] == ["db"]


def test_a_lock_held_too_long_gives_a_bounded_one_line_error(store):
    import fcntl
    import time

    store.add("db", {"k": "v"})
    with open(store.directory / ".lock", "rb") as holder:  # another open file: conflicts like another process
        fcntl.flock(holder, fcntl.LOCK_EX)
        busy = LocalStore(store.directory, lock_timeout=0.3)
        for operation in (busy.list_secrets, lambda: busy.add("x", {"k": "v"}), lambda: busy.remove("db")):
            started = time.monotonic()
            with pytest.raises(StoreBusyError, match="stayed locked by another process for 0.3 s"):
                operation()
            assert time.monotonic() - started < 2
    assert busy.keys("db") == ("k",) and not busy.exists("x")


def test_a_failed_write_changes_nothing_and_leaves_no_temp_file(store, tmp_path, monkeypatch):
    store.add("a", {"k": "old"})
    manifest = tmp_path / "in.yaml"
    manifest.write_text("kind: Secret\nmetadata: {name: a}\nstringData: {k: new}\n---\n"
                        "kind: Secret\nmetadata: {name: b}\nstringData: {k: new}\n")
    synced = []

    def fsync_fails_the_second_time(descriptor):
        synced.append(descriptor)
        if len(synced) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync_fails_the_second_time)
    with pytest.raises(StoreWriteError, match="No space left on device; the store was not changed") as caught:
        store.import_manifest(manifest, replace=True)
    monkeypatch.undo()
    assert "\n" not in str(caught.value) and str(store.directory) in str(caught.value)
    assert store.read_values_for_local_run("a")["k"] == b"old" and not store.exists("b")
    assert sorted(os.listdir(store.directory)) == [".lock", "a.yaml"]


def test_a_lock_file_that_is_a_symbolic_link_is_refused(store, tmp_path):
    store.add("db", {"k": "v"})
    (store.directory / ".lock").unlink()
    (store.directory / ".lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InsecureStoreError, match="is a symbolic link"):
        store.add("x", {"k": "v"})
    assert not (tmp_path / "elsewhere").exists()
