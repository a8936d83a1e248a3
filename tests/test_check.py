"""The pre-run secret check: resolution for a run's arguments, verification in a source, display."""

import pytest
import yaml
from kfp import dsl, kubernetes
from kube_emulator import kubeconfig, silent_server
from pipelines import consume, nested, twice

from kfp_nbsecrets import check
from kfp_nbsecrets.sources.kube import KubernetesSource
from kfp_nbsecrets.sources.memory import MemorySource

ALL = {"literal-creds": {"password": "p"}, "a-one": {"x": "1"}, "b-two": {"x": "2"},
       "db-creds": {"user": "u", "token": "t"}, "regcred": {".dockerconfigjson": "{}"}}
TYPES = {"regcred": "kubernetes.io/dockerconfigjson"}


def memory(secrets=ALL):
    return MemorySource(secrets, types=TYPES, namespace="team-a")


def by_name(result):
    return {(item.task, item.name): item for item in result.items}


def test_nested_pipeline_all_resolved_with_defaults_and_loop_items():
    source = memory({k: v for k, v in ALL.items() if k != "literal-creds"})
    result = check.check_run(nested(), source=source)
    assert result.ok, result.problems()
    items = by_name(result)
    assert items[("consume", "literal-creds")].status == check.MISSING_OPTIONAL
    loop = [item for item in result.items if item.kind == "volume" and item.name in ("a-one", "b-two")]
    assert sorted(i.name for i in loop) == ["a-one", "b-two"]
    assert all(i.origin.startswith("loop item of default of names") for i in loop)
    inner = [item for item in result.items if item.task.endswith("inner/consume")]
    assert inner[0].name == "db-creds" and inner[0].origin == "default of secret_name"
    runtime = [item for item in result.items if item.status == check.RUNTIME]
    assert len(runtime) == 1 and "tasks.produce" in runtime[0].origin


def test_arguments_override_defaults_and_bad_volume_names_are_reported():
    result = check.check_run(nested(), {"names": ["a-one", "team.creds"], "secret_name": "db-creds"},
                             source=memory())
    assert not result.ok
    text = " ".join(result.problems())
    assert "'team.creds' cannot be mounted" in text
    assert "a-one" not in text


def test_missing_secret_lists_close_matches_and_missing_keys():
    secrets = dict(ALL)
    secrets["db-cred"] = secrets.pop("db-creds")
    result = check.check_run(nested(), source=memory(secrets))
    problems = result.problems()
    assert any("secret 'db-creds'" in p and "did you mean 'db-cred'" in p for p in problems)
    result = check.check_run(nested(), source=memory({**ALL, "db-creds": {"user": "u"}}))
    assert any("has no key(s) ['token']" in p for p in result.problems())
    with pytest.raises(check.PreRunCheckError, match="pre-run secret check failed.*--no-check"):
        result.raise_for_problems()


def test_empty_null_and_non_string_names():
    result = check.check_run(nested(), {"secret_name": ""}, source=memory())
    assert any("must be a non-empty string" in p for p in result.problems())
    result = check.check_run(nested(), {"secret_name": None}, source=memory())
    assert result.ok
    assert sum(item.status == check.SKIPPED for item in result.items) == 2
    result = check.check_run(nested(), {"names": "not json"}, source=memory())
    assert any("not a list of secret names" in p for p in result.problems())


def test_raw_loop_items_and_unknown_arguments():
    result = check.check_run(twice(), {"secret_nam": "x"}, source=memory())
    items = [item for item in result.items if item.kind == "env"]
    assert sorted(item.name for item in items) == ["a-one", "b-two"]
    assert any("missing key" in p or "has no key(s) ['k']" in p for p in result.problems())
    assert result.general == ["argument 'secret_nam' is not a parameter of the pipeline"
                              " (did you mean 'secret_name'?)"]


def test_parameter_without_default_needs_an_argument():
    @dsl.pipeline(name="needs-arg")
    def needs_arg(secret_name: str):
        task = consume(text="x")
        kubernetes.use_secret_as_env(task, secret_name, {"user": "USER"})

    result = check.check_run(needs_arg, source=memory())
    assert any("no default and no argument; pass --arg secret_name=NAME" in p for p in result.problems())
    assert check.check_run(needs_arg, {"secret_name": "db-creds"}, source=memory()).ok


