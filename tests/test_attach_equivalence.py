"""For every valid input, our platform config is identical to what kfp.kubernetes writes.

Each case builds the same pipeline twice: once with ``kfp.kubernetes`` and once with
``kfp_nbsecrets``; both are compiled and the compiled documents compared.
"""

import types

import pytest
import yaml
from kfp import compiler, dsl, kubernetes

import kfp_nbsecrets

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def consume(x: str) -> str:
    return x


@dsl.component(base_image=IMAGE)
def make_name() -> str:
    return "db-creds"


def ours(keep_cache=False):
    """kfp_nbsecrets' attach functions, shaped like the kfp.kubernetes module."""
    return types.SimpleNamespace(
        use_secret_as_env=lambda *a, **kw: kfp_nbsecrets.use_secret_as_env(*a, **kw, keep_cache=keep_cache),
        use_secret_as_volume=lambda *a, **kw: kfp_nbsecrets.use_secret_as_volume(
            *a, **kw, keep_cache=keep_cache),
    )


def literal(k):
    @dsl.pipeline(name="p")
    def p():
        t = consume(x="a")
        k.use_secret_as_env(t, secret_name="db-creds", secret_key_to_env={"user": "DB_USER"})
        k.use_secret_as_env(t, "api.tokens", {"token": "TOKEN", "url": "API_URL"}, optional=True)
        k.use_secret_as_volume(t, secret_name="tls", mount_path="/etc/tls")
        k.use_secret_as_volume(t, "ca", "/etc/ca", optional=True)
    return p


def pipeline_param(k):
    @dsl.pipeline(name="p")
    def p(db_secret: str = "db-creds", tls_secret: str = "tls"):
        t = consume(x="a")
        k.use_secret_as_env(t, db_secret, {"user": "DB_USER", "password": "DB_PASSWORD"})
        k.use_secret_as_volume(t, tls_secret, "/etc/tls", optional=True)
    return p


def task_output(k):
    @dsl.pipeline(name="p")
    def p():
        name = make_name()
        t = consume(x="a")
        k.use_secret_as_env(t, name.output, {"user": "DB_USER"})
        k.use_secret_as_volume(consume(x="b"), name.output, "/etc/db")
    return p


def loop_items(k):
    @dsl.pipeline(name="p")
    def p(secrets: list = ["a", "b"], db_secret: str = "db"):
        with dsl.ParallelFor(["x-creds", "y-creds"]) as item:
            k.use_secret_as_env(consume(x="a"), item, {"user": "DB_USER"})
        with dsl.ParallelFor(secrets) as name:
            t = consume(x="b")
            k.use_secret_as_volume(t, name, "/etc/s")
            k.use_secret_as_env(t, db_secret, {"user": "DB_USER"})
    return p


def nested(k):
    @dsl.pipeline(name="inner")
    def inner(inner_secret: str):
        k.use_secret_as_env(consume(x="i"), inner_secret, {"user": "DB_USER"}, optional=True)

    @dsl.pipeline(name="p")
    def p(db_secret: str = "db", flag: str = "on"):
        name = make_name()
        inner(inner_secret=db_secret)
        with dsl.If(flag == "on"):
            with dsl.ParallelFor(["a", "b"]) as item:
                t = consume(x=item)
                k.use_secret_as_env(t, db_secret, {"user": "DB_USER"})
                k.use_secret_as_volume(t, name.output, "/etc/n")
        with dsl.Elif(flag == "off"):
            k.use_secret_as_env(consume(x="e"), db_secret, {"user": "DB_USER"})
        with dsl.Else():
            k.use_secret_as_volume(consume(x="f"), "tls", "/etc/tls")
    return p


def exit_handler(k):
    @dsl.pipeline(name="p")
    def p(db_secret: str = "db"):
        cleanup = consume(x="cleanup")
        k.use_secret_as_env(cleanup, db_secret, {"user": "DB_USER"})
        with dsl.ExitHandler(cleanup):
            k.use_secret_as_volume(consume(x="work"), db_secret, "/etc/db")
    return p


CASES = [literal, pipeline_param, task_output, loop_items, nested, exit_handler]


def compiled(pipeline, tmp_path):
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    spec, platform = yaml.safe_load_all(path.read_text())
    return spec, platform


def without_caching(spec):
    """The pipeline spec with every task's cachingOptions removed."""
    if isinstance(spec, dict):
        return {k: without_caching(v) for k, v in spec.items() if k != "cachingOptions"}
    if isinstance(spec, list):
        return [without_caching(v) for v in spec]
    return spec


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_platform_config_identical_to_kfp_kubernetes(case, tmp_path):
    theirs_spec, theirs_platform = compiled(case(kubernetes), tmp_path)
    ours_spec, ours_platform = compiled(case(ours()), tmp_path)
    assert ours_platform == theirs_platform
    assert without_caching(ours_spec) == without_caching(theirs_spec)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_keep_cache_gives_identical_ir(case, tmp_path):
    assert compiled(case(ours(keep_cache=True)), tmp_path) == compiled(case(kubernetes), tmp_path)


def all_tasks(spec):
    """Every task of every DAG in a compiled pipeline spec, by task name."""
    dags = [spec["root"]["dag"]] + [c["dag"] for c in spec["components"].values() if "dag" in c]
    return {name: task for dag in dags for name, task in dag["tasks"].items()}


def test_parameterized_name_turns_caching_off_literal_keeps_it(tmp_path):
    tasks = all_tasks(compiled(nested(ours()), tmp_path)[0])
    assert tasks["consume"]["cachingOptions"] == {}  # in the loop: parameter + task output names
    assert tasks["consume-2"]["cachingOptions"] == {}  # Elif: parameter
    assert tasks["consume-3"]["cachingOptions"] == {"enableCache": True}  # Else: literal "tls"
    assert tasks["make-name"]["cachingOptions"] == {"enableCache": True}  # no secret at all


def test_returns_the_task():
    @dsl.pipeline(name="p")
    def p(db_secret: str = "db"):
        t = consume(x="a")
        assert kfp_nbsecrets.use_secret_as_env(t, db_secret, {"k": "K"}) is t
        assert kfp_nbsecrets.use_secret_as_volume(t, "tls", "/etc/tls") is t
