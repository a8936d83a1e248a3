"""The one validation path of everything a task's Kubernetes config adds to its pod.

:mod:`kfp_nbsecrets.attach` (tasks being defined: our secret functions and the drop-ins for
kfp.kubernetes' mount and env functions, also through the in-body magic), :func:`kfp_nbsecrets.bind.bind`
(compiled IR, also through ``%kfp_secret bind``, the picker and the CLI) and :mod:`kfp_nbsecrets.lint`
use these checks, so the same mistake gets the same message wherever it is made.

Two kinds of check:

* on what a user passes (a secret name, a mapping, a flag): raise a
  :class:`~kfp_nbsecrets.errors.SecretBindingError` subclass before anything is written;
* on the whole config (:func:`config_problems`): what the pod would look like once the KFP driver
  and Argo have built it. :func:`added` compares a config before and after a call: a new error
  is raised (the caller puts the task back as it was), a new warning is issued as a
  :class:`~kfp_nbsecrets.errors.KubernetesWarning`.

``config`` is one executor's Kubernetes config: ``task.platform_config["kubernetes"]`` of a task
being defined, or ``platforms.kubernetes.deploymentSpec.executors.<label>`` of a compiled pipeline
(the two have the same form). Sources of every rule: docs/kubernetes.md.
"""

from __future__ import annotations

import sys
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets import entries, refs, rules
from kfp_nbsecrets.errors import (
    ChannelError,
    InvalidEnvError,
    InvalidMountError,
    InvalidNameError,
    InvalidSecretKeyError,
    InvalidSecretNameError,
    KubernetesWarning,
    SecretBindingError,
    quote,
)

ENV_MAPPING_EXAMPLE = "{'password': 'DB_PASSWORD'}"
ERROR, WARNING = "error", "warning"


# ---------------------------------------------------------------------------------------------
# What a user passes


def secret_text(text: str, *, volume: bool, check_literal: bool = True) -> refs.SecretRef:
    """A secret name as written (a literal or one ``{{...}}`` template), checked; its reference.

    ``check_literal=False`` leaves a literal name to :func:`config_problems` (ConfigMaps, image
    pull secrets), which decides whether a bad one is refused or only warned about."""
    if refs.CHANNEL_PLACEHOLDER in text:
        raise ChannelError(
            f"secret name {quote(text)} embeds a pipeline parameter in a string (an f-string or str()); KFP"
            f" resolves only a whole parameter value, so pass a parameter that holds the full secret name"
            f" (in a template: '{{{{PARAM}}}}'), or compute the name in a component and pass its output")
    reference = refs.parse(text)
    if isinstance(reference, refs.Literal) and check_literal \
            and (problem := rules.secret_name_problem(text, volume=volume)):
        raise InvalidSecretNameError(problem)
    return reference


def optional_flag(value: object) -> None:
    if not isinstance(value, bool):
        raise SecretBindingError(f"optional must be True or False, got {quote(value)}")


def env_mapping(mapping: object, argument: str, *, what: str = "secret") -> dict[str, str]:
    """``mapping`` (key → env var name) as a dict; InvalidSecretKeyError / InvalidEnvError."""
    if not isinstance(mapping, Mapping):
        raise InvalidEnvError(f"{argument} must be a non-empty dict of {what} key to env var name, such as"
                              f" {ENV_MAPPING_EXAMPLE}, got {type(mapping).__name__}")
    if not mapping:
        raise InvalidEnvError(f"{argument} is empty; it must be a non-empty dict of {what} key to env var"
                              f" name, such as {ENV_MAPPING_EXAMPLE}")
    for key, env in mapping.items():
        if problem := rules.key_problem(key, what=what):
            raise InvalidSecretKeyError(problem)
        if problem := rules.env_name_problem(env):
            raise InvalidEnvError(problem)
    return dict(mapping)


