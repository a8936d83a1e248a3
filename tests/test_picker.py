"""The secret picker at the model level: widget traits set from Python, buttons pressed by their handlers."""

import asyncio
import base64
import concurrent.futures
import html
import json
import threading
import time
import uuid

import ipywidgets as widgets
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.error import UsageError
from ipywidgets.widgets.widget import _instances
from kfp import compiler, dsl
from magic_shell import kfp_secret
from pipelines import consume, nested

from kfp_nbsecrets import ir, rules, sources
from kfp_nbsecrets.errors import ConfigurationError, NotAPipelineError
from kfp_nbsecrets.sources.memory import MemorySource
from kfp_nbsecrets.sources.store import LocalStore
from kfp_nbsecrets.widgets import picker as picker_module
from kfp_nbsecrets.widgets.picker import (
    INSERT_CELL_TARGET,
    MAX_SHOWN,
    ChoiceError,
    SecretPicker,
    send_insert_cell,
    suggest_env_name,
    suggest_param_name,
)

LOOP_TASK = "exit-handler-1/for-loop-2/consume-3"
IF_TASK = "exit-handler-1/condition-branches-3/condition-4/consume-4"


def memory(**extra):
    secrets = {"db-creds": {"username": "u", "password": "p"}, "api": {"apiKey": "k", "tls.crt": "c"},
               "single": {"token": "t"}}
    secrets.update(extra)
    return MemorySource(secrets)


def choose(picker, secret, keys=None, tasks=(), **env):
    """Click the way a user would: the secret in the list, key checkboxes (every key is ticked when the
    secret is chosen; ``keys`` leaves only those ticked), env names, the tasks."""
    picker.secret_list.value = secret
    for key, (box, _) in picker._key_rows.items():
        if keys is not None:
            box.value = key in keys
    for key, name in env.items():
        picker._key_rows[key][1].value = name
    if tasks:
        picker.tasks.value = tuple(tasks)


def platform(pipeline) -> dict:
    return ir.load(pipeline).kubernetes_executors()


def documents(pipeline) -> list:
    return ir.load(pipeline).documents()


def walk(widget, seen=None):
    """Every widget reachable from ``widget`` through its widget-valued traits (children, layout...)."""
    seen = set() if seen is None else seen
    if id(widget) in seen:
        return
    seen.add(id(widget))
    yield widget
    for name in widget.keys:
        value = getattr(widget, name)
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, widgets.Widget):
                yield from walk(item, seen)


# -- suggestions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, env", [("password", "PASSWORD"), ("apiKey", "API_KEY"), ("tls.crt", "TLS_CRT"),
                                      ("db-user", "DB_USER"), ("1st", "KEY_1ST"), ("...", "SECRET"),
                                      ("-token", "TOKEN"), ("--db--pass-", "DB_PASS"), ("_x", "X")])
def test_suggested_env_names(key, env):
    assert suggest_env_name(key) == env


@given(st.from_regex(r"[-._a-zA-Z0-9]{1,40}", fullmatch=True))
def test_suggested_env_names_are_always_valid(key):
    suggested = suggest_env_name(key)
    assert rules.env_name_problem(suggested) is None
    assert suggested[0].isalpha()  # never '-', '_', '.' or a digit first


@pytest.mark.parametrize("secret, param", [("db-creds", "db_creds_secret"), ("API.Token", "api_token_secret"),
                                           ("9lives", "s_9lives_secret")])
def test_suggested_param_names(secret, param):
    assert suggest_param_name(secret) == param
    assert param.isidentifier()


# -- listing, searching, choosing ------------------------------------------------------------------

def test_lists_names_types_and_key_counts():
    picker = SecretPicker(source=memory())
    assert [label for label, _ in picker.secret_list.options] == [
        "api  \u00b7  Opaque  \u00b7  2 keys", "db-creds  \u00b7  Opaque  \u00b7  2 keys",
        "single  \u00b7  Opaque  \u00b7  1 key"]
    assert picker.secret_list.value is None
    assert "3 of 3 secrets" in picker.list_status.value
    assert picker.value["secret"] is None and picker.message == ""
    assert picker.tasks_step.layout.display == "none" and picker.attach_button.disabled


