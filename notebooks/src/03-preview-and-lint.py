# %% [markdown]
# # Preview and lint: the classic mistakes, caught before anything runs
#
# Three ways a secret name goes wrong with `kfp.kubernetes`, each next to what `kfp_nbsecrets` does:
#
# | you write | `kfp.kubernetes` | `kfp_nbsecrets` |
# |---|---|---|
# | a pipeline parameter as the name | KFP 2.2: `TypeError` at definition; recent: works | works: `componentInputParameter` |
# | an f-string: `f"{env}-db-creds"` | compiles a literal secret named `{{channel:...}}-db-creds` | `ChannelError` at definition |
# | a template: `"{{db_secret}}"` | compiles a literal secret named `{{db_secret}}` | a real parameter reference |
#
# The wrong ones compile without a word and fail only on the cluster, where the pod waits forever for a
# secret that cannot exist. `lint` finds them in any compiled YAML, wherever it was compiled.
#
# No cluster is needed; nothing runs.

# %%
%load_ext kfp_nbsecrets

import tempfile
from pathlib import Path

import kfp_nbsecrets
from kfp import compiler, dsl, kubernetes
from kfp_nbsecrets.lint import lint

workdir = Path(tempfile.mkdtemp(prefix="kfp-nbsecrets-nb-"))


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def load_table(table: str) -> str:
    import os

    return f"{table}: password set: {'DB_PASSWORD' in os.environ}"

# %% [markdown]
# ## 1. A pipeline parameter as the secret name
#
# With **KFP 2.2.0** (kfp-kubernetes 1.2) this was impossible: `use_secret_as_env` put the name straight into
# a protobuf string field, and a pipeline parameter is not a string, so defining the pipeline failed with
#
# ```
# TypeError: bad argument type for built-in operation
# ```
#
# (kubeflow/pipelines#10914). The only way out was to hardcode the secret name, so each namespace or team
# needed its own copy of the pipeline. Newer `kfp.kubernetes` releases accept a parameter, but the backend
# only understands them from 2.5.0 on (older backends reject `secretNameParameter` as an unknown field), and
# the KFP cache key ignores the secret name.
#
# With `kfp_nbsecrets` the parameter compiles to a reference the backend resolves per run, and the task's
# cache is turned off (so a run with another secret is not served from the cache of this one):

# %%
@dsl.pipeline(name="param-secret")
def param_secret(db_secret: str = "dev-db-creds"):
    task = load_table(table="orders")
    kfp_nbsecrets.use_secret_as_env(task, db_secret, {"password": "DB_PASSWORD"})


kfp_nbsecrets.preview(param_secret)

# %% [markdown]
# The preview shows the bindings, the lint findings, the Kubernetes platform spec and (collapsed) the full IR.
# In JupyterLab with the kfp-nbsecrets extension it is rendered as an interactive view.
#
# ## 2. An f-string
#
# A pipeline parameter inside the function body is a placeholder object; formatting it into a string gives
# `'{{channel:task=;name=env;type=String;}}-db-creds'`. `kfp.kubernetes` takes that text as a **literal**
# secret name:

# %%
@dsl.pipeline(name="f-string-upstream")
def f_string_upstream(env: str = "dev"):
    task = load_table(table="orders")
    kubernetes.use_secret_as_env(task, f"{env}-db-creds", {"password": "DB_PASSWORD"})


upstream_f_string = str(workdir / "f-string-upstream.yaml")
compiler.Compiler().compile(f_string_upstream, upstream_f_string)
print(Path(upstream_f_string).read_text().split("---")[1].strip())

# %% [markdown]
# Lint reads the compiled YAML and says what is wrong and how to fix it:

# %%
for finding in lint(upstream_f_string):
    print(finding)

# %% [markdown]
# `kfp_nbsecrets` refuses the same line when the pipeline is defined, with the working alternatives:

# %%
try:
    @dsl.pipeline(name="f-string-ours")
    def f_string_ours(env: str = "dev"):
        task = load_table(table="orders")
        kfp_nbsecrets.use_secret_as_env(task, f"{env}-db-creds", {"password": "DB_PASSWORD"})
except kfp_nbsecrets.ChannelError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# The fix: pass a parameter that holds the whole name, or compute the name in a component and pass its output.

# %%
@dsl.component(base_image="python:3.11", install_kfp_package=False)
def secret_for(env: str) -> str:
    return f"{env}-db-creds"


@dsl.pipeline(name="computed-name")
def computed_name(env: str = "dev"):
    name = secret_for(env=env)
    task = load_table(table="orders")
    kfp_nbsecrets.use_secret_as_env(task, name.output, {"password": "DB_PASSWORD"})


%kfp_secret bindings computed_name

# %% [markdown]
# ## 3. A template compiled as a literal
#
# `kfp_nbsecrets` accepts templates: `"{{db_secret}}"` (a pipeline parameter) and
# `"{{tasks.TASK.OUTPUT}}"` (a task output). Handed to `kfp.kubernetes`, the same string is just a name:

# %%
@dsl.pipeline(name="template-upstream")
def template_upstream(db_secret: str = "dev-db-creds"):
    task = load_table(table="orders")
    kubernetes.use_secret_as_env(task, "{{db_secret}}", {"password": "DB_PASSWORD"})


upstream_template = str(workdir / "template-upstream.yaml")
compiler.Compiler().compile(template_upstream, upstream_template)
print(Path(upstream_template).read_text().split("---")[1].strip())

# %% [markdown]
# Lint on the upstream YAML (the magic takes a pipeline variable or a YAML file):

# %%
%kfp_secret lint upstream_template

# %% [markdown]
# The same template through `kfp_nbsecrets`:

# %%
@dsl.pipeline(name="template-ours")
def template_ours(db_secret: str = "dev-db-creds"):
    task = load_table(table="orders")
    kfp_nbsecrets.use_secret_as_env(task, "{{db_secret}}", {"password": "DB_PASSWORD"})


%kfp_secret lint template_ours

# %%
%kfp_secret bindings template_ours

# %% [markdown]
# ## Side by side
#
# Lint every pipeline of this notebook (the YAML files and the pipeline functions alike):

# %%
side_by_side = {
    "parameter (ours)": param_secret,
    "f-string (kfp.kubernetes)": upstream_f_string,
    "computed name (ours)": computed_name,
    "template (kfp.kubernetes)": upstream_template,
    "template (ours)": template_ours,
}
for label, pipeline in side_by_side.items():
    findings = lint(pipeline)
    errors = [f for f in findings if f.severity == "error"]
    print(f"{label:28} {'ERROR ' + errors[0].code if errors else 'ok'}")

# %% tags=["cleanup"]
import shutil

shutil.rmtree(workdir)
