"""The one validation path of a secret binding.

:func:`kfp_nbsecrets.attach.use_secret_as_env` / ``use_secret_as_volume`` (a task being defined,
also through the in-body magic), :func:`kfp_nbsecrets.bind.bind` (a compiled pipeline, also through
``%kfp_secret bind``, the picker and the CLI) call these checks, so the same mistake gets the same
error and the same one-line message wherever it is made. Each check raises a
:class:`~kfp_nbsecrets.errors.SecretBindingError` subclass and changes nothing.

``config`` is one executor's Kubernetes config: ``task.platform_config["kubernetes"]`` of a task
being defined, or ``platforms.kubernetes.deploymentSpec.executors.<label>`` of a compiled pipeline
(the two have the same form).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kfp_nbsecrets import entries, refs, rules
from kfp_nbsecrets.errors import (
    ChannelError,
    InvalidEnvError,
    InvalidMountError,
    InvalidSecretKeyError,
    InvalidSecretNameError,
    SecretBindingError,
)

ENV_MAPPING_EXAMPLE = "{'password': 'DB_PASSWORD'}"


def secret_text(text: str, *, volume: bool) -> refs.SecretRef:
    """A secret name as written (a literal or one ``{{...}}`` template), checked; its reference."""
    if refs.CHANNEL_PLACEHOLDER in text:
        raise ChannelError(
            f"secret name {text!r} embeds a pipeline parameter in a string (an f-string or str()); KFP"
            f" resolves only a whole parameter value, so pass a parameter that holds the full secret name"
            f" (in a template: '{{{{PARAM}}}}'), or compute the name in a component and pass its output")
    reference = refs.parse(text)
    if isinstance(reference, refs.Literal) and (problem := rules.secret_name_problem(text, volume=volume)):
        raise InvalidSecretNameError(problem)
    return reference


def optional_flag(value: object) -> None:
    if not isinstance(value, bool):
        raise SecretBindingError(f"optional must be True or False, got {value!r}")


def env_mapping(mapping: object, argument: str) -> dict[str, str]:
    """``mapping`` (secret key → env var name) as a dict; InvalidSecretKeyError / InvalidEnvError."""
    if not isinstance(mapping, Mapping):
        raise InvalidEnvError(f"{argument} must be a non-empty dict of secret key to env var name, such as"
                              f" {ENV_MAPPING_EXAMPLE}, got {type(mapping).__name__}")
    if not mapping:
        raise InvalidEnvError(f"{argument} is empty; it must be a non-empty dict of secret key to env var"
                              f" name, such as {ENV_MAPPING_EXAMPLE}")
    seen: dict[str, str] = {}
    for key, env in mapping.items():
        if problem := rules.secret_key_problem(key):
            raise InvalidSecretKeyError(problem)
        if problem := rules.env_name_problem(env):
            raise InvalidEnvError(problem)
        if env in seen:
            raise InvalidEnvError(f"env var {env!r} is set from both key {seen[env]!r} and key {key!r};"
                                  f" give each key its own env var name")
        seen[env] = key
    return dict(mapping)


def mapping_from_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``KEY=ENV`` pairs (as typed on a magic or command line) as a dict; a key given twice is refused."""
    mapping: dict[str, str] = {}
    for key, env in pairs:
        if key in mapping:
            raise InvalidEnvError(f"secret key {key!r} is given twice ({key}={mapping[key]} and {key}={env});"
                                  f" give each key once")
        mapping[key] = env
    return mapping


def env_free(config: Mapping[str, Any], container_env: Iterable[str], mapping: Mapping[str, str],
             task: str) -> None:
    """Refuse env vars that the task already sets (set_env_variable, secrets, ConfigMaps, field paths)."""
    taken = dict(rules.env_settings(config, container_env))
    for key, env in mapping.items():
        if env in taken:
            raise InvalidEnvError(
                f"env var {env!r} is already set on task {task!r} ({taken[env]}); choose another env var"
                f" name for key {key!r}")


def mount_path(path: object) -> None:
    if problem := rules.mount_path_problem(path):
        raise InvalidMountError(problem)


def mount_free(config: Mapping[str, Any], path: str, name_parameter: Mapping[str, Any],
               task: str) -> None:
    """Refuse a mount path the task already uses, and a secret the task already mounts."""
    wanted = rules.normalize_mount_path(path)
    for mounted, kind in rules.mount_paths(config):
        if mounted == wanted:
            raise InvalidMountError(
                f"mount path {path!r} is already used on task {task!r} by {kind}; mount the secret at"
                f" another path")
    wanted_name = refs.from_ir({"secretNameParameter": name_parameter})
    for entry in entries.read(config):
        if entry.kind == entries.VOLUME and entry.reference == wanted_name:
            raise InvalidMountError(
                f"secret {refs.describe(entry.reference)} is already mounted on task {task!r} at"
                f" {entry.mount_path!r}; a pod cannot mount the same secret twice, so read all its files"
                f" from that one path")
