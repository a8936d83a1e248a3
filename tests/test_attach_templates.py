"""``{{PARAM}}`` and ``{{tasks.TASK.OUTPUT}}`` compile to real parameter references."""

import pytest
import yaml
from kfp import compiler, dsl, kubernetes

import kfp_nbsecrets
from kfp_nbsecrets import TemplateError

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def consume(x: str) -> str:
    return x


@dsl.component(base_image=IMAGE)
def make_name() -> str:
    return "db-creds"


def platform_of(pipeline, tmp_path):
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return list(yaml.safe_load_all(path.read_text()))[1]


def executors(platform):
    return platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def test_param_template_compiles_to_component_input_parameter(tmp_path):
    @dsl.pipeline(name="p")
    def p(db_secret: str = "db-creds"):
        kfp_nbsecrets.use_secret_as_env(consume(x="a"), "{{db_secret}}", {"user": "DB_USER"})
        kfp_nbsecrets.use_secret_as_volume(consume(x="b"), "{{ db_secret }}", "/etc/db")

    entries = executors(platform_of(p, tmp_path))
    assert entries["exec-consume"]["secretAsEnv"][0]["secretNameParameter"] == {
        "componentInputParameter": "db_secret"}
    assert entries["exec-consume-2"]["secretAsVolume"][0]["secretNameParameter"] == {
        "componentInputParameter": "db_secret"}
    assert "{{" not in yaml.safe_dump(entries)
    assert "secretName" not in entries["exec-consume"]["secretAsEnv"][0]


def test_templates_equal_passing_the_channels(tmp_path):
    def build(use_templates):
        @dsl.pipeline(name="p")
        def p(db_secret: str = "db", flag: str = "on"):
            name = make_name()
            with dsl.If(flag == "on"):
                with dsl.ParallelFor(["a", "b"]):
                    t = consume(x="x")
                    if use_templates:
                        kfp_nbsecrets.use_secret_as_env(t, "{{db_secret}}", {"user": "U"})
                        kfp_nbsecrets.use_secret_as_volume(t, "{{tasks.make-name.Output}}", "/etc/n")
                    else:
                        kubernetes.use_secret_as_env(t, db_secret, {"user": "U"})
                        kubernetes.use_secret_as_volume(t, name.output, "/etc/n")
        return p

    assert platform_of(build(True), tmp_path) == platform_of(build(False), tmp_path)


def test_task_output_template_adds_the_dependency(tmp_path):
    @dsl.pipeline(name="p")
    def p():
        make_name()
        t = consume(x="a")
        kfp_nbsecrets.use_secret_as_env(t, "{{tasks.make-name.Output}}", {"user": "DB_USER"})
        assert t.dependent_tasks == ["make-name"]

    entry = executors(platform_of(p, tmp_path))["exec-consume"]["secretAsEnv"][0]
    assert entry["secretNameParameter"] == {
        "taskOutputParameter": {"producerTask": "make-name", "outputParameterKey": "Output"}}


def test_template_in_sub_pipeline_names_its_own_parameter(tmp_path):
    @dsl.pipeline(name="inner")
    def inner(creds: str):
        kfp_nbsecrets.use_secret_as_env(consume(x="i"), "{{creds}}", {"user": "U"})

    @dsl.pipeline(name="outer")
    def outer(db_secret: str = "db"):
        inner(creds=db_secret)

    entry = executors(platform_of(outer, tmp_path))["exec-consume"]["secretAsEnv"][0]
    assert entry["secretNameParameter"] == {"componentInputParameter": "creds"}


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{db_secrt}}", "unknown pipeline parameter 'db_secrt' (did you mean 'db_secret'?)"),
        ("{{tasks.make-nam.Output}}", "unknown task 'make-nam' (did you mean 'make-name'?)"),
        ("{{tasks.make-name.Outptu}}", "task 'make-name' has no output 'Outptu' (did you mean 'Output'?)"),
        ("{{db_secret}}-suffix", "malformed secret name template"),
        ("{{}}", "malformed secret name template"),
        ("{{tasks.make-name}}", "malformed secret name template"),
        ("{{count}}", "parameter 'count' is of type Integer"),
    ],
)
def test_bad_templates_are_refused(template, message):
    @dsl.pipeline(name="p")
    def p(db_secret: str = "db", count: int = 1):
        make_name()
        t = consume(x="a")
        with pytest.raises(TemplateError if "type" not in message else kfp_nbsecrets.ChannelError) as err:
            kfp_nbsecrets.use_secret_as_env(t, template, {"user": "U"})
        assert message in str(err.value)
        assert "\n" not in str(err.value)
        assert t.platform_config == {}


def test_template_outside_a_pipeline_is_refused():
    from kfp.dsl import pipeline_context

    with pipeline_context.Pipeline("manual"):
        t = consume(x="a")
        with pytest.raises(TemplateError, match="inside a @dsl.pipeline function"):
            kfp_nbsecrets.use_secret_as_env(t, "{{db_secret}}", {"user": "U"})
