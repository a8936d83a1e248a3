# %% [markdown]
# # Quickstart: a secret name as a pipeline parameter, run locally
#
# This notebook needs no cluster. You will
#
# 1. make a private local secret store and put two secrets in it,
# 2. define a pipeline whose secret **name** is a pipeline parameter,
# 3. run the same pipeline twice with `kfp.local`, once per secret, and see that each run got its own secret.
#
# The component never prints a secret value: it returns a fingerprint (a short SHA-256 prefix) of what it
# received, which is enough to tell the two secrets apart.

# %%
%load_ext kfp_nbsecrets

# %% [markdown]
# ## 1. A private secret store
#
# `%kfp_secret` reads secrets from a *local store*: a private directory (mode 0700) of Kubernetes Secret
# manifests. By default it lives in `~/.config/kfp-nbsecrets/secrets`; this notebook uses a fresh temporary
# directory instead, so it leaves nothing behind in your home directory.

# %%
import tempfile
from pathlib import Path

workdir = Path(tempfile.mkdtemp(prefix="kfp-nbsecrets-nb-"))
STORE_DIR = str(workdir / "store")
%config KfpSecretMagics.store_dir = STORE_DIR

# %% [markdown]
# Now put two database secrets in it, one per team. Secret values never go on a `%kfp_secret` line (the line
# would be saved in the notebook): they come from Python objects, from files, or from a hidden prompt
# (`%kfp_secret store add team-a-db token` asks for the value).
#
# The values below are made-up demo values. Team A's secret is added from a Python dict, team B's is
# imported from a `.env` file (which we delete right after the import).

# %%
from kfp_nbsecrets import sources

store = sources.get_source("local")

store.add("team-a-db", {"token": "demo-secret-token-of-team-a"})

env_file = workdir / "team-b.env"
env_file.write_text("token=demo-secret-token-of-team-b\n")
env_file.chmod(0o600)
store.import_dotenv(env_file, "team-b-db")
env_file.unlink()

# %% [markdown]
# The store lists names, types and **key names**, never values:

# %%
%kfp_secret store ls

# %% [markdown]
# ## 2. A pipeline whose secret name is a parameter
#
# `kfp_nbsecrets.use_secret_as_env` has the same signature as `kfp.kubernetes.use_secret_as_env`. Here the
# secret name is the pipeline parameter `db_secret`: each run can name its own secret.
#
# The component is a plain `kfp` component. `install_kfp_package=False` keeps the local run offline: the
# `kfp.local` subprocess runner uses this environment's `kfp`.

# %%
import kfp_nbsecrets
from kfp import dsl


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def fingerprint(team: str) -> str:
    """Reports a fingerprint of the DB_TOKEN it received, never the token itself."""
    import hashlib
    import os

    token = os.environ["DB_TOKEN"]
    return f"{team}: DB_TOKEN has {len(token)} characters, sha256 {hashlib.sha256(token.encode()).hexdigest()[:12]}"


@dsl.pipeline(name="quickstart")
def quickstart(db_secret: str = "team-a-db") -> str:
    task = fingerprint(team=db_secret)
    kfp_nbsecrets.use_secret_as_env(task, db_secret, {"token": "DB_TOKEN"})
    return task.output

# %% [markdown]
# What the KFP backend will see: the secret name comes from the parameter (`componentInputParameter`), with
# `team-a-db` as its default.

# %%
%kfp_secret bindings quickstart

# %% [markdown]
# The preview draws the pipeline: its tasks, a badge per secret binding naming the secret (or the parameter it
# comes from) and lint markers. JupyterLab / Notebook 7 show it interactive; other front ends (VS Code, GitHub,
# nbconvert HTML) show the same graph as a static picture.

# %%
kfp_nbsecrets.preview(quickstart)

# %% [markdown]
# ## 3. Run it locally, once per secret
#
# `kfp.local` ignores every Kubernetes setting, so a plain local run would start the task without `DB_TOKEN`.
# `kfp_nbsecrets.run_local` (or `%kfp_secret run PIPELINE --local`) runs the pipeline with `kfp.local` and
# injects each secret the way the backend does: the value goes only into the task's own environment.
#
# We use the subprocess runner without a virtual environment (no network needed) and a pipeline root in
# our temporary directory.

# %%
from kfp import local

local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(workdir / "pipeline_root"))

# %% [markdown]
# First run, from Python, with team A's secret. `%%capture` keeps `kfp.local`'s own log (which has
# timestamps and temporary paths) out of the notebook; `run_a_log.show()` prints it.

# %%
%%capture run_a_log
outputs_a = kfp_nbsecrets.run_local(quickstart, arguments={"db_secret": "team-a-db"})

# %% [markdown]
# Second run, with the magic, with team B's secret:

# %%
%%capture run_b_log
outputs_b = %kfp_secret run quickstart --local --arg db_secret=team-b-db

# %%
print(outputs_a["Output"])
print(outputs_b["Output"])
assert outputs_a != outputs_b

# %% [markdown]
# Same pipeline, two different secrets, two different fingerprints. Check them against the store without
# showing the values:

# %%
import hashlib


def stored_fingerprint(name: str) -> str:
    token = store.read_values_for_local_run(name, ["token"])["token"]
    return hashlib.sha256(token).hexdigest()[:12]


for name, outputs in (("team-a-db", outputs_a), ("team-b-db", outputs_b)):
    print(name, "matches" if outputs["Output"].endswith(stored_fingerprint(name)) else "DIFFERS")

# %% [markdown]
# ## 4. A secret that does not exist
#
# A binding that cannot be honoured fails the task **before it starts**, with one line naming the task,
# the secret and the key:

# %%
%%capture run_c_log
from kfp_nbsecrets.local_run import LocalRunSecretError

try:
    kfp_nbsecrets.run_local(quickstart, arguments={"db_secret": "team-c-db"})
except LocalRunSecretError as error:
    problem = str(error)

# %%
print(problem)

# %% [markdown]
# ## Clean up
#
# The store and the pipeline root were in a temporary directory; remove it.

# %% tags=["cleanup"]
import shutil

shutil.rmtree(workdir)

# %% [markdown]
# Next: `02-picker.ipynb` (choose secrets with a form), `03-preview-and-lint.ipynb` (mistakes caught before
# anything runs), `04-submit.ipynb` (check and submit to a KFP endpoint), `05-existing-yaml.ipynb` (work on
# a compiled YAML file).
