"""The pipeline IR renderer in a real JupyterLab (and Notebook 7) in headless Chromium.

A notebook defines a pipeline with nested DAGs (exit handler, loop, if/elif/else, sub-pipeline)
and secrets, previews it, and the rendered output is checked: the graph, the badges, the
finding markers and the details panel opened by a click and by the keyboard.
"""

from __future__ import annotations

import importlib.util

import nbformat
import pytest

DEFINE = '''\
from kfp import dsl, kubernetes

@dsl.component(base_image="python:3.11")
def produce() -> str:
    return "db-creds"

@dsl.component(base_image="python:3.11")
def consume(text: str = "x") -> str:
    return text

@dsl.pipeline(name="inner")
def inner(inner_secret: str = "inner-default"):
    task = consume(text="in")
    kubernetes.use_secret_as_env(task, inner_secret, {"token": "TOKEN"})

@dsl.pipeline(name="nested")
def p(secret_name: str = "db-creds", names: list = ["a-one", "b-two"]):
    top = consume(text="top")
    kubernetes.use_secret_as_env(top, "literal-creds", {"password": "DB_PASSWORD"}, optional=True)
    made = produce()
    with dsl.ExitHandler(consume(text="cleanup")):
        with dsl.ParallelFor(names) as name:
            looped = consume(text="loop")
            kubernetes.use_secret_as_volume(looped, name, "/secrets/loop")
        with dsl.If(made.output == "x"):
            in_if = consume(text="if")
            kubernetes.use_secret_as_env(in_if, secret_name, {"user": "DB_USER"})
        with dsl.Else():
            in_else = consume(text="else")
            kubernetes.use_secret_as_volume(in_else, made.output, "/secrets/out")
        inner(inner_secret=secret_name)
'''
PREVIEW = "from kfp_nbsecrets.display import preview\npreview(p)"
OUTPUT = ".jp-OutputArea-output.kfp-nbsecrets-ir"
pytestmark = pytest.mark.timeout(300)  # a cold server, kernel and kfp import under CI load

KERNEL_READY = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
    && widget.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def write_notebook(lab, name: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(DEFINE), nbformat.v4.new_code_cell(PREVIEW)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, str(lab.root / name))


def open_and_run(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => !!window.jupyterapp", timeout=60_000)
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(f"{OUTPUT} .kfp-nbsecrets-task", timeout=90_000)


def check_renderer(page) -> None:
    output = page.locator(OUTPUT)
    assert output.count() == 1
    # the JSON payload won over the HTML fallback
    assert page.locator(".jp-OutputArea-output .kfp-nbsecrets-preview").count() == 0
    assert output.locator(".kfp-nbsecrets-title").inner_text() == "nested"

    groups = output.locator(".kfp-nbsecrets-group")
    kinds = sorted(groups.evaluate_all("els => els.map(e => e.className.split('--')[1])"))
    assert kinds == ["condition", "condition", "condition-branches", "exit-handler", "for-loop", "pipeline"]
    tasks = output.locator(".kfp-nbsecrets-task")
    assert tasks.count() == 7
    assert output.locator("path.kfp-nbsecrets-edge").count() == 2

    def task(path):
        return output.locator(f'.kfp-nbsecrets-task[data-path="{path}"]')

    looped = task("exit-handler-1/for-loop-2/consume-3")
    assert looped.locator(".kfp-nbsecrets-badge").inner_text().split() == ["VOL", "loop", "item"]
    assert task("consume").locator(".kfp-nbsecrets-badge--env .kfp-nbsecrets-src--literal, "
                                   ".kfp-nbsecrets-badge--env.kfp-nbsecrets-src--literal").count() == 1
    assert task("exit-handler-1/inner/consume").locator(".kfp-nbsecrets-src--parameter").count() == 1
    # findings marked on the tasks they concern
    assert looped.locator(".kfp-nbsecrets-marker--warning").count() == 1
    assert "kfp-nbsecrets-has-warning" in (looped.get_attribute("class") or "")

    # nested groups drawn inside their parents, tasks inside their groups
    outer = output.locator('.kfp-nbsecrets-group[data-path="exit-handler-1"]').bounding_box()
    loop = output.locator('.kfp-nbsecrets-group[data-path="exit-handler-1/for-loop-2"]').bounding_box()
    inside = looped.bounding_box()
    for box, parent in ((loop, outer), (inside, loop)):
        assert parent["x"] <= box["x"] and box["x"] + box["width"] <= parent["x"] + parent["width"] + 0.5
        assert parent["y"] < box["y"] and box["y"] + box["height"] <= parent["y"] + parent["height"] + 0.5

    # a click opens the details
    details = output.locator(".kfp-nbsecrets-details")
    assert details.is_hidden()
    task("exit-handler-1/inner/consume").click()
    assert details.is_visible()
    assert details.locator(".kfp-nbsecrets-details-title").inner_text() == "consume"
    text = details.inner_text()
    assert "exit-handler-1/inner/consume" in text and "python:3.11" in text
    assert "via inner_secret" in details.locator(".kfp-nbsecrets-source").inner_text()
    assert details.locator(".kfp-nbsecrets-target").inner_text() == "token \u2192 TOKEN"

    # keyboard: focus a task, Enter opens it, Escape closes
    looped.focus()
    page.keyboard.press("Enter")
    assert details.locator(".kfp-nbsecrets-target").inner_text() == "/secrets/loop"
    page.keyboard.press("Escape")
    assert details.is_hidden()
    assert page.evaluate("() => document.activeElement.dataset.path") == "exit-handler-1/for-loop-2/consume-3"
    page.keyboard.press(" ")
    assert details.is_visible()


def test_renderer_in_jupyterlab(lab, page, screenshots):
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((lab.url, "data:", "blob:")) else None)
    write_notebook(lab, "preview.ipynb")
    open_and_run(page, f"{lab.url}/lab/tree/preview.ipynb")
    check_renderer(page)
    output = page.locator(OUTPUT)
    output.scroll_into_view_if_needed()
    output.screenshot(path=str(screenshots / "ir_renderer_light.png"))
    page.evaluate("() => window.jupyterapp.commands.execute("
                  "'apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'"
                           " && !document.getElementById('jupyterlab-splash')", timeout=30_000)
    # theme colours reach the renderer
    first_task = output.locator(".kfp-nbsecrets-task").first
    background = first_task.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    output.screenshot(path=str(screenshots / "ir_renderer_dark.png"))
    # the platform spec and IR tabs
    output.locator('[role=tab][data-tab="ir"]').click()
    assert "name: nested" in output.locator('[role=tabpanel][data-tab="ir"]').inner_text()
    page.evaluate("() => window.jupyterapp.commands.execute("
                  "'apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'"
                           " && !document.getElementById('jupyterlab-splash')", timeout=30_000)
    assert outside == [], f"requests left the loopback server: {outside}"


@pytest.mark.skipif(importlib.util.find_spec("notebook") is None, reason="Notebook 7 is not installed")
def test_renderer_in_notebook7(lab, page, screenshots):
    write_notebook(lab, "preview7.ipynb")
    open_and_run(page, f"{lab.url}/notebooks/preview7.ipynb")
    check_renderer(page)
    page.locator(OUTPUT).screenshot(path=str(screenshots / "ir_renderer_notebook7.png"))
