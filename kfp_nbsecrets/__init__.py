"""Kubernetes Secrets as parameterized, validated inputs of Kubeflow Pipelines, from Jupyter.

Importing this package is cheap: kfp is imported only when a function that needs it is used.
"""

from kfp_nbsecrets._labextension import _jupyter_labextension_paths as _jupyter_labextension_paths
from kfp_nbsecrets.errors import (
    ChannelError,
    InvalidEnvError,
    InvalidMountError,
    InvalidSecretKeyError,
    InvalidSecretNameError,
    NotATaskError,
    SecretBindingError,
    TemplateError,
)

__version__ = "0.1.0"

_LAZY = {
    "use_secret_as_env": "kfp_nbsecrets.attach",
    "use_secret_as_volume": "kfp_nbsecrets.attach",
    "run_local": "kfp_nbsecrets.local_run",
    "read_pipeline": "kfp_nbsecrets.ir",
    "preview": "kfp_nbsecrets.display",
    "IR_MIME_TYPE": "kfp_nbsecrets.display",
}

__all__ = [
    "ChannelError",
    "InvalidEnvError",
    "InvalidMountError",
    "InvalidSecretKeyError",
    "InvalidSecretNameError",
    "NotATaskError",
    "SecretBindingError",
    "TemplateError",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kfp_nbsecrets' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """``%load_ext kfp_nbsecrets``: registers the ``%kfp_secret`` magic (without importing kfp)."""
    from kfp_nbsecrets.magics import load_ipython_extension as load

    load(ipython)