def test_search_filters_and_keeps_the_choice():
    picker = SecretPicker(source=memory(), debounce=0)
    choose(picker, "db-creds")
    picker.search.value = "API"
    assert [value for _, value in picker.secret_list.options] == ["api"]
    assert picker.secret_list.value is None  # a filter never chooses a secret by itself
    assert picker.value["secret"] == "db-creds"
    picker.search.value = "db cre"  # every word must match
    assert [value for _, value in picker.secret_list.options] == ["db-creds"]
    assert picker.secret_list.value == "db-creds"
    picker.search.value = "nothing-like-it"
    assert picker.secret_list.options == () and "0 of 3" in picker.list_status.value


def test_rendering_is_capped_for_many_secrets():
    source = MemorySource({f"secret-{i:05d}": {"k": "v"} for i in range(MAX_SHOWN * 3)})
    picker = SecretPicker(source=source, debounce=0)
    assert len(picker.secret_list.options) == MAX_SHOWN
    assert f"showing the first {MAX_SHOWN}" in picker.list_status.value
    picker.search.value = "secret-0042"
    assert [v for _, v in picker.secret_list.options] == [f"secret-0042{i}" for i in range(10)]
    picker.select("secret-00599")  # select() clears a search that hides the secret
    assert picker.value["secret"] == "secret-00599"


def test_debounce_defaults_to_on_inside_a_kernel_only(monkeypatch):
    import IPython

    assert SecretPicker(source=memory()).debounce == 0

    class KernelShell:
        kernel = object()
        user_ns = {}

    monkeypatch.setattr(IPython, "get_ipython", lambda: KernelShell())
    assert SecretPicker(source=memory()).debounce == picker_module.DEBOUNCE_SECONDS


def test_search_is_debounced_in_a_running_event_loop():
    picker = SecretPicker(source=memory(), debounce=0.05)

    async def typing():
        for text in ("s", "si", "sin"):
            picker.search.value = text
        assert len(picker.secret_list.options) == 3  # not filtered yet
        await asyncio.sleep(0.2)
        return [value for _, value in picker.secret_list.options]

    # in a thread of its own: a session-scoped Playwright (browser tests) keeps a loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, typing()).result(timeout=10) == ["single"]


def test_keys_env_names_mount_optional_param_make_the_value():
    picker = SecretPicker(source=memory())
    choose(picker, "api")
    assert {key: (box.value, env.value) for key, (box, env) in picker._key_rows.items()} == {
        "apiKey": (True, "API_KEY"), "tls.crt": (True, "TLS_CRT")}  # every key ticked at first
    choose(picker, "api", keys=["apiKey"], apiKey="MY_API_KEY")
    assert picker.value == {"source": "memory", "namespace": None, "secret": "api", "mode": "env",
                            "keys": ["apiKey"], "env": {"apiKey": "MY_API_KEY"}, "mount_path": None,
                            "optional": False, "param": None, "tasks": []}
    picker.mode.value = "mount as files"
    assert picker.mount_path.layout.display == "" and picker._key_rows["apiKey"][0].disabled
    assert picker._key_rows["apiKey"][1].layout.display == "none"  # mount mode hides the env var fields
    picker.optional.value = True
    picker.as_param.value = True
    assert not picker.param_name.disabled
    assert picker.value | {} == {"source": "memory", "namespace": None, "secret": "api", "mode": "mount",
                                 "keys": [], "env": {}, "mount_path": "/secrets/api", "optional": True,
                                 "param": "api_secret", "tasks": []}
    choose(picker, "single")  # ticked already; suggestions follow the secret
    assert picker._key_rows["token"][0].value
    assert picker.value["mount_path"] == "/secrets/single" and picker.value["param"] == "single_secret"


