"""The secret picker in a real JupyterLab in headless Chromium: search, click a secret, keys, a task, Attach.

The resulting bindings are read back from the kernel; "As code" is clicked too and the comm it opens
(target ``kfp_nbsecrets.insert_cell``) is observed on the kernel connection. Uses the server and browser
fixtures of ``tests/browser/conftest.py`` (skipped when /usr/bin/chromium is absent).
"""

from __future__ import annotations

import json
import re

from .jupyter import open_notebook, write_notebook

SETUP = '''\
%load_ext kfp_nbsecrets
from kfp import dsl
from kfp_nbsecrets import sources

@dsl.component(base_image="python:3.11")
def consume(text: str = "x") -> str:
    return text

@dsl.pipeline(name="picked")
def p(names: list = ["a", "b"]):
    consume(text="top")
    with dsl.ParallelFor(names) as name:
        consume(text=name)

memory = sources.get_source("memory")
memory.add("db-creds", {"username": "CANARY-user-value", "password": "CANARY-password-value"})
memory.add("regcred", {".dockerconfigjson": '{"auths": {"CANARY-registry": {}}}'},
           type="kubernetes.io/dockerconfigjson")
for i in range(300):
    memory.add(f"other-{i:03d}", {"token": "CANARY-token-value"})
'''
PICK = "%kfp_secret pick p --source memory"
PICKER = ".kfp-nbsecrets-picker"
LOOP_TASK = "for-loop-1/consume-2"

# Watch the kernel connection for the insert-cell comm without taking the target from an extension.
WATCH_COMMS = """() => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  window.__kfpInserted = [];
  kernel.anyMessage.connect((_, args) => {
    const msg = args.msg;
    if (args.direction === 'recv' && msg.header.msg_type === 'comm_open'
        && msg.content.target_name === 'kfp_nbsecrets.insert_cell') {
      window.__kfpInserted.push(msg.content.data.code);
    }
  });
}"""

