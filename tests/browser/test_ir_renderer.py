"""The pipeline IR renderer in a real JupyterLab (and Notebook 7) in headless Chromium.

A notebook defines a pipeline with nested DAGs (exit handler, loop, if/elif/else, sub-pipeline)
and secrets, previews it, and the rendered output is checked: the graph, the badges, the
finding markers and the details panel opened by a click and by the keyboard.
"""

from __future__ import annotations

import base64
import importlib.util

import pytest

from .jupyter import KERNEL_READY, open_notebook, write_notebook

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

def screenshot(page, output, path) -> None:
    """The page, with ``output`` at the top and its graph scrolled to its start."""
    output.evaluate("e => { e.scrollIntoView({block: 'start'});"
                    " for (const s of e.querySelectorAll('.kfp-nbsecrets-scroll')) {"
                    " s.scrollLeft = 0; s.scrollTop = 0; } }")
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))


def write_preview(lab, name: str) -> None:
    write_notebook(lab, name, [DEFINE, PREVIEW])


def open_and_run(page, url: str) -> None:
    open_notebook(page, url, url.rsplit("/", 1)[-1])
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
    assert output.locator(".kfp-nbsecrets-summary").inner_text() == (
        "7 tasks \u00b7 6 groups \u00b7 5 secret bindings \u00b7 0 errors \u00b7 4 warnings")
    # condition groups say If / Else and their predicate
    labels = output.locator(".kfp-nbsecrets-group--condition .kfp-nbsecrets-group-label").all_inner_texts()
    else_label, if_label = sorted(" ".join(label.split()) for label in labels)
    assert if_label == "IF produce.Output == 'x'" and else_label.startswith("ELSE condition-")
    # ELK ran in its web worker
    assert output.locator(".kfp-nbsecrets-view").get_attribute("data-layout-engine") == "worker"

    def task(path):
        return output.locator(f'.kfp-nbsecrets-task[data-path="{path}"]')

    looped = task("exit-handler-1/for-loop-2/consume-3")
    assert looped.locator(".kfp-nbsecrets-badge").inner_text().split() == ["VOL", "item", "of", "{{names}}"]
    assert task("consume").locator(".kfp-nbsecrets-badge").inner_text().split() == ["ENV", "literal-creds"]
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
    assert details.locator(".kfp-nbsecrets-source").inner_text().endswith("\u2192 inner_secret")
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
    write_preview(lab, "preview.ipynb")
    open_and_run(page, f"{lab.url}/lab/tree/preview.ipynb")
    check_renderer(page)
    output = page.locator(OUTPUT)
    screenshot(page, output, screenshots / "ir_renderer_light.png")
    page.evaluate("() => window.jupyterapp.commands.execute("
                  "'apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'"
                           " && !document.getElementById('jupyterlab-splash')", timeout=30_000)
    # theme colours reach the renderer
    first_task = output.locator(".kfp-nbsecrets-task").first
    background = first_task.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    screenshot(page, output, screenshots / "ir_renderer_dark.png")
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
    write_preview(lab, "preview7.ipynb")
    open_and_run(page, f"{lab.url}/notebooks/preview7.ipynb")
    check_renderer(page)
    screenshot(page, page.locator(OUTPUT), screenshots / "ir_renderer_notebook7.png")


# --- two previews, keys, details placement, screenshots ---------------------------------------

DEFINE_50 = '''\
from kfp import dsl, kubernetes

@dsl.component(base_image="python:3.11")
def step(i: int) -> str:
    return str(i)

@dsl.pipeline(name="fifty")
def fifty(secret_name: str = "db-creds", mode: str = "fast", names: list = ["eu-db", "us-db"]):
    first = step(i=0)
    kubernetes.use_secret_as_env(first, "db-creds", {"password": "DB_PASSWORD"})
    kubernetes.set_image_pull_secrets(first, ["regcred"])
    with dsl.ParallelFor(names) as name:
        previous = None
        for i in range(8):
            task = step(i=i)
            if previous is not None:
                task.after(previous)
            previous = task
        kubernetes.use_secret_as_volume(task, name, "/secrets/region")
    with dsl.If(first.output == "x"):
        for i in range(6):
            kubernetes.use_secret_as_env(step(i=i), secret_name, {"token": "API_TOKEN"})
    with dsl.Elif(first.output == "y"):
        for i in range(6):
            step(i=i)
    with dsl.Else():
        for i in range(6):
            kubernetes.use_secret_as_volume(step(i=i), first.output, "/secrets/out")
    with dsl.ExitHandler(step(i=99)):
        previous = first
        for i in range(12):
            task = step(i=i).after(previous)
            previous = task
'''
PREVIEW_50 = "from kfp_nbsecrets.display import preview\npreview(fifty)"

