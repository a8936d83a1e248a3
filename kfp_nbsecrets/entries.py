"""Secret entries of a task's Kubernetes config: the one place that reads and writes them.

It also reads what the KFP driver makes of a whole config (:func:`mounts`, :func:`env_settings`,
:func:`image_pull_secrets`): the pod volumes, mounts and env vars the task's container gets, so
that every clash check sees Secrets, ConfigMaps, PVCs, emptyDirs, ephemeral volumes, field paths
and the backend's own mounts and env vars alike.

A compiled pipeline keeps each executor's Kubernetes config under
``platforms.kubernetes.deploymentSpec.executors.<label>`` of its PlatformSpec (a defined pipeline
task keeps the same dict in ``task.platform_config["kubernetes"]``). Its ``secretAsEnv`` and
``secretAsVolume`` lists are read here into :class:`SecretEntry` records, and new entries are
built from kfp-kubernetes' own protobuf messages (``SecretAsEnv`` / ``SecretAsVolume``), exactly
as ``kfp.kubernetes.use_secret_as_env`` / ``use_secret_as_volume`` build them, so that an entry
has only fields the KFP backend knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kfp_nbsecrets import refs
from kfp_nbsecrets.errors import quote

ENV, VOLUME, PULL = "env", "volume", "image-pull"
#: The secret entries a task's container uses (what :func:`read` returns; local runs inject them).
FIELDS = {ENV: "secretAsEnv", VOLUME: "secretAsVolume"}
#: Where each kind of entry is kept, image pull secrets (:func:`image_pull_secrets`) included.
ALL_FIELDS = {**FIELDS, PULL: "imagePullSecret"}


@dataclass(frozen=True, slots=True)
class SecretEntry:
    """One ``secretAsEnv`` (``kind`` env), ``secretAsVolume`` (``kind`` volume) or ``imagePullSecret``
    (``kind`` image-pull) entry.

    ``reference`` says where the secret's name comes from (None when the entry names no secret);
    ``env`` holds (secret key, env var) pairs; ``index`` is the entry's place in its list.
    ``raw`` is the entry as stored, for the checks that look at the fields themselves.
    """

    kind: str
    reference: refs.SecretRef | None
    env: tuple[tuple[str, str], ...] = ()
    mount_path: str | None = None
    optional: bool = False
    index: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name_parameter(self) -> Mapping[str, Any] | None:
        """The entry's ``secretNameParameter`` (None when only the deprecated ``secretName`` is set)."""
        return self.raw.get("secretNameParameter")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.env)

    def target(self) -> str:
        """Where the secret lands: ``KEY → ENV`` pairs, the mount path or ``image pull``."""
        if self.kind == PULL:
            return "image pull"
        return refs.key_to_env_text(self.env) if self.kind == ENV else str(self.mount_path)


def read(config: Mapping[str, Any]) -> list[SecretEntry]:
    """The env entries, then the volume entries, of one executor's Kubernetes config."""
    found = []
    for kind, name in FIELDS.items():
        for index, raw in enumerate(config.get(name) or []):
            found.append(SecretEntry(
                kind=kind,
                reference=refs.from_ir(raw),
                env=tuple((pair.get("secretKey", ""), pair.get("envVar", ""))
                          for pair in raw.get("keyToEnv", [])),
                mount_path=raw.get("mountPath"),
                optional=bool(raw.get("optional", False)),
                index=index,
                raw=raw,
            ))
    return found


def executor_configs(platform_spec: Any) -> dict[str, dict]:
    """Executor label → Kubernetes config, from a PlatformSpec message or its dict form."""
    if not isinstance(platform_spec, Mapping):
        from google.protobuf import json_format

        platform_spec = json_format.MessageToDict(platform_spec)
    kubernetes = (platform_spec.get("platforms") or {}).get("kubernetes") or {}
    return (kubernetes.get("deploymentSpec") or {}).get("executors") or {}


def by_executor(platform_spec: Any) -> Iterator[tuple[str, dict, list[SecretEntry]]]:
    """``(label, config, entries)`` for every executor, sorted by label."""
    for label, config in sorted(executor_configs(platform_spec).items()):
        yield label, config, read(config)


def build(kind: str, name_parameter: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
          mount_path: str | None = None, optional: bool = False) -> dict:
    """A new entry of ``kind`` (env, volume or image-pull), as kfp-kubernetes writes it:
    ``secretNameParameter`` plus, for a literal name, the deprecated ``secretName`` that older
    backends read."""
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2 as pb
    from kfp.pipeline_spec import pipeline_spec_pb2

    parameter = json_format.ParseDict(name_parameter, pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec())
    if kind == ENV:
        message: Any = pb.SecretAsEnv(
            key_to_env=[pb.SecretAsEnv.SecretKeyToEnvMap(secret_key=key, env_var=var)
                        for key, var in (env or {}).items()],
            optional=optional)
    elif kind == VOLUME:
        message = pb.SecretAsVolume(mount_path=mount_path, optional=optional)
    else:
        message = pb.ImagePullSecret()
    message.secret_name_parameter.CopyFrom(parameter)
    constant = name_parameter.get("runtimeValue", {}).get("constant")
    if isinstance(constant, str):
        message.secret_name = constant
    return json_format.MessageToDict(message)


def append(config: dict, kind: str, entry: dict) -> None:
    """Add ``entry`` to the ``kind`` list of an executor's Kubernetes config."""
    config.setdefault(ALL_FIELDS[kind], []).append(entry)


