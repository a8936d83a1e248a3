"""bind/unbind on a defined pipeline (in place) and on compiled YAML (a new document)."""

import json
from unittest import mock

import kfp
import pytest
from google.protobuf import json_format
from kfp import components
from pipelines import compile_to, flat, lintable, nested, shared_yaml, twice

from kfp_nbsecrets import errors, ir, lint
from kfp_nbsecrets.bind import bind, unbind

LOOP_TASK = "exit-handler-1/for-loop-2/consume-3"
IF_TASK = "exit-handler-1/condition-branches-3/condition-4/consume-4"


def bindings_of(source, path):
    task = ir.read_pipeline(source).task(path)
    return [(b.kind, b.source.describe(), b.target()) for b in task.secret_bindings()]


def snapshot(pipeline):
    return (json_format.MessageToDict(pipeline.pipeline_spec),
            json_format.MessageToDict(pipeline.platform_spec), sorted(pipeline.component_spec.inputs))


def test_literal_env_on_a_pipeline_function_in_place(tmp_path):
    pipeline = flat()
    assert bind(pipeline, "consume-2", "db-creds", env={"password": "DB_PASSWORD"}) is pipeline
    assert bindings_of(pipeline, "consume-2") == [("env", "'db-creds'", "password → DB_PASSWORD")]
    assert bindings_of(pipeline, "consume") == []
    assert ir.read_pipeline(pipeline).task("consume-2").caching is True
    compile_to(pipeline, tmp_path / "p.yaml")
    compiled = str(tmp_path / "p.yaml")
    assert bindings_of(compiled, "consume-2") == [("env", "'db-creds'", "password → DB_PASSWORD")]


def test_new_parameter_threaded_through_exit_handler_and_loop(tmp_path):
    pipeline = nested()
    bind(pipeline, LOOP_TASK, param="db_secret", default="db-creds", env={"password": "PW"})
    (binding, _) = ir.read_pipeline(pipeline).task(LOOP_TASK).secret_bindings()
    assert (binding.source.kind, binding.source.parameter, binding.source.default) == (
        "parameter", "db_secret", "db-creds")
    assert binding.source.via == ("pipelinechannel--db_secret",) * 2
    assert ir.read_pipeline(pipeline).task(LOOP_TASK).caching is False
    assert "db_secret" in pipeline.component_spec.inputs
    path = tmp_path / "p.yaml"
    compile_to(pipeline, path)
    assert components.load_component_from_file(str(path)).pipeline_spec.root.input_definitions.parameters[
        "db_secret"].default_value.string_value == "db-creds"
    assert not lint.has_errors(lint.lint(str(path)))
    from_file = ir.read_pipeline(str(path)).task(LOOP_TASK).bindings
    assert from_file == ir.read_pipeline(pipeline).task(LOOP_TASK).bindings


def test_run_from_pipeline_func_uploads_the_binding():
    pipeline = nested()
    bind(pipeline, IF_TASK, "{{tasks.produce.Output}}", mount_path="/secrets/made")
    uploaded = {}

    def fake_run(self, pipeline_file, **kwargs):
        uploaded["text"] = open(pipeline_file).read()

    with mock.patch.object(kfp.Client, "create_run_from_pipeline_package", fake_run):
        kfp.Client.create_run_from_pipeline_func(object.__new__(kfp.Client), pipeline)
    assert ("volume", "{{tasks.produce.Output}}", "/secrets/made") in bindings_of(uploaded["text"], IF_TASK)


def test_task_output_from_an_outer_dag_adds_inputs_and_dependency():
    pipeline = nested()
    bind(pipeline, LOOP_TASK, "{{tasks.produce.Output}}", env={"user": "USER"}, keep_cache=True)
    compiled = ir.load(pipeline)
    exit_task = compiled.pipeline_spec["root"]["dag"]["tasks"]["exit-handler-1"]
    assert "produce" in exit_task["dependentTasks"]
    loop = compiled.pipeline_spec["components"]["comp-exit-handler-1"]["dag"]["tasks"]["for-loop-2"]
    assert loop["inputs"]["parameters"]["pipelinechannel--produce-Output"] == {
        "componentInputParameter": "pipelinechannel--produce-Output"}
    assert ir.read_pipeline(pipeline).task(LOOP_TASK).caching is True
    assert not lint.has_errors(lint.lint(pipeline))


