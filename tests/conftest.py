"""Fixtures shared by the whole suite."""

import pytest

from kfp_nbsecrets import sources


@pytest.fixture(autouse=True)
def private_store(tmp_path_factory, monkeypatch):
    """Every test gets its own empty local store and default source settings."""
    store = tmp_path_factory.mktemp("store")
    store.chmod(0o700)
    monkeypatch.setenv("KFP_NBSECRETS_STORE", str(store / "secrets"))
    sources.reset_configuration()
    yield store / "secrets"
    sources.reset_configuration()


@pytest.fixture
def ip():
    """An in-process IPython shell with the extension loaded and an empty namespace."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("kfp_nbsecrets")
    saved = dict(shell.user_ns)
    yield shell
    shell.user_ns.clear()
    shell.user_ns.update(saved)
    magics = shell.magics_manager.registry["KfpSecretMagics"]
    for trait in ("source", "namespace", "full_errors"):
        setattr(magics, trait, magics.trait_defaults(trait))


@pytest.fixture
def emulator():
    """A Kubernetes API emulator (kmock) on loopback, stopped after the test."""
    from kube_emulator import KubeEmulator

    running = KubeEmulator().start()
    try:
        yield running
    finally:
        running.stop()