def mapping_from_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``KEY=ENV`` pairs (as typed on a magic or command line) as a dict; a key given twice is refused."""
    mapping: dict[str, str] = {}
    for key, env in pairs:
        if key in mapping:
            raise InvalidEnvError(f"secret key {quote(key)} is given twice ({key}={mapping[key]} and"
                                  f" {key}={env});"
                                  f" give each key once")
        mapping[key] = env
    return mapping


def mount_path(path: object) -> None:
    if problem := rules.mount_path_problem(path):
        raise InvalidMountError(problem)


# ---------------------------------------------------------------------------------------------
# The whole config: the pod the KFP driver and Argo build from it


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing the pod would get wrong: ``severity`` (error: rejected or cannot start; warning:
    accepted, with a caveat), a lint ``code``, ``message`` and ``fix``, and the error class."""

    severity: str
    code: str
    message: str
    fix: str
    error: type[SecretBindingError] = SecretBindingError

    def text(self) -> str:
        return f"{self.message}; {self.fix}"


def _from_line(severity: str, code: str, line: str, error: type[SecretBindingError]) -> Problem:
    message, _, fix = line.partition("; ")
    return Problem(severity, code, message, fix or "fix the value", error)


def config_problems(config: Mapping[str, Any], container_env: Iterable[str] = ()) -> list[Problem]:
    """Every problem of the pod a task's Kubernetes config gives (secret names are checked by
    :func:`secret_text` and lint, which know templates)."""
    mounts = entries.mounts(config)
    found: list[Problem] = []
    found += _name_problems(config, mounts)
    found += _key_and_env_name_problems(config)
    found += _mount_problems(mounts)
    found += _env_clashes(entries.env_settings(config, container_env))
    return found


def _name_problems(config: Mapping[str, Any], mounts: list[entries.Mount]) -> list[Problem]:
    found = []
    for mount in mounts:
        if isinstance(mount.volume, refs.Literal) and mount.kind != entries.SECRET:
            problem = (rules.volume_name_problem(mount.volume.name)
                       if mount.kind in (entries.EMPTY_DIR, entries.EPHEMERAL)
                       else rules.object_name_problem(mount.volume.name, what=mount.kind, volume=True))
            if problem:
                found.append(_from_line(ERROR, "invalid-name", problem, InvalidNameError))
    for raw in config.get("configMapAsEnv") or []:
        name = entries.name_reference(raw, entries.CONFIG_MAP)
        if isinstance(name, refs.Literal) \
                and (problem := rules.object_name_problem(name.name, what="ConfigMap")):
            found.append(_from_line(ERROR, "invalid-name", problem, InvalidNameError))
    for name in (entry.reference for entry in entries.image_pull_secrets(config)):
        if isinstance(name, refs.Literal) and (problem := rules.secret_name_problem(name.name)):
            # The API server does not validate imagePullSecrets names; the kubelet looks the secret up,
            # cannot find it, and pulls without it (pkg/kubelet/kubelet_pods.go getPullSecretsForPod).
            message = problem.split("; ")[0].replace("secret name", "image pull secret name", 1)
            found.append(Problem(WARNING, "invalid-pull-secret",
                                 f"{message}: no Secret can have this name, so the kubelet pulls the image"
                                 f" without these credentials",
                                 "give the name of a kubernetes.io/dockerconfigjson Secret",
                                 InvalidSecretNameError))
    return found


def _key_and_env_name_problems(config: Mapping[str, Any]) -> list[Problem]:
    found = []
    for field_name, what, key_field in (("secretAsEnv", "secret", "secretKey"),
                                        ("configMapAsEnv", "ConfigMap", "configMapKey")):
        for raw in config.get(field_name) or []:
            for pair in raw.get("keyToEnv", []):
                if problem := rules.key_problem(pair.get(key_field, ""), what=what):
                    found.append(_from_line(ERROR, "invalid-key", problem, InvalidSecretKeyError))
    names = [setting.name for setting in entries.env_settings(config) if setting.origin != "the KFP backend"]
    for name in names:
        if problem := rules.env_name_problem(name):
            found.append(_from_line(ERROR, "invalid-env", problem, InvalidEnvError))
        else:
            found += [_from_line(WARNING, "env-name-version", line, InvalidEnvError)
                      for line in rules.env_name_warnings(name)]
    return found