def test_sub_pipeline_input_template_and_if_branch():
    pipeline = nested()
    bind(pipeline, "exit-handler-1/inner/consume", "{{inner_secret}}", mount_path="/s")
    bind(pipeline, IF_TASK, "{{secret_name}}", mount_path="/s")
    expected = ("volume", "{{secret_name}} = 'db-creds'", "/s")
    assert bindings_of(pipeline, "exit-handler-1/inner/consume")[-1] == expected
    assert bindings_of(pipeline, IF_TASK)[-1] == expected


def test_rebinding_is_idempotent():
    pipeline = nested()
    for _ in range(2):
        bind(pipeline, LOOP_TASK, param="db_secret", default="db-creds", env={"password": "PW"})
        bind(pipeline, "consume", "other", mount_path="/other")
    before = snapshot(pipeline)
    bind(pipeline, LOOP_TASK, param="db_secret", default="db-creds", env={"password": "PW"})
    bind(pipeline, "consume", "other", mount_path="/other")
    assert snapshot(pipeline) == before
    assert len(bindings_of(pipeline, LOOP_TASK)) == 2
    assert len(bindings_of(pipeline, "consume")) == 2


def test_unbind_one_or_all():
    pipeline = nested()
    bind(pipeline, LOOP_TASK, param="db_secret", default="db-creds", env={"password": "PW"})
    unbind(pipeline, LOOP_TASK, "{{db_secret}}")
    assert [b[1] for b in bindings_of(pipeline, LOOP_TASK)] == ["item of {{names}} = ['a-one', 'b-two']"]
    unbind(pipeline, "consume", "literal-creds")
    assert bindings_of(pipeline, "consume") == []
    assert [b.kind for b in ir.read_pipeline(pipeline).task("consume").bindings] == ["image-pull"]
    unbind(pipeline, LOOP_TASK)
    assert bindings_of(pipeline, LOOP_TASK) == []
    with pytest.raises(errors.SecretBindingError, match="has no secret 'nope' bound"):
        unbind(pipeline, IF_TASK, "nope")


def test_yaml_text_and_path_give_a_new_document(tmp_path):
    path = tmp_path / "p.yaml"
    text = compile_to(lintable(), path)
    new_text = bind(str(path), "consume", "{{tasks.produce.Output}}", env={"k": "K"})
    assert path.read_text() == text
    assert new_text.startswith("# PIPELINE DEFINITION")
    assert bind(new_text, "consume", "{{tasks.produce.Output}}", env={"k": "K"}) == new_text
    assert bindings_of(new_text, "consume") == [("env", "{{tasks.produce.Output}}", "k → K")]
    out = tmp_path / "out.yaml"
    out.write_text(new_text)
    components.load_component_from_file(str(out))
    assert lint.lint(new_text) == []
    compiled = bind(ir.load(text), "consume", "db", env={"k": "K"})
    assert isinstance(compiled, ir.CompiledPipeline) and bindings_of(compiled, "consume")


