"""Opening notebooks in the JupyterLab / Notebook 7 page of the browser tests."""

from __future__ import annotations

import nbformat

# The notebook must be the current widget: the server's workspace may restore notebooks of earlier tests.
KERNEL_READY = """(path) => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.context && widget.context.path === path && widget.sessionContext
    && widget.sessionContext.session && widget.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def write_notebook(lab, name: str, sources: list[str]) -> None:
    """A notebook of code cells ``sources`` at ``name`` in the server's root."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, str(lab.root / name))


def open_notebook(page, url: str, path: str) -> None:
    """Go to ``url`` and wait until notebook ``path`` is the current widget with an idle kernel."""
    page.goto(url)
    page.wait_for_function("() => !!window.jupyterapp", timeout=60_000)
    page.wait_for_function(KERNEL_READY, arg=path, timeout=90_000)