def test_task_tree_lists_container_tasks_with_nested_paths():
    pipeline = nested()
    picker = SecretPicker(pipeline, memory())
    assert LOOP_TASK in picker.tasks.options and IF_TASK in picker.tasks.options
    assert "exit-handler-1/inner/consume" in picker.tasks.options
    kinds = {task.path: task.kind for task in ir.read_pipeline(pipeline).tasks}
    assert all(kinds[path] == "container" for path in picker.tasks.options)
    assert "exit-handler-1" not in picker.tasks.options


# -- attach -----------------------------------------------------------------------------------------

def test_attach_binds_env_vars_to_nested_tasks_in_the_compiled_ir(tmp_path):
    pipeline = nested()
    picker = SecretPicker(pipeline, memory())
    choose(picker, "db-creds", keys=["username", "password"], tasks=[LOOP_TASK, IF_TASK], password="DB_PASS")
    picker.attach_button.click()
    assert picker.message_kind == "ok", picker.message
    assert "bound secret 'db-creds'" in picker.message
    found = {(b.task, b.kind, str(b.reference), b.env) for b in ir.read_pipeline(pipeline).bindings()}
    assert (LOOP_TASK, "env", "db-creds", (("password", "DB_PASS"), ("username", "USERNAME"))) in found
    assert (IF_TASK, "env", "db-creds", (("password", "DB_PASS"), ("username", "USERNAME"))) in found
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    spec, platform_spec = yaml.safe_load_all(path.read_text())
    entries = [entry for executor in platform_spec["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
               .values() for entry in executor.get("secretAsEnv", [])
               if entry["secretNameParameter"] == {"runtimeValue": {"constant": "db-creds"}}]
    assert len(entries) == 2


def test_a_registry_secret_is_offered_and_attached_as_an_image_pull_secret():
    pipeline = nested()
    source = MemorySource({"regcred": {".dockerconfigjson": "{}"}, "db-creds": {"password": "p"}},
                          types={"regcred": "kubernetes.io/dockerconfigjson"})
    picker = SecretPicker(pipeline, source)
    choose(picker, "db-creds", tasks=["consume-2"])
    assert "image pull secret" not in picker.mode.options and picker.value["mode"] == "env"
    choose(picker, "regcred")
    assert picker.mode.value == "image pull secret" and picker.value["mode"] == "image-pull"
    hidden = [w.layout.display for w in (picker.keys_step, picker.mount_path, picker.optional)]
    assert hidden == ["none"] * 3 and picker.pull_note.layout.display == ""
    picker.as_param.value = True
    assert picker.code_text() == (f"%kfp_secret bind {picker.pipeline_name} consume-2 regcred --image-pull"
                                  f" --param regcred_secret")
    assert picker.attach(), picker.message
    assert "as an image pull secret" in picker.message
    (pull,) = [b for b in ir.read_pipeline(pipeline).task("consume-2").bindings]
    assert (pull.kind, str(pull.reference), pull.source.default) == (
        "image-pull", "{{regcred_secret}}", "regcred")
    assert "\u2713 has it" in dict((v, k) for k, v in picker.tasks.options)["consume-2"]
    choose(picker, "db-creds")  # a non-registry secret: back to env vars
    assert picker.mode.options == ("env vars", "mount as files") and picker.value["mode"] == "env"


def test_steps_are_numbered_over_the_steps_shown():
    def headings(picker):
        return [html.unescape(step.value) for step in picker.steps.values()
                if step is not picker.steps["Keys"] or picker.keys_step.layout.display != "none"]

    picker = SecretPicker(nested(), memory())
    choose(picker, "db-creds")
    assert headings(picker) == ["<b>1. Secret</b>", "<b>2. Keys</b>", "<b>3. Use as</b>", "<b>4. Tasks</b>",
                                "<b>5. Attach</b>"]
    picker.mode.value = "mount as files"
    assert headings(picker) == ["<b>1. Secret</b>", "<b>2. Use as</b>", "<b>3. Tasks</b>", "<b>4. Attach</b>"]
    assert SecretPicker(None, memory()).steps["Attach"].value == "<b>4. Attach</b>"  # no tasks to choose


def test_attach_mount_optional_as_parameter():
    pipeline = nested()
    picker = SecretPicker(pipeline, memory())
    choose(picker, "api", tasks=["consume-2"])
    picker.mode.value = "mount as files"
    picker.mount_path.value = "/var/run/api"
    picker.optional.value = True
    picker.as_param.value = True
    assert picker.attach()
    model = ir.read_pipeline(pipeline)
    assert model.parameters["api_secret"].default == "api"
    (binding,) = model.task("consume-2").secret_bindings()
    assert (binding.kind, binding.mount_path, binding.optional, str(binding.reference)) == (
        "volume", "/var/run/api", True, "{{api_secret}}")


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "choose a secret first"),
    (lambda p: choose(p, "db-creds", keys=[], tasks=[LOOP_TASK]), "tick at least one key"),
    (lambda p: choose(p, "db-creds", keys=["password"]), "choose at least one target task"),
    (lambda p: choose(p, "db-creds", keys=["password"], tasks=[LOOP_TASK], password="BAD=X"),
     "env var name 'BAD=X' would be rejected by Kubernetes"),
    (lambda p: (choose(p, "db-creds", tasks=[LOOP_TASK]), setattr(p.mode, "value", "mount as files"),
                setattr(p.mount_path, "value", "/")), "container's root"),
    (lambda p: (choose(p, "db-creds", keys=["password"], tasks=[LOOP_TASK]),
                setattr(p.as_param, "value", True), setattr(p.param_name, "value", "not an identifier")),
     "not a valid parameter name"),
    # KFP_POD_NAME is the backend's own env var (a field path): nothing is bound to any task
    (lambda p: choose(p, "db-creds", keys=["password"], tasks=[LOOP_TASK, "consume"],
                      password="KFP_POD_NAME"),
     "KFP_POD_NAME"),
])
def test_validation_errors_show_in_the_widget_and_change_nothing(setup, message):
    pipeline = nested()
    before = documents(pipeline)
    picker = SecretPicker(pipeline, memory())
    setup(picker)
    if picker.attach_button.disabled:  # a problem of the form itself: Attach is off and says why
        assert html.escape(message) in picker.reason.value, picker.reason.value
    picker.attach_button.click()  # never raises
    assert picker.message_kind == "error" and message in picker.message, picker.message
    assert "\n" not in picker.message and "Traceback" not in picker.status.value
    assert "kfp-nbsecrets-error" in picker.status.value
    assert documents(pipeline) == before
    choose(picker, "single", tasks=[LOOP_TASK])  # still usable afterwards
    picker.mode.value = "env vars"
    picker.as_param.value = False
    assert picker.attach(), picker.message