def test_same_secret_mounted_twice_in_one_task_is_fine():
    """Argo merges the two pod volumes of one name into one, mounted at both paths."""
    @dsl.pipeline(name="twice-mounted")
    def twice_mounted(first: str = "db-creds", second: str = "db-creds"):
        task = consume(text="x")
        kubernetes.use_secret_as_volume(task, first, "/a")
        kubernetes.use_secret_as_volume(task, second, "/b")

    assert check.check_run(twice_mounted, source=memory()).ok


def pulling(*names):
    @dsl.pipeline(name="pulling")
    def pulling_pipeline(registry: str = "regcred"):
        kubernetes.set_image_pull_secrets(consume(text="x"), [*names, registry])
    return pulling_pipeline


def test_image_pull_secrets_exist_and_are_docker_config_secrets():
    config = {".dockerconfigjson": '{"auths": {}}'}
    source = MemorySource({"regcred": config, "legacy": {".dockercfg": "{}"}, "opaque": {"x": "1"},
                           "empty-docker": {"other": "1"}},
                          types={"regcred": "kubernetes.io/dockerconfigjson",
                                 "legacy": "kubernetes.io/dockercfg",
                                 "empty-docker": "kubernetes.io/dockerconfigjson"})
    result = check.check_run(pulling("legacy"), source=source)
    assert result.ok, result.problems()
    assert {(item.kind, item.name) for item in result.items} == {("image-pull", "regcred"),
                                                                  ("image-pull", "legacy")}
    result = check.check_run(pulling("opaque", "empty-docker", "Bad_Name"), {"registry": "regcrd"},
                             source=source)
    problems = " ".join(result.problems())
    assert "of type 'Opaque'" in problems and "kubernetes.io/dockerconfigjson" in problems
    assert "has no '.dockerconfigjson' key" in problems
    assert "image pull secret name 'Bad_Name'" in problems
    assert "secret 'regcrd' (argument registry) not found" in problems
    assert "did you mean 'regcred'" in problems


def test_coerce_arguments_by_declared_type():
    @dsl.pipeline(name="typed")
    def typed(s: str = "a", i: int = 1, f: float = 1.0, b: bool = False, items: list = [],  # noqa: B006
              d: dict = {}):  # noqa: B006
        consume(text=s)

    raw = {"s": "123", "i": "7", "f": "0.5", "b": "true", "items": '["x"]', "d": '{"k": 1}'}
    assert check.coerce_arguments(typed, raw) == {"s": "123", "i": 7, "f": 0.5, "b": True, "items": ["x"],
                                                  "d": {"k": 1}}
    with pytest.raises(ValueError, match="not a valid NUMBER_INTEGER"):
        check.coerce_arguments(typed, {"i": "x"})
    with pytest.raises(ValueError, match="did you mean 'items'"):
        check.coerce_arguments(typed, {"itemz": "[]"})


def test_display_is_deterministic_escaped_text_and_html():
    result = check.check_run(nested(), {"secret_name": "<b>x</b>"}, source=memory())
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert "Pre-run secret check of 'nested'" in bundle["text/plain"]
    assert "<b>x</b>" not in bundle["text/html"] and "&lt;b&gt;x&lt;/b&gt;" in bundle["text/html"]
    assert result.to_json()["ok"] is False
    first, second = (check.check_run(nested(), source=memory()) for _ in range(2))
    assert repr(first) == repr(second)


def test_kubernetes_source_in_target_namespace_without_leaking_values(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(emulator.write_kubeconfig(tmp_path, namespace="team-a")))
    canary = "CANARY-VALUE-8c1f"
    for name, keys in ALL.items():
        emulator.add_secret(name, "team-b", {key: canary for key in keys}, type=TYPES.get(name, "Opaque"))
    emulator.add_secret("db-creds", "team-a", {"user": canary})
    source = KubernetesSource(timeout=5)
    result = check.check_run(nested(), source=source, namespace="team-b")
    assert result.ok, result.problems()
    assert "namespace 'team-b'" in result.where
    result = check.check_run(nested(), source=source)
    assert not result.ok and "namespace 'team-a'" in result.where
    assert canary not in repr(result) + result._repr_mimebundle_()["text/html"] + str(result.to_json())


def test_unreachable_source_stops_the_check(tmp_path, monkeypatch):
    with silent_server("close") as (url, _):
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump(kubeconfig(url, "team-a", "dead")))
        monkeypatch.setenv("KUBECONFIG", str(path))
        with pytest.raises(check.CheckUnavailable, match="cannot run the pre-run secret check.*--no-check"):
            check.check_run(nested(), source=KubernetesSource(timeout=2))
