"""The compiled-IR model: task paths through every nesting kind, and where secret names come from."""

import pytest
import yaml
from pipelines import compile_to, flat, nested, twice

from kfp_nbsecrets import ir


@pytest.fixture(scope="module")
def model():
    return ir.read_pipeline(nested())


def by_path(model):
    return {task.path: task for task in model.tasks}


def test_every_nesting_kind_has_a_path(model):
    kinds = {task.path: task.kind for task in model.tasks}
    assert kinds["exit-handler-1"] == "exit-handler"
    assert kinds["exit-handler-1/for-loop-2"] == "for-loop"
    assert kinds["exit-handler-1/condition-branches-3"] == "condition-branches"
    assert kinds["exit-handler-1/condition-branches-3/condition-4"] == "condition"
    assert kinds["exit-handler-1/condition-branches-3/condition-6/consume-6"] == "container"
    assert kinds["exit-handler-1/inner"] == "pipeline"
    assert kinds["exit-handler-1/inner/consume"] == "container"
    assert by_path(model)["exit-handler-1/inner/consume"].parent == "exit-handler-1/inner"


def test_literal_env_binding_and_image_pull_secret(model):
    top = by_path(model)["consume"]
    env, pull = top.bindings
    assert (env.kind, env.source.kind, env.source.name, env.env, env.optional) == (
        "env", "literal", "literal-creds", (("password", "DB_PASSWORD"),), True)
    assert (pull.kind, pull.source.name) == ("image-pull", "regcred")
    assert top.secret_bindings() == (env,)


def test_parameter_traced_through_each_dag_to_root_default(model):
    (binding,) = by_path(model)["exit-handler-1/condition-branches-3/condition-4/consume-4"].bindings
    source = binding.source
    assert (source.kind, source.parameter, source.default) == ("parameter", "secret_name", "db-creds")
    assert source.via == ("pipelinechannel--secret_name",) * 3
    assert source.describe() == "{{secret_name}} = 'db-creds'"


def test_sub_pipeline_input_traced_to_root(model):
    (binding,) = by_path(model)["exit-handler-1/inner/consume"].bindings
    assert binding.reference == ir.refs.PipelineParam("inner_secret")
    assert binding.source.parameter == "secret_name"
    assert binding.source.via == ("inner_secret", "pipelinechannel--secret_name")


def test_task_output_and_loop_items(model):
    (out,) = by_path(model)["exit-handler-1/condition-branches-3/condition-5/consume-5"].bindings
    assert (out.source.kind, out.source.task, out.source.output) == ("task-output", "produce", "Output")
    assert out.mount_path == "/secrets/out"
    (item,) = by_path(model)["exit-handler-1/for-loop-2/consume-3"].bindings
    assert item.source.kind == "loop-item"
    assert (item.source.items.kind, item.source.items.parameter) == ("parameter", "names")


def test_loop_over_raw_list_and_sub_pipeline_called_twice():
    tasks = by_path(ir.read_pipeline(twice()))
    (item,) = tasks["for-loop-2/consume"].bindings
    assert item.source.items.kind == "literal"
    assert "inner/consume" in tasks and "inner-2/consume" in tasks


def test_dependencies_caching_image_and_command():
    tasks = by_path(ir.read_pipeline(flat()))
    assert tasks["consume-2"].depends_on == ("consume",)
    assert tasks["consume"].caching is True
    assert tasks["consume"].image == "python:3.11"
    assert "consume" in " ".join(tasks["consume"].command)


def test_same_model_from_component_file_text_and_dicts(tmp_path):
    pipeline = nested()
    text = compile_to(pipeline, tmp_path / "p.yaml")
    expected = ir.read_pipeline(pipeline).tasks
    assert ir.read_pipeline(str(tmp_path / "p.yaml")).tasks == expected
    assert ir.read_pipeline(tmp_path / "p.yaml").tasks == expected
    assert ir.read_pipeline(text).tasks == expected
    assert ir.read_pipeline(list(yaml.safe_load_all(text))).tasks == expected
    assert ir.read_pipeline(ir.load(pipeline)).tasks == expected


def test_unresolved_input_is_reported():
    compiled = ir.load(nested())
    loop = compiled.pipeline_spec["components"]["comp-for-loop-2"]
    del loop["inputDefinitions"]["parameters"]["pipelinechannel--names-loop-item"]
    (binding,) = by_path(ir.read_pipeline(compiled))["exit-handler-1/for-loop-2/consume-3"].bindings
    assert binding.source.kind == "unresolved"
    assert "has no input 'pipelinechannel--names-loop-item'" in binding.source.problem


@pytest.mark.parametrize("bad", ["a: [", "just: text\n", 42])
def test_not_a_pipeline_is_refused(bad):
    with pytest.raises((ValueError, TypeError)):
        ir.read_pipeline(bad)


def test_a_loop_over_an_unresolved_list_says_why_in_its_source():
    compiled = ir.load(nested())
    for component in compiled.pipeline_spec["components"].values():
        for task in component.get("dag", {}).get("tasks", {}).values():
            if "parameterIterator" in task:
                task["parameterIterator"]["items"]["inputParameter"] = "nope"
    (looped,) = [b for b in ir.read_pipeline(compiled).bindings() if b.source.kind == "loop-item"]
    expected = "loop item, unresolved: the DAG of task 'exit-handler-1/for-loop-2' has no input 'nope'"
    assert looped.source.origin_text() == expected
