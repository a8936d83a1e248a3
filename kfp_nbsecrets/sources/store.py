"""The local store: a private directory of Kubernetes Secret manifests; the default source, needs no cluster.

Location: ``$KFP_NBSECRETS_STORE``, else ``$XDG_CONFIG_HOME/kfp-nbsecrets/secrets``, else
``~/.config/kfp-nbsecrets/secrets``. Every ``*.yaml`` / ``*.yml`` file in it (not in subdirectories) holds one
or more ``kind: Secret`` documents with ``data`` (base64) and/or ``stringData``. Like ssh, the store refuses
a directory or file that other users can read or that another user owns. Writes are atomic (temp file in the
store + ``os.replace``, mode 0600; the directory is created 0700). The store ignores namespaces: a name
identifies one secret, ``metadata.namespace`` is only reported.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import getpass
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kfp_nbsecrets.errors import InvalidSecretKeyError, InvalidSecretNameError
from kfp_nbsecrets.rules import secret_key_problem, secret_name_problem
from kfp_nbsecrets.sources import (
    InsecureStoreError,
    InvalidValueError,
    SecretInfo,
    SecretNotFound,
    SecretSource,
    SourceError,
    StoreFormatError,
)

STORE_ENV = "KFP_NBSECRETS_STORE"
MANIFEST_SUFFIXES = (".yaml", ".yml")
_DOTENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*")


def default_store_dir() -> Path:
    """``$KFP_NBSECRETS_STORE``, else ``$XDG_CONFIG_HOME/kfp-nbsecrets/secrets`` (default ``~/.config``)."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join("~", ".config")
    return Path(config_home).expanduser() / "kfp-nbsecrets" / "secrets"


def _yaml() -> Any:
    import yaml

    return yaml


def _as_bytes(value: object, name: str, key: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise InvalidValueError(
        f"the value of key {key!r} of secret {name!r} must be str or bytes, not {type(value).__name__}"
    )


def _check_name(name: str) -> None:
    problem = secret_name_problem(name) if isinstance(name, str) else f"secret name {name!r} is not a string"
    if problem:
        raise InvalidSecretNameError(problem)


def _check_keys(keys: Iterable[str]) -> None:
    for key in keys:
        problem = secret_key_problem(key)
        if problem:
            raise InvalidSecretKeyError(problem)


class _Document:
    """One Secret document of a store file, parsed; values stay inside ``raw`` and are read on demand."""

    __slots__ = ("path", "index", "raw")

    def __init__(self, path: Path, index: int, raw: dict[str, Any]) -> None:
        self.path, self.index, self.raw = path, index, raw

    @property
    def name(self) -> str:
        return self.raw["metadata"]["name"]

    def info(self, created: datetime.datetime | None) -> SecretInfo:
        meta = self.raw["metadata"]
        stamp = meta.get("creationTimestamp")
        if isinstance(stamp, datetime.datetime):
            created = stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.timezone.utc)
        elif isinstance(stamp, str):
            with contextlib.suppress(ValueError):
                created = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        keys = set(self.raw.get("data") or ()) | set(self.raw.get("stringData") or ())
        return SecretInfo(
            name=self.name,
            namespace=meta.get("namespace"),
            type=str(self.raw.get("type") or "Opaque"),
            keys=tuple(sorted(keys)),
            labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
            created=created,
        )

    def values(self) -> dict[str, bytes]:
        values: dict[str, bytes] = {}
        for key, encoded in (self.raw.get("data") or {}).items():
            try:
                values[key] = base64.b64decode(str(encoded), validate=True)
            except (binascii.Error, ValueError):
                raise StoreFormatError(
                    f"{self.path}: document {self.index + 1}, secret {self.name!r}: data key {key!r} is not"
                    " valid base64; put plain text under stringData instead"
                ) from None
        for key, text in (self.raw.get("stringData") or {}).items():
            values[key] = str(text).encode()
        return values


