"""Fixtures shared by the whole suite."""

import importlib.util

import pytest

from kfp_nbsecrets import sources

# kmock, the Kubernetes emulator of tests/kube_emulator.py, needs Python >= 3.11. Without it, exactly the
# tests that use it are skipped, with this reason: those with the `emulator` fixture and those that
# import kube_emulator or kmock (a whole module when it imports them at its top).
NO_EMULATOR = (None if importlib.util.find_spec("kmock")
               else "needs kmock, the Kubernetes emulator (Python >= 3.11)")


def _needs_kmock(error) -> bool:
    """Whether an exception is kmock missing (also inside a notebook a test executed)."""
    if isinstance(error, ModuleNotFoundError):
        return error.name == "kmock"
    evalue = str(getattr(error, "evalue", ""))
    return getattr(error, "ename", None) == "ModuleNotFoundError" and "'kmock'" in evalue


def pytest_collection_modifyitems(config, items):
    if NO_EMULATOR:
        for item in items:
            if "emulator" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason=NO_EMULATOR))


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if NO_EMULATOR and report.failed and isinstance(collector, pytest.Module) \
            and "No module named 'kmock'" in str(report.longrepr):
        report.outcome = "skipped"
        report.longrepr = (str(collector.path), 0, f"Skipped: {NO_EMULATOR}")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if NO_EMULATOR and report.failed and call.excinfo is not None and _needs_kmock(call.excinfo.value):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {NO_EMULATOR}")
    return report


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
