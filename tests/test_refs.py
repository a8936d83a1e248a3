"""The template parser and the IR round trip of secret references."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_nbsecrets import TemplateError, refs


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("db-creds", refs.Literal("db-creds")),
        ("{{db_secret}}", refs.PipelineParam("db_secret")),
        ("{{ db_secret }}", refs.PipelineParam("db_secret")),
        ("{{tasks.make-name.Output}}", refs.TaskOutput("make-name", "Output")),
        ("{{tasks.train_2.token}}", refs.TaskOutput("train_2", "token")),
    ],
)
def test_parse(text, ref):
    assert refs.parse(text) == ref


@pytest.mark.parametrize(
    "text",
    ["{{}}", "{{a}}-x", "x-{{a}}", "{{a}}{{b}}", "{{tasks.a}}", "{{tasks.a.b.c}}", "{{1a}}", "{{a b}}",
     "{{channel:task=;name=a;type=String;}}"],
)
def test_malformed_templates(text):
    with pytest.raises(TemplateError) as caught:
        refs.parse(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "ref", [refs.Literal("db"), refs.PipelineParam("db_secret"), refs.TaskOutput("make-name", "Output")],
)
def test_ir_round_trip(ref):
    assert refs.from_ir({"secretNameParameter": refs.to_ir(ref)}) == ref
    assert refs.parse(str(ref)) == ref


def test_deprecated_secret_name_only():
    assert refs.from_ir({"secretName": "old"}) == refs.Literal("old")
    assert refs.from_ir({}) is None


@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=40) | st.builds("{{{{{}}}}}".format, st.text(max_size=20)))
def test_fuzzed_templates_parse_or_raise_template_error(text):
    try:
        ref = refs.parse(text)
    except TemplateError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(ref, refs.Literal) == ("{{" not in text)