def test_without_a_pipeline_attach_explains_and_code_has_placeholders():
    picker = SecretPicker(source=memory())
    choose(picker, "single")
    assert not picker.attach() and "no pipeline to attach to" in picker.message
    assert picker.code_text() == "%kfp_secret bind PIPELINE TASK single --env token=TOKEN"
    picker.preview_button.click()
    assert "no pipeline to preview" in picker.message


class FailingSource(sources.SecretSource):
    kind = "k8s"

    def __init__(self, error):
        self.error = error
        self.namespaces = []

    def describe(self):
        return "failing cluster"

    def _iter_secrets(self, namespace):
        self.namespaces.append(namespace)
        raise self.error

    def _find(self, name, namespace):
        raise self.error

    def _read_values(self, name, namespace):  # pragma: no cover - the picker must never call it
        raise AssertionError("the picker read secret values")


@pytest.mark.parametrize("error", [
    sources.AccessDenied("secrets is forbidden: User 'me' cannot list secrets in namespace 'team' (403)"),
    sources.SourceUnavailable("cannot reach the Kubernetes API at https://10.0.0.1:6443: connection refused"),
])
def test_source_errors_show_in_the_widget_and_leave_it_usable(error):
    failing = FailingSource(error)
    picker = SecretPicker(nested(), failing, namespace="team")
    assert failing.namespaces == ["team"]
    assert picker.message_kind == "error" and picker.message == str(error)
    assert picker.secret_list.options == () and not picker.secret_list.disabled
    sources.get_source("memory").add("db-creds", {"password": "p"})
    picker.source_choice.value = "memory"  # switch to a source that works
    assert picker.message == "" and [v for _, v in picker.secret_list.options] == ["db-creds"]
    picker.source_choice.value = "given"
    picker.namespace.value = "other"
    assert failing.namespaces == ["team", "team", "other"] and picker.message_kind == "error"


