"""Kubernetes naming rules for secret bindings, as pure checks.

Each ``*_problem`` function returns ``None`` when the value is valid, or a one-line
description of what is wrong and how to fix it. :mod:`kfp_nbsecrets.validate` raises with these
lines; lint and the pre-run check report them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")

# Fields of a task's compiled Kubernetes executor config that set env vars or mount volumes.
ENV_KINDS = ("secretAsEnv", "configMapAsEnv")
VOLUME_KINDS = ("secretAsVolume", "configMapAsVolume", "pvcMount", "emptyDirMounts", "genericEphemeralVolume")

LABEL_MAX = 63
SUBDOMAIN_MAX = 253


def suggest_dns_name(name: str, max_len: int = SUBDOMAIN_MAX, dots: bool = True) -> str:
    """The closest valid name: lowercase, '_' and other characters turned into '-'."""
    allowed = r"[^a-z0-9.-]" if dots else r"[^a-z0-9-]"
    fixed = re.sub(allowed, "-", name.lower()).strip("-.")[:max_len].strip("-.")
    return fixed or "my-secret"


def secret_name_problem(name: str, *, volume: bool = False) -> str | None:
    """Why ``name`` cannot name a Secret (or, with ``volume``, the pod volume named after it)."""
    if not name:
        return "the secret name is empty; give the name of an existing Kubernetes Secret"
    if volume:
        if len(name) > LABEL_MAX or not _DNS1123_LABEL.fullmatch(name):
            return (
                f"secret name {name!r} cannot be mounted: the KFP backend names the pod volume after"
                f" the secret, and a volume name must be a DNS-1123 label (lowercase letters, digits"
                f" and '-', at most {LABEL_MAX} characters, no dots); rename the secret, e.g."
                f" {suggest_dns_name(name, LABEL_MAX, dots=False)!r}, or use it as env vars"
            )
        return None
    if len(name) > SUBDOMAIN_MAX or not _DNS1123_SUBDOMAIN.fullmatch(name):
        return (
            f"secret name {name!r} is not a valid Kubernetes name: use lowercase letters, digits,"
            f" '-' and '.', starting and ending with a letter or digit, at most {SUBDOMAIN_MAX}"
            f" characters, e.g. {suggest_dns_name(name)!r}"
        )
    return None


def secret_key_problem(key: object) -> str | None:
    """Why ``key`` cannot be a key of a Secret's data."""
    if not isinstance(key, str):
        return f"secret key {key!r} is not a string; map each secret key (str) to an env var (str)"
    if key in (".", "..") or key.startswith("..") or len(key) > SUBDOMAIN_MAX \
            or not _SECRET_KEY.fullmatch(key):
        return (
            f"secret key {key!r} is not a valid Kubernetes secret key: use letters, digits, '-',"
            f" '_' and '.', at most {SUBDOMAIN_MAX} characters, not starting with '..'"
        )
    return None


def env_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be the name of a container env var."""
    if not isinstance(name, str):
        return f"env var name {name!r} is not a string; map each secret key (str) to an env var (str)"
    if not _ENV_NAME.fullmatch(name):
        fixed = re.sub(r"[^-._a-zA-Z0-9]", "_", name).upper().lstrip("0123456789") or "SECRET"
        return (
            f"env var name {name!r} would be rejected by Kubernetes: use letters, digits, '_',"
            f" '-' and '.', not starting with a digit, e.g. {fixed!r}"
        )
    return None


def mount_path_problem(path: object) -> str | None:
    """Why ``path`` cannot be a container mount path."""
    if not isinstance(path, str) or not path:
        return f"mount path {path!r} must be a non-empty string such as '/secrets/db'"
    if not path.startswith("/"):
        return f"mount path {path!r} is relative; use an absolute path such as {'/' + path!r}"
    if ".." in path.split("/"):
        return (
            f"mount path {path!r} contains '..'; use a plain absolute path such as"
            f" {posixpath.normpath(path)!r}"
        )
    return None


def normalize_mount_path(path: str) -> str:
    """The form two mount paths are compared in ('/a/b/' and '/a//b' are the same path)."""
    return posixpath.normpath(path)


def env_settings(config: Mapping, container_env: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(env var, where it is set) for every env var of a container and its Kubernetes executor config."""
    names = [(name, "by set_env_variable") for name in container_env]
    for kind in ENV_KINDS:
        for entry in config.get(kind, []):
            for pair in entry.get("keyToEnv", []):
                key = pair.get("secretKey") or pair.get("configMapKey")
                names.append((pair.get("envVar", ""), f"by {kind} key {key!r}"))
    names.extend((entry.get("name", ""), "by fieldPathAsEnv") for entry in config.get("fieldPathAsEnv", []))
    return names


def mount_paths(config: Mapping) -> list[tuple[str, str]]:
    """(normalized mount path, volume kind) for every volume a Kubernetes executor config mounts."""
    return [(normalize_mount_path(entry.get("mountPath", "")), kind)
            for kind in VOLUME_KINDS for entry in config.get(kind, []) if entry.get("mountPath")]
