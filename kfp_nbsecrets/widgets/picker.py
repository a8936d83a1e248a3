"""The secret picker: choose a secret, its keys and the target tasks with stock ipywidgets controls.

``SecretPicker(pipeline=None, source=None)`` (or ``%kfp_secret pick PIPELINE``) is a ``VBox`` whose
``value`` trait describes the current choice: source, namespace, secret name, its use (``mode``: env,
mount or image-pull; a registry secret, ``kubernetes.io/dockerconfigjson``, is offered and first
chosen as an image pull secret), keys and their env var names (or a mount path), ``optional``, the
pipeline parameter and the target task paths.

Security: the picker lists secrets with ``SecretSource.list_secrets`` and reads the chosen secret's key
names with ``SecretSource.keys`` when the listing has none: names, types and key names only. It never
reads a value, so no value can reach a widget's synced state, the ``value`` trait, its repr or the
"As code" lines.

Listing and reading key names run in a background thread inside a kernel (``background=True``), with a
progress line; a newer request (another source, namespace, Refresh, another secret) cancels the older
one, whose result is dropped. :meth:`SecretPicker.wait` waits for the current one; :meth:`select` and
:meth:`choose_keys` wait by themselves, so code that drives the picker stays deterministic.

**Attach** calls :func:`kfp_nbsecrets.bind.bind` once per target task, exactly as
``%kfp_secret bind`` does; **As code** shows the equivalent ``%kfp_secret bind`` lines and (on a click,
or ``show_code(insert=True)``) asks the notebook front end to insert them as a new cell below
(:func:`send_insert_cell`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
import shlex
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

import ipywidgets as widgets
import traitlets

from kfp_nbsecrets import refs, rules, sources
from kfp_nbsecrets.errors import KfpNbSecretsError, NotAPipelineError, one_line
from kfp_nbsecrets.sources.config import unknown_source
from kfp_nbsecrets.tables import plural

#: Comm target the JupyterLab extension listens on; the comm_open data is ``{"code": "<lines>"}``.
INSERT_CELL_TARGET = "kfp_nbsecrets.insert_cell"
#: At most this many secrets are rendered in the list; the search narrows the rest down.
MAX_SHOWN = 200
#: Seconds the search waits after the last keystroke before filtering (default inside a kernel).
DEBOUNCE_SECONDS = 0.15

_SOURCE_LABELS = (("local store", "local"), ("Kubernetes", "k8s"), ("in-memory", "memory"))
_GIVEN = "given"
_ENV_MODE, _MOUNT_MODE, _PULL_MODE = "env vars", "mount as files", "image pull secret"
#: ``mode`` of :attr:`SecretPicker.value` for each choice of "Use as".
_MODE_VALUES = {_ENV_MODE: "env", _MOUNT_MODE: "mount", _PULL_MODE: "image-pull"}
_HAS = "\u2713 has it"
_WAIT = "&#8987; "


class ChoiceError(KfpNbSecretsError, ValueError):
    """The current choice cannot be attached or written as code (no secret, no key, no task...)."""


# -- suggestions ----------------------------------------------------------------------------------

def suggest_env_name(key: str) -> str:
    """The env var suggested for a key: upper snake case (``apiKey`` and ``api-key`` -> ``API_KEY``);
    never starts with a digit, ``-`` or ``_``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key)
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper()
    if not text:
        return "SECRET"
    return f"KEY_{text}" if text[0].isdigit() else text


def suggest_param_name(secret: str) -> str:
    """The pipeline parameter suggested for a secret: ``db-creds`` -> ``db_creds_secret``."""
    text = re.sub(r"[^0-9A-Za-z]+", "_", secret).strip("_").lower() or "my"
    if text[0].isdigit():
        text = f"s_{text}"
    return f"{text}_secret"


def suggest_mount_path(secret: str) -> str:
    return f"/secrets/{secret}"


# -- inserting a cell ------------------------------------------------------------------------------

def send_insert_cell(code: str) -> bool:
    """Ask the notebook front end to insert ``code`` as a new cell below the active one.

    Opens a comm with target :data:`INSERT_CELL_TARGET` whose open message carries
    ``{"code": code}``, then closes it; the kfp-nbsecrets JupyterLab extension inserts the cell.
    (``set_next_input`` works only while a cell executes, not from a widget callback.) Returns
    False, sending nothing, when there is no kernel with a front end (plain Python, terminal IPython).
    """
    import comm

    if not _in_kernel():
        return False
    channel = comm.create_comm(target_name=INSERT_CELL_TARGET, data={"code": code})
    channel.close()
    return not isinstance(channel, comm.DummyComm)


