# %% [markdown]
# # Check and submit a run to a KFP endpoint
#
# The KFP backend never checks that a secret exists: a run that names a missing secret leaves its pod in
# `CreateContainerConfigError` and hangs. `%kfp_secret check` checks every secret a run would use (name, keys,
# volume names) in the target namespace **before** anything is submitted, and `%kfp_secret run` does the check,
# submits the run through `kfp.Client` and follows it to its final state.
#
# ## Where the endpoint comes from
#
# With a real Kubeflow, set `KF_PIPELINES_ENDPOINT` (and have a kubeconfig for the namespace of your secrets)
# before starting Jupyter, or set `%config KfpSecretMagics.kfp_host = "https://..."`; inside a Kubeflow
# notebook server both are found automatically.
#
# When no endpoint is configured, the next cell starts two stand-ins from this repository's test suite
# (`../tests`, added to `sys.path` for that reason), both on 127.0.0.1 only:
#
# * `kfp_server.KfpServer`: a small KFP API server. It validates every request against the official KFP REST
#   spec and parses the submitted pipeline with the real protos, as the backend does; its runs step through
#   scripted states (PENDING, RUNNING, SUCCEEDED).
# * `kube_emulator.KubeEmulator`: a Kubernetes API emulator holding a few secrets in namespace `team-a`,
#   with a kubeconfig pointing at it.

# %%
%load_ext kfp_nbsecrets

import os
import sys
import tempfile
from pathlib import Path

from kfp_nbsecrets import sources

workdir = Path(tempfile.mkdtemp(prefix="kfp-nbsecrets-nb-"))
NAMESPACE = "team-a"
KFP_HOST = os.environ.get("KF_PIPELINES_ENDPOINT")

if KFP_HOST is None:
    sys.path.insert(0, str(Path("../tests").resolve()))
    from kfp_server import KfpServer
    from kube_emulator import KubeEmulator

    kfp_server = KfpServer().start()
    # the states the stand-in reports, one step per status poll
    kfp_server.script = [
        ("PENDING", {}),
        ("RUNNING", {"extract": "RUNNING"}),
        ("RUNNING", {"extract": "SUCCEEDED", "publish": "RUNNING"}),
        ("SUCCEEDED", {"extract": "SUCCEEDED", "publish": "SUCCEEDED"}),
    ]
    cluster = KubeEmulator().start()
    # Demo values: the check reads only names and key names, never these values.
    cluster.add_secret("db-creds", NAMESPACE, {"username": "demo-secret-db-user",
                                               "password": "demo-secret-db-password"})
    cluster.add_secret("report-token", NAMESPACE, {"token": "demo-secret-report-token"})
    cluster.add_secret("db-creds-staging", NAMESPACE, {"username": "demo-secret-staging-user"})
    sources.configure(kubeconfig=str(cluster.write_kubeconfig(workdir, namespace=NAMESPACE)))
    KFP_HOST = kfp_server.url
    print("Using the loopback KFP API server and the Kubernetes emulator from ../tests")
else:
    print("Using the KFP endpoint from KF_PIPELINES_ENDPOINT")

%config KfpSecretMagics.kfp_host = KFP_HOST
%config KfpSecretMagics.namespace = NAMESPACE
%config KfpSecretMagics.check_source = "k8s"
%config KfpSecretMagics.poll_interval = 0.2

# %% [markdown]
# The secrets the check will see (names, types and key counts only: a Kubernetes list carries no values,
# and the check reads the key names of each secret it needs with one GET):

# %%
%kfp_secret list --source k8s

# %% [markdown]
# ## A pipeline with a parameterized database secret and a mounted token

# %%
import kfp_nbsecrets
from kfp import dsl


@dsl.component(base_image="python:3.11")
def extract(table: str) -> str:
    import os

    return f"{table}: connected as a user of {len(os.environ['DB_USER'])} characters"


@dsl.component(base_image="python:3.11")
def publish(report: str) -> str:
    import os

    return f"published with a token file: {os.path.exists('/secrets/report/token')}"


@dsl.pipeline(name="nightly-etl")
def nightly_etl(db_secret: str = "db-creds", table: str = "orders"):
    data = extract(table=table)
    kfp_nbsecrets.use_secret_as_env(data, db_secret, {"username": "DB_USER", "password": "DB_PASSWORD"})
    report = publish(report=data.output)
    kfp_nbsecrets.use_secret_as_volume(report, "report-token", "/secrets/report")

# %% [markdown]
# ## A failing check
#
# A typo in the secret name: the check resolves the parameter to the name the run would use, finds no such
# secret in `team-a`, and suggests the close matches. A secret without a key the run needs fails too.

# %%
%kfp_secret check nightly_etl --arg db_secret=db-cred

# %%
%kfp_secret check nightly_etl --arg db_secret=db-creds-staging

