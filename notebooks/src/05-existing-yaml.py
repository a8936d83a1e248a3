# %% [markdown]
# # An existing compiled YAML: inspect, lint, attach
#
# Often the pipeline is not yours to edit: it arrives as a compiled YAML file (from CI, another team, an older
# SDK). `kfp_nbsecrets` works on the compiled IR, so it can inspect such a file, lint it, and attach secrets
# to its tasks, from the command line or from Python. The input file is never modified: you get a new YAML.
#
# `data/nightly-report.yaml` was compiled with plain `kfp` and has no secrets. Its `extract` task runs once
# per region inside a `ParallelFor`, and `publish` runs at the end.

# %%
import sys
import tempfile
from pathlib import Path

import kfp_nbsecrets

workdir = Path(tempfile.mkdtemp(prefix="kfp-nbsecrets-nb-"))
PIPELINE_YAML = "data/nightly-report.yaml"
# the command line tool installed next to this kernel's Python
CLI = str(Path(sys.executable).parent / "kfp-nbsecrets")

# %% [markdown]
# ## Inspect
#
# The task tree, with nested paths (`for-loop-1/extract` is inside the loop):

# %%
model = kfp_nbsecrets.read_pipeline(PIPELINE_YAML)
print(f"pipeline {model.name!r}, parameters: {sorted(model.parameters)}")
for task in model.tasks:
    print(f"  {task.path:24} {task.kind:10} depends on: {', '.join(task.depends_on) or '-'}")

# %% [markdown]
# The same from the command line (`--json` gives the machine-readable form):

# %%
!{CLI} inspect {PIPELINE_YAML}

# %% [markdown]
# ## Attach with the command line
#
# Give the loop's `extract` task a database secret whose name is a **new pipeline parameter** `db_secret`
# (default `dev-db-creds`), as env vars:

# %%
with_db = workdir / "with-db.yaml"
!{CLI} attach {PIPELINE_YAML} --task for-loop-1/extract --param db_secret --default dev-db-creds --env username=DB_USER --env password=DB_PASSWORD -o {with_db}

# %% [markdown]
# and mount a reporting token as files for `publish`, with a literal secret name:

# %%
with_both = workdir / "with-both.yaml"
!{CLI} attach {with_db} --task publish --secret report-token --mount /secrets/report -o {with_both}
!{CLI} inspect {with_both}

# %% [markdown]
# Mistakes are refused with one line and exit status 2, and no file is written:

# %%
refused = workdir / "refused.yaml"
!{CLI} attach {with_db} --task extrct --secret report-token --mount /secrets/report -o {refused}
!{CLI} attach {with_db} --task publish --secret Report_Token --mount /secrets/report -o {refused}
print("written:", refused.exists())

# %% [markdown]
# ## Lint
#
# `lint` prints each finding and exits with status 1 when there is an error, so it can guard a CI job. The
# new file is clean: attaching a parameterized name also turned `extract`'s cache off (the KFP cache key
# ignores secret names, so a run with another secret would otherwise be served from this one's cache):

# %%
!{CLI} lint {with_both}

# %% [markdown]
# With `--keep-cache` the task keeps the caching it was compiled with, and lint warns about it:

# %%
kept = workdir / "kept-cache.yaml"
!{CLI} attach {PIPELINE_YAML} --task for-loop-1/extract --param db_secret --default dev-db-creds --env password=DB_PASSWORD --keep-cache -o {kept}
!{CLI} lint {kept}

# %% [markdown]
# ## Attach from Python
#
# `kfp_nbsecrets.bind.bind` does the same on a path, YAML text or loaded documents; for a path it returns
# the new YAML text. Here the secret name comes from a task output: `{{tasks.TASK.OUTPUT}}` (the task
# must produce a string; `list-regions` returns a list, so that one is refused):

# %%
from kfp_nbsecrets.bind import bind

try:
    bind(PIPELINE_YAML, task="publish", secret="{{tasks.list-regions.Output}}", env={"token": "REPORT_TOKEN"})
except kfp_nbsecrets.SecretBindingError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# With a pipeline parameter instead, and the preview of the result:

# %%
text = bind(PIPELINE_YAML, task="publish", secret="{{report_secret}}", env={"token": "REPORT_TOKEN"},
            param="report_secret", default="report-token", optional=True)
(workdir / "from-python.yaml").write_text(text)
kfp_nbsecrets.preview(text)

# %% [markdown]
# The platform spec the KFP backend resolves at run time (only names, never values):

# %%
import yaml

_, platform = yaml.safe_load_all(text)
print(yaml.safe_dump(platform["platforms"]["kubernetes"]["deploymentSpec"], sort_keys=True))

# %% [markdown]
# The new YAML is a normal compiled pipeline: submit it with `kfp.Client().create_run_from_pipeline_package`,
# `%kfp_secret run {file}` (see `04-submit.ipynb`), or upload it in the KFP UI.

# %% tags=["cleanup"]
import shutil

shutil.rmtree(workdir)
