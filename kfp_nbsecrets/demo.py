"""The main job on embedded defaults: a pipeline whose secret names are parameters, compiled.

Run with ``python -m kfp_nbsecrets.demo [OUTPUT_DIR]``. It needs no cluster: it defines a
pipeline through kfp_nbsecrets, compiles it with the real KFP compiler, prints the secret
configuration the backend will see, and shows what validation catches before anything runs.
"""

import sys
import tempfile
from pathlib import Path

import yaml
from kfp import compiler, dsl

import kfp_nbsecrets


@dsl.component(base_image="python:3.11")
def pick_reporting_secret(region: str) -> str:
    return f"reporting-{region}"


@dsl.component(base_image="python:3.11")
def load_table(table: str) -> str:
    import os

    return f"{table}: connected as {os.environ['DB_USER']}"


@dsl.pipeline(name="nightly-etl")
def nightly_etl(db_secret: str = "dev-db-creds", region: str = "eu"):
    """Each run names its own database secret; a task output names the reporting secret."""
    reporting = pick_reporting_secret(region=region)
    with dsl.ParallelFor(["orders", "customers"]) as table:
        load = load_table(table=table)
        kfp_nbsecrets.use_secret_as_env(load, "{{db_secret}}", {"username": "DB_USER",
                                                               "password": "DB_PASSWORD"})
        kfp_nbsecrets.use_secret_as_volume(load, reporting.output, "/var/run/reporting")


def secret_config(compiled_yaml: str) -> dict:
    """Executor label → secret entries, from a compiled pipeline's platform spec."""
    _, platform = yaml.safe_load_all(compiled_yaml)
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    return {label: {kind: entries for kind, entries in config.items() if kind.startswith("secretAs")}
            for label, config in executors.items()}


def refused_f_string() -> str:
    """The message for the classic mistake of building a secret name with an f-string."""
    try:
        @dsl.pipeline(name="f-string-mistake")
        def mistake(env: str = "dev"):
            kfp_nbsecrets.use_secret_as_env(load_table(table="orders"), f"{env}-db-creds",
                                            {"password": "DB_PASSWORD"})
    except kfp_nbsecrets.SecretBindingError as error:
        return f"{type(error).__name__}: {error}"
    raise AssertionError("an f-string secret name was accepted")


def main(argv: "list[str] | None" = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="kfp-nbsecrets-demo-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "nightly_etl.yaml"
    compiler.Compiler().compile(nightly_etl, str(path))
    print(f"Compiled {path}\n")
    print("Secret configuration the KFP backend resolves at run time:")
    print(yaml.safe_dump(secret_config(path.read_text()), sort_keys=False))
    print("Caught before anything runs:")
    print(f"  {refused_f_string()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
