"""Lint findings on compiled IR, including IR that the attach functions would never write."""

import pytest
from pipelines import lintable, nested

from kfp_nbsecrets import ir, lint

LITERAL = {"runtimeValue": {"constant": "db-creds"}}


def env_entry(name=LITERAL, key="password", env="DB_PASSWORD", **extra):
    return {"keyToEnv": [{"secretKey": key, "envVar": env}], "secretNameParameter": name, **extra}


def volume_entry(name=LITERAL, path="/secrets/db", **extra):
    return {"mountPath": path, "secretNameParameter": name, **extra}


def codes_for(config: dict, caching: bool = False, default: str | None = None) -> list[str]:
    compiled = ir.load(lintable())
    compiled.kubernetes_executors()["exec-consume"] = config
    task = compiled.pipeline_spec["root"]["dag"]["tasks"]["consume"]
    task["cachingOptions"] = {"enableCache": True} if caching else {}
    if default is not None:
        parameters = compiled.pipeline_spec["root"]["inputDefinitions"]["parameters"]
        parameters["secret_name"]["defaultValue"] = default
    findings = lint.lint(compiled)
    assert all(f.task == "consume" and f.message and f.fix for f in findings)
    assert all(f.severity == lint.CODES[f.code] for f in findings)
    return sorted(f.code for f in findings)


def output(task, key="Output"):
    return {"taskOutputParameter": {"producerTask": task, "outputParameterKey": key}}


@pytest.mark.parametrize("config, codes", [
    ({"secretAsEnv": [env_entry()]}, []),
    ({"secretAsEnv": [{"keyToEnv": [{"secretKey": "k", "envVar": "K"}]}]}, ["no-name"]),
    ({"secretAsEnv": [env_entry({"runtimeValue": {"constant": "{{secret_name}}"}})]}, ["template-literal"]),
    ({"secretAsEnv": [env_entry({"runtimeValue": {"constant": "{{channel:task=;name=s;type=String;}}"}})]},
     ["template-literal"]),
    ({"secretAsEnv": [env_entry({"runtimeValue": {"constant": "DB_creds"}})]}, ["invalid-name"]),
    ({"secretAsVolume": [volume_entry({"runtimeValue": {"constant": "db.creds"}})]}, ["invalid-name"]),
    ({"secretAsEnv": [env_entry({"runtimeValue": {"constant": 5}})]}, ["non-string-name"]),
    ({"secretAsEnv": [env_entry({"componentInputParameter": "nope"})]}, ["missing-input"]),
    ({"secretAsEnv": [env_entry({"componentInputParameter": "retries"})]}, ["non-string-name"]),
    ({"secretAsEnv": [env_entry(output("ghost"))]}, ["missing-producer"]),
    ({"secretAsEnv": [env_entry(output("produce", "nope"))]}, ["missing-output"]),
    ({"secretAsEnv": [env_entry(output("count"))]}, ["non-string-name"]),
    ({"secretAsEnv": [env_entry(output("consume"))]}, ["self-output"]),
    ({"secretAsEnv": [{"keyToEnv": [], "secretNameParameter": LITERAL}]}, ["empty-env"]),
    ({"secretAsEnv": [env_entry(key="bad key")]}, ["invalid-key"]),
    ({"secretAsEnv": [env_entry(env="BAD=X")]}, ["invalid-env"]),
    ({"secretAsEnv": [env_entry(env="1BAD")]}, ["env-name-version"]),
    ({"secretAsEnv": [env_entry(env="MY VAR")]}, ["env-name-version"]),
    ({"secretAsEnv": [env_entry(), env_entry({"runtimeValue": {"constant": "other"}})]}, ["env-override"]),
    ({"secretAsEnv": [env_entry()], "fieldPathAsEnv": [{"name": "DB_PASSWORD"}]}, ["env-clash"]),
    ({"secretAsEnv": [env_entry(env="KFP_POD_NAME")]}, ["env-clash"]),
    ({"configMapAsEnv": [{"keyToEnv": [{"configMapKey": "k", "envVar": "DB_PASSWORD"}],
                          "configMapNameParameter": LITERAL}], "secretAsEnv": [env_entry()]}, ["env-clash"]),
    ({"secretAsVolume": [volume_entry(path="secrets")]}, ["mount-path"]),
    ({"secretAsVolume": [volume_entry(path="/a/../secrets")]}, ["mount-path"]),
    ({"secretAsVolume": [volume_entry(path="/c:/x")]}, ["mount-path"]),
    ({"secretAsVolume": [volume_entry(path="/")]}, ["invalid-mount"]),
    ({"secretAsVolume": [volume_entry(path="")]}, ["invalid-mount"]),
    ({"secretAsVolume": [volume_entry(path="/kfp-launcher/")]}, ["invalid-mount"]),
    ({"secretAsVolume": [volume_entry()], "pvcMount": [{"mountPath": "/secrets/db/", "constant": "p"}]},
     ["mount-clash"]),
    ({"secretAsVolume": [volume_entry(), volume_entry(path="/b")]}, []),
    ({"secretAsVolume": [volume_entry()], "pvcMount": [{"mountPath": "/p", "constant": "db-creds"}]},
     ["volume-clash"]),
    ({"secretAsVolume": [volume_entry({"componentInputParameter": "secret_name"})],
      "configMapAsVolume": [{"mountPath": "/c",
                             "configMapNameParameter": {"componentInputParameter": "secret_name"}}]},
     ["volume-clash"]),
    ({"emptyDirMounts": [{"volumeName": "kfp-launcher", "mountPath": "/x"}]}, []),
    ({"genericEphemeralVolume": [{"volumeName": "kfp-launcher", "mountPath": "/x"}]}, ["volume-clash"]),
    ({"emptyDirMounts": [{"volumeName": "Scratch", "mountPath": "/x"}]}, ["invalid-name"]),
    ({"pvcMount": [{"mountPath": "/p", "pvcNameParameter": {"runtimeValue": {"constant": "data.v1"}}}]},
     ["invalid-name"]),
    ({"configMapAsVolume": [{"mountPath": "/p", "configMapName": "Cfg"}]}, ["invalid-name"]),
    ({"imagePullSecret": [{"secretName": "Registry_Creds"}]}, ["invalid-pull-secret"]),
    ({"imagePullSecret": [{"secretNameParameter": {"componentInputParameter": "secret_name"}}]}, []),
    ({"secretAsEnv": [{"keyToEnv": [{"secretKey": "k", "envVar": "K"}], "secretName": "db-creds"}]},
     ["deprecated-secret-name"]),
])
def test_each_finding(config, codes):
    assert codes_for(config) == codes


