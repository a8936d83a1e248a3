"""Kubernetes' own naming and path rules, as pure checks on one value (docs/kubernetes.md cites each).

Each ``*_problem`` function returns ``None`` when every supported Kubernetes version accepts the
value, or one line saying what is wrong and how to fix it (``what; fix``): the API server rejects
the pod, or the container cannot start. Each ``*_warnings`` function lists what Kubernetes accepts
only in some versions or with a result that may surprise. :mod:`kfp_nbsecrets.validate` raises
the problems and warns the warnings; lint, the pre-run check and local runs report the same lines.
Messages quote a user's value through :func:`kfp_nbsecrets.errors.quote` (at most ~60 characters).
"""

from __future__ import annotations

import posixpath
import re

from kfp_nbsecrets.errors import quote

# k8s.io/apimachinery/pkg/util/validation: IsDNS1123Label, IsDNS1123Subdomain, IsConfigMapKey,
# IsEnvVarName (the strict rule) and IsRelaxedEnvVarName (KEP-4369: printable ASCII except '=').
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_ENV_NAME_STRICT = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_ENV_NAME_RELAXED = re.compile(r"[ -<>-~]+")

LABEL_MAX = 63
SUBDOMAIN_MAX = 253

#: The Kubernetes versions of relaxed env var names (RelaxedEnvironmentVariableValidation, KEP-4369).
RELAXED_ENV_VERSIONS = ("Kubernetes 1.30-1.31 only with the RelaxedEnvironmentVariableValidation feature"
                        " gate on, 1.32-1.33 unless it is turned off, always from 1.34; older API servers"
                        " reject the pod")

#: The Secret types the kubelet reads registry credentials from, with the key each must have; it
#: ignores any other image pull secret (kubernetes pkg/credentialprovider/secrets/secrets.go,
#: MakeDockerKeyring).
PULL_SECRET_TYPES = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson",
                     "kubernetes.io/dockercfg": ".dockercfg"}

#: Where the KFP backend mounts its launcher in every task container (KFP 2.0 and later,
#: backend/src/v2/compiler/argocompiler/container.go); the container's command runs from it.
LAUNCHER_PATH = "/kfp-launcher"


def suggest_dns_name(name: str, max_len: int = SUBDOMAIN_MAX, dots: bool = True) -> str:
    """The closest valid name: lowercase, '_' and other characters turned into '-'."""
    allowed = r"[^a-z0-9.-]" if dots else r"[^a-z0-9-]"
    fixed = re.sub(allowed, "-", name.lower()).strip("-.")[:max_len].strip("-.")
    return fixed or "my-secret"


def _too_long(what: str, value: str, limit: int) -> str:
    return f"{what} {quote(value)} is too long: {len(value)} characters; the limit is {limit}"


def object_name_problem(name: str, *, what: str = "secret", volume: bool = False) -> str | None:
    """Why ``name`` cannot name a Secret / ConfigMap / PVC (``what``), or with ``volume`` the pod
    volume the KFP driver names after it (backend/src/v2/driver/k8s.go: ``Volume{Name: secretName}``)."""
    if not name:
        return f"the {what} name is empty; give the name of an existing {what}"
    if volume and (len(name) > LABEL_MAX or not _DNS1123_LABEL.fullmatch(name)):
        length = f" ({len(name)} characters; the limit is {LABEL_MAX})" if len(name) > LABEL_MAX else ""
        return (f"{what} name {quote(name)} cannot be mounted{length}: the KFP backend names the pod"
                f" volume after the {what}, and a volume name must be a DNS-1123 label (lowercase letters,"
                f" digits and '-', at most {LABEL_MAX} characters, no dots); rename the {what}, e.g."
                f" {quote(suggest_dns_name(name, LABEL_MAX, dots=False))}"
                + (", or use it as env vars" if what != "PVC" else ""))
    if len(name) > SUBDOMAIN_MAX:
        return _too_long(f"{what} name", name, SUBDOMAIN_MAX) + f"; e.g. {quote(suggest_dns_name(name))}"
    if not _DNS1123_SUBDOMAIN.fullmatch(name):
        return (f"{what} name {quote(name)} is not a valid Kubernetes name: use lowercase letters, digits,"
                f" '-' and '.', starting and ending with a letter or digit, at most {SUBDOMAIN_MAX}"
                f" characters, e.g. {quote(suggest_dns_name(name))}")
    return None


def secret_name_problem(name: str, *, volume: bool = False) -> str | None:
    """Why ``name`` cannot name a Secret (or, with ``volume``, the pod volume named after it)."""
    return object_name_problem(name, what="secret", volume=volume)


