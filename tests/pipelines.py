"""Pipelines shared by the IR, display and CLI tests (each call defines a fresh pipeline)."""

from kfp import compiler, dsl, kubernetes


@dsl.component(base_image="python:3.11")
def produce() -> str:
    return "db-creds"


@dsl.component(base_image="python:3.11")
def consume(text: str = "x") -> str:
    return text


@dsl.component(base_image="python:3.11")
def count() -> int:
    return 1


def flat():
    """Two tasks sharing one component, no secrets."""

    @dsl.pipeline(name="flat")
    def flat_pipeline(secret_name: str = "db-creds", retries: int = 3):
        first = consume(text="a")
        first.set_caching_options(True)
        consume(text="b").after(first)

    return flat_pipeline


def nested():
    """Every nesting kind, with secrets bound to tasks inside them."""

    @dsl.pipeline(name="inner")
    def inner(inner_secret: str = "inner-default"):
        task = consume(text="in")
        kubernetes.use_secret_as_env(task, inner_secret, {"token": "TOKEN"})

    @dsl.pipeline(name="nested")
    def nested_pipeline(secret_name: str = "db-creds", names: list = ["a-one", "b-two"]):  # noqa: B006
        top = consume(text="top")
        kubernetes.use_secret_as_env(top, "literal-creds", {"password": "DB_PASSWORD"}, optional=True)
        kubernetes.set_image_pull_secrets(top, ["regcred"])
        made = produce()
        with dsl.ExitHandler(consume(text="cleanup")):
            with dsl.ParallelFor(names) as name:
                looped = consume(text="loop")
                kubernetes.use_secret_as_volume(looped, name, "/secrets/loop")
            with dsl.If(made.output == "x"):
                in_if = consume(text="if")
                kubernetes.use_secret_as_env(in_if, secret_name, {"user": "DB_USER"})
            with dsl.Elif(made.output == "y"):
                in_elif = consume(text="elif")
                kubernetes.use_secret_as_volume(in_elif, made.output, "/secrets/out")
            with dsl.Else():
                consume(text="else")
            inner(inner_secret=secret_name)

    return nested_pipeline


def compile_to(pipeline, path) -> str:
    """Compile ``pipeline`` to ``path`` and return the YAML text."""
    compiler.Compiler().compile(pipeline, str(path))
    return path.read_text()


def twice():
    """One sub-pipeline called twice, and a ParallelFor over a raw list."""

    @dsl.pipeline(name="inner")
    def inner(inner_secret: str = "inner-default"):
        consume(text="in")

    @dsl.pipeline(name="twice")
    def twice_pipeline(secret_name: str = "db-creds"):
        inner(inner_secret=secret_name)
        inner(inner_secret="other")
        with dsl.ParallelFor(["a-one", "b-two"]) as item:
            looped = consume(text="loop")
            kubernetes.use_secret_as_env(looped, item, {"k": "K"})

    return twice_pipeline


def shared_yaml(tmp_path) -> str:
    """Compiled YAML (as another compiler could write it) where inner-2 reuses inner's DAG and
    both flat tasks share one component and executor."""
    import yaml

    from kfp_nbsecrets import ir

    compiled = ir.load(twice())
    compiled.pipeline_spec["root"]["dag"]["tasks"]["inner-2"]["componentRef"]["name"] = "comp-inner"
    del compiled.pipeline_spec["components"]["comp-inner-2"]
    del compiled.pipeline_spec["components"]["comp-consume-2"]
    del compiled.pipeline_spec["deploymentSpec"]["executors"]["exec-consume-2"]
    path = tmp_path / "shared.yaml"
    path.write_text(yaml.safe_dump_all(compiled.documents()))
    return str(path)


def lintable():
    """A target task with a string and an int upstream output and parameter, and no secrets yet."""

    @dsl.pipeline(name="lintable")
    def lintable_pipeline(secret_name: str = "db-creds", retries: int = 3):
        made = produce()
        number = count()
        consume(text="t").after(made, number)

    return lintable_pipeline