# %% [markdown]
# `%kfp_secret run` does the same check first and refuses to submit (use `--no-check` to skip it):

# %% tags=["raises-exception"]
%kfp_secret run nightly_etl --arg db_secret=db-cred

# %% [markdown]
# ## A passing check

# %%
%kfp_secret check nightly_etl --arg db_secret=db-creds

# %% [markdown]
# ## Submit and wait
#
# `--wait` blocks until the run reaches a final state and returns the run handle with the state of each task
# (without `--wait` you get a live status line right away and the cell returns). The run goes to the
# experiment `nightly` (created when missing).

# %%
run = %kfp_secret run nightly_etl --arg db_secret=db-creds --experiment nightly --run-name nightly-etl-demo --wait --timeout 60
run

# %%
print(run.state)
print(run.task_states)

# %% [markdown]
# From Python the same is `kfp_nbsecrets.submit.submit(pipeline, arguments, host=..., namespace=...,
# experiment=...)`, which returns the same run handle (`handle.wait()`, `handle.refresh().state`).
#
# ## What was sent
#
# The loopback server records every request. The run's payload holds the arguments and the secret
# **names** the backend will resolve, never a value:

# %%
if "kfp_server" in globals():
    (payload,) = kfp_server.bodies("POST", "/apis/v2beta1/runs")
    print("runtime parameters:", payload["runtime_config"]["parameters"])
    executors = payload["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for label, config in sorted(executors.items()):
        for kind in ("secretAsEnv", "secretAsVolume"):
            for entry in config.get(kind, []):
                name = entry["secretNameParameter"]
                print(f"{label}: {kind} {name}")

# %% [markdown]
# ## Next steps: a schedule and a pipeline version for the team
#
# `%kfp_secret schedule` creates a recurring run through `kfp.Client`'s recurring-run API, after the same
# check. KFP's cron has a seconds field first; a standard 5-field expression is converted (and both are
# shown). The check runs now, once: a secret deleted later makes the future runs hang, as the handle warns.

# %%
%kfp_secret schedule nightly_etl --cron "0 2 * * *" --arg db_secret=db-creds --experiment nightly --name nightly-etl-2am

# %% [markdown]
# `%kfp_secret upload` publishes the pipeline with its bindings, so teammates start runs from the KFP UI and
# set `db_secret` there; `--version` adds a version to an existing pipeline.

# %%
%kfp_secret upload nightly_etl --name nightly-etl --description "nightly ETL, secret as a parameter"

# %%
%kfp_secret upload nightly_etl --name nightly-etl --version v2

# %% [markdown]
# ## On a KFP 2.2 backend
#
# Backends before 2.5.0 reject `secretNameParameter`: they take a secret's name only as a literal
# `secretName`. kfp-nbsecrets reads the backend's version from its health answer (`tag_name`) and, for such a
# backend, resolves a name that comes from a pipeline parameter when the run is created: the run's own
# argument (or the default) goes into a per-run copy of the pipeline as a literal, the pre-run check checks
# that literal, and the run's description records what was resolved. Names known only while the run runs
# (task outputs) are refused with a one-line error naming the task.
#
# The stand-in below answers like a KFP 2.2.0 API server (with a real endpoint, set `OLD_KFP_HOST` to a 2.2
# backend's URL to run this section against it).

# %%
OLD_KFP_HOST = os.environ.get("OLD_KFP_HOST")
if OLD_KFP_HOST is None and "kfp_server" in globals():
    kfp_22 = KfpServer(backend_version="2.2.0").start()
    kfp_22.script = kfp_server.script
    OLD_KFP_HOST = kfp_22.url
if OLD_KFP_HOST:
    %config KfpSecretMagics.kfp_host = OLD_KFP_HOST

# %%
if OLD_KFP_HOST:
    run_22 = %kfp_secret run nightly_etl --arg db_secret=db-creds --experiment nightly --run-name nightly-etl-on-2.2 --wait --timeout 60
    display(run_22)

# %% [markdown]
# What the 2.2 backend received: the literal name in each secret entry, and the record in the description.

# %%
if "kfp_22" in globals():
    (payload_22,) = kfp_22.bodies("POST", "/apis/v2beta1/runs")
    executors = payload_22["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for label, config in sorted(executors.items()):
        for kind in ("secretAsEnv", "secretAsVolume"):
            for entry in config.get(kind, []):
                print(f"{label}: {kind} secretName={entry['secretName']!r}")
    print("description:", payload_22["description"])

# %% [markdown]
# ## Clean up

# %% tags=["cleanup"]
import shutil

if "kfp_server" in globals():
    kfp_server.stop()
    cluster.stop()
if "kfp_22" in globals():
    kfp_22.stop()
    sources.configure(kubeconfig=None)
shutil.rmtree(workdir)