def test_a_bug_in_a_source_keeps_its_traceback():
    """Only the package's own errors become the one-line status; anything else is a bug and surfaces."""
    with pytest.raises(RuntimeError, match="boom"):
        SecretPicker(source=FailingSource(RuntimeError("boom\nsecond line")))


def test_preview_shows_the_ir_preview_and_follows_attach():
    pipeline = nested()
    picker = SecretPicker(pipeline, memory())
    picker.preview_button.click()
    (output,) = picker.preview.outputs
    assert {"text/html", "application/vnd.kfp-nbsecrets.pipeline-ir.v1+json"} <= set(output["data"])
    assert "single" not in output["data"]["text/plain"]
    choose(picker, "single", tasks=[LOOP_TASK])
    assert picker.attach()
    (output,) = picker.preview.outputs
    assert "single" in output["data"]["text/plain"]


# -- as code ----------------------------------------------------------------------------------------

CHOICES = [
    dict(secret="db-creds", keys=["username", "password"], tasks=[LOOP_TASK, IF_TASK],
         env={"password": "DB_PASS"}),
    dict(secret="api", keys=["tls.crt"], tasks=["exit-handler-1/inner/consume"], optional=True, param=True),
    dict(secret="api", tasks=["consume-2", "produce"], mount="/var/run/my secrets", optional=True),
    dict(secret="single", tasks=["consume", LOOP_TASK], mount="/secrets/single", param=True),
]


def apply_choice(picker, choice):
    choose(picker, choice["secret"], keys=choice.get("keys", ()), tasks=choice["tasks"],
           **choice.get("env", {}))
    if "mount" in choice:
        picker.mode.value = "mount as files"
        picker.mount_path.value = choice["mount"]
    picker.optional.value = choice.get("optional", False)
    picker.as_param.value = choice.get("param", False)


@pytest.mark.parametrize("choice", CHOICES, ids=lambda c: c["secret"] + ("-mount" if "mount" in c else ""))
def test_as_code_lines_reproduce_the_attached_ir(ip, choice):
    attached = nested()
    picker = SecretPicker(attached, memory(), pipeline_name="my_pipeline")
    apply_choice(picker, choice)
    assert picker.attach(), picker.message
    lines = picker.show_code()
    assert picker.code.value == lines and picker.code.layout.display == ""
    assert lines.count("%kfp_secret bind my_pipeline ") == len(choice["tasks"])
    fresh = nested()
    ip.user_ns["my_pipeline"] = fresh
    for line in lines.splitlines():
        result = ip.run_cell(line)
        assert result.success, result.error_in_exec
    assert documents(fresh) == documents(attached)


def test_as_code_text_follows_the_choice_and_quotes_words():
    picker = SecretPicker(nested(), memory(), pipeline_name="p")
    picker.code_button.click()
    assert picker.message == "choose a secret first"
    choose(picker, "db-creds", keys=["password"], tasks=[LOOP_TASK], password="DB_PASS")
    picker.code_button.click()
    assert picker.code.value == f"%kfp_secret bind p {LOOP_TASK} db-creds --env password=DB_PASS"
    assert "copy the lines below" in picker.message  # no front end in this process
    picker.mode.value = "mount as files"
    picker.mount_path.value = "/a b/c"
    assert picker.code.value == f"%kfp_secret bind p {LOOP_TASK} db-creds --mount '/a b/c'"
    picker.tasks.value = ()
    assert picker.code.value == "# choose at least one target task"


