"""The prebuilt JupyterLab extension committed in kfp_nbsecrets/labextension: complete, loadable,
and built from the current sources (no node needed to check)."""

import hashlib
import json
from pathlib import Path

from kfp_nbsecrets._labextension import _jupyter_labextension_paths
from kfp_nbsecrets.display import IR_MIME_TYPE

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "labextension"
BUILT = ROOT / "kfp_nbsecrets" / "labextension"
REBUILD = "cd labextension && npm ci && npm run build:prod"


def source_digest() -> str:
    """As labextension/scripts/source-hash.mjs computes it."""
    files = [p for folder in ("src", "style") for p in (SOURCE / folder).rglob("*") if p.is_file()]
    files += [SOURCE / "package.json", SOURCE / "package-lock.json", SOURCE / "webpack.config.js"]
    digest = hashlib.sha256()
    for name in sorted(p.relative_to(SOURCE).as_posix() for p in files):
        content = hashlib.sha256((SOURCE / name).read_bytes()).hexdigest()
        digest.update(f"{name}\0{content}\n".encode())
    return digest.hexdigest()


def test_labextension_paths():
    assert _jupyter_labextension_paths() == [{"src": "labextension", "dest": "kfp-nbsecrets"}]
    package = Path(__import__("kfp_nbsecrets").__file__).parent
    assert (package / "labextension" / "package.json").is_file()


def test_build_is_complete():
    meta = json.loads((BUILT / "package.json").read_text())
    assert meta["name"] == "kfp-nbsecrets"
    build = meta["jupyterlab"]["_build"]
    assert build["mimeExtension"] == "./mimeExtension"
    assert build["style"] == "./style"
    assert (BUILT / build["load"]).is_file(), f"{build['load']} is missing: {REBUILD}"
    assert (BUILT / "static" / "style.js").is_file()
    remote = list((BUILT / "static").glob("remoteEntry.*.js"))
    assert remote == [BUILT / build["load"]], f"stale remoteEntry files: {REBUILD}"
    install = json.loads((SOURCE / "install.json").read_text())
    assert install["packageName"] == "kfp-nbsecrets"


def test_mime_type_matches_python():
    source = (SOURCE / "src" / "types.ts").read_text()
    assert f"export const MIME_TYPE = '{IR_MIME_TYPE}';" in source
    # the type is in the shipped bundle, too
    assert any(IR_MIME_TYPE in p.read_text(errors="replace") for p in (BUILT / "static").glob("*.js"))


def test_build_matches_sources():
    recorded = (BUILT / "build-source.sha256").read_text().strip()
    assert recorded == source_digest(), f"the committed build is older than labextension/: {REBUILD}"
