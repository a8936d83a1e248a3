"""The whole kfp.kubernetes surface through kfp_nbsecrets, so ``import kfp_nbsecrets as kubernetes`` works.

Importing this module does not import kfp: a name is looked up in ``kfp.kubernetes`` on first use.
The functions that add env vars, mounts or image pull secrets are kfp_nbsecrets' checked versions
(:data:`kfp_nbsecrets.attach.CHECKED`); every other public name (functions, components and the
submodules such as ``kubernetes_executor_config_pb2``) is kfp.kubernetes' own object.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

#: ``kfp.kubernetes.__all__`` of kfp-kubernetes 2.x, known without importing kfp (for ``dir()``);
#: the tests compare it with the installed version. A name a newer kfp-kubernetes adds is passed
#: through too, once kfp is imported (see :func:`resolve`).
NAMES = (
    "CreatePVC", "DeletePVC", "add_ephemeral_volume", "add_node_affinity", "add_node_affinity_json",
    "add_node_selector", "add_node_selector_json", "add_pod_annotation", "add_pod_label", "add_toleration",
    "add_toleration_json", "empty_dir_mount", "mount_pvc", "set_image_pull_policy", "set_image_pull_secrets",
    "set_security_context", "set_timeout", "use_config_map_as_env", "use_config_map_as_volume",
    "use_field_path_as_env", "use_secret_as_env", "use_secret_as_volume",
)
#: Its submodules, which ``dir(kfp.kubernetes)`` lists too.
MODULES = (
    "common", "config_map", "empty_dir", "field", "image", "kubernetes_executor_config_pb2", "node_affinity",
    "node_selector", "pod_metadata", "secret", "security_context", "timeout", "toleration", "volume",
)


def resolve(name: str):
    """kfp_nbsecrets' object for public name ``name`` of kfp.kubernetes; AttributeError otherwise."""
    known = name in NAMES or name in MODULES
    if name.startswith("_") or (not known and ("kfp" not in sys.modules  # a probe: stay cheap
                                                or importlib.util.find_spec(f"kfp_nbsecrets.{name}"))):
        raise AttributeError(name)  # (the import system asks for our own submodules this way first)
    kubernetes = importlib.import_module("kfp.kubernetes")
    if name not in public_names(kubernetes):
        raise AttributeError(name)
    attach = importlib.import_module("kfp_nbsecrets.attach")
    return getattr(attach, name) if name in attach.CHECKED else getattr(kubernetes, name)


def public_names(kubernetes) -> set[str]:
    """The public names of an imported kfp.kubernetes: what ``dir()`` shows without '_' names."""
    return {name for name in dir(kubernetes) if not name.startswith("_")}


def names() -> list[str]:
    """The kfp.kubernetes names, including those of the installed version once it is imported."""
    installed = sys.modules.get("kfp.kubernetes")
    return sorted({*NAMES, *MODULES, *(public_names(installed) if installed else ())})