# Share of the pixels that differ between two PNG screenshots of the same size.
PIXELS_DIFFER = """async ([a, b]) => {
  const pixels = async png => {
    const bitmap = await createImageBitmap(await (await fetch('data:image/png;base64,' + png)).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d');
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  };
  const [x, y] = [await pixels(a), await pixels(b)];
  let differ = 0;
  for (let i = 0; i < x.length; i += 4) {
    if (Math.abs(x[i] - y[i]) + Math.abs(x[i + 1] - y[i + 1]) + Math.abs(x[i + 2] - y[i + 2]) > 30) differ++;
  }
  return differ / (x.length / 4);
}"""


def undrawn_arrowheads(page, output) -> list:
    """The edges of ``output`` whose arrowhead is not drawn on the screen: for each head, a
    screenshot of its box with the head shown and one with it hidden must differ."""
    undrawn = []
    edges = output.locator("path.kfp-nbsecrets-edge")
    assert edges.count() > 0
    for index in range(edges.count()):
        edge = edges.nth(index)
        key = (edge.get_attribute("data-from"), edge.get_attribute("data-to"))
        head = output.locator(f'path.kfp-nbsecrets-arrowhead[data-from="{key[0]}"][data-to="{key[1]}"]')
        if head.count() != 1:
            undrawn.append(key)
            continue
        head.scroll_into_view_if_needed()
        box = head.bounding_box()
        if not box or box["width"] < 4 or box["height"] < 4:
            undrawn.append(key)
            continue
        clip = {"x": box["x"] - 1, "y": box["y"] - 1, "width": box["width"] + 2, "height": box["height"] + 2}
        shown = page.screenshot(clip=clip)
        head.evaluate("e => { e.style.visibility = 'hidden'; }")
        hidden = page.screenshot(clip=clip)
        head.evaluate("e => { e.style.visibility = ''; }")
        share = page.evaluate(PIXELS_DIFFER, [base64.b64encode(png).decode() for png in (shown, hidden)])
        if share < 0.15:
            undrawn.append(key)
    return undrawn


def cell_count(page) -> int:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.cells.length")


def open_second(page, name: str) -> None:
    """Opens ``name`` beside the current notebook (split right) and runs it."""
    page.evaluate("name => window.jupyterapp.commands.execute('docmanager:open',"
                  " {path: name, options: {mode: 'split-right'}})", name)
    page.wait_for_function("name => window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.context.path === name", arg=name,
                           timeout=60_000)
    page.wait_for_function(KERNEL_READY, arg=name, timeout=90_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def current_output(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) " + OUTPUT).last


def test_two_previews_every_edge_has_a_visible_arrowhead(lab, page, screenshots):
    write_preview(lab, "first.ipynb")
    write_preview(lab, "second.ipynb")
    open_and_run(page, f"{lab.url}/lab/tree/first.ipynb")
    open_second(page, "second.ipynb")
    page.wait_for_function(f"() => document.querySelectorAll('{OUTPUT} .kfp-nbsecrets-task').length >= 14",
                           timeout=90_000)
    outputs = page.locator(OUTPUT)
    assert outputs.count() == 2
    for index in range(2):
        output = outputs.nth(index)
        assert output.locator("path.kfp-nbsecrets-edge").count() == 2
        assert undrawn_arrowheads(page, output) == []
    for index in range(2):  # each notebook shows the arrow into the exit handler
        outputs.nth(index).evaluate(
            "e => e.querySelector('.kfp-nbsecrets-arrowhead[data-to=\"exit-handler-1\"]')"
            ".scrollIntoView({block: 'center', inline: 'center'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / "lab_two_notebooks.png"))
    # the same once the first notebook's tab is hidden behind another one and shown again
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'first.ipynb'})")
    assert undrawn_arrowheads(page, outputs.nth(0)) == []