def test_pipeline_name_is_found_in_the_notebook_namespace(ip):
    ip.user_ns["flow"] = pipeline = nested()
    assert SecretPicker(pipeline, memory()).pipeline_name == "flow"
    assert SecretPicker(nested(), memory()).pipeline_name == "nested_pipeline"


def test_insert_cell_sends_the_lines_through_a_comm(monkeypatch):
    assert send_insert_cell("%kfp_secret bind p t s --mount /s") is False  # no kernel here
    opened = []

    class FakeComm:
        def __init__(self, **kwargs):
            opened.append(kwargs)

        def close(self):
            opened.append("closed")

    class FakeShell:
        kernel = object()
        user_ns = {}

    import comm
    import IPython

    picker = SecretPicker(nested(), memory(), pipeline_name="p")  # widgets made before comms are faked
    choose(picker, "single", tasks=["consume"])
    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeShell())
    monkeypatch.setattr(comm, "create_comm", FakeComm)
    picker.code_button.click()
    assert opened == [{"target_name": INSERT_CELL_TARGET,
                       "data": {"code": "%kfp_secret bind p consume single --env token=TOKEN"}}, "closed"]
    assert "sent to the notebook" in picker.message


# -- security ---------------------------------------------------------------------------------------

def test_no_secret_value_reaches_widget_state_value_repr_or_code(private_store, monkeypatch):
    canary = f"canary-{uuid.uuid4().hex}"
    encoded = base64.b64encode(canary.encode()).decode()
    memory_source = MemorySource({"db-creds": {"password": canary, "username": canary}, "api": {"k": canary}})
    store = LocalStore(private_store)
    store.add("store-creds", {"password": canary, "token": canary})
    monkeypatch.setattr(sources.SecretSource, "read_values_for_local_run",
                        lambda *a, **k: pytest.fail("the picker read secret values"))
    texts = []
    for source, secret in ((memory_source, "db-creds"), (store, "store-creds"), ("local", "store-creds")):
        if source == "local":
            sources.configure(store_dir=str(private_store))
        pipeline = nested()
        picker = SecretPicker(pipeline, source, pipeline_name="p")
        picker.search.value = secret[:3]
        choose(picker, secret, keys=["password"], tasks=[LOOP_TASK])
        picker.optional.value = True
        picker.as_param.value = True
        assert picker.attach(), picker.message
        picker.show_code()
        picker.show_preview()
        picker.mode.value = "mount as files"
        picker.tasks.value = (IF_TASK,)
        assert picker.attach(), picker.message
        states = [json.dumps(child.get_state(), default=repr) for child in walk(picker)]
        assert len(states) > 30
        # and every live widget of the process, in case one were not in the picker's tree
        states += [json.dumps(child.get_state(), default=repr) for child in list(_instances.values())]
        texts += states + [json.dumps(picker.value), repr(picker), picker.code.value, picker.code_text(),
                           picker.message, picker.status.value, picker._repr_mimebundle_()["text/plain"],
                           json.dumps(documents(pipeline))]
    leaks = [text for text in texts if canary in text or encoded in text]
    assert not leaks


# -- the pick subcommand ------------------------------------------------------------------------------