def parse_manifests(path: Path) -> list[_Document]:
    """The Secret documents of a YAML file; StoreFormatError (with file and line, no content) if invalid."""
    yaml = _yaml()
    error: StoreFormatError | None = None
    try:
        raws = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        error = StoreFormatError(f"{path}: not valid YAML{where}; fix or remove the file")
    except UnicodeDecodeError:
        error = StoreFormatError(f"{path}: not UTF-8 text; store manifests must be YAML")
    if error is not None:
        raise error  # outside the except clause: the YAML error quotes the file and is not kept as context
    documents = []
    for index, raw in enumerate(raws):
        if raw is None:
            continue
        where = f"{path}: document {index + 1}"
        if not isinstance(raw, dict) or raw.get("kind") != "Secret":
            raise StoreFormatError(f"{where} is not a Secret manifest (kind: Secret); remove it or fix it")
        meta = raw.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
            raise StoreFormatError(f"{where} has no metadata.name; add the secret's name")
        problem = secret_name_problem(meta["name"])
        if problem:
            raise StoreFormatError(f"{where}: {problem}")
        for field in ("data", "stringData"):
            section = raw.get(field)
            if section is not None and not isinstance(section, dict):
                raise StoreFormatError(f"{where}: {field} must be a mapping of key names to values")
            for key in section or ():
                problem = secret_key_problem(key)
                if problem:
                    raise StoreFormatError(f"{where}: {problem}")
        documents.append(_Document(path, index, raw))
    return documents


