"""Every bad input raises a one-line SecretBindingError and leaves the task exactly as it was."""

import copy
import warnings

import pytest
from kfp import dsl, kubernetes

import kfp_nbsecrets
from kfp_nbsecrets import (
    ChannelError,
    InvalidEnvError,
    InvalidMountError,
    InvalidSecretKeyError,
    InvalidSecretNameError,
    KubernetesWarning,
    NotATaskError,
    SecretBindingError,
)

IMAGE = "python:3.11"
env = kfp_nbsecrets.use_secret_as_env
volume = kfp_nbsecrets.use_secret_as_volume


@dsl.component(base_image=IMAGE)
def consume(x: str) -> str:
    return x


@dsl.component(base_image=IMAGE)
def make_number() -> int:
    return 1


def state(task):
    return (copy.deepcopy(task.platform_config), [c.pattern for c in task._channel_inputs],
            list(task.dependent_tasks), task._task_spec.enable_caching, dict(task.container_spec.env or {}))


def refused(task, call, error, *fragments):
    """Assert that ``call()`` raises ``error`` naming ``fragments`` and changes nothing on ``task``."""
    before = state(task)
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    assert isinstance(caught.value, SecretBindingError) and isinstance(caught.value, ValueError)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    assert state(task) == before
    return message


def warned(task, call, *fragments):
    """Assert that ``call()`` is accepted with one KubernetesWarning naming ``fragments``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    (warning,) = [w for w in caught if issubclass(w.category, KubernetesWarning)]
    message = str(warning.message)
    assert warning.filename == __file__, warning.filename  # attributed to the caller's line
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def in_pipeline(body):
    """Run ``body(task, params)`` while a pipeline is being defined; the task already has bindings."""
    @dsl.pipeline(name="p")
    def p(db_secret: str = "db", count: int = 1, ratio: float = 0.5, flag: bool = True,
          names: list = ["a"], config: dict = {"a": "b"}, rows: list = [{"secret": "a"}]):
        task = consume(x="a")
        kfp_nbsecrets.use_secret_as_env(task, db_secret, {"user": "DB_USER"})
        kfp_nbsecrets.use_secret_as_volume(task, "tls", "/etc/tls")
        body(task, dict(db_secret=db_secret, count=count, ratio=ratio, flag=flag, names=names,
                        config=config, rows=rows))
    return p


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("Db_Creds", "'db-creds'"), ("-db", "'db'"), ("db..creds", "not a valid Kubernetes name"),
     ("a" * 254, "254 characters; the limit is 253"), ("", "empty")],
)
def test_literal_name_must_be_a_dns_subdomain(name, fragment):
    in_pipeline(lambda t, _: refused(t, lambda: env(t, name, {"k": "K"}), InvalidSecretNameError, fragment))


@pytest.mark.parametrize(("name", "fragment"), [("db.creds", "'db.creds'"),
                                                ("a" * 64, "64 characters; the limit is 63")])
def test_volume_name_must_be_a_dns_label(name, fragment):
    in_pipeline(lambda t, _: refused(
        t, lambda: volume(t, name, "/etc/x"), InvalidSecretNameError, fragment, "DNS-1123 label"))


@pytest.mark.parametrize("length", [254, 100_000])
def test_a_long_value_is_quoted_short_once_with_its_length(length):
    def body(t, _):
        message = refused(t, lambda: env(t, "a" * length, {"k": "K"}), InvalidSecretNameError,
                          f"{length} characters; the limit is 253")
        assert len(message) < 300 and "a" * 61 not in message
    in_pipeline(body)


def test_dotted_name_is_fine_as_env():
    in_pipeline(lambda t, _: env(t, "db.creds", {"k": "K"}))


def test_same_literal_secret_mounted_twice_is_one_volume_at_two_paths():
    """Argo merges the two pod volumes of one name: Kubernetes mounts the one volume at both paths."""
    def body(t, _):
        volume(t, "tls", "/etc/other")
        assert [e["mountPath"] for e in t.platform_config["kubernetes"]["secretAsVolume"]] == [
            "/etc/tls", "/etc/other"]
    in_pipeline(body)


def test_same_parameter_secret_mounted_twice_is_accepted():
    def body(t, params):
        volume(t, params["db_secret"], "/etc/db")
        volume(t, params["db_secret"], "/etc/db2")
    in_pipeline(body)


@pytest.mark.parametrize(
    ("mount", "kind"),
    [
        (lambda t: kubernetes.mount_pvc(t, pvc_name="data", mount_path="/data"), "PVC 'data'"),
        (lambda t: kubernetes.use_config_map_as_volume(t, "cfg", mount_path="/data"), "ConfigMap 'cfg'"),
        (lambda t: kubernetes.empty_dir_mount(t, volume_name="tmp", mount_path="/data"), "emptyDir 'tmp'"),
        (lambda t: volume(t, "other", "/data/"), "secret 'other'"),
    ],
)
def test_mount_path_already_used_warns(mount, kind):
    def body(t, _):
        mount(t)
        warned(t, lambda: volume(t, "creds", "/data"), "'/data'", kind, "secret 'creds'", "only the last one")
    in_pipeline(body)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("data", "PVC"), ("cfg", "ConfigMap")],
)
def test_one_pod_volume_name_for_two_kinds_is_refused(name, kind):
    def body(t, _):
        if kind == "PVC":
            kubernetes.mount_pvc(t, pvc_name=name, mount_path="/data")
        else:
            kubernetes.use_config_map_as_volume(t, name, mount_path="/data")
        refused(t, lambda: volume(t, name, "/etc/s"), InvalidMountError, f"pod volume {name!r}",
                "two sources",
                f"{kind} {name!r}", f"secret {name!r}")
    in_pipeline(body)


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("", "non-empty"), (None, "non-empty"), ("/", "container's root"), ("//", "container's root"),
     ("/etc/..", "container's root"), ("/kfp-launcher", "KFP launcher")],
)
def test_mount_path_no_container_can_have(path, fragment):
    in_pipeline(lambda t, _: refused(t, lambda: volume(t, "creds", path), InvalidMountError, fragment))


@pytest.mark.parametrize(
    ("path", "fragments"),
    [("etc/db", ("relative", "'/etc/db'")), ("/etc/../root", ("mounted at '/root'",)),
     ("/data:ro", ("':'", "mountPath"))],
)
def test_mount_path_kubernetes_accepts_with_a_caveat(path, fragments):
    in_pipeline(lambda t, _: warned(t, lambda: volume(t, "creds", path), *fragments))


@pytest.mark.parametrize("name", ["DB=X", "", "DB\tX", "PASS\u00e9"])
def test_env_name_every_kubernetes_rejects(name):
    in_pipeline(lambda t, _: refused(
        t, lambda: env(t, "creds", {"password": name}), InvalidEnvError, repr(name)))


@pytest.mark.parametrize("name", ["1PASSWORD", "DB PASSWORD", "db:password"])
def test_relaxed_env_name_warns_with_the_versions(name):
    in_pipeline(lambda t, _: warned(
        t, lambda: env(t, "creds", {"password": name}), repr(name), "1.30", "1.32", "1.34"))


def test_same_env_twice_in_one_mapping_keeps_the_last():
    in_pipeline(lambda t, _: warned(
        t, lambda: env(t, "creds", {"user": "X", "password": "X"}), "'X'", "'user'", "'password'",
        "keeps the last one"))


def test_same_env_from_two_secrets_keeps_the_last():
    in_pipeline(lambda t, _: warned(
        t, lambda: env(t, "other", {"login": "DB_USER"}), "'DB_USER'", "secret 'other' key 'login'",
        "keeps the last one"))


@pytest.mark.parametrize(
    ("set_env", "origin"),
    [
        (lambda t: t.set_env_variable("MODE", "x"), "set_env_variable"),
        (lambda t: kubernetes.use_config_map_as_env(t, "cfg", {"mode": "MODE"}),
         "ConfigMap 'cfg' key 'mode'"),
        (lambda t: kubernetes.use_field_path_as_env(t, "MODE", "metadata.name"),
         "field path 'metadata.name'"),
    ],
)
def test_env_from_another_kind_of_source_is_refused(set_env, origin):
    def body(t, _):
        set_env(t)
        refused(t, lambda: env(t, "creds", {"mode": "MODE"}), InvalidEnvError, "'MODE'", origin, "two kinds")
    in_pipeline(body)


def test_env_of_the_kfp_backend_is_refused():
    in_pipeline(lambda t, _: refused(t, lambda: env(t, "creds", {"pod": "KFP_POD_NAME"}), InvalidEnvError,
                                     "'KFP_POD_NAME'", "the KFP backend"))


@pytest.mark.parametrize("key", ["pass word", "..secret", ".", "a/b", 3])
def test_secret_key_kubernetes_rejects(key):
    in_pipeline(lambda t, _: refused(
        t, lambda: env(t, "creds", {key: "PASSWORD"}), InvalidSecretKeyError, repr(key)))


@pytest.mark.parametrize("mapping", [{}, None, ["password"]])
def test_mapping_must_be_a_non_empty_dict(mapping):
    in_pipeline(lambda t, _: refused(
        t, lambda: env(t, "creds", mapping), InvalidEnvError, "secret_key_to_env"))


def test_f_string_with_a_channel_is_refused():
    in_pipeline(lambda t, p: refused(
        t, lambda: env(t, f"{p['db_secret']}-db", {"k": "K"}), ChannelError,
        "embeds a pipeline parameter", "a parameter that holds the full secret name", "component"))


@pytest.mark.parametrize("param", ["count", "ratio", "flag", "names", "config"])
def test_non_string_parameter_is_refused(param):
    in_pipeline(lambda t, p: refused(
        t, lambda: env(t, p[param], {"k": "K"}), ChannelError, f"parameter {param!r}", "must be a string"))


def test_non_string_task_output_is_refused():
    def body(t, _):
        number = make_number()
        refused(t, lambda: volume(t, number.output, "/etc/n"), ChannelError, "Integer")
    in_pipeline(body)


def test_dict_loop_item_field_is_refused_with_the_working_alternative():
    def body(t, p):
        with dsl.ParallelFor(p["rows"]) as row:
            inner = consume(x="b")
            refused(inner, lambda: env(inner, row.secret, {"k": "K"}), ChannelError,
                    "field 'secret'", "loop over a list of the secret names",
                    "returns item['secret'] and use that task's output")
    in_pipeline(body)


@pytest.mark.parametrize("bad", [None, "consume", 42])
def test_not_a_task(bad):
    with pytest.raises(NotATaskError, match="expected a pipeline task") as caught:
        env(bad, "creds", {"k": "K"})
    assert isinstance(caught.value, ValueError)


def test_sub_pipeline_task_is_refused():
    @dsl.pipeline(name="inner")
    def inner():
        consume(x="i")

    @dsl.pipeline(name="outer")
    def outer():
        sub = inner()
        with pytest.raises(NotATaskError, match="pipeline used as a component"):
            volume(sub, "creds", "/etc/c")
        assert sub.platform_config == {}


def test_optional_must_be_a_bool():
    in_pipeline(lambda t, _: refused(t, lambda: env(t, "creds", {"k": "K"}, optional="yes"),
                                     SecretBindingError, "optional must be True or False"))


def test_upstream_failure_rolls_back(monkeypatch):
    def boom(task, *args):
        task.platform_config["kubernetes"] = {"secretAsEnv": ["half-written"]}
        raise RuntimeError("upstream failed")

    def body(t, p):
        monkeypatch.setattr(kubernetes, "use_secret_as_env", boom)
        before = state(t)
        with pytest.raises(RuntimeError):
            env(t, p["db_secret"], {"password": "DB_PASSWORD"})
        assert state(t) == before
    in_pipeline(body)


def test_a_loop_task_output_cannot_name_a_secret_outside_its_loop():
    """kfp would fail at compile time with InvalidTopologyException; the binding is refused first."""
    problems = []

    @dsl.pipeline
    def pipe():
        with dsl.ParallelFor(["a", "b"]):
            made = consume(x="a")
            inside = consume(x="in")
            env(inside, made.output, {"k": "K"})  # the same loop: fine
        outside = consume(x="out")
        for name in (made.output, "{{tasks.consume.Output}}"):
            problems.append(refused(outside, lambda name=name: env(outside, name, {"k": "K"}), ChannelError,
                                    "runs in a dsl.ParallelFor", "move the task into that loop"))

    assert len(problems) == 2