def test_pick_subcommand_opens_the_picker(ip):
    ip.user_ns["p"] = pipeline = nested()
    sources.get_source("memory").add("db-creds", {"password": "x"})
    picker = kfp_secret(ip, "pick p --source memory --namespace team")
    assert isinstance(picker, SecretPicker)
    assert picker.pipeline is pipeline and picker.pipeline_name == "p" and picker.namespace.value == "team"
    assert [v for _, v in picker.secret_list.options] == ["db-creds"]
    choose(picker, "db-creds", keys=["password"], tasks=[LOOP_TASK])
    assert picker.code_text() == f"%kfp_secret bind p {LOOP_TASK} db-creds --env password=PASSWORD"
    alone = kfp_secret(ip, "pick")
    assert alone.pipeline is None and alone.source_choice.value == "local"


def test_pick_subcommand_uses_the_configured_source_and_names_mistakes(ip, capsys):
    ip.run_line_magic("config", "KfpSecretMagics.source = 'memory'")
    assert kfp_secret(ip, "pick").source_choice.value == "memory"
    ip.user_ns["x"] = 3
    with pytest.raises(UsageError, match="'x' is a int, not a @dsl.pipeline function"):
        kfp_secret(ip, "pick x")
    with pytest.raises(UsageError, match="no pipeline variable 'nope'"):
        kfp_secret(ip, "pick nope")
    with pytest.raises(UsageError, match="invalid choice"):
        kfp_secret(ip, "pick --source vault")
    ip.run_line_magic("kfp_secret", "help")
    assert "%kfp_secret pick [PIPELINE]" in capsys.readouterr().out


def test_a_given_source_is_a_dropdown_choice_and_bad_arguments_raise():
    picker = SecretPicker(source=memory())
    assert picker.source_choice.value == "given" and picker.source_choice.label.startswith("memory: ")
    with pytest.raises(ConfigurationError, match="unknown source 'vault'"):
        SecretPicker(source="vault")
    with pytest.raises(NotAPipelineError, match="must be a @dsl.pipeline function"):
        SecretPicker(pipeline="p.yaml")


@dsl.pipeline
def _single_task_pipeline():
    consume(text="x")


def test_a_single_task_is_preselected():
    picker = SecretPicker(_single_task_pipeline, memory())
    assert picker.tasks.value == ("consume",)
    assert picker_module._container_tasks(_single_task_pipeline) == ["consume"]


def test_choose_keys_ticks_exactly_those_keys_with_their_env_names():
    picker = SecretPicker(nested(), source=memory())
    with pytest.raises(ChoiceError, match="select"):
        picker.choose_keys({"username": "DB_USER"})
    picker.select("db-creds")
    picker.choose_keys({"username": "DB_USER", "password": None})
    assert {key: (box.value, env.value) for key, (box, env) in picker._key_rows.items()} == {
        "username": (True, "DB_USER"), "password": (True, "PASSWORD")}
    picker.choose_keys({"password": "DB_PASSWORD"})
    assert picker.value["keys"] == ["password"] and picker.value["env"] == {"password": "DB_PASSWORD"}
    with pytest.raises(ChoiceError, match=r"no key\(s\) \['nope'\]; it has \['password', 'username'\]"):
        picker.choose_keys({"nope": "X"})


# -- the flow (issue 15) and the background fetches (issue 18) -----------------------------------------

class SlowSource(MemorySource):
    """A MemorySource whose listing waits for ``gate`` and whose listing carries no key names (as a
    metadata-only Kubernetes listing), so the picker reads them with ``keys(name)``."""

    def __init__(self, secrets, gate: threading.Event):
        super().__init__(secrets)
        self.gate = gate
        self.key_reads = []

    def list_secrets(self, namespace=None, *, include_system=False):
        assert self.gate.wait(10)
        return [sources.SecretInfo(i.name, i.namespace, i.type, ()) for i in super().list_secrets(namespace)]

    def keys(self, name, namespace=None):
        self.key_reads.append(name)
        return super().keys(name, namespace)