# -- the widget ----------------------------------------------------------------------------------

class SecretPicker(widgets.VBox):
    """Pick a secret, its keys and target tasks; attach it to the pipeline or get the magic lines.

    ``pipeline`` is a ``@dsl.pipeline`` function (changed in place by Attach) or None (then only
    "As code" is offered, with ``PIPELINE TASK`` placeholders). ``source`` is "local", "k8s",
    "memory", a :class:`~kfp_nbsecrets.sources.SecretSource`, or None for the configured default.
    ``pipeline_name`` is the variable name used in the "As code" lines (found in the notebook
    namespace when not given). ``debounce`` is the search delay in seconds; by default
    :data:`DEBOUNCE_SECONDS` inside a kernel, 0 (filter on every change) elsewhere. ``background``
    fetches listings and key names in a thread (default: inside a kernel); else they run inline.
    """

    #: The current choice (names only, never values); see :meth:`_choice`.
    value = traitlets.Dict(read_only=True)

    def __init__(self, pipeline: Any = None, source: str | sources.SecretSource | None = None, *,
                 namespace: str | None = None, pipeline_name: str | None = None,
                 debounce: float | None = None, background: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if pipeline is not None:
            from kfp.dsl.graph_component import GraphComponent

            if not isinstance(pipeline, GraphComponent):
                raise NotAPipelineError(f"pipeline must be a @dsl.pipeline function, got"
                                        f" {type(pipeline).__name__}")
        self.pipeline = pipeline
        self.pipeline_name = pipeline_name or _variable_name(pipeline)
        self.debounce = debounce if debounce is not None else DEBOUNCE_SECONDS if _in_kernel() else 0.0
        self.background = _in_kernel() if background is None else background
        self._lock = threading.RLock()
        self._generation = 0
        self._job: Future | None = None
        self._keys_read: dict[str, tuple[str, ...]] = {}
        self._keys_problem: dict[str, str] = {}
        self._source: sources.SecretSource | None = None
        self._model: Any = None
        self._inserted: set[str] = set()
        self._given: sources.SecretSource | None = None
        self._infos: list[sources.SecretInfo] = []
        self._names_lower: list[str] = []
        self._by_name: dict[str, sources.SecretInfo] = {}
        self._matches: list[int] = []
        self._chosen: sources.SecretInfo | None = None
        self._key_rows: dict[str, tuple[widgets.Checkbox, widgets.Text]] = {}
        self._quiet = False
        self._pending: asyncio.TimerHandle | None = None
        self._where = ""
        self.message = ""
        self.message_kind = "info"
        self._build(source, namespace)
        self._number_steps()
        self._update_buttons()
        self.refresh()

    # -- layout ------------------------------------------------------------------------------------

    def _build(self, source: Any, namespace: str | None) -> None:
        full = widgets.Layout(width="100%")
        options = list(_SOURCE_LABELS)
        if source is None:
            source = sources.current_settings().source
        if isinstance(source, sources.SecretSource):
            self._given = source
            options.insert(0, (f"{source.kind or type(source).__name__}: {source.describe()}", _GIVEN))
            source = _GIVEN
        elif source not in {kind for _, kind in _SOURCE_LABELS}:
            raise unknown_source(source)
        self.source_choice = widgets.Dropdown(options=options, value=source, description="Source",
                                              layout=widgets.Layout(width="22em"))
        self.namespace = widgets.Text(value=namespace or "", placeholder="default namespace",
                                      description="Namespace", continuous_update=False,
                                      layout=widgets.Layout(width="20em"))
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh",
                                             tooltip="List the secrets again",
                                             layout=widgets.Layout(width="7em", flex="0 0 auto"))
        self.search = widgets.Text(placeholder="search secret names", description="Search",
                                   continuous_update=True, layout=full)
        self.list_status = widgets.HTML()
        self.secret_list = widgets.Select(options=[], rows=10, description="Secret", layout=full)
        self.secret_title = widgets.HTML()
        self.mode = widgets.ToggleButtons(options=[_ENV_MODE, _MOUNT_MODE], value=_ENV_MODE,
                                          style={"button_width": "11em"})
        self.keys_box = widgets.VBox()
        self.mount_path = widgets.Text(description="Mount path", placeholder="/secrets/NAME",
                                       layout=widgets.Layout(width="30em", display="none"))
        self.optional = widgets.Checkbox(value=False, indent=False,
                                         description="optional (run even if the secret is missing)")
        self.as_param = widgets.Checkbox(value=False, description="as a pipeline parameter named",
                                         indent=False, layout=widgets.Layout(width="22em"))
        self.param_name = widgets.Text(disabled=True, layout=widgets.Layout(width="20em"))
        self.mount_note = widgets.HTML(layout=widgets.Layout(display="none"))
        self.pull_note = widgets.HTML(
            "<small>The kubelet logs in to the image registry with it to pull the task's image; the"
            " task's code does not see it.</small>", layout=widgets.Layout(display="none"))
        #: Step headings, numbered by :meth:`_number_steps` over the steps shown.
        self.steps = {name: _step(name) for name in ("Secret", "Keys", "Use as", "Tasks", "Attach")}
        self.keys_step = widgets.VBox([self.steps["Keys"], self.keys_box])
        self.details = widgets.VBox([
            self.secret_title, self.keys_step, self.steps["Use as"], self.mode,
            self.mount_path, self.mount_note, self.pull_note, self.optional,
            widgets.HBox([self.as_param, self.param_name]),
        ], layout=widgets.Layout(display="none"))
        tasks = _container_tasks(self.pipeline) if self.pipeline is not None else []
        self._task_paths, self._has_secret = tasks, set()
        self.tasks = widgets.SelectMultiple(options=tasks, value=tasks[:1] if len(tasks) == 1 else (),
                                            rows=min(max(len(tasks), 2), 8), description="Tasks", layout=full,
                                            disabled=self.pipeline is None)
        self.tasks_hint = widgets.HTML(
            "<small>Choose one or more tasks (Ctrl/&#8984;-click or Shift-click to choose several);"
            f" <b>{_HAS}</b> marks the tasks that already have the chosen secret.</small>")
        self.tasks_step = widgets.VBox([self.steps["Tasks"], self.tasks_hint, self.tasks])
        if self.pipeline is None:
            self.tasks_step.layout.display = "none"
        self.attach_button = widgets.Button(description="Attach", button_style="primary", icon="link",
                                            disabled=self.pipeline is None,
                                            tooltip="Bind the secret to the chosen tasks" if self.pipeline
                                            is not None else "Open the picker with a pipeline")
        self.code_button = widgets.Button(description="As code", icon="code",
                                          tooltip="Show the %kfp_secret bind lines and insert them as a cell")
        self.preview_button = widgets.Button(description="Preview", icon="eye",
                                             disabled=self.pipeline is None,
                                             tooltip="Show the pipeline's tasks and secret bindings")
        self.reason = widgets.HTML()
        self.status = widgets.HTML()
        self.code = widgets.Textarea(layout=widgets.Layout(width="100%", height="6em", display="none"))
        self.preview = widgets.Output()

        self.children = [
            widgets.HTML("<b>kfp-nbsecrets: pick a secret</b>"
                         + (f" for pipeline <code>{html.escape(self.pipeline_name)}</code>"
                            if self.pipeline is not None else "")),
            widgets.HBox([self.source_choice, self.namespace, self.refresh_button],
                         layout=widgets.Layout(flex_flow="row wrap")),  # wraps in a narrow panel
            self.steps["Secret"], self.search, self.list_status, self.secret_list, self.details,
            self.tasks_step,
            self.steps["Attach"], widgets.HBox([self.attach_button, self.code_button, self.preview_button]),
            self.reason, self.status, self.code, self.preview,
        ]
        self.add_class("kfp-nbsecrets-picker")
        self.source_choice.observe(lambda _: self.refresh(), "value")
        self.namespace.observe(lambda _: self.refresh(), "value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.search.observe(self._on_search, "value")
        self.secret_list.observe(self._on_secret, "value")
        self.mode.observe(self._on_mode, "value")
        self.as_param.observe(self._on_as_param, "value")
        for control in (self.mount_path, self.optional, self.param_name, self.tasks):
            control.observe(self._changed, "value")
        self.attach_button.on_click(lambda _: self.attach())
        self.code_button.on_click(lambda _: self.show_code(insert=True))
        self.preview_button.on_click(lambda _: self.show_preview())

    # -- listing and searching ------------------------------------------------------------------

    def source(self) -> sources.SecretSource:
        """The source currently chosen in the dropdown."""
        kind = self.source_choice.value
        if kind == _GIVEN and self._given is not None:
            return self._given
        return sources.get_source(kind)

    def refresh(self) -> Future:
        """List the secrets of the chosen source and namespace again (names, types, key names).

        In the background inside a kernel (see :meth:`wait`); returns the job's future.
        """
        namespace = self.namespace.value.strip() or None
        self.secret_list.disabled = True

        def work() -> tuple[sources.SecretSource, list[sources.SecretInfo]]:
            source = self.source()
            return source, source.list_secrets(namespace)

        where = html.escape(self.source_choice.label or "")
        return self._run(self.list_status, f"listing secrets of {where}&hellip; (change the source or"
                         f" namespace, or press Refresh, to cancel)", work, self._listed)

    def _listed(self, result: Any) -> None:
        if isinstance(result, KfpNbSecretsError):  # 403, unreachable, no kubeconfig, bad settings
            self._infos, self._where, self._source = [], "", None
            self._set_message(one_line(result), "error")
            self.list_status.value = "no secrets listed"
        else:
            self._source, self._infos = result
            if self.message_kind == "error":
                self._set_message("", "info")
            self._where = self._source.describe()
        self._keys_read.clear()
        self._keys_problem.clear()
        self._names_lower = [info.name.lower() for info in self._infos]
        self._by_name = {info.name: info for info in self._infos}
        if self._chosen is not None:
            self._chosen = self._with_key_names(self._by_name.get(self._chosen.name))
        self.secret_list.disabled = False
        self._apply_filter()
        self._show_details()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the current listing or key read is done (at most ``timeout`` seconds)."""
        job = self._job
        if job is not None:
            job.result(timeout)

    def _run(self, line: widgets.HTML, progress: str, work: Callable[[], Any],
             apply: Callable[[Any], None]) -> Future:
        """Run ``work`` (in a thread when :attr:`background`), then ``apply`` its result or its
        KfpNbSecretsError, unless a newer job started meanwhile (that cancels this one)."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            line.value = f'<span class="kfp-nbsecrets-loading">{_WAIT}{progress}</span>'
        future: Future = Future()
        self._job = future

        def job() -> None:
            try:
                try:
                    result = work()
                except KfpNbSecretsError as error:
                    result = error
                with self._lock:
                    if generation == self._generation:
                        apply(result)
            except BaseException as error:  # a bug: kept for wait() with its traceback
                future.set_exception(error)
                if self.background:
                    self._set_message(f"internal error: {type(error).__name__}: {error}", "error")
                return
            future.set_result(None)

        if self.background:
            threading.Thread(target=job, name="kfp-nbsecrets-picker", daemon=True).start()
        else:
            job()
            future.result()
        return future

    def _on_search(self, change: dict) -> None:
        if self.debounce > 0:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                if self._pending is not None:
                    self._pending.cancel()
                self._pending = loop.call_later(self.debounce, self._apply_filter)
                return
        self._apply_filter()

    def _apply_filter(self) -> None:
        """Show the secrets whose name holds every word of the search, at most :data:`MAX_SHOWN`."""
        with self._lock:  # the debounce timer and a background listing may both get here
            self._filter()

    def _filter(self) -> None:
        self._pending = None
        words = self.search.value.lower().split()
        if words:
            self._matches = [i for i, name in enumerate(self._names_lower) if all(w in name for w in words)]
        else:
            self._matches = list(range(len(self._infos)))
        shown = [self._infos[i] for i in self._matches[:MAX_SHOWN]]
        self._quiet = True
        try:
            self.secret_list.options = [(_label(info), info.name) for info in shown]
            chosen = self._chosen.name if self._chosen is not None else None
            self.secret_list.value = chosen if any(info.name == chosen for info in shown) else None
        finally:
            self._quiet = False
        if self._infos or self._where:
            count = (f"matching: {len(self._matches)} of {plural(len(self._infos), 'secret')}"
                     f" \u00b7 {self._where}")
            if len(self._matches) > MAX_SHOWN:
                count += f"; showing the first {MAX_SHOWN}, type to narrow down"
            self.list_status.value = html.escape(count)

    # -- the chosen secret -------------------------------------------------------------------------

    def _on_secret(self, change: dict) -> None:
        if self._quiet or change["new"] is None:
            return
        with self._lock:
            self._generation += 1  # cancels a key read of the previous choice
            self._chosen = self._by_name.get(change["new"])
            self._show_details()

    def select(self, name: str) -> None:
        """Choose the secret ``name`` (clears the search if it hides it); waits for the listing and
        the secret's key names."""
        self.wait()
        with self._lock:
            if name not in self._by_name:
                raise ChoiceError(f"no secret {name!r} listed in {self.source().describe()}")
            if all(value != name for _, value in self.secret_list.options):
                self.search.value = ""
                self._apply_filter()
            self._generation += 1  # cancels a key read of the previous choice
            self._chosen = self._by_name[name]
            self._quiet = True
            try:
                self.secret_list.value = name if any(v == name for _, v in self.secret_list.options) else None
            finally:
                self._quiet = False
            self._show_details()
        self.wait()

    def choose_keys(self, env: Mapping[str, str | None]) -> None:
        """Tick exactly the keys in ``env`` of the chosen secret, each with its env var name (None: keep)."""
        self.wait()
        with self._lock:
            if self._chosen is None:
                raise ChoiceError("no secret chosen; call select(NAME) first")
            unknown = sorted(set(env) - set(self._key_rows))
            if unknown:
                raise ChoiceError(f"secret {self._chosen.name!r} has no key(s) {unknown};"
                                  f" it has {sorted(self._key_rows)}")
            for key, (box, name) in self._key_rows.items():
                box.value = key in env
                if env.get(key):
                    name.value = env[key]

    def _key_names(self, info: sources.SecretInfo) -> tuple[str, ...] | None:
        """The secret's key names: from the listing, else as read by :meth:`_read_keys` (None: not yet)."""
        return tuple(info.keys) if info.keys else self._keys_read.get(info.name)

    def _read_keys(self, info: sources.SecretInfo) -> None:
        """Read the key names of ``info`` (one GET of that secret) when the listing had none."""
        source, namespace = self._source, self.namespace.value.strip() or None

        def work() -> tuple[str, ...]:
            return tuple(source.keys(info.name, namespace)) if source is not None else ()

        def apply(result: Any) -> None:
            if isinstance(result, KfpNbSecretsError):
                self._keys_problem[info.name] = one_line(result)
                self._keys_read[info.name] = ()
            else:
                self._keys_read[info.name] = result
            self._show_details()

        self._run(self.secret_title, f"reading the key names of {html.escape(info.name)}&hellip;", work,
                  apply)

    def _with_key_names(self, info: sources.SecretInfo | None) -> sources.SecretInfo | None:
        """``info`` with its key names: a Kubernetes listing has key counts only, one GET reads the names."""
        if info is None or info.keys is not None:
            return info
        try:
            return self.source().get(info.name, self.namespace.value.strip() or None)
        except sources.SourceError as error:
            return dataclasses.replace(info, keys_unavailable=one_line(error))

    def _show_details(self) -> None:
        info = self._chosen
        rows = []
        for old in self.keys_box.children:  # the previous secret's rows: closed, not left behind
            for control in old.children:
                control.close()
            old.close()
        self._key_rows = {}
        keys = self._key_names(info) if info is not None else ()
        if info is not None and keys is None:
            self.keys_box.children = []
            self.details.layout.display = ""
            self._read_keys(info)
            return
        if info is not None:
            for key in keys:
                box = widgets.Checkbox(value=True, description=key, indent=False,
                                       layout=widgets.Layout(width="18em"))
                env = widgets.Text(value=suggest_env_name(key), description="env var",
                                   layout=widgets.Layout(width="24em"))
                box.observe(self._changed, "value")
                env.observe(self._changed, "value")
                self._key_rows[key] = (box, env)
                rows.append(widgets.HBox([box, env]))
            problem = self._keys_problem.get(info.name)
            count = f"key names unavailable: {problem}" if problem else plural(len(keys), "key")
            self.secret_title.value = (f"<b>{html.escape(info.name)}</b> &middot; {html.escape(info.type)}"
                                       f" &middot; {html.escape(count)}")
            self._quiet = True
            try:
                self.mount_path.value = suggest_mount_path(info.name)
                self.param_name.value = suggest_param_name(info.name)
                self._offer_modes(info)
            finally:
                self._quiet = False
        self.keys_box.children = rows
        self.details.layout.display = "" if info is not None else "none"
        self._mark_tasks()
        self._on_mode(None)

    def _mark_tasks(self) -> None:
        """Label the tasks that already have the chosen secret (by literal name or parameter default)."""
        if self.pipeline is None:
            return
        from kfp_nbsecrets import ir

        if self._model is None:
            self._model = ir.read_pipeline(self.pipeline)
        name = self._chosen.name if self._chosen is not None else None
        has = {b.task for b in self._model.bindings() if name is not None and _names(b.source) == name}
        if has != self._has_secret:
            self._has_secret = has
            chosen = self.tasks.value
            self._quiet = True
            try:
                self.tasks.options = [(f"{path}    {_HAS}" if path in has else path, path)
                                      for path in self._task_paths]
                self.tasks.value = chosen
            finally:
                self._quiet = False

    def _offer_modes(self, info: sources.SecretInfo) -> None:
        """Offer "image pull secret" for a registry secret (and choose it); other secrets cannot be one."""
        registry = info.type in rules.PULL_SECRET_TYPES
        modes = [_ENV_MODE, _MOUNT_MODE, _PULL_MODE] if registry else [_ENV_MODE, _MOUNT_MODE]
        mode = _PULL_MODE if registry else self.mode.value if self.mode.value in modes else _ENV_MODE
        if list(self.mode.options) != modes:
            self.mode.options = modes
        self.mode.value = mode

    def _on_mode(self, change: dict | None) -> None:
        mount, pull = self.mode.value == _MOUNT_MODE, self.mode.value == _PULL_MODE
        self.mount_path.layout.display = "" if mount else "none"
        self.mount_note.layout.display = "" if mount else "none"
        self.pull_note.layout.display = "" if pull else "none"
        self.optional.layout.display = "none" if pull else ""
        files = ", ".join(html.escape(key) for key in self._key_rows) or "every key"
        self.mount_note.value = (f"<small>Mounts every key as a file named after it ({files});"
                                 f" the key checkboxes and env var names are not used.</small>")
        self.keys_step.layout.display = "none" if mount or pull else ""
        self._number_steps()
        for box, env in self._key_rows.values():
            box.disabled = mount or pull
            env.layout.display = "none" if mount or pull else ""
        self._changed(change)

    def _number_steps(self) -> None:
        """Number the step headings 1, 2, 3... over the steps shown (no Keys in mount and pull mode)."""
        hidden = {"Keys"} if self.keys_step.layout.display == "none" else set()
        if self.tasks_step.layout.display == "none":
            hidden.add("Tasks")
        shown = [name for name in self.steps if name not in hidden]
        for number, name in enumerate(shown, 1):
            self.steps[name].value = f"<b>{number}. {html.escape(name)}</b>"

    def _on_as_param(self, change: dict) -> None:
        self.param_name.disabled = not self.as_param.value
        self._changed(change)

    def _changed(self, change: dict | None) -> None:
        with self._lock:  # user edits (kernel thread) and a background result (worker) never interleave
            self._on_change(change)

    def _on_change(self, change: dict | None) -> None:
        if self._quiet:
            return
        if change is not None and self.message_kind == "error":  # the form changed: the error is stale
            self._set_message("", "info")
        self.set_trait("value", self._choice())
        self._update_buttons()
        if self.code.layout.display != "none":
            try:
                self.code.value = self.code_text()
            except ChoiceError as error:
                self.code.value = f"# {error}"

    def _choice(self) -> dict:
        info = self._chosen
        mode = _MODE_VALUES[self.mode.value]
        env = {} if mode != "env" else {key: text.value.strip()
                                        for key, (box, text) in self._key_rows.items() if box.value}
        return {
            "source": self._given.kind if self.source_choice.value == _GIVEN and self._given else
            self.source_choice.value,
            "namespace": self.namespace.value.strip() or None,
            "secret": info.name if info is not None else None,
            "mode": mode,
            "keys": list(env),
            "env": env,
            "mount_path": self.mount_path.value.strip() if mode == "mount" and info is not None else None,
            "optional": self.optional.value and mode != "image-pull",
            "param": self.param_name.value.strip() if self.as_param.value and info is not None else None,
            "tasks": list(self.tasks.value),
        }

    # -- actions -------------------------------------------------------------------------------

    def _requests(self) -> list[dict]:
        """The bind calls of the current choice (one per task); raises ChoiceError with a readable line."""
        choice = self._choice()
        if choice["secret"] is None:
            raise ChoiceError("choose a secret first")
        if choice["mode"] == "env" and not choice["env"]:
            raise ChoiceError("tick at least one key to expose as an env var, or mount the secret as files")
        for problem in [rules.env_name_problem(env) for env in choice["env"].values()] + (
                [rules.mount_path_problem(choice["mount_path"])] if choice["mode"] == "mount" else []):
            if problem:
                raise ChoiceError(problem)
        if choice["param"] is not None and not choice["param"]:
            raise ChoiceError("give the pipeline parameter a name, or untick 'as a pipeline parameter'")
        tasks = choice["tasks"] or ([None] if self.pipeline is None else [])
        if not tasks:
            raise ChoiceError("choose at least one target task")
        return [dict(task=task, secret=choice["secret"], env=choice["env"] or None,
                     mount_path=choice["mount_path"], image_pull=choice["mode"] == "image-pull",
                     optional=choice["optional"], param=choice["param"])
                for task in tasks]

    def _update_buttons(self) -> None:
        """Attach and As code are enabled only for a complete choice; the reason is shown otherwise."""
        try:
            self._requests()
            problem = ""
        except ChoiceError as error:
            problem = str(error)
        attach_problem = problem or ("" if self.pipeline is not None else
                                     "open the picker with a pipeline (%kfp_secret pick PIPELINE) to attach")
        self.attach_button.disabled = bool(attach_problem)
        self.attach_button.tooltip = attach_problem or "Bind the secret to the chosen tasks"
        self.code_button.disabled = bool(problem)
        self.reason.value = (f'<span class="kfp-nbsecrets-reason"'
                             f' style="color:var(--jp-ui-font-color2,#666)">'
                             f"Attach is off: {html.escape(attach_problem)}</span>" if attach_problem else "")

    def attach(self) -> bool:
        """Bind the chosen secret to every chosen task, as ``%kfp_secret bind`` does; all or nothing.

        Returns True on success; problems are shown in the status line, never raised.
        """
        from kfp_nbsecrets import ir
        from kfp_nbsecrets.bind import bind

        try:
            if self.pipeline is None:
                raise ChoiceError("no pipeline to attach to: open the picker with %kfp_secret pick PIPELINE,"
                                 " or use As code")
            requests = self._requests()
            trial = ir.load(self.pipeline)
            for request in requests:  # on a copy first, so that a failing task changes nothing
                trial = _bind_like_the_magic(bind, trial, request)
            for request in requests:
                _bind_like_the_magic(bind, self.pipeline, request)
        except KfpNbSecretsError as error:
            self._set_message(one_line(error), "error")
            return False
        first = requests[0]
        what = (f"as {refs.key_to_env_text(first['env'].items())}" if first["env"]
                else "as an image pull secret" if first["image_pull"] else f"at {first['mount_path']}")
        param = f" through parameter {first['param']!r}" if first["param"] else ""
        tasks = ", ".join(repr(r["task"]) for r in requests)
        self._set_message(f"bound secret {first['secret']!r}{param} {what} to {tasks}", "ok")
        self._model = None
        self._mark_tasks()
        if self.preview.outputs:
            self.show_preview()
        return True

    def code_text(self) -> str:
        """The ``%kfp_secret bind`` lines of the current choice (PIPELINE/TASK without a pipeline)."""
        lines = []
        for request in self._requests():
            words = ["%kfp_secret", "bind", self.pipeline_name if self.pipeline is not None else "PIPELINE",
                     request["task"] or "TASK", request["secret"]]
            if request["env"]:
                words += ["--env", *(f"{key}={env}" for key, env in request["env"].items())]
            elif request["image_pull"]:
                words.append("--image-pull")
            else:
                words += ["--mount", request["mount_path"]]
            if request["param"]:
                words += ["--param", request["param"]]
            if request["optional"]:
                words.append("--optional")
            lines.append(" ".join(words[:2] + [shlex.quote(word) for word in words[2:]]))
        return "\n".join(lines)

    def show_code(self, insert: bool = False) -> str | None:
        """Show the lines to copy; with ``insert`` (the button) also ask the notebook to insert them as
        a new cell below, once: the same lines are never inserted twice. When Attach already bound
        the choice, the lines start with a comment saying so (running them again would bind twice)."""
        try:
            text = self.code_text()
        except KfpNbSecretsError as error:
            self._set_message(one_line(error), "error")
            return None
        if self.pipeline is not None and self._already_bound():
            text = (f"# Attach already bound these to {self.pipeline_name}: this cell repeats it, to keep"
                    f" the binding in code; run it on a fresh definition of {self.pipeline_name}, not"
                    f" again on this one\n{text}")
        self.code.value = text
        self.code.layout.display = ""
        if not insert:
            self._set_message("the %kfp_secret bind lines of this choice are below", "info")
        elif text in self._inserted:
            self._set_message("these lines were already inserted as a cell; not inserted again", "info")
        elif send_insert_cell(text):
            self._inserted.add(text)
            self._set_message("the lines below were sent to the notebook as a new cell below", "ok")
        else:
            self._set_message("copy the lines below into a cell (no notebook front end to insert them)",
                              "info")
        return text

    def _already_bound(self) -> bool:
        """Whether every chosen task already has the chosen secret (e.g. after Attach)."""
        chosen = set(self.tasks.value)
        return bool(chosen) and chosen <= self._has_secret

    def show_preview(self) -> None:
        """Show the pipeline's IR preview (tasks, bindings, lint findings) under the picker."""
        from kfp_nbsecrets.display import preview

        if self.pipeline is None:
            self._set_message("no pipeline to preview: open the picker with %kfp_secret pick PIPELINE",
                              "error")
            return
        try:
            shown = preview(self.pipeline)
        except KfpNbSecretsError as error:
            self._set_message(one_line(error), "error")
            return
        self.preview.outputs = ()
        self.preview.append_display_data(shown)

    def _set_message(self, text: str, kind: str) -> None:
        self.message, self.message_kind = text, kind
        color = {"error": "#b00020", "ok": "#1b5e20"}.get(kind, "inherit")
        mark = {"error": "&#10006; ", "ok": "&#10004; "}.get(kind, "")
        self.status.value = (f'<span class="kfp-nbsecrets-status kfp-nbsecrets-{kind}" style="color:{color}">'
                             f"{mark}{html.escape(text)}</span>" if text else "")

    def __repr__(self) -> str:
        choice = self.value or self._choice()
        shown = ("source", "secret", "keys", "mount_path", "param", "tasks")
        parts = ", ".join(f"{key}={choice[key]!r}" for key in shown if choice.get(key))
        return f"SecretPicker({parts})"


def _bind_like_the_magic(bind: Any, pipeline: Any, request: dict) -> Any:
    """``bind`` called exactly as ``%kfp_secret bind`` calls it (``--default`` and ``--keep-cache`` unset)."""
    return bind(pipeline, request["task"], request["secret"], env=request["env"],
                mount_path=request["mount_path"], image_pull=request["image_pull"],
                optional=request["optional"], param=request["param"], default=None, keep_cache=False)


def _label(info: sources.SecretInfo) -> str:
    count = getattr(info, "key_count", None)
    count = len(info.keys) if count is None else count
    return f"{info.name}  \u00b7  {info.type}  \u00b7  {plural(count, 'key')}"


def _step(title: str) -> widgets.HTML:
    """A step heading (numbered by ``SecretPicker._number_steps``): secret, keys, use as, tasks, Attach."""
    return widgets.HTML(f"<b>{html.escape(title)}</b>", layout=widgets.Layout(margin="6px 0 0 0"))


def _names(source: Any) -> str | None:
    """The secret a binding uses by default: its literal name or its parameter's default."""
    if source.kind == "literal":
        return source.name
    if source.kind == "parameter" and source.has_default:
        return source.default
    return None



def _container_tasks(pipeline: Any) -> list[str]:
    from kfp_nbsecrets import ir

    return [task.path for task in ir.read_pipeline(pipeline).tasks if task.is_container]


def _in_kernel() -> bool:
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def _variable_name(pipeline: Any) -> str:
    """The notebook variable holding ``pipeline``, else its function's name."""
    if pipeline is None:
        return "PIPELINE"
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        for name, value in shell.user_ns.items():
            if value is pipeline and not name.startswith("_"):
                return name
    function = getattr(pipeline, "pipeline_func", None)
    return getattr(function, "__name__", None) or "PIPELINE"
