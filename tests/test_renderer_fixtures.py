"""The renderer's test fixtures (labextension/test-fixtures/*.json, real payloads read by the
vitest suite) are what make_fixtures.py writes today: a payload change cannot leave them stale."""

import base64
import gzip
import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "labextension" / "test-fixtures"
SCHEMA = json.loads((ROOT / "kfp_nbsecrets" / "schemas" / "pipeline-ir.v1.schema.json").read_text())
REFRESH = ".venv/bin/python labextension/test-fixtures/make_fixtures.py"
# The kfp version that compiled the IR is the one thing that legitimately varies: it is the IR's
# sdkVersion and the kfp==X pip line of lightweight components.
SDK_VERSION = re.compile(r'"sdkVersion": "kfp-[^"]*"')
KFP_PIN = re.compile(r"kfp==[0-9][0-9A-Za-z.+-]*")


def make_fixtures():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sanitized(path: Path) -> str:
    """The fixture with its IR decompressed (gzip bytes may differ between zlib builds) and the
    kfp version masked."""
    data = json.loads(path.read_text())
    data["irGzip"] = json.loads(gzip.decompress(base64.b64decode(data["irGzip"])))
    text = SDK_VERSION.sub('"sdkVersion": "kfp-<version>"', json.dumps(data, indent=1, sort_keys=True))
    return KFP_PIN.sub("kfp==<version>", text)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fixtures")
    return {path.name: path for path in make_fixtures().write(folder)}


def test_every_committed_fixture_is_generated(regenerated):
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(regenerated)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_fixture_is_current(regenerated, name):
    assert sanitized(FIXTURES / name) == sanitized(regenerated[name]), f"{name} is stale: run {REFRESH}"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_fixture_follows_the_payload_schema(name):
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads((FIXTURES / name).read_text()))
