"""attach, bind, lint and local runs agree on mount paths (docs/kubernetes.md, "Kubernetes' rules").

'/' (and what resolves to it) is refused everywhere: runc refuses a mount on top of the root file
system. A relative path is accepted with a warning and mounted where the kubelet mounts it,
``filepath.Clean("/" + path)``.
"""

import hashlib
import warnings

import pytest
from kfp import dsl, local
from kfp import kubernetes as upstream

import kfp_nbsecrets
from kfp_nbsecrets import lint
from kfp_nbsecrets.bind import bind
from kfp_nbsecrets.errors import InvalidMountError, KubernetesWarning
from kfp_nbsecrets.local_run import LocalRunSecretError, run_local, sandbox
from kfp_nbsecrets.sources.memory import MemorySource

TOKEN = "canary-mount-7e21"


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def read_token(path: str) -> str:
    import hashlib

    with open(path + "/token", "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


def upstream_pipeline(mount_path: str, read_from: str):
    @dsl.pipeline(name="mounted")
    def mounted() -> str:
        task = read_token(path=read_from)
        upstream.use_secret_as_volume(task, "team", mount_path)
        return task.output
    return mounted


def run(pipeline, tmp_path):
    return run_local(pipeline, source=MemorySource({"team": {"token": TOKEN}}),
                     runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))


@pytest.mark.parametrize("path", ["/", "//", "/etc/..", "."])
def test_the_container_root_is_refused_everywhere(path, tmp_path):
    pipeline = upstream_pipeline(path, "/")
    (finding,) = [f for f in lint.lint(pipeline) if f.severity == lint.ERROR]
    assert finding.code == "invalid-mount" and "container's root" in finding.message
    with pytest.raises(InvalidMountError, match="container's root"):
        bind(upstream_pipeline("/ok", "/ok"), "read-token", "team", mount_path=path)

    @dsl.pipeline(name="attached")
    def attached():
        with pytest.raises(InvalidMountError, match="container's root"):
            kfp_nbsecrets.use_secret_as_volume(read_token(path="/"), "team", path)

    if path in ("/", "."):  # a real local run: refused before the task starts
        with pytest.raises(LocalRunSecretError, match="container's root"):
            run(pipeline, tmp_path)


def test_a_relative_path_warns_and_is_mounted_under_the_root(tmp_path):
    pipeline = upstream_pipeline("secretrel", "/secretrel")
    assert [f.code for f in lint.lint(pipeline)] == ["mount-path"]
    with pytest.warns(KubernetesWarning, match="the kubelet mounts it at '/secretrel'"):
        bind(upstream_pipeline("/ok", "/ok"), "read-token", "team", mount_path="secretrel")

    @dsl.pipeline(name="attached")
    def attached():
        with pytest.warns(KubernetesWarning, match="relative"):
            kfp_nbsecrets.use_secret_as_volume(read_token(path="/secretrel"), "team", "secretrel")

    if sandbox.sandbox_problem():
        pytest.skip(sandbox.sandbox_problem())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KubernetesWarning)
        outputs = run(pipeline, tmp_path)
    assert outputs == {"Output": hashlib.sha256(TOKEN.encode()).hexdigest()[:12]}
