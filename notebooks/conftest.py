"""nbval of the example notebooks on every supported kfp release (and Python version).

The committed outputs carry the kfp version: compiled IR has `sdkVersion: kfp-X.Y.Z` and, in each
lightweight component, a `pip install ... 'kfp==X.Y.Z'` line, also inside JSON MIME payloads, which
nbval compares as data and sanitizes only where they are text. Here every string of a JSON output,
keys and values at any depth, goes through the same `sanitize.cfg` patterns as text outputs do, and
each string under a key naming a version (`sdkVersion`, `kfp_version`, `versions`, ...) has its
version numbers replaced. A string that is base64 of gzip data (a compressed IR in a payload) is
compared as its decompressed, sanitized text. So nothing depends on where in today's payload a
version sits.

Notebooks that start the Kubernetes emulator (kmock, which needs Python >= 3.11) are skipped,
with the reason, where kmock is not installed.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import importlib.util
import re
import zlib

import pytest
from nbval.plugin import IPyNbCell

VERSION_KEY = re.compile(r"version", re.IGNORECASE)
VERSION_NUMBER = re.compile(r"\bv?\d+(?:\.\d+)+[\w.+-]*")
EMULATOR_USE = re.compile(r"\b(?:kube_emulator|kmock)\b")
NO_EMULATOR = (None if importlib.util.find_spec("kmock")
               else "uses kmock, the Kubernetes emulator (Python >= 3.11)")

GZIP_BASE64 = "H4sI"  # how base64 of gzip's magic bytes 1f 8b 08 begins
_sanitize_text = IPyNbCell.sanitize


def _decompressed(value: str) -> str:
    """The text inside base64 of gzip data, or ``value`` itself."""
    if not value.startswith(GZIP_BASE64):
        return value
    try:
        return "gzip:" + gzip.decompress(base64.b64decode(value, validate=True)).decode()
    except (binascii.Error, OSError, EOFError, zlib.error, UnicodeDecodeError):
        return value


def _sanitize(cell: IPyNbCell, value, versioned: bool = False):
    """nbval's text sanitizing, applied through JSON data too."""
    if isinstance(value, dict):
        return {_sanitize(cell, key): _sanitize(cell, item, versioned or bool(VERSION_KEY.search(str(key))))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_sanitize(cell, item, versioned) for item in value]
    if isinstance(value, str):
        value = _sanitize_text(cell, _decompressed(value))
        return VERSION_NUMBER.sub("<VERSION>", value) if versioned else value
    return value


IPyNbCell.sanitize = _sanitize


def pytest_collection_modifyitems(config, items):
    if not NO_EMULATOR:
        return
    uses_emulator: dict = {}
    for item in items:
        if isinstance(item, IPyNbCell):
            path = item.path
            if path not in uses_emulator:
                uses_emulator[path] = bool(EMULATOR_USE.search(path.read_text()))
            if uses_emulator[path]:
                item.add_marker(pytest.mark.skip(reason=NO_EMULATOR))
