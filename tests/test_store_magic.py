"""%kfp_secret store: checks before prompts, messages in the magic's words, a cancelled prompt."""

import pytest
from IPython.core.error import UsageError

from kfp_nbsecrets.sources.store import LocalStore


def run(ip, line):
    result = ip.run_cell(line)
    if result.error_in_exec:
        raise result.error_in_exec
    return result.result


@pytest.fixture
def store(private_store):
    return LocalStore(private_store)


def test_store_add_of_an_existing_name_says_replace_flag_before_prompting(ip, store, monkeypatch):
    store.add("db", {"k": "v"})
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail(f"prompted: {prompt}"))
    with pytest.raises(UsageError) as caught:
        run(ip, "%kfp_secret store add db k")
    assert "add --replace to overwrite it" in str(caught.value) and "replace=True" not in str(caught.value)


def test_store_import_of_existing_names_says_replace_flag(ip, store, tmp_path):
    store.add("db", {"k": "v"})
    manifest = tmp_path / "db.yaml"
    manifest.write_text("kind: Secret\nmetadata: {name: db}\nstringData: {k: new}\n")
    with pytest.raises(UsageError, match="'db' already exists .* add --replace to overwrite it"):
        run(ip, f"%kfp_secret store import {manifest}")
    run(ip, f"%kfp_secret store import {manifest} --replace")
    assert store.read_values_for_local_run("db")["k"] == b"new"


def test_store_add_into_an_unsafe_directory_refuses_before_prompting(ip, store, monkeypatch):
    store.add("db", {"k": "v"})
    store.directory.chmod(0o777)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail(f"prompted: {prompt}"))
    with pytest.raises(UsageError, match="chmod 700"):
        run(ip, "%kfp_secret store add other k")
    store.directory.chmod(0o700)


def test_end_of_input_at_the_prompt_is_a_one_line_cancel(ip, store, monkeypatch):
    def eof(prompt=""):
        raise EOFError

    monkeypatch.setattr("getpass.getpass", eof)
    with pytest.raises(UsageError) as caught:
        run(ip, "%kfp_secret store add db k")
    message = str(caught.value)
    assert message.startswith("cancelled") and "EOFError" not in message and "\n" not in message
    assert not store.exists("db")


def test_a_frontend_without_stdin_gets_a_one_line_way_out(ip, store, monkeypatch):
    from IPython.core.error import StdinNotImplementedError

    def no_stdin(prompt=""):
        raise StdinNotImplementedError("this frontend does not support input requests")

    monkeypatch.setattr("getpass.getpass", no_stdin)
    with pytest.raises(UsageError, match="cannot show a hidden prompt; add the secret from Python"):
        run(ip, "%kfp_secret store add db k")
    assert not store.exists("db")