def volume_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a pod volume (emptyDir, generic ephemeral): a DNS-1123 label."""
    if not isinstance(name, str) or not name:
        return f"volume name {quote(name)} must be a non-empty string such as 'scratch'"
    if len(name) > LABEL_MAX:
        return _too_long("volume name", name, LABEL_MAX)
    if not _DNS1123_LABEL.fullmatch(name):
        return (f"volume name {quote(name)} is not a DNS-1123 label: use lowercase letters, digits and"
                f" '-', e.g. {quote(suggest_dns_name(name, LABEL_MAX, dots=False))}")
    return None


def key_problem(key: object, *, what: str = "secret") -> str | None:
    """Why ``key`` cannot be a key of a Secret's / ConfigMap's data (IsConfigMapKey)."""
    if not isinstance(key, str):
        return f"{what} key {quote(key)} is not a string; map each {what} key (str) to an env var (str)"
    if len(key) > SUBDOMAIN_MAX:
        return _too_long(f"{what} key", key, SUBDOMAIN_MAX)
    if key in (".", "..") or key.startswith("..") or not _CONFIG_MAP_KEY.fullmatch(key):
        return (f"{what} key {quote(key)} is not a valid Kubernetes {what} key: use letters, digits, '-',"
                f" '_' and '.', at most {SUBDOMAIN_MAX} characters, not starting with '..'")
    return None


def secret_key_problem(key: object) -> str | None:
    return key_problem(key, what="secret")


def env_name_problem(name: object) -> str | None:
    """Why every Kubernetes version rejects ``name`` as an env var name (empty, '=', not printable ASCII)."""
    if not isinstance(name, str):
        return f"env var name {quote(name)} is not a string; map each key (str) to an env var (str)"
    if not _ENV_NAME_RELAXED.fullmatch(name):
        fixed = re.sub(r"[^-._a-zA-Z0-9]", "_", name).upper().lstrip("0123456789") or "SECRET"
        return (f"env var name {quote(name)} would be rejected by Kubernetes: it must be non-empty printable"
                f" ASCII without '='; use e.g. {quote(fixed)}")
    return None


def env_name_warnings(name: str) -> list[str]:
    """A name only relaxed env var validation accepts (such as '1VAR' or 'MY VAR')."""
    if _ENV_NAME_STRICT.fullmatch(name):
        return []
    fixed = re.sub(r"[^-._a-zA-Z0-9]", "_", name).lstrip("0123456789") or "SECRET"
    return [f"env var name {quote(name)} is accepted by {RELAXED_ENV_VERSIONS}; for every version use"
            f" letters, digits, '_', '-' and '.', not starting with a digit, e.g. {quote(fixed)}"]


def normalize_mount_path(path: str) -> str:
    """Where a mount path ends up: the kubelet makes a relative path absolute under '/'
    (pkg/kubelet/kubelet_pods.go makeMounts, MakeAbsolutePath: ``filepath.Clean("/" + path)``) and
    the runtime resolves '.', '..' and repeated '/' inside the container's root."""
    return posixpath.normpath("/" + path.lstrip("/"))


def mount_path_problem(path: object) -> str | None:
    """Why a container cannot have a volume mounted at ``path`` in any supported version."""
    if not isinstance(path, str) or not path:
        return f"mount path {quote(path)} must be a non-empty string such as '/secrets/db'"
    where = normalize_mount_path(path)
    if where == "/":
        return (f"mount path {quote(path)} is the container's root: runc refuses a mount on top of the root"
                f" file system (1.2.8, 1.3.3, 1.4 and later) and older runtimes hide the image under the"
                f" volume, so the container cannot start; mount it at a directory such as '/secrets/db'")
    if where == LAUNCHER_PATH:
        return (f"mount path {quote(path)} replaces the KFP launcher that every task container runs from,"
                f" so the task cannot start; mount it at another directory")
    return None


def mount_path_warnings(path: str) -> list[str]:
    """Mount paths Kubernetes accepts that may not mean what they say."""
    found = []
    where = normalize_mount_path(path)
    if not path.startswith("/"):
        found.append(f"mount path {quote(path)} is relative: the kubelet mounts it at {quote(where)}; write"
                     f" {quote(where)}")
    elif where != path.rstrip("/") and path != "/":
        found.append(f"mount path {quote(path)} is mounted at {quote(where)}; write {quote(where)}")
    if ":" in path:
        found.append(f"mount path {quote(path)} contains ':', which the Kubernetes API documents as not"
                     f" allowed (VolumeMount.mountPath) although it does not enforce it; runtimes that pass"
                     f" mounts as 'source:destination:options' strings (Docker, dockershim before Kubernetes"
                     f" 1.24) misread it; choose a path without ':'")
    return found