def test_cache_hazard_only_for_parameterized_names_on_cached_tasks():
    param = env_entry({"componentInputParameter": "secret_name"})
    assert codes_for({"secretAsEnv": [param]}, caching=True) == ["cache-hazard"]
    assert codes_for({"secretAsEnv": [param]}, caching=False) == []
    assert codes_for({"secretAsEnv": [env_entry()]}, caching=True) == []


def test_invalid_default_of_the_secret_parameter():
    param = env_entry({"componentInputParameter": "secret_name"})
    assert codes_for({"secretAsEnv": [param]}, default="DB_Creds") == ["invalid-default"]


def test_env_clash_with_set_env_variable():
    compiled = ir.load(lintable())
    compiled.executor_spec("exec-consume")["container"]["env"] = [{"name": "DB_PASSWORD", "value": "x"}]
    compiled.kubernetes_executors()["exec-consume"] = {"secretAsEnv": [env_entry()]}
    (finding,) = lint.lint(compiled)
    assert finding.code == "env-clash" and "set_env_variable" in finding.message


def test_value_not_passed_into_a_nested_dag_is_unresolved():
    compiled = ir.load(nested())
    branches = compiled.pipeline_spec["components"]["comp-condition-branches-3"]
    del branches["dag"]["tasks"]["condition-4"]["inputs"]["parameters"]["pipelinechannel--secret_name"]
    findings = [f for f in lint.lint(compiled) if f.severity == lint.ERROR]
    assert [(f.code, f.task) for f in findings] == [
        ("unresolved", "exit-handler-1/condition-branches-3/condition-4/consume-4")]
    assert lint.has_errors(findings)


def test_nested_pipeline_from_kfp_kubernetes_has_only_cache_warnings():
    findings = lint.lint(nested())
    assert {f.code for f in findings} == {"cache-hazard"}
    assert not lint.has_errors(findings)
    assert str(findings[0]).startswith("warning: exit-handler-1/")
