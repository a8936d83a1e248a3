"""Example notebooks and the preview's static fallback in a real JupyterLab / Notebook 7 in headless Chromium.

* Run All twice on notebooks/02-picker.ipynb: the same cells, no cell inserted, the picker still shown.
* Screenshots into out/screenshots/: the picker and a 50-task preview with two notebooks open, in
  JupyterLab light and dark and Notebook 7; the static ``text/html`` fallback of the same preview as
  nbconvert HTML (light and dark theme) opened in Chromium, where it holds one SVG node per task.

Uses the server and browser fixtures of ``tests/browser/conftest.py`` (skipped when /usr/bin/chromium
is absent).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from .jupyter import KERNEL_READY, open_notebook, write_notebook

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(600)

# Every code cell of the current notebook ran after ``after`` (an execution count) and the kernel is idle.
ALL_RAN = """(after) => {
  const widget = window.jupyterapp.shell.currentWidget;
  const kernel = widget.sessionContext.session.kernel;
  const cells = widget.content.model.sharedModel.cells;
  return kernel.status === 'idle'
    && cells.every(c => c.cell_type !== 'code' || (c.execution_count || 0) > after);
}"""

CELLS = """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.map(
  c => [c.cell_type, c.getSource(), c.cell_type === 'code' ? c.execution_count : null])"""

PICK = "%kfp_secret pick fifty --source memory"
RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"

FIFTY = '''\
%load_ext kfp_nbsecrets
from kfp import dsl, kubernetes
import kfp_nbsecrets
from kfp_nbsecrets import sources

@dsl.component(base_image="python:3.11")
def step(index: int) -> str:
    return str(index)

def chains(with_secrets: bool, secret_name: str):
    """3 chains of 8 steps; with_secrets: every third step gets the secret (env or volume)."""
    for chain in range(3):
        previous = None
        for position in range(8):
            task = step(index=position)
            if previous is not None:
                task.after(previous)
            previous = task
            if with_secrets and position % 3 == 0:
                if chain % 2:
                    kubernetes.use_secret_as_volume(task, secret_name, f"/secrets/s{chain}-{position}")
                else:
                    kubernetes.use_secret_as_env(task, secret_name, {"pw": "DB_PASSWORD"})

@dsl.pipeline(name="fifty")
def fifty(secret_name: str = "db-creds", names: list = ["a-one", "b-two"], mode: str = "on"):
    with dsl.ParallelFor(names):
        chains(False, secret_name)
    with dsl.If(mode == "on"):
        chains(True, secret_name)

memory = sources.get_source("memory")
memory.add("db-creds", {"username": "u", "password": "p"})
memory.add("reporting-api", {"apiKey": "k"});
'''


def run_all(page, after: int = 0) -> int:
    """Run all cells of the current notebook; returns the highest execution count."""
    page.evaluate(RUN_ALL)
    page.wait_for_function(ALL_RAN, arg=after, timeout=240_000)
    return max(count or 0 for kind, _, count in page.evaluate(CELLS) if kind == "code")


def set_theme(page, theme: str) -> None:
    page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    light = "true" if theme.endswith("Light") else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=30_000)
    page.wait_for_timeout(500)


def test_run_all_twice_keeps_notebook_02_the_same(lab, page, screenshots):
    shutil.copy(ROOT / "notebooks" / "02-picker.ipynb", lab.root / "02-picker.ipynb")
    open_notebook(page, f"{lab.url}/lab/tree/02-picker.ipynb", "02-picker.ipynb")
    first = run_all(page)
    cells = page.evaluate(CELLS)
    picker = page.locator(".kfp-nbsecrets-picker")
    picker.first.wait_for(timeout=60_000)
    run_all(page, after=first)
    again = page.evaluate(CELLS)
    assert [(kind, source) for kind, source, _ in again] == [(kind, source) for kind, source, _ in cells]
    assert picker.count() == 1 and picker.first.is_visible()  # the cleanup cell keeps the form


def test_screenshots_of_the_picker_and_the_preview(lab, page, screenshots):
    """Two notebooks open (a 50-task preview with its picker, and 02-picker), light and dark."""
    write_notebook(lab, "fifty.ipynb", [FIFTY, "kfp_nbsecrets.preview(fifty)", PICK])
    # a copy of its own: the server may still hold 02-picker.ipynb of another test, changed
    shutil.copy(ROOT / "notebooks" / "02-picker.ipynb", lab.root / "picker-example.ipynb")
    page.set_viewport_size({"width": 1600, "height": 1100})
    open_notebook(page, f"{lab.url}/lab/tree/picker-example.ipynb", "picker-example.ipynb")
    run_all(page)
    page.evaluate("""async () => {
      const widget = await window.jupyterapp.commands.execute('docmanager:open',
        {path: 'fifty.ipynb', options: {mode: 'split-right'}});
      window.jupyterapp.shell.activateById(widget.id);
    }""")
    page.wait_for_function(KERNEL_READY, arg="fifty.ipynb", timeout=90_000)
    run_all(page)
    preview = page.locator(".jp-OutputArea-output.kfp-nbsecrets-ir")
    preview.locator(".kfp-nbsecrets-task").first.wait_for(timeout=120_000)
    picker = page.locator(".kfp-nbsecrets-picker").last
    picker.locator("select option", has_text="db-creds").first.click()
    picker.locator(".kfp-nbsecrets-reason", has_text="target task").wait_for(timeout=30_000)
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        page.screenshot(path=str(screenshots / f"lab_two_notebooks_{name}.png"))
        picker.scroll_into_view_if_needed()
        picker.screenshot(path=str(screenshots / f"picker_lab_{name}.png"))
    set_theme(page, "JupyterLab Light")


@pytest.mark.skipif(importlib.util.find_spec("notebook") is None, reason="Notebook 7 is not installed")
def test_screenshots_in_notebook7(lab, page, screenshots):
    write_notebook(lab, "fifty7.ipynb", [FIFTY, "kfp_nbsecrets.preview(fifty)", PICK])
    page.set_viewport_size({"width": 1400, "height": 1100})
    open_notebook(page, f"{lab.url}/notebooks/fifty7.ipynb", "fifty7.ipynb")
    run_all(page)
    picker = page.locator(".kfp-nbsecrets-picker")
    picker.wait_for(timeout=60_000)
    picker.locator("select option", has_text="db-creds").first.click()
    picker.locator(".kfp-nbsecrets-reason", has_text="target task").wait_for(timeout=30_000)
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        picker.scroll_into_view_if_needed()
        picker.screenshot(path=str(screenshots / f"picker_notebook7_{name}.png"))
        page.locator(".jp-OutputArea-output.kfp-nbsecrets-ir").screenshot(
            path=str(screenshots / f"preview_notebook7_{name}.png"))
    set_theme(page, "JupyterLab Light")


def test_static_fallback_in_nbconvert_html(tmp_path, browser, screenshots):
    """The notebook as nbconvert HTML (no kfp-nbsecrets renderer): the SVG graph, one node per task."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    notebook = nbformat.v4.new_notebook()
    # two previews on one page
    notebook.cells = [nbformat.v4.new_code_cell(source)
                      for source in (FIFTY, "kfp_nbsecrets.preview(fifty)", "kfp_nbsecrets.preview(fifty)")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    fallback = notebook.cells[1].outputs[0]["data"]["text/html"]
    tasks = len(re.findall(r"<g class='[tg][ ']", fallback))
    assert tasks == 50  # 48 steps, the loop and the condition
    for theme in ("light", "dark"):
        page_html, _ = HTMLExporter(theme=theme).from_notebook_node(notebook)
        path = tmp_path / f"fallback_{theme}.html"
        path.write_text(page_html)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(path.as_uri())
            svg = page.locator("svg.kfp-nbsecrets-svg").first
            svg.wait_for(timeout=30_000)
            assert page.locator("svg.kfp-nbsecrets-svg").count() == 2
            assert svg.locator("g.t").count() == 48
            box = svg.locator("g.t rect.k").first.evaluate("e => getComputedStyle(e).fill")
            assert (box == "rgb(255, 255, 255)") == (theme == "light"), box
            svg.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshots / f"static_fallback_nbconvert_{theme}.png"), full_page=False)
        finally:
            context.close()