def test_listing_runs_in_the_background_with_a_progress_line_and_select_waits():
    gate = threading.Event()
    source = SlowSource({"db-creds": {"username": "u", "password": "p"}}, gate)
    started = time.perf_counter()
    picker = SecretPicker(nested(), source, background=True)
    assert time.perf_counter() - started < 1.0  # did not wait for the listing
    assert "listing secrets" in picker.list_status.value and picker.secret_list.disabled
    gate.set()
    picker.select("db-creds")  # waits for the listing, then for the key names (one keys() read)
    assert source.key_reads == ["db-creds"]
    assert sorted(picker._key_rows) == ["password", "username"]
    assert all(box.value for box, _ in picker._key_rows.values())
    assert "2 keys" in picker.secret_title.value


def test_a_newer_request_cancels_the_older_one():
    gate = threading.Event()
    slow = SlowSource({"old": {"k": "v"}}, gate)
    picker = SecretPicker(source=slow, background=True)
    fresh = MemorySource({"new": {"k": "v"}})
    picker._given = fresh  # the user switches to another source while the first listing hangs
    picker.refresh()
    picker.wait(5)
    assert [value for _, value in picker.secret_list.options] == ["new"]
    gate.set()
    time.sleep(0.2)  # the old listing ends now: its result is dropped
    assert [value for _, value in picker.secret_list.options] == ["new"]


def test_key_names_unavailable_are_said_and_mount_still_works():
    class NoGet(SlowSource):
        def keys(self, name, namespace=None):
            raise sources.SourceError("forbidden: cannot get secrets (needs the 'get' verb)")

    gate = threading.Event()
    gate.set()
    picker = SecretPicker(nested(), NoGet({"db-creds": {"k": "v"}}, gate))
    picker.select("db-creds")
    assert "key names unavailable: forbidden" in picker.secret_title.value
    picker.mode.value = "mount as files"
    picker.tasks.value = (LOOP_TASK,)
    assert not picker.attach_button.disabled and picker.attach(), picker.message


def test_attach_is_off_with_a_reason_until_the_form_is_valid_and_errors_clear_on_change():
    picker = SecretPicker(nested(), memory())
    assert picker.attach_button.disabled and "choose a secret first" in picker.reason.value
    choose(picker, "db-creds")
    assert picker.attach_button.disabled and "choose at least one target task" in picker.reason.value
    picker.tasks.value = (LOOP_TASK, "consume")
    picker._key_rows["password"][1].value = "KFP_POD_NAME"  # the backend sets it on every task
    assert not picker.attach_button.disabled and picker.reason.value == ""
    assert not picker.attach() and picker.message_kind == "error" and "KFP_POD_NAME" in picker.message
    picker._key_rows["password"][1].value = "DB_PASSWORD"
    picker.tasks.value = (LOOP_TASK,)  # the form changed: the stale error goes
    assert picker.message == "" and picker.attach(), picker.message


def test_tasks_with_the_secret_are_marked_and_as_code_says_it_repeats_attach(monkeypatch):
    sent = []
    monkeypatch.setattr(picker_module, "send_insert_cell", lambda code: sent.append(code) or True)
    picker = SecretPicker(nested(), memory(), pipeline_name="p")
    assert "several" in picker.tasks_hint.value  # the list says it is multi-select
    choose(picker, "db-creds", keys=["password"], tasks=[LOOP_TASK],
           password="DB_PASS")
    text = picker.show_code()  # from code: shown, not inserted (Run All inserts nothing)
    assert sent == [] and text.startswith("%kfp_secret bind")
    assert picker.attach(), picker.message
    labels = dict((value, label) for label, value in picker.tasks.options)
    assert labels[LOOP_TASK].endswith("\u2713 has it") and not labels["consume"].endswith("has it")
    picker.code_button.click()
    assert len(sent) == 1 and sent[0].startswith("# Attach already bound these to p")
    picker.code_button.click()  # the same lines are never inserted twice
    assert len(sent) == 1 and "not inserted again" in picker.message


def test_one_pluralisation_style():
    picker = SecretPicker(source=memory())
    picker.select("single")
    assert "1 key" in picker.secret_title.value and "key(s)" not in picker.secret_title.value
