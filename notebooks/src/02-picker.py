# %% [markdown]
# # The secret picker: pick, attach, as code, preview
#
# `%kfp_secret pick PIPELINE` opens a form (plain ipywidgets): choose a secret from the local store or the
# cluster, tick its keys (or mount it as files), choose the target tasks, then
#
# * **Attach**: bind it to the pipeline, exactly as `%kfp_secret bind` does;
# * **As code**: get the `%kfp_secret bind` lines that do the same (JupyterLab inserts them as a new cell);
# * **Preview**: see the tasks, bindings and lint findings of the pipeline.
#
# The picker only ever reads secret **names and key names**, never values.
#
# In JupyterLab you click. So that this notebook also runs headless (and is tested in CI), the cells below
# set the same controls from code: each line is what one click or keystroke does.

# %%
%load_ext kfp_nbsecrets

import tempfile
from pathlib import Path

from kfp_nbsecrets import sources

workdir = Path(tempfile.mkdtemp(prefix="kfp-nbsecrets-nb-"))
STORE_DIR = str(workdir / "store")
%config KfpSecretMagics.store_dir = STORE_DIR

# Made-up demo values; with real ones use `%kfp_secret store add NAME KEY` (hidden prompt) or
# `%kfp_secret store import FILE`.
store = sources.get_source("local")
demo_secrets = {
    "db-creds": {"username": "demo-secret-db-user", "password": "demo-secret-db-password"},
    "db-creds-staging": {"username": "demo-secret-staging-user", "password": "demo-secret-staging-pw"},
    "reporting-api": {"apiKey": "demo-secret-api-key"},
}
# a registry login (what `kubectl create secret docker-registry` makes), for pulling a private image
store.add("registry-creds", {".dockerconfigjson": '{"auths": {"registry.example.com": {}}}'},
          type="kubernetes.io/dockerconfigjson")
for name, values in demo_secrets.items():
    store.add(name, values)

# %% [markdown]
# A pipeline without any secrets yet: `extract` needs database credentials as env vars, `publish` needs the
# reporting API key.

# %%
from kfp import dsl


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def extract(table: str) -> str:
    import os

    return f"{table}: user set: {'DB_USER' in os.environ}"


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def publish(report: str) -> str:
    import os

    return f"published: key file present: {os.path.exists('/secrets/reporting-api/apiKey')}"


@dsl.pipeline(name="etl")
def etl(table: str = "orders"):
    data = extract(table=table)
    publish(report=data.output)

# %% [markdown]
# ## Open the picker

# %%
picker = %kfp_secret pick etl
picker

# %% [markdown]
# The list shows each secret's name, type and number of keys; typing in **Search** narrows it down.
#
# ## Database credentials as env vars for `extract`
#
# Choose `db-creds`, tick both keys (the suggested env var names are the keys in upper snake case; we rename
# `username` to `DB_USER` and `password` to `DB_PASSWORD`) and choose the task:

# %%
picker.select("db-creds")
picker.choose_keys({"username": "DB_USER", "password": "DB_PASSWORD"})   # tick these keys, name their env vars
picker.tasks.value = ("extract",)
picker.value

# %% [markdown]
# **As code** gives the lines that make the same binding (handy to keep in the notebook instead of clicks).
# A click on the button also inserts them as a new cell below; from code, as here, `show_code()` only shows them,
# so running this notebook again and again never adds cells:

# %%
print(picker.show_code())

# %% [markdown]
# **Attach** binds it to the pipeline in place:

# %%
picker.attach()
print(picker.message)

# %% [markdown]
# ## The reporting key as files for `publish`, through a pipeline parameter
#
# Choose `reporting-api`, switch to *mount as files* (suggested path `/secrets/reporting-api`), and tick
# *as a pipeline parameter named* (suggested `reporting_api_secret`): each run can then name its own secret,
# with `reporting-api` as the default.

# %%
picker.select("reporting-api")
picker.mode.value = "mount as files"
picker.as_param.value = True
picker.tasks.value = ("publish",)
print(picker.code_text())
picker.attach()
print(picker.message)

# %% [markdown]
# ## A registry login as the image pull secret of `extract`
#
# A registry secret (type `kubernetes.io/dockerconfigjson`) is offered, and first chosen, as an *image pull
# secret*: the kubelet uses it to pull the task's image, so there are no keys, env vars or mount path to
# choose, and the task's code never sees it. *As a pipeline parameter* is still ticked from the step above,
# so each run can name its own registry login.

# %%
picker.select("registry-creds")
print(picker.mode.value)
picker.tasks.value = ("extract",)
print(picker.code_text())
picker.attach()
print(picker.message)

# %% [markdown]
# Mistakes show up as one line in the picker and change nothing, e.g. a mount on the container's root
# (a relative path such as `secrets/reporting` is fine: Kubernetes mounts it at `/secrets/reporting`):

# %%
picker.select("reporting-api")
picker.mode.value = "mount as files"
picker.mount_path.value = "/"
picker.attach()
print(picker.message)

# %% [markdown]
# ## Preview
#
# **Preview** shows the pipeline's bindings, lint findings and IR under the picker. The same view, in its own
# output:

# %%
picker.show_preview()
import kfp_nbsecrets

kfp_nbsecrets.preview(etl)

# %% [markdown]
# `etl` now carries its three bindings; compile it or submit it as usual. The lines from **As code** rebuild the
# same pipeline from scratch:

# %%
%kfp_secret bindings etl

# %% [markdown]
# The temporary store is removed at the end; the picker above stays on the page (its list is then empty after a
# Refresh).

# %% tags=["cleanup"]
import shutil

shutil.rmtree(workdir)