def _mount_problems(mounts: list[entries.Mount]) -> list[Problem]:
    found = []
    for mount in mounts:
        if problem := rules.mount_path_problem(mount.mount_path):
            found.append(_from_line(ERROR, "invalid-mount", problem, InvalidMountError))
            continue
        found += [_from_line(WARNING, "mount-path", line, InvalidMountError)
                  for line in rules.mount_path_warnings(mount.mount_path)]
    # Argo merges the driver's pod spec patch into the executor template by volume name
    # (workflow/util ApplyPodSpecPatch, strategic merge): two kinds under one name become one volume
    # with two sources, which the API server rejects ("may not specify more than 1 volume type").
    # The same Secret, ConfigMap or PVC mounted twice becomes one volume mounted at both paths.
    backend = [refs.Literal(name) for name in entries.BACKEND_VOLUMES]
    kinds: dict[refs.SecretRef, str] = dict(zip(backend, entries.BACKEND_VOLUMES.values(), strict=True))
    users: dict[refs.SecretRef, str] = {name: "the KFP launcher" for name in backend}
    for mount in mounts:
        if mount.volume is None:
            continue
        first = kinds.setdefault(mount.volume, mount.kind)
        users.setdefault(mount.volume, mount.describe())
        if first != mount.kind:
            found.append(Problem(
                ERROR, "volume-clash",
                f"pod volume {refs.describe(mount.volume)} would have two sources, {users[mount.volume]} and"
                f" {mount.describe()}: the KFP backend names each pod volume after its Secret, ConfigMap or"
                f" PVC (or its volume_name), and a volume cannot have two sources",
                "give one of them another name", InvalidMountError))
    # Mounts are merged by mount path: of two mounts at one path only the last is kept; equivalent
    # paths ('/a' and '/a/') both reach the runtime, and the later mount hides the earlier one.
    paths: dict[str, list[entries.Mount]] = {}
    for mount in mounts:
        if isinstance(mount.mount_path, str) and mount.mount_path:
            paths.setdefault(rules.normalize_mount_path(mount.mount_path), []).append(mount)
    for path, sharing in paths.items():
        if len(sharing) > 1:
            listed = " and ".join(m.describe() for m in sharing)
            found.append(Problem(
                WARNING, "mount-clash",
                f"mount path {quote(path)} is used by {listed}: Kubernetes mounts only"
                f" the last one there, the others are hidden", "mount each volume at its own path",
                InvalidMountError))
    return found


def _env_clashes(settings: list[entries.EnvSetting]) -> list[Problem]:
    # Argo merges env vars by name: two of one kind -> the last wins (Kubernetes also keeps the last
    # of duplicates); a plain value and a reference, or two kinds of reference, become one env var
    # with two sources, which the API server rejects (validateEnvVarValueFrom).
    found = []
    counts = Counter(setting.name for setting in settings)
    for name in [n for n, count in counts.items() if count > 1]:
        same = [s for s in settings if s.name == name]
        where = ", then ".join(s.origin for s in same)
        if len({s.source for s in same}) > 1:
            found.append(Problem(ERROR, "env-clash", f"env var {quote(name)} is set by {where}: one env var"
                                 f" cannot take its value from two kinds of source, so the API server rejects"
                                 f" the pod", "choose another env var name", InvalidEnvError))
        else:
            found.append(Problem(WARNING, "env-override", f"env var {quote(name)} is set by {where}:"
                                 f" Kubernetes keeps the last one ({same[-1].origin})",
                                 "give each value its own env var name", InvalidEnvError))
    return found


def added(before: Mapping[str, Any], after: Mapping[str, Any], container_env: Iterable[str],
          task: str) -> None:
    """Raise the first problem ``after`` has that ``before`` had not; warn its new warnings
    (attributed to the first caller outside kfp_nbsecrets and kfp)."""
    container_env = list(container_env)
    known = Counter(config_problems(before, container_env))
    new = []
    for problem in config_problems(after, container_env):
        if known[problem]:
            known[problem] -= 1
        else:
            new.append(problem)
    for problem in new:
        if problem.severity == ERROR:
            raise problem.error(f"task {quote(task)}: {problem.text()}")
    for problem in new:
        warnings.warn(f"task {quote(task)}: {problem.text()}", KubernetesWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith(("kfp_nbsecrets.", "kfp.")):
        frame, level = frame.f_back, level + 1
    return level