def parse_dotenv(path: Path) -> dict[str, bytes]:
    """``KEY=VALUE`` lines (``export``, comments, blank lines and single/double quotes allowed)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise StoreFormatError(f"{path}: not UTF-8 text; a dotenv file has KEY=VALUE lines") from None
    values: dict[str, bytes] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _DOTENV_LINE.fullmatch(line)
        if match is None:
            raise StoreFormatError(f"{path}: line {number} is not KEY=VALUE; fix that line (not shown)")
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
            if match.group(2)[0] == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"')
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value.encode()
    return values


class LocalStore(SecretSource):
    """Secrets kept as Kubernetes Secret manifests in a private directory (see the module docstring)."""

    kind = "local"

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, namespace: str | None = None
    ) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else default_store_dir()
        self.namespace = namespace

    def describe(self) -> str:
        return f"local store {self.directory}"

    # -- reading

    def _check_private(self, path: Path, info: os.stat_result, *, is_dir: bool) -> None:
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise InsecureStoreError(
                f"{path} is owned by another user (uid {info.st_uid}); refusing to use it:"
                f" run 'chown {os.getuid()} {path}' or use another store"
            )
        if stat.S_IMODE(info.st_mode) & 0o077:
            mode = "700" if is_dir else "600"
            raise InsecureStoreError(
                f"{path} is accessible by other users (mode {stat.S_IMODE(info.st_mode):o}); refusing to use"
                f" it: run 'chmod {mode} {path}'"
            )

    def _files(self) -> list[Path]:
        """The store's manifest files, after checking permissions; empty if the store does not exist."""
        try:
            dir_info = self.directory.stat()
        except FileNotFoundError:
            return []
        if not stat.S_ISDIR(dir_info.st_mode):
            raise StoreFormatError(f"{self.directory} is not a directory; point the store at a directory")
        self._check_private(self.directory, dir_info, is_dir=True)
        files = []
        for path in sorted(self.directory.iterdir()):
            if path.suffix not in MANIFEST_SUFFIXES or path.name.startswith("."):
                continue
            file_info = path.lstat()
            if not stat.S_ISREG(file_info.st_mode):
                continue
            self._check_private(path, file_info, is_dir=False)
            files.append(path)
        return files

    def _documents(self) -> Iterator[tuple[_Document, datetime.datetime]]:
        seen: dict[str, Path] = {}
        for path in self._files():
            modified = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
            for document in parse_manifests(path):
                if document.name in seen:
                    raise StoreFormatError(
                        f"secret {document.name!r} is defined twice, in {seen[document.name]} and {path};"
                        " remove one of them"
                    )
                seen[document.name] = path
                yield document, modified

    def _iter_secrets(self, namespace: str | None) -> Iterable[SecretInfo]:
        return [document.info(modified) for document, modified in self._documents()]

    def _locate(self, name: str) -> tuple[_Document, datetime.datetime] | None:
        return next(((doc, modified) for doc, modified in self._documents() if doc.name == name), None)

    def _find(self, name: str, namespace: str | None) -> SecretInfo | None:
        found = self._locate(name)
        return None if found is None else found[0].info(found[1])

    def _read_values(self, name: str, namespace: str | None) -> Mapping[str, bytes]:
        found = self._locate(name)
        if found is None:
            self.get(name)  # raises SecretNotFound
        return found[0].values()

    # -- writing

    def _ensure_directory(self) -> None:
        if not self.directory.exists():
            self.directory.mkdir(parents=True, mode=0o700)
            self.directory.chmod(0o700)
        self._files()  # checks the directory's and the files' permissions

    def _write_atomically(self, path: Path, documents: list[dict[str, Any]]) -> None:
        text = _yaml().safe_dump_all(documents, sort_keys=False, default_flow_style=False)
        descriptor, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".yaml", dir=self.directory)
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

    def _remove_document(self, document: _Document) -> None:
        remaining = [doc.raw for doc in parse_manifests(document.path) if doc.name != document.name]
        if remaining:
            self._write_atomically(document.path, remaining)
        else:
            document.path.unlink()

    def add(
        self,
        name: str,
        values: Mapping[str, str | bytes],
        *,
        type: str = "Opaque",
        labels: Mapping[str, str] | None = None,
        namespace: str | None = None,
        replace: bool = False,
    ) -> SecretInfo:
        """Store a secret given as a Python mapping key -> value (str or bytes); returns its info.

        An existing secret of that name is replaced only with ``replace=True``.
        """
        _check_name(name)
        _check_keys(values)
        encoded = {
            key: base64.b64encode(_as_bytes(value, name, key)).decode() for key, value in values.items()
        }
        self._ensure_directory()
        existing = self._locate(name)
        if existing is not None and not replace:
            raise SourceError(
                f"secret {name!r} already exists in {existing[0].path}; pass replace=True to overwrite it"
            )
        metadata: dict[str, Any] = {"name": name}
        if namespace:
            metadata["namespace"] = namespace
        if labels:
            metadata["labels"] = dict(labels)
        manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": type, "data": encoded}
        if existing is None:
            self._write_atomically(self._free_path(name), [manifest])
        else:
            document = existing[0]
            others = parse_manifests(document.path)
            self._write_atomically(
                document.path, [manifest if doc.name == name else doc.raw for doc in others]
            )
        return self.get(name)

    def _free_path(self, name: str) -> Path:
        """``<name>.yaml``, or ``<name>.<n>.yaml`` when a hand-written file already uses that path."""
        path, number = self.directory / f"{name}.yaml", 1
        while path.exists():
            number += 1
            path = self.directory / f"{name}.{number}.yaml"
        return path

    def add_from_prompt(
        self,
        name: str,
        keys: Iterable[str],
        *,
        prompt: Callable[[str], str] = getpass.getpass,
        **options: Any,
    ) -> SecretInfo:
        """Ask for each key's value with a hidden prompt (getpass), then :meth:`add` the secret."""
        keys = list(keys)
        _check_name(name)
        _check_keys(keys)
        if not keys:
            raise InvalidSecretKeyError(f"give at least one key name for secret {name!r}")
        values = {key: prompt(f"Value of {key!r} for secret {name!r} (hidden): ") for key in keys}
        return self.add(name, values, **options)

    def import_manifest(self, path: str | os.PathLike[str], *, replace: bool = False) -> list[SecretInfo]:
        """Copy every Secret of a manifest file (one or more documents) into the store; returns infos."""
        documents = parse_manifests(Path(path))
        if not documents:
            raise StoreFormatError(f"{path}: holds no Secret manifest; nothing to import")
        infos = []
        for document in documents:
            meta = document.raw["metadata"]
            infos.append(
                self.add(
                    document.name,
                    document.values(),
                    type=str(document.raw.get("type") or "Opaque"),
                    labels=meta.get("labels"),
                    namespace=meta.get("namespace"),
                    replace=replace,
                )
            )
        return infos

    def import_dotenv(
        self,
        path: str | os.PathLike[str],
        name: str,
        *,
        keys: Iterable[str] | None = None,
        **options: Any,
    ) -> SecretInfo:
        """Store the ``KEY=VALUE`` lines of a dotenv file as secret ``name`` (only ``keys``, if given)."""
        values = parse_dotenv(Path(path))
        if keys is not None:
            wanted = list(keys)
            missing = [key for key in wanted if key not in values]
            if missing:
                raise StoreFormatError(f"{path}: has no line(s) for {missing}; it has {sorted(values)}")
            values = {key: values[key] for key in wanted}
        if not values:
            raise StoreFormatError(f"{path}: holds no KEY=VALUE line; nothing to import")
        return self.add(name, values, **options)

    def remove(self, name: str) -> None:
        """Delete a secret from the store; raises SecretNotFound."""
        found = self._locate(name)
        if found is None:
            raise SecretNotFound(f"secret {name!r} not found in {self.describe()}; nothing to remove")
        self._remove_document(found[0])