def remove(config: dict, doomed: list[SecretEntry]) -> None:
    """Remove entries read from ``config`` (empty lists are dropped, as kfp-kubernetes leaves them out)."""
    for entry in sorted(doomed, key=lambda e: e.index, reverse=True):
        listed = config[ALL_FIELDS[entry.kind]]
        del listed[entry.index]
        if not listed:
            del config[ALL_FIELDS[entry.kind]]


def contains(config: Mapping[str, Any], kind: str, entry: Mapping[str, Any]) -> bool:
    """Whether ``config`` already holds exactly this entry."""
    return entry in (config.get(ALL_FIELDS[kind]) or [])


# ---------------------------------------------------------------------------------------------
# What the KFP driver turns a Kubernetes config into (backend/src/v2/driver/k8s.go, extendPodSpecPatch)

SECRET, CONFIG_MAP, PVC, EMPTY_DIR = "secret", "ConfigMap", "PVC", "emptyDir"
EPHEMERAL = "generic ephemeral volume"
VALUE, FIELD_PATH = "value", "field path"

#: config field of each volume kind; the driver names the pod volume after the Secret, ConfigMap or
#: PVC, and after ``volumeName`` for emptyDir and generic ephemeral volumes.
VOLUME_FIELDS = {"secretAsVolume": SECRET, "configMapAsVolume": CONFIG_MAP, "pvcMount": PVC,
                 "emptyDirMounts": EMPTY_DIR, "genericEphemeralVolume": EPHEMERAL}
_NAME_FIELDS = {SECRET: ("secretNameParameter", "secretName"),
                CONFIG_MAP: ("configMapNameParameter", "configMapName"),
                PVC: ("pvcNameParameter", "constant")}

#: What the executor template of every task already has (KFP 2.0 and later,
#: backend/src/v2/compiler/argocompiler/container.go and common.go): the launcher's emptyDir volume
#: and the env vars of the pod's name and uid (field paths). The driver's pod spec patch is merged
#: into it by Argo (strategic merge: volumes by name, env by name, mounts by mount path).
BACKEND_VOLUMES = {"kfp-launcher": EMPTY_DIR}
BACKEND_ENV = ("KFP_POD_NAME", "KFP_POD_UID")


@dataclass(frozen=True, slots=True)
class Mount:
    """One volume the driver adds to the pod and where it is mounted in the task's container.

    ``volume`` is the pod volume's name: a literal, or the parameter or task output it comes from
    (None when the entry gives none).
    """

    kind: str
    volume: refs.SecretRef | None
    mount_path: str | None

    def describe(self) -> str:
        name = refs.describe(self.volume) if self.volume is not None else "(no name)"
        return f"{self.kind} {name}"


@dataclass(frozen=True, slots=True)
class EnvSetting:
    """One env var of the task's container: its ``source`` kind (value, secret, ConfigMap, field
    path) and where it comes from, in words."""

    name: str
    source: str
    origin: str


def name_reference(raw: Mapping[str, Any], kind: str) -> refs.SecretRef | None:
    """Where the Secret / ConfigMap / PVC name of an entry comes from (deprecated fields included)."""
    parameter_field, name_field = _NAME_FIELDS[kind]
    parameter = raw.get(parameter_field)
    if parameter is None and kind == PVC:  # deprecated oneof of PvcMount
        parameter = {key: raw[key] for key in ("componentInputParameter", "taskOutputParameter")
                     if key in raw}
    return refs.from_ir({"secretNameParameter": parameter or {}, "secretName": raw.get(name_field)})


def mounts(config: Mapping[str, Any]) -> list[Mount]:
    """Every volume mount of an executor's Kubernetes config, in the driver's order."""
    found = []
    for field_name, kind in VOLUME_FIELDS.items():
        for raw in config.get(field_name) or []:
            volume = (name_reference(raw, kind) if kind in _NAME_FIELDS
                      else refs.Literal(raw.get("volumeName", "")))
            found.append(Mount(kind, volume, raw.get("mountPath")))
    return found


def env_settings(config: Mapping[str, Any], container_env: Iterable[str] = ()) -> list[EnvSetting]:
    """Every env var the task's container gets, in the order the driver sets them (the container's
    own env, then secrets, ConfigMaps and field paths), after the backend's own."""
    found = [EnvSetting(name, FIELD_PATH, "the KFP backend") for name in BACKEND_ENV]
    found += [EnvSetting(name, VALUE, "set_env_variable") for name in container_env]
    for field_name, kind in (("secretAsEnv", SECRET), ("configMapAsEnv", CONFIG_MAP)):
        key_field = "secretKey" if kind == SECRET else "configMapKey"
        for raw in config.get(field_name) or []:
            name = name_reference(raw, kind)
            source = refs.describe(name) if name is not None else "(no name)"
            found += [EnvSetting(pair.get("envVar", ""), kind,
                                 f"{kind} {source} key {quote(pair.get(key_field))}")
                      for pair in raw.get("keyToEnv", [])]
    found += [EnvSetting(raw.get("name", ""), FIELD_PATH, f"field path {quote(raw.get('fieldPath'))}")
              for raw in config.get("fieldPathAsEnv") or []]
    return found


def image_pull_secrets(config: Mapping[str, Any]) -> list[SecretEntry]:
    """The image pull secret entries of an executor's Kubernetes config."""
    return [SecretEntry(kind=PULL, reference=refs.from_ir(raw), index=index, raw=raw)
            for index, raw in enumerate(config.get(ALL_FIELDS[PULL]) or [])]
