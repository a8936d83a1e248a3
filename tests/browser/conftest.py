"""A JupyterLab server on loopback and a headless Debian Chromium, for the real-browser tests.

Skipped (with the reason) when /usr/bin/chromium or Python Playwright is missing. The server
loads the extension built into the checkout (``kfp_nbsecrets/labextension``) through
``JUPYTER_PATH``, so the tests see the committed build whatever the install mode; with
``KFP_NBSECRETS_INSTALLED_EXTENSION=1`` (the matrix venvs) it loads the copy that installing the
package put under ``share/jupyter/labextensions`` (hatch shared-data), as a user's JupyterLab does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "kfp_nbsecrets" / "labextension"
SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


BROWSER_FIXTURES = {"lab", "browser", "page"}
INSTALLED = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "kfp-nbsecrets"
USE_INSTALLED = os.environ.get("KFP_NBSECRETS_INSTALLED_EXTENSION") == "1"


def pytest_collection_modifyitems(config, items):
    """Skip the tests that need the browser or the server, with the reason, when Chromium or
    Playwright is missing."""
    reason = None
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is absent (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "Python Playwright is not installed (pip install playwright)"
    if reason:
        for item in items:
            if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    def __init__(self, url: str, root: Path, process: subprocess.Popen, log: Path, workspaces: Path):
        self.url, self.root, self.process, self.log = url, root, process, log
        self.workspaces = workspaces

    def forget_workspaces(self) -> None:
        """Drop the saved layouts, so a page does not reopen the notebooks of earlier tests."""
        for saved in self.workspaces.glob("*"):
            if saved.is_dir():
                shutil.rmtree(saved, ignore_errors=True)
            else:
                saved.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab server (no token, loopback, temp root dir); stopped by its PID."""
    if USE_INSTALLED and not (INSTALLED / "package.json").exists():
        pytest.fail(f"the extension is not installed: {INSTALLED} (pip install the package)")
    if not (BUILT / "package.json").exists():
        pytest.fail(f"the extension is not built: {BUILT} (cd labextension && npm ci && npm run build:prod)")
    base = tmp_path_factory.mktemp("lab")
    root, data, config, runtime = (base / name for name in ("root", "data", "config", "runtime"))
    for folder in (root, data / "labextensions", config, runtime):
        folder.mkdir(parents=True)
    if not USE_INSTALLED:
        (data / "labextensions" / "kfp-nbsecrets").symlink_to(BUILT, target_is_directory=True)
    # no news / update checks: no network, and no toast over the screenshots
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # every cell attached, in every JupyterLab: 4.2 detaches off-screen cells ("full" windowing), so an
    # output above the fold reads as hidden to Playwright there and not in 4.3+
    tracker = base / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_PATH": str(data),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "PYTHONWARNINGS": "ignore",
    }
    log = base / "server.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Lab(url, root, process, log, base / "workspaces")
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, lab):
    """A fresh browser context; the server forgets the workspace before and after the test."""
    lab.forget_workspaces()
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
        lab.forget_workspaces()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
