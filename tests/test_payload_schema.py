"""The preview payload follows its JSON Schema (kfp_nbsecrets/schemas/pipeline-ir.v1.schema.json),
the contract between display.payload() and the JupyterLab renderer, whose TypeScript types are
generated from it (labextension/test/payload.test.ts checks they are current)."""

import base64
import gzip
import json
from importlib.resources import files

import jsonschema
import pytest
import yaml
from kfp import dsl, kubernetes
from pipelines import compile_to, consume, flat, lintable, nested, shared_yaml, twice

from kfp_nbsecrets.display import preview

SCHEMA = json.loads(files("kfp_nbsecrets").joinpath("schemas/pipeline-ir.v1.schema.json").read_text())
HOSTILE = "<img src=x onerror=alert(1)>"


def validate(data: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


def hostile(tmp_path) -> str:
    """Compiled YAML with markup in the pipeline and task names, the secret names, env names,
    mount paths and parameter defaults (as any compiler or hand edit could write it)."""

    @dsl.pipeline(name="hostile")
    def hostile_pipeline(secret_name: str = HOSTILE):
        task = consume(text=HOSTILE)
        kubernetes.use_secret_as_env(task, HOSTILE, {HOSTILE: HOSTILE})
        kubernetes.use_secret_as_volume(task, secret_name, f"/{HOSTILE}")
        kubernetes.set_image_pull_secrets(task, ["<script>alert(2)</script>"])
        consume(text="after").after(task)

    text = compile_to(hostile_pipeline, tmp_path / "hostile.yaml")
    pipeline_spec, platform_spec = yaml.safe_load_all(text)
    pipeline_spec["pipelineInfo"]["name"] = "<h1>pwned</h1>"
    tasks = pipeline_spec["root"]["dag"]["tasks"]
    tasks[HOSTILE] = tasks.pop("consume")
    tasks["consume-2"]["dependentTasks"] = [HOSTILE]
    path = tmp_path / "hostile-edited.yaml"
    path.write_text(yaml.safe_dump_all([pipeline_spec, platform_spec]))
    return str(path)


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("make", [flat, nested, twice, lintable])
def test_payload_of_every_test_pipeline_is_valid(make):
    validate(preview(make()).payload())


def test_payload_carries_the_compiled_ir_once_compressed():
    shown = preview(nested())
    data = shown.payload()
    assert json.loads(gzip.decompress(base64.b64decode(data["irGzip"]))) == shown.model.compiled.documents()
    assert "pipelineSpec" not in json.dumps(data) and "deploymentSpec" not in json.dumps(data)
    conditions = {t["path"]: t["condition"] for t in data["tasks"] if "condition" in t}
    assert conditions["exit-handler-1/condition-branches-3/condition-4"] == (
        "inputs.parameter_values['pipelinechannel--produce-Output'] == 'x'")
    assert sorted(conditions) == [f"exit-handler-1/condition-branches-3/condition-{n}" for n in (4, 5, 6)]


def test_payload_of_a_shared_dag_yaml_is_valid(tmp_path):
    validate(preview(shared_yaml(tmp_path)).payload())


def test_payload_with_hostile_strings_is_valid_and_keeps_them_as_data(tmp_path):
    data = preview(hostile(tmp_path)).payload()
    validate(data)
    dumped = json.dumps(data)
    assert data["pipeline"]["name"] == "<h1>pwned</h1>"
    assert any(task["name"] == HOSTILE for task in data["tasks"])
    pairs = [pair for binding in data["bindings"] for pair in binding.get("env", [])]
    assert {"secretKey": HOSTILE, "envVar": HOSTILE} in pairs
    assert "<script>alert(2)</script>" in dumped


@pytest.mark.parametrize("broken", [
    lambda d: d.update(extra=1),
    lambda d: d["tasks"][0].update(colour="red"),
    lambda d: d["tasks"][0].update(kind="lambda"),
    lambda d: d["bindings"][0].pop("source"),
    lambda d: d["bindings"][0]["source"].update(value="s3cr3t"),
    lambda d: d["bindings"][0].update(kind="volume"),
    lambda d: d["findings"][0].update(severity="fatal"),
    lambda d: d["findings"][0].update(task="produce"),
    lambda d: d.update(version=2),
    lambda d: d.update(irGzip="<not base64>"),
], ids=["top-level", "task", "task-kind", "binding-source", "source", "env-as-volume", "severity",
        "finding-task", "version", "ir"])
def test_the_schema_is_strict(broken):
    data = preview(nested()).payload()
    broken(data)
    with pytest.raises(jsonschema.ValidationError):
        validate(data)