def test_keys_on_a_focused_task_stay_in_the_renderer(lab, page):
    write_preview(lab, "keys.ipynb")
    open_and_run(page, f"{lab.url}/lab/tree/keys.ipynb")
    output = page.locator(OUTPUT)
    before = cell_count(page)
    task = output.locator('.kfp-nbsecrets-task[data-path="consume"]')
    for key in ("a", "b", "x", "c", "v", "m", "y", "d", "d", "z"):
        task.focus()
        page.keyboard.press(key)
    page.wait_for_timeout(500)
    assert cell_count(page) == before
    assert output.count() == 1 and output.locator(".kfp-nbsecrets-task").count() == 7
    # the renderer's own keys still work
    task.focus()
    page.keyboard.press("Enter")
    assert output.locator(".kfp-nbsecrets-details").is_visible()
    # and the same key outside the renderer is the notebook's: the check above can fail
    page.locator(".jp-Cell .jp-InputPrompt").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_function("n => window.jupyterapp.shell.currentWidget.content.model.cells.length === n",
                           arg=before + 1, timeout=10_000)


def test_details_panel_never_covers_or_narrows_the_graph(lab, page, screenshots):
    write_preview(lab, "details.ipynb")
    open_and_run(page, f"{lab.url}/lab/tree/details.ipynb")
    output = page.locator(OUTPUT)
    scroller = output.locator(".kfp-nbsecrets-scroll")
    canvas = output.locator(".kfp-nbsecrets-canvas")
    before = scroller.bounding_box()
    output.locator('.kfp-nbsecrets-task[data-path="exit-handler-1/inner/consume"]').click()
    details = output.locator(".kfp-nbsecrets-details")
    assert details.is_visible()
    after, panel = scroller.bounding_box(), details.bounding_box()
    assert (after["width"], after["height"]) == (before["width"], before["height"]), "the graph shrank"
    assert after["width"] >= min(canvas.bounding_box()["width"], output.bounding_box()["width"] - 2)
    assert details.evaluate("e => getComputedStyle(e).position") == "static"  # in the flow, not over it
    apart = (panel["x"] >= after["x"] + after["width"] or panel["y"] >= after["y"] + after["height"]
             or panel["x"] + panel["width"] <= after["x"] or panel["y"] + panel["height"] <= after["y"])
    assert apart, f"the details {panel} overlap the graph {after}"
    # every label of the details fits its column
    for label in details.locator("dt").all():
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), label.inner_text()
    screenshot(page, output, screenshots / "ir_renderer_details.png")


@pytest.mark.parametrize("app", ["lab", "notebook7"])
def test_screenshots_of_a_50_task_pipeline(lab, page, screenshots, app):
    if app == "notebook7" and importlib.util.find_spec("notebook") is None:
        pytest.skip("Notebook 7 is not installed")
    write_notebook(lab, f"fifty-{app}.ipynb", [DEFINE_50, PREVIEW_50])
    url = f"{lab.url}/{'lab/tree' if app == 'lab' else 'notebooks'}/fifty-{app}.ipynb"
    page.set_viewport_size({"width": 1500, "height": 1400})
    open_and_run(page, url)
    output = page.locator(OUTPUT)
    page.wait_for_function(f"() => !document.querySelector('{OUTPUT} .kfp-nbsecrets-skeleton')",
                           timeout=60_000)
    summary = output.locator(".kfp-nbsecrets-summary").inner_text()
    assert summary.startswith("4") or summary.startswith("5"), summary
    assert undrawn_arrowheads(page, output) == []
    # every task in sight takes the pointer (tiles overlap, and must not catch it)
    missed = output.evaluate("""o => {
      const view = o.querySelector('.kfp-nbsecrets-scroll').getBoundingClientRect();
      const tasks = [...o.querySelectorAll('.kfp-nbsecrets-task')].filter(t => {
        const r = t.getBoundingClientRect();
        return r.top >= view.top && r.bottom <= view.bottom && r.left >= view.left && r.right <= view.right;
      });
      const missed = tasks.filter(t => {
        const r = t.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + 10);
        return !hit || hit.closest('.kfp-nbsecrets-task') !== t;
      });
      return [tasks.length, missed.map(t => t.dataset.path)];
    }""")
    assert missed[0] >= 10 and missed[1] == [], missed
    for theme, light in (("JupyterLab Light", "true"), ("JupyterLab Dark", "false")):
        page.evaluate("theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
        page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'"
                               " && !document.getElementById('jupyterlab-splash')", timeout=30_000)
        page.wait_for_timeout(300)
        name = "light" if light == "true" else "dark"
        output.locator(".kfp-nbsecrets-badge--volume").first.click()
        screenshot(page, output, screenshots / f"{app}_50_tasks_{name}.png")
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                  " {theme: 'JupyterLab Light'})")