EXECUTE = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') { out += msg.content.text; }
    if (msg.header.msg_type === 'error') { out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue; }
  };
  await future.done;
  return out;
}"""

BINDINGS = ("import json\nfrom kfp_nbsecrets import ir\n"
            "print(json.dumps([[b.task, b.kind, str(b.reference), [list(e) for e in b.env], b.mount_path,"
            " b.optional] for b in ir.read_pipeline(p).bindings()]))")


def test_pick_a_secret_by_clicking_and_attach(lab, page, screenshots):
    write_notebook(lab, "picker.ipynb", [SETUP, PICK])
    open_notebook(page, f"{lab.url}/lab/tree/picker.ipynb", "picker.ipynb")
    page.evaluate(WATCH_COMMS)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    picker = page.locator(PICKER)
    picker.wait_for(timeout=90_000)
    listing = picker.locator(".widget-select select").first
    options = listing.locator("option")
    assert options.count() == 200  # 302 secrets, rendering capped
    assert "302 of 302 secrets" in picker.inner_text()

    # search (debounced in the kernel), then click the secret
    picker.locator(".widget-text input[placeholder='search secret names']").fill("creds")
    page.wait_for_function("(select) => select.options.length === 1", arg=listing.element_handle(),
                           timeout=30_000)
    option = options.filter(has_text="db-creds")
    assert option.inner_text().replace("\xa0", " ").endswith("2 keys")
    option.click()

    # the keys appear as checkboxes, all ticked, with suggested env var names; untick username, rename
    # password's env var
    password = page.locator(".widget-checkbox", has_text="password")
    picker.locator(".widget-checkbox", has_text="password").wait_for(timeout=30_000)
    for key in ("username", "password"):
        assert picker.locator(".widget-checkbox", has_text=key).locator("input[type=checkbox]").is_checked()
    attach = picker.locator("button", has_text="Attach")
    reason = picker.locator(".kfp-nbsecrets-reason")
    reason.filter(has_text="choose at least one target task").wait_for(timeout=30_000)
    assert attach.is_disabled()
    picker.locator(".widget-checkbox", has_text="username").locator("input[type=checkbox]").click()
    env = picker.locator(".widget-hbox", has=password).locator(".widget-text input")
    assert env.input_value() == "PASSWORD"
    env.fill("DB_PASSWORD")
    env.press("Enter")

    # the task inside the loop, then Attach
    picker.locator(".widget-select-multiple option", has_text=LOOP_TASK).click()
    picker.locator("button", has_text="Attach").click()
    status = picker.locator(".kfp-nbsecrets-status")
    status.filter(has_text="bound secret").wait_for(timeout=60_000)
    assert "DB_PASSWORD" in status.inner_text() and LOOP_TASK in status.inner_text()

    bindings = json.loads(page.evaluate(EXECUTE, BINDINGS))
    assert bindings == [[LOOP_TASK, "env", "db-creds", [["password", "DB_PASSWORD"]], None, False]]

    # As code: the lines to copy, and the comm that asks the front end to insert them as a cell; after
    # Attach they say that they repeat it
    picker.locator("button", has_text="As code").click()
    code = picker.locator("textarea")
    expected = (f"# Attach already bound these to p: this cell repeats it, to keep the binding in code;"
                f" run it on a fresh definition of p, not again on this one\n"
                f"%kfp_secret bind p {LOOP_TASK} db-creds --env password=DB_PASSWORD")
    page.wait_for_function("(text) => [...document.querySelectorAll('textarea')].some(t => t.value === text)",
                           arg=expected, timeout=30_000)
    assert code.input_value() == expected
    page.wait_for_function("() => window.__kfpInserted.length === 1", timeout=30_000)
    assert page.evaluate("() => window.__kfpInserted") == [expected]
    marked = picker.locator(".widget-select-multiple option", has_text=LOOP_TASK).inner_text()
    assert "\u2713 has it" in marked.replace("\xa0", " ")

    # mount mode hides the env var fields; a mount on the container's root turns Attach off, with the reason
    picker.locator(".widget-toggle-buttons button", has_text="mount as files").click()
    env.wait_for(state="hidden", timeout=30_000)
    mount = picker.locator(".widget-text", has_text="Mount path").locator("input")
    mount.fill("/")
    mount.press("Enter")
    picker.locator(".kfp-nbsecrets-reason", has_text="container's root").wait_for(timeout=30_000)
    assert attach.is_disabled()
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

    # Preview under the picker; no value anywhere in the page
    picker.locator("button", has_text="Preview").click()
    picker.locator(".widget-output .jp-OutputArea-output").first.wait_for(timeout=60_000)
    # no value in the rendered widget (the notebook's own source holds the canaries, the widget must not)
    rendered = picker.evaluate("e => e.innerHTML + [...e.querySelectorAll('input, textarea')]"
                               ".map(i => i.value).join(' ')")
    assert "db-creds" in rendered and "CANARY" not in rendered
    page.set_viewport_size({"width": 1500, "height": 2000})
    picker.scroll_into_view_if_needed()
    picker.screenshot(path=str(screenshots / "secret_picker.png"))

    # a registry secret is offered, and chosen, as an image pull secret: no keys, mount path or optional
    picker.locator(".widget-text input[placeholder='search secret names']").fill("regcred")
    page.wait_for_function("(select) => select.options.length === 1", arg=listing.element_handle(),
                           timeout=30_000)
    options.filter(has_text="regcred").click()
    page.wait_for_function("() => [...document.querySelectorAll('.kfp-nbsecrets-picker"
                           " .widget-toggle-buttons button.mod-active')].some(b => b.textContent.trim()"
                           " === 'image pull secret')", timeout=30_000)
    assert not picker.locator(".widget-checkbox", has_text="optional").is_visible()
    assert not picker.locator(".widget-text", has_text="Mount path").is_visible()
    picker.locator(".widget-select-multiple option", has_text=re.compile(r"^consume$")).click()
    attach.click()
    status.filter(has_text="as an image pull secret").wait_for(timeout=60_000)
    bindings = json.loads(page.evaluate(EXECUTE, BINDINGS))
    assert ["consume", "image-pull", "regcred", [], None, False] in bindings
    rendered = picker.evaluate("e => e.innerHTML + [...e.querySelectorAll('input, textarea')]"
                               ".map(i => i.value).join(' ')")
    assert "CANARY" not in rendered
    picker.scroll_into_view_if_needed()
    picker.screenshot(path=str(screenshots / "secret_picker_pull.png"))
