"""Kubernetes Secrets as parameterized, validated inputs of Kubeflow Pipelines, from Jupyter.

Importing this package is cheap: kfp is imported only when a function that needs it is used.
Every public name of ``kfp.kubernetes`` is available here too (``import kfp_nbsecrets as
kubernetes``): see :mod:`kfp_nbsecrets.dropin` and docs/kubernetes.md.
"""

from kfp_nbsecrets import dropin as _dropin
from kfp_nbsecrets._labextension import _jupyter_labextension_paths as _jupyter_labextension_paths
from kfp_nbsecrets.errors import (
    ChannelError,
    InvalidEnvError,
    InvalidMountError,
    InvalidNameError,
    InvalidSecretKeyError,
    InvalidSecretNameError,
    KubernetesWarning,
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
    "InvalidNameError",
    "InvalidSecretKeyError",
    "InvalidSecretNameError",
    "KubernetesWarning",
    "NotATaskError",
    "SecretBindingError",
    "TemplateError",
    *_LAZY,
    *(name for name in _dropin.NAMES if name not in _LAZY),
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        try:
            value = _dropin.resolve(name)
        except AttributeError:
            raise AttributeError(f"module 'kfp_nbsecrets' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_dropin.names()})


def load_ipython_extension(ipython) -> None:
    """``%load_ext kfp_nbsecrets``: registers the ``%kfp_secret`` magic (without importing kfp)."""
    from kfp_nbsecrets.magics import load_ipython_extension as load

    load(ipython)