def test_shared_dag_component_and_executor_are_split(tmp_path):
    source = shared_yaml(tmp_path)
    assert ir.read_pipeline(source).task("inner-2/consume").executor == "exec-consume"
    text = bind(source, "inner-2/consume", "db-creds", env={"k": "K"})
    model = ir.read_pipeline(text)
    assert bindings_of(text, "inner/consume") == []
    assert bindings_of(text, "inner-2/consume") == [("env", "'db-creds'", "k → K")]
    assert model.task("inner-2/consume").executor != model.task("inner/consume").executor
    assert model.task("inner-2").component != model.task("inner").component
    out = tmp_path / "out.yaml"
    out.write_text(text)
    components.load_component_from_file(str(out))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"task": "nope", "secret": "s", "env": {"k": "K"}}, errors.NotATaskError, "no task 'nope'"),
    ({"task": "exit-handler-1", "secret": "s", "env": {"k": "K"}}, errors.NotATaskError, "container tasks"),
    ({"task": "consume", "secret": "s"}, errors.SecretBindingError, "exactly one of env"),
    ({"task": "consume", "secret": "s", "env": {}}, errors.InvalidEnvError, "non-empty dict"),
    ({"task": "consume", "secret": "s", "env": {"bad key": "K"}}, errors.InvalidSecretKeyError, "secret key"),
    ({"task": "consume", "secret": "s", "env": {"k": "K=1"}}, errors.InvalidEnvError, "env var name"),
    ({"task": "consume", "secret": "s", "env": {"k": "KFP_POD_UID"}}, errors.InvalidEnvError, "KFP backend"),
    ({"task": "consume", "secret": "Bad_Name", "env": {"k": "K"}}, errors.InvalidSecretNameError, "valid"),
    ({"task": "consume", "secret": "a.b", "mount_path": "/m"}, errors.InvalidSecretNameError, "mounted"),
    ({"task": "consume", "secret": "s", "mount_path": "/"}, errors.InvalidMountError, "container's root"),
    ({"task": "consume", "secret": "{{channel:task=;name=x;type=String;}}", "env": {"k": "K"}},
     errors.ChannelError, "embeds"),
    ({"task": "consume", "secret": "{{nope}}", "env": {"k": "K"}}, errors.TemplateError, "unknown pipeline"),
    ({"task": "consume", "secret": "{{names}}", "env": {"k": "K"}}, errors.ChannelError, "LIST"),
    ({"task": "consume", "secret": "{{tasks.ghost.Output}}", "env": {"k": "K"}}, errors.TemplateError,
     "ghost"),
    ({"task": "consume", "secret": "{{tasks.produce.nope}}", "env": {"k": "K"}}, errors.TemplateError,
     "no output"),
    ({"task": "consume", "secret": "{{tasks.consume.Output}}", "env": {"k": "K"}}, errors.ChannelError,
     "itself"),
    ({"task": "produce", "secret": "{{tasks.exit-handler-1.x}}", "env": {"k": "K"}}, errors.TemplateError,
     "runs after"),
    ({"task": "consume", "param": "secret_name", "default": "other", "env": {"k": "K"}},
     errors.SecretBindingError, "already has a parameter"),
    ({"task": "consume", "param": "db secret", "default": "x", "env": {"k": "K"}}, errors.SecretBindingError,
     "not a valid parameter"),
    ({"task": "consume", "param": "p", "env": {"k": "K"}}, errors.InvalidSecretNameError, "needs a default"),
    ({"task": "consume", "secret": "s", "env": {"k": "K"}, "optional": "yes"}, errors.SecretBindingError,
     "optional"),
])
def test_bad_input_raises_and_changes_nothing(kwargs, error, message):
    pipeline = nested()
    before = snapshot(pipeline)
    target = kwargs.pop("task")
    with pytest.raises(error, match=message):
        bind(pipeline, target, **kwargs)
    assert snapshot(pipeline) == before


def test_clashes_kubernetes_accepts_warn_as_in_attach():
    pipeline = nested()
    bind(pipeline, "consume", "a", mount_path="/m")
    with pytest.warns(errors.KubernetesWarning, match="only the last one"):
        bind(pipeline, "consume", "b", mount_path="/m/")
    with pytest.warns(errors.KubernetesWarning, match="keeps the last one"):
        bind(pipeline, "consume", "s", env={"k": "DB_PASSWORD"})
    with pytest.warns(errors.KubernetesWarning, match="relative"):
        bind(pipeline, "consume", "c", mount_path="rel")
    bind(pipeline, "consume", "a", mount_path="/n")  # one pod volume, mounted at both paths
    assert [b.mount_path for b in ir.read_pipeline(pipeline).task("consume").secret_bindings()
            if str(b.reference) == "a"] == ["/m", "/n"]


