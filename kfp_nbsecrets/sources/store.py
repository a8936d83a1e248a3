"""The local store: a private directory of Kubernetes Secret manifests; the default source, needs no cluster.

Location: ``$KFP_NBSECRETS_STORE``, else ``$XDG_CONFIG_HOME/kfp-nbsecrets/secrets``, else
``~/.config/kfp-nbsecrets/secrets``. Every ``*.yaml`` / ``*.yml`` file in it (not in subdirectories, not
symbolic links) holds one or more ``kind: Secret`` documents with ``data`` (base64) and/or ``stringData``.
Like ssh, the store refuses a directory or file that other users can read or that another user owns. The
store ignores namespaces: a name identifies one secret, ``metadata.namespace`` is only reported.

Several processes may use one store at once. Writers hold an exclusive ``flock`` on ``.lock`` (mode 0600) in
the store, readers a shared one, so a reader sees each change whole and no change is lost; a wait for the lock
is bounded (``lock_timeout``). A write puts every file it changes in a temporary file first (mode 0600,
fsync) and then renames them all into place, so a killed writer leaves the old state; its temporary file is
wiped and removed by the next write. The directory is created 0700.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import errno
import getpass
import os
import random
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kfp_nbsecrets.errors import InvalidSecretKeyError, InvalidSecretNameError
from kfp_nbsecrets.rules import secret_key_problem, secret_name_problem
from kfp_nbsecrets.sources.base import SecretInfo, SecretSource
from kfp_nbsecrets.sources.errors import (
    InsecureStoreError,
    InvalidValueError,
    PromptCancelled,
    SecretExistsError,
    SecretNotFound,
    SourceUnavailable,
    StoreBusyError,
    StoreFormatError,
    StoreWriteError,
)
from kfp_nbsecrets.yaml_depth import too_deep

try:
    import fcntl
except ImportError:  # Windows: no flock; the store then works without cross-process locking
    fcntl = None  # type: ignore[assignment]

STORE_ENV = "KFP_NBSECRETS_STORE"
MANIFEST_SUFFIXES = (".yaml", ".yml")
LOCK_FILE = ".lock"
TEMP_PREFIX, TEMP_SUFFIX = ".tmp-", ".yaml"
#: Larger files are refused unread: a Secret holds at most 1 MiB (Kubernetes' limit), a manifest a few.
MAX_FILE_BYTES = 16 * 1024 * 1024
_SCALARS = (str, int, float, bool, datetime.date)
# Never block on a FIFO, never follow a final symbolic link, never leak into a child (0 where unsupported).
_NONBLOCK, _NOFOLLOW, _CLOEXEC = (getattr(os, flag, 0) for flag in ("O_NONBLOCK", "O_NOFOLLOW", "O_CLOEXEC"))
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


def _modified(info: os.stat_result) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(info.st_mtime, datetime.timezone.utc)


def _mine(info: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _check_private(path: Path, info: os.stat_result, *, is_dir: bool) -> None:
    if not _mine(info):
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


def _read_text(path: Path, expected: str, *, in_store: bool = False) -> tuple[str, os.stat_result] | None:
    """The text of a regular file and its stat; never blocks on a FIFO, never quotes the content.

    ``in_store``: a store entry; symbolic links and anything but a regular file are skipped (None), as is a
    file that vanished, and the file must be private. Otherwise StoreFormatError names what is wrong.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | (_NOFOLLOW if in_store else 0))
    except OSError as error:
        if in_store and error.errno in (errno.ENOENT, errno.ELOOP):
            return None
        reason = "no such file" if error.errno == errno.ENOENT else error.strerror
        raise StoreFormatError(f"{path}: cannot be read ({reason}); it must be {expected}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            if in_store:
                return None
            what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise StoreFormatError(f"{path} is {what}; it must be {expected}")
        if in_store:
            _check_private(path, info, is_dir=False)
        if info.st_size > MAX_FILE_BYTES:
            raise StoreFormatError(
                f"{path} is larger than {MAX_FILE_BYTES >> 20} MiB; it cannot be {expected}"
            )
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(descriptor)
    try:
        return content.decode("utf-8"), info
    except UnicodeDecodeError:
        raise StoreFormatError(f"{path}: not UTF-8 text; it must be {expected}") from None


def _discard(path: Path) -> None:
    """Overwrite a temp file with zeros, then unlink it; never follows a link, never wipes a shared inode."""
    with contextlib.suppress(OSError):  # wiping is best effort: the unlink below is what must happen
        descriptor = os.open(path, os.O_WRONLY | _NONBLOCK | _NOFOLLOW | _CLOEXEC)
        try:
            info = os.fstat(descriptor)
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and _mine(info):
                zeros = bytes(min(info.st_size, 1 << 20))
                for offset in range(0, info.st_size, len(zeros) or 1):
                    os.write(descriptor, zeros[: info.st_size - offset])
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class _Document:
    """One Secret document of a store file, parsed and checked; values stay inside ``raw``, read on demand."""

    __slots__ = ("path", "index", "raw", "modified")

    def __init__(
        self, path: Path, index: int, raw: dict[str, Any], modified: datetime.datetime | None
    ) -> None:
        self.path, self.index, self.raw, self.modified = path, index, raw, modified

    @property
    def name(self) -> str:
        return self.raw["metadata"]["name"]

    def info(self) -> SecretInfo:
        meta = self.raw["metadata"]
        stamp, created = meta.get("creationTimestamp"), self.modified
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
                values[key] = base64.b64decode("" if encoded is None else str(encoded), validate=True)
            except (binascii.Error, ValueError):
                raise StoreFormatError(
                    f"{self.path}: document {self.index + 1}, secret {self.name!r}: data key {key!r} is not"
                    " valid base64; put plain text under stringData instead"
                ) from None
        for key, text in (self.raw.get("stringData") or {}).items():
            values[key] = b"" if text is None else str(text).encode()
        return values


def _document_problem(raw: object) -> str | None:
    """Why one YAML document is not a Secret manifest the store can use (never quoting a value)."""
    if not isinstance(raw, dict) or raw.get("kind") != "Secret":
        return "not a Secret manifest (kind: Secret); remove it or fix it"
    meta = raw.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return "no metadata.name; add the secret's name"
    problem = secret_name_problem(meta["name"])
    if problem:
        return problem
    if not isinstance(meta.get("namespace"), str | None) or not isinstance(raw.get("type"), str | None):
        return "metadata.namespace and type must be text"
    labels = meta.get("labels")
    if labels is not None and not (
        isinstance(labels, dict) and all(isinstance(v, _SCALARS) for v in labels.values())
    ):
        return "metadata.labels must map label names to text"
    for field in ("data", "stringData"):
        section = raw.get(field)
        if section is not None and not isinstance(section, dict):
            return f"{field} must be a mapping of key names to values"
        for key, value in (section or {}).items():
            problem = secret_key_problem(key)
            if problem:
                return problem
            if value is not None and not isinstance(value, _SCALARS):
                return f"{field} key {key!r} must have a text value, not a {type(value).__name__}"
    return None


def _parse_documents(path: Path, text: str, modified: datetime.datetime | None) -> list[_Document]:
    yaml = _yaml()
    error: StoreFormatError | None = None
    try:
        if too_deep(text):
            raise RecursionError
        raws = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        error = StoreFormatError(f"{path}: not valid YAML{where}; fix or remove the file")
    except RecursionError:
        error = StoreFormatError(
            f"{path}: YAML nested too deeply to be a Secret manifest; fix or remove the file"
        )
    if error is not None:
        raise error  # outside the except clause: the YAML error quotes the file and is not kept as context
    documents = []
    for index, raw in enumerate(raws):
        if raw is None:
            continue
        problem = _document_problem(raw)
        if problem:
            raise StoreFormatError(f"{path}: document {index + 1}: {problem}")
        documents.append(_Document(path, index, raw, modified))
    return documents


def parse_manifests(path: Path) -> list[_Document]:
    """The Secret documents of a YAML file; StoreFormatError (with file and line, no content) if invalid."""
    text, _ = _read_text(Path(path), "a Secret manifest (YAML)")
    return _parse_documents(Path(path), text, None)


def parse_dotenv(path: Path) -> dict[str, bytes]:
    """``KEY=VALUE`` lines (``export``, comments, blank lines and single/double quotes allowed)."""
    text, _ = _read_text(Path(path), "a dotenv file (KEY=VALUE lines)")
    lines = text.splitlines()
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
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        namespace: str | None = None,
        lock_timeout: float = 10.0,
    ) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else default_store_dir()
        self.namespace = namespace
        self.lock_timeout = lock_timeout

    def describe(self) -> str:
        return f"local store {self.directory}"

    # -- the directory and its lock

    def _directory_exists(self) -> bool:
        """Whether the store directory exists (after checking it is a private directory)."""
        try:
            info = self.directory.stat()
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            raise StoreFormatError(f"{self.directory} is not a directory; point the store at a directory")
        _check_private(self.directory, info, is_dir=True)
        return True

    def _ensure_directory(self) -> None:
        try:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            self.directory.mkdir(mode=0o700)
            self.directory.chmod(0o700)
        except FileExistsError:
            pass
        except OSError as error:
            raise StoreWriteError(f"cannot create {self.directory}: {error.strerror}") from None
        self._directory_exists()

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold the store's lock (shared for reading, exclusive for writing), waiting at most lock_timeout."""
        if fcntl is None:
            yield
            return
        path = self.directory / LOCK_FILE
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise InsecureStoreError(
                    f"{path} is a symbolic link; refusing to use it: remove it"
                ) from None
            if not exclusive and error.errno in (errno.EACCES, errno.EROFS):
                yield  # a store nobody can write to needs no lock for reading
                return
            raise StoreWriteError(f"cannot open the lock file {path}: {error.strerror}") from None
        try:
            _check_private(path, os.fstat(descriptor), is_dir=False)
            deadline, delay = time.monotonic() + self.lock_timeout, 0.001
            while True:
                try:
                    fcntl.flock(descriptor, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusyError(
                            f"{self.describe()} stayed locked by another process for {self.lock_timeout:g} s;"
                            f" try again, or find the process holding {path} (e.g. 'fuser {path}')"
                        ) from None
                    time.sleep(delay * random.uniform(0.5, 1.5))
                    delay = min(delay * 2, 0.005)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    # -- reading

    def _read_index(self) -> dict[str, _Document]:
        """Every secret of the store by name, in file order; the caller holds the lock."""
        index: dict[str, _Document] = {}
        try:
            names = sorted(os.listdir(self.directory))
        except OSError as error:
            raise SourceUnavailable(f"cannot list {self.directory}: {error.strerror}") from None
        for name in names:
            if name.startswith(".") or not name.endswith(MANIFEST_SUFFIXES):
                continue
            path = self.directory / name
            read = _read_text(path, "a Secret manifest (YAML)", in_store=True)
            if read is None:
                continue
            text, info = read
            for document in _parse_documents(path, text, _modified(info)):
                if document.name in index:
                    raise StoreFormatError(
                        f"secret {document.name!r} is defined twice, in {index[document.name].path} and"
                        f" {path}; remove one of them"
                    )
                index[document.name] = document
        return index

    def _index(self) -> dict[str, _Document]:
        if not self._directory_exists():
            return {}
        with self._locked(exclusive=False):
            return self._read_index()

    def _iter_secrets(self, namespace: str | None) -> Iterable[SecretInfo]:
        return [document.info() for document in self._index().values()]

    def _find(self, name: str, namespace: str | None) -> SecretInfo | None:
        document = self._index().get(name)
        return None if document is None else document.info()

    def _read_values(self, name: str, namespace: str | None) -> Mapping[str, bytes]:
        document = self._index().get(name)
        if document is None:
            raise SecretNotFound(
                f"secret {name!r} not found in {self.describe()}; check the name or create it"
            )
        return document.values()

    # -- writing

    @contextlib.contextmanager
    def _writing(self) -> Iterator[dict[str, _Document]]:
        """Create the store if needed, lock it for writing, remove stale temp files; yields the index."""
        self._ensure_directory()
        with self._locked(exclusive=True):
            for name in os.listdir(self.directory):
                if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                    _discard(self.directory / name)  # left by a killed writer: no writer is running now
            yield self._read_index()

    def _refuse_existing(self, names: list[str], index: Mapping[str, _Document]) -> None:
        existing = [name for name in names if name in index]
        if existing:
            where = str(index[existing[0]].path) if len(existing) == 1 else self.describe()
            raise SecretExistsError(tuple(existing), where)

    def _plan(
        self, index: Mapping[str, _Document], put: Iterable[dict[str, Any]] = (), remove: str | None = None
    ) -> dict[Path, list[dict[str, Any]]]:
        """The new documents of every file a change touches (an empty list: delete the file)."""
        files: dict[Path, list[dict[str, Any]]] = {}

        def documents_of(path: Path) -> list[dict[str, Any]]:
            return files.setdefault(path, [doc.raw for doc in index.values() if doc.path == path])

        for manifest in put:
            name = manifest["metadata"]["name"]
            if name in index:
                documents = documents_of(index[name].path)
                documents[:] = [manifest if raw["metadata"]["name"] == name else raw for raw in documents]
            else:
                files[self._free_path(name, files)] = [manifest]
        if remove is not None:
            documents = documents_of(index[remove].path)
            documents[:] = [raw for raw in documents if raw["metadata"]["name"] != remove]
        return files

    def _free_path(self, name: str, taken: Mapping[Path, Any]) -> Path:
        """``<name>.yaml``, or ``<name>.<n>.yaml`` when a hand-written file already uses that path."""
        path, number = self.directory / f"{name}.yaml", 1
        while path in taken or os.path.lexists(path):
            number += 1
            path = self.directory / f"{name}.{number}.yaml"
        return path

    def _commit(self, files: Mapping[Path, list[dict[str, Any]]]) -> None:
        """Write every file in a temp file first, then rename them all into place; all or nothing."""
        yaml = _yaml()
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        temps: dict[Path, str] = {}
        renaming, path = False, self.directory
        try:
            for path, documents in files.items():
                if documents:
                    descriptor, temps[path] = tempfile.mkstemp(TEMP_SUFFIX, TEMP_PREFIX, self.directory)
                    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                        os.fchmod(descriptor, 0o600)
                        yaml.dump_all(documents, handle, Dumper=dumper, sort_keys=False)
                        handle.flush()
                        os.fsync(descriptor)
            renaming = True
            for path, documents in files.items():
                if documents:
                    os.replace(temps.pop(path), path)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
        except OSError as error:
            outcome = "the store may be partly changed" if renaming else "the store was not changed"
            raise StoreWriteError(f"cannot write {path}: {error.strerror}; {outcome}") from None
        finally:
            for temp in temps.values():
                _discard(Path(temp))
        # Make the renames durable; some file systems cannot sync a directory.
        with contextlib.suppress(OSError):
            directory = os.open(self.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _put(self, manifests: list[dict[str, Any]], *, replace: bool) -> list[SecretInfo]:
        """Write ``manifests`` in one change (refusing existing names unless ``replace``); their infos."""
        names = [manifest["metadata"]["name"] for manifest in manifests]
        with self._writing() as index:
            if not replace:
                self._refuse_existing(names, index)
            files = self._plan(index, put=manifests)
            self._commit(files)
            written = {
                raw["metadata"]["name"]: _Document(path, position, raw, _modified(path.stat())).info()
                for path, documents in files.items()
                for position, raw in enumerate(documents)
            }
        return [written[name] for name in names]

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

        An existing secret of that name is replaced only with ``replace=True`` (else SecretExistsError).
        """
        manifest = _manifest(name, values, type=type, labels=labels, namespace=namespace)
        return self._put([manifest], replace=replace)[0]

    def add_from_prompt(
        self,
        name: str,
        keys: Iterable[str],
        *,
        prompt: Callable[[str], str] = getpass.getpass,
        **options: Any,
    ) -> SecretInfo:
        """Ask for each key's value with a hidden prompt (getpass), then :meth:`add` the secret.

        Everything that can be checked is checked before the first prompt; end of input (Ctrl-D) at a
        prompt raises PromptCancelled and stores nothing.
        """
        keys = list(keys)
        _check_name(name)
        _check_keys(keys)
        if not keys:
            raise InvalidSecretKeyError(f"give at least one key name for secret {name!r}")
        index = self._index()  # checks the directory and its files too
        if not options.get("replace"):
            self._refuse_existing([name], index)
        values = {}
        for key in keys:
            try:
                values[key] = prompt(f"Value of {key!r} for secret {name!r} (hidden): ")
            except EOFError:
                raise PromptCancelled(
                    f"cancelled: no value given for key {key!r} of secret {name!r}; nothing was stored"
                ) from None
        return self.add(name, values, **options)

    def import_manifest(self, path: str | os.PathLike[str], *, replace: bool = False) -> list[SecretInfo]:
        """Copy every Secret of a manifest file (one or more documents) into the store, all or nothing."""
        documents = parse_manifests(Path(path))
        if not documents:
            raise StoreFormatError(f"{path}: holds no Secret manifest; nothing to import")
        first: dict[str, int] = {}
        for document in documents:
            if document.name in first:
                raise StoreFormatError(
                    f"{path}: secret {document.name!r} is defined twice (documents {first[document.name]} and"
                    f" {document.index + 1}); keep one"
                )
            first[document.name] = document.index + 1
        manifests = []
        for document in documents:
            info = document.info()
            manifests.append(_manifest(info.name, document.values(), type=info.type, labels=info.labels,
                                       namespace=info.namespace))
        return self._put(manifests, replace=replace)

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
        if self._directory_exists():
            with self._writing() as index:
                if name in index:
                    self._commit(self._plan(index, remove=name))
                    return
        raise SecretNotFound(f"secret {name!r} not found in {self.describe()}; nothing to remove")


def _manifest(
    name: str,
    values: Mapping[str, str | bytes],
    *,
    type: str,
    labels: Mapping[str, Any] | None,
    namespace: str | None,
) -> dict[str, Any]:
    """A checked Secret manifest with every value base64-encoded under ``data``."""
    _check_name(name)
    _check_keys(values)
    label_texts = [text for item in (labels or {}).items() for text in item]
    if not isinstance(type, str) or not all(isinstance(text, str) for text in label_texts):
        raise InvalidValueError(f"the type and the labels of secret {name!r} must be text")
    encoded = {key: base64.b64encode(_as_bytes(value, name, key)).decode() for key, value in values.items()}
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": type, "data": encoded}
