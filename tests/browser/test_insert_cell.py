"""The extension's insert-cell plugin in a real JupyterLab (and Notebook 7) in headless Chromium.

``send_insert_cell(code)`` (and the picker's "As code" button, which calls it) opens a comm with
target ``kfp_nbsecrets.insert_cell``; the plugin inserts the code as a new, unexecuted code cell below
the cell that asked for it, also after a kernel restart and a kernel change. Uses the server and
browser fixtures of ``tests/browser/conftest.py`` (skipped when /usr/bin/chromium is absent).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from .jupyter import KERNEL_READY, open_notebook, write_notebook

CODE = "%kfp_secret bind p consume db --env user=DB_USER"
SEND = f"from kfp_nbsecrets.widgets.picker import send_insert_cell\nsend_insert_cell({CODE!r})"
LAST = "print('last cell ran')"
pytestmark = pytest.mark.timeout(300)  # a cold server, kernel and kfp import under CI load

# The notebook's cells as its model holds them.
CELLS = """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.map(c => ({
  type: c.cell_type,
  source: c.getSource(),
  count: c.cell_type === 'code' ? c.execution_count : null,
  outputs: c.cell_type === 'code' ? c.outputs.length : 0,
}))"""

# Run-all is done when the last original cell has its output.
LAST_RAN = """(text) => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells;
  const last = cells[cells.length - 1];
  return last.getSource() === text && last.outputs.length > 0;
}"""

RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"

KERNEL = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"


def cells(page) -> list[dict]:
    return page.evaluate(CELLS)


def inserted(source: str) -> dict:
    """A new cell: code, with exactly that text, never executed."""
    return {"type": "code", "source": source, "count": None, "outputs": 0}


def check_editor_text(page, index: int, text: str) -> None:
    """The cell widget at ``index`` shows ``text`` in its editor (as text) and an empty prompt."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    editor = cell.locator(".cm-content")
    editor.wait_for(timeout=30_000)
    assert editor.inner_text() == text
    assert cell.locator(".jp-InputPrompt").inner_text().replace("\xa0", " ").strip() in ("[ ]:", "")


def run_all_and_check_insert(page) -> None:
    """Run all cells of the [SEND, LAST] notebook: the code lands between them, unexecuted."""
    page.evaluate(RUN_ALL)
    page.wait_for_function(LAST_RAN, arg=LAST, timeout=90_000)
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
                           ".cells.length === 3", timeout=30_000)
    found = cells(page)
    # run-all left the last cell active: the cell goes below the one that ran send_insert_cell
    assert found[1] == inserted(CODE), found
    assert found[0]["source"] == SEND and found[0]["count"] is not None
    assert found[2]["source"] == LAST and found[2]["count"] is not None
    check_editor_text(page, 1, CODE)


def test_send_insert_cell_in_jupyterlab(lab, page, screenshots):
    write_notebook(lab, "insert.ipynb", [SEND, LAST])
    open_notebook(page, f"{lab.url}/lab/tree/insert.ipynb", "insert.ipynb")
    run_all_and_check_insert(page)
    page.locator(".jp-Notebook").screenshot(path=str(screenshots / "insert_cell_lab.png"))

    # after a kernel restart (same connection) and a kernel change (new connection), still inserted
    for step in ("restart", "change"):
        page.evaluate("""async () => {
          const widget = window.jupyterapp.shell.currentWidget;
          widget.content.model.sharedModel.deleteCell(1);  // drop the inserted cell
        }""")
        if step == "restart":
            page.evaluate(f"() => {KERNEL}.restart()")
        else:
            before = page.evaluate(f"() => {KERNEL}.id")
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext"
                          ".changeKernel({name: 'python3'})")
            page.wait_for_function("(id) => { const k = window.jupyterapp.shell.currentWidget.sessionContext"
                                   ".session.kernel; return !!k && k.id !== id; }", arg=before,
                                   timeout=60_000)
        page.wait_for_function(KERNEL_READY, arg="insert.ipynb", timeout=90_000)
        assert [cell["source"] for cell in cells(page)] == [SEND, LAST]
        run_all_and_check_insert(page)


@pytest.mark.skipif(importlib.util.find_spec("notebook") is None, reason="Notebook 7 is not installed")
def test_send_insert_cell_in_notebook7(lab, page, screenshots):
    write_notebook(lab, "insert7.ipynb", [SEND, LAST])
    open_notebook(page, f"{lab.url}/notebooks/insert7.ipynb", "insert7.ipynb")
    run_all_and_check_insert(page)
    page.locator(".jp-Notebook").screenshot(path=str(screenshots / "insert_cell_notebook7.png"))


PICKER_SETUP = '''\
%load_ext kfp_nbsecrets
from kfp import dsl
from kfp_nbsecrets import sources

@dsl.component(base_image="python:3.11")
def consume(text: str = "x") -> str:
    return text

@dsl.pipeline(name="picked")
def p():
    consume(text="top")

sources.get_source("memory").add("db", {"user": "CANARY-user-value"})
'''
PICK = "%kfp_secret pick p --source memory"
PICKER = ".kfp-nbsecrets-picker"


def test_picker_as_code_inserts_a_cell(lab, page, screenshots):
    write_notebook(lab, "insert_picker.ipynb", [PICKER_SETUP, PICK, LAST])
    open_notebook(page, f"{lab.url}/lab/tree/insert_picker.ipynb", "insert_picker.ipynb")
    page.evaluate(RUN_ALL)
    page.wait_for_function(LAST_RAN, arg=LAST, timeout=90_000)
    picker = page.locator(PICKER)
    picker.wait_for(timeout=90_000)
    picker.locator(".widget-select select option", has_text="db").first.click()
    # the only key is ticked; rename its env var
    env = picker.locator(".widget-hbox", has=page.locator(".widget-checkbox", has_text="user")) \
        .locator(".widget-text input")
    env.wait_for(timeout=30_000)
    assert env.input_value() == "USER"
    env.fill("DB_USER")
    env.press("Enter")
    picker.locator(".widget-select-multiple option", has_text="consume").click()
    # the last cell is active: the new cell must still go below the picker's cell
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 2; }")
    picker.locator("button", has_text="As code").click()
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
                           ".cells.length === 4", timeout=60_000)
    found = cells(page)
    assert [cell["source"] for cell in found] == [PICKER_SETUP, PICK, CODE, LAST]
    assert found[2] == inserted(CODE)
    check_editor_text(page, 2, CODE)
    status = picker.locator(".kfp-nbsecrets-status")
    assert "sent to the notebook" in status.inner_text()
    page.locator(".jp-Notebook").screenshot(path=str(screenshots / "insert_cell_picker.png"))


def test_build_exposes_the_plugin():
    """The built package declares both entry points: the plugin and the MIME renderer."""
    built = Path(__file__).resolve().parents[2] / "kfp_nbsecrets" / "labextension"
    build = json.loads((built / "package.json").read_text())["jupyterlab"]["_build"]
    assert build["extension"] == "./extension" and build["mimeExtension"] == "./mimeExtension"
    chunks = (built / "static").glob("*.js")
    assert any("kfp_nbsecrets.insert_cell" in chunk.read_text(errors="replace") for chunk in chunks)