def test_ambiguous_task_name_needs_a_path():
    with pytest.raises(errors.NotATaskError, match="more than once; give its path, 'for-loop-2/consume'"):
        bind(twice(), "consume", "s", env={"k": "K"})


def test_json_sources_and_pipeline_task():
    compiled = ir.load(flat())
    result = bind([compiled.pipeline_spec, compiled.platform_spec], "consume", "s", env={"k": "K"})
    assert bindings_of(result, "consume") == [("env", "'s'", "k → K")]
    task = type("Task", (), {"name": "consume-2"})()
    assert bindings_of(bind(compiled, task, "s", env={"k": "K"}), "consume-2")
    assert json.dumps(result.documents())


def _pull_ir(pipeline) -> dict:
    return json_format.MessageToDict(pipeline.platform_spec)


@pytest.mark.parametrize("secret", ["regcred", "{{secret_name}}"])
def test_image_pull_secret_ir_equals_kfp_kubernetes(secret):
    from kfp import dsl, kubernetes
    from pipelines import consume

    def define(use_kfp):
        @dsl.pipeline(name="pull")
        def pull(secret_name: str = "regcred"):
            task = consume(text="a")
            if use_kfp:
                kubernetes.set_image_pull_secrets(task, [secret_name if secret.startswith("{") else secret])
        return pull

    expected, bound = define(True), define(False)
    bind(bound, "consume", secret, image_pull=True)
    assert _pull_ir(bound) == _pull_ir(expected)
    assert json_format.MessageToDict(bound.pipeline_spec) == json_format.MessageToDict(expected.pipeline_spec)
    assert ir.read_pipeline(bound).task("consume").caching is True  # credentials do not change outputs


def test_image_pull_secret_refusals_change_nothing():
    pipeline = flat()
    before = snapshot(pipeline)
    for kwargs, message in [
        (dict(image_pull=True, optional=True), "cannot be optional"),
        (dict(image_pull=True, mount_path="/x"), "give exactly one of"),
        (dict(image_pull="yes"), "image_pull must be True or False"),
        (dict(), "give exactly one of"),
    ]:
        with pytest.raises(errors.SecretBindingError, match=message):
            bind(pipeline, "consume", "regcred", **kwargs)
    with pytest.raises(errors.SecretBindingError, match="secret name .* embeds a pipeline parameter"):
        bind(pipeline, "consume", "{{channel:task=;name=x;type=String;}}-suffix", image_pull=True)
    assert snapshot(pipeline) == before


def test_image_pull_secret_with_an_invalid_name_is_a_warning_and_unbind_removes_it():
    pipeline = flat()
    with pytest.warns(errors.KubernetesWarning, match="kubelet pulls the image without"):
        bind(pipeline, "consume", "Reg_Cred", image_pull=True)
    bind(pipeline, "consume", "regcred", image_pull=True)
    bind(pipeline, "consume", "regcred", image_pull=True)  # twice: bound once
    names = [b.source.name for b in ir.read_pipeline(pipeline).task("consume").bindings]
    assert names == ["Reg_Cred", "regcred"]
    unbind(pipeline, "consume", "Reg_Cred")
    assert [b.source.name for b in ir.read_pipeline(pipeline).task("consume").bindings] == ["regcred"]
    unbind(pipeline, "consume")
    assert ir.read_pipeline(pipeline).task("consume").bindings == ()



def test_bind_on_dicts_that_share_one_config_changes_only_its_task():
    """Dicts built by hand may hold one config object for several executors; bind changes one task."""
    compiled = bind(ir.load(flat()), "consume", "regcred", image_pull=True)
    executors = compiled.kubernetes_executors()
    (label,) = executors
    for other in compiled.pipeline_spec["deploymentSpec"]["executors"]:
        executors[other] = executors[label]  # the same dict object for every executor
    changed = bind(compiled, "consume-2", "db-creds", mount_path="/db")
    kinds = {task.path: [b.kind for b in task.bindings] for task in ir.read_pipeline(changed).tasks}
    assert kinds == {"consume": ["image-pull"], "consume-2": ["volume", "image-pull"]}
