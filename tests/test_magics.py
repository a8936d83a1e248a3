"""%kfp_secret through a real in-process IPython shell."""

import json
import subprocess
import sys
import textwrap
from unittest import mock

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from magic_shell import run_cell
from pipelines import nested

from kfp_nbsecrets import errors as kfp_nbsecrets_errors
from kfp_nbsecrets import sources
from kfp_nbsecrets.errors import KfpNbSecretsError

HEADER = '''
from kfp import dsl, compiler
from IPython.core.error import UsageError
from magic_shell import run_cell
from pipelines import nested

@dsl.component(base_image="python:3.11")
def consume(x: str) -> str:
    return x

@dsl.component(base_image="python:3.11")
def make_name() -> str:
    return "db-creds"
'''


def run(ip, code, header=False):
    """Run a cell (after the component definitions with ``header``); raise what it raised."""
    return run_cell(ip, (HEADER if header else "") + textwrap.dedent(code))


def executors(ip, tmp_path, pipeline="p"):
    path = tmp_path / "p.yaml"
    run(ip, f"compiler.Compiler().compile({pipeline}, {str(path)!r})")
    spec, *platform = yaml.safe_load_all(path.read_text())
    kubernetes = platform[0]["platforms"]["kubernetes"] if platform else {"deploymentSpec": {"executors": {}}}
    return kubernetes["deploymentSpec"]["executors"], spec


def test_load_ext_does_not_import_kfp():
    code = ("import sys; from IPython.core.interactiveshell import InteractiveShell;"
            "InteractiveShell.instance().run_line_magic('load_ext', 'kfp_nbsecrets');"
            "print('kfp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_env_and_mount_inside_pipeline_bodies(ip, tmp_path):
    run(ip, header=True, code='''
    @dsl.pipeline
    def inner(creds: str):
        t = consume(x="i")
        %kfp_secret env t creds user=U

    @dsl.pipeline
    def p(db_secret: str = "db", flag: str = "on"):
        name = make_name()
        out = name.output
        t = consume(x="a")
        %kfp_secret env t {{db_secret}} user=DB_USER password=DB_PASSWORD
        %kfp_secret mount t {{tasks.make-name.Output}} /etc/n --optional
        %kfp_secret mount t tls-certs /etc/tls
        with dsl.If(flag == "on"):
            with dsl.ParallelFor(["a-creds", "b-creds"]) as item:
                t2 = consume(x="b")
                %kfp_secret env t2 item user=U
                %kfp_secret mount t2 out /etc/out
                %kfp_secret env t2 db_secret password=P
        inner(creds=db_secret)
    ''')
    found, _ = executors(ip, tmp_path)
    top = found["exec-consume"]
    assert top["secretAsEnv"][0]["secretNameParameter"] == {"componentInputParameter": "db_secret"}
    assert [e["envVar"] for e in top["secretAsEnv"][0]["keyToEnv"]] == ["DB_USER", "DB_PASSWORD"]
    assert top["secretAsVolume"][0] == {"mountPath": "/etc/n", "optional": True, "secretNameParameter": {
        "taskOutputParameter": {"producerTask": "make-name", "outputParameterKey": "Output"}}}
    assert top["secretAsVolume"][1]["secretName"] == "tls-certs"
    names = {json.dumps(entry["secretNameParameter"], sort_keys=True)
             for config in found.values() for kind in ("secretAsEnv", "secretAsVolume")
             for entry in config.get(kind, [])}
    assert names >= {json.dumps(x, sort_keys=True) for x in [
        {"componentInputParameter": "pipelinechannel--loop-item-param-2"},  # loop item
        {"componentInputParameter": "pipelinechannel--make-name-Output"},  # task output threaded in
        {"componentInputParameter": "pipelinechannel--db_secret"},  # parameter threaded in
        {"componentInputParameter": "creds"},  # the sub-pipeline's own parameter
    ]}


BAD_LINES = [
    ("env t Db_Creds user=U", "'Db_Creds' is not a valid Kubernetes name"),
    ("mount t db.creds /etc/db", "DNS-1123 label"),
    ("mount t other /", "container's root"),
    ("mount t other /etc/..", "container's root"),
    ("env t creds user=X=Y", "'X=Y'"),
    ("env t creds user=EXISTING", "set_env_variable"),
    ("env t creds 'pass word=P'", "not a valid Kubernetes secret key"),
    ("env t creds user", "is not KEY=ENV"),
    ("env t creds", "the following arguments are required"),
    ("env t count user=U", "must be a string"),
    ("env t {{db_secrt}} user=U", "did you mean 'db_secret'"),
    ("env t {{tasks.nope.Output}} user=U", "unknown task 'nope'"),
    ("env t {db_secret} user=U", "single braces; write '{{db_secret}}'"),
    ("env t {{db_secret}-x user=U", "malformed"),
    ("env nope creds user=U", "no task variable 'nope'"),
    ("env count creds user=U", "not a task"),
    ("env t creds user=U --optonal", "unrecognized arguments"),
    ("evn t creds user=U", "did you mean 'env'"),
    ("env t 'unclosed user=U", "check the quotes"),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_bad_lines_inside_a_pipeline_are_one_line_usage_errors(ip, line, message):
    run(ip, header=True, code=f'''
    errors, states = [], []
    @dsl.pipeline
    def p(db_secret: str = "db", count: int = 1):
        t = consume(x="a")
        %kfp_secret mount t existing /etc/existing
        t.set_env_variable("EXISTING", "1")
        states.append(repr(t.platform_config))
        try:
            %kfp_secret {line}
        except UsageError as error:
            errors.append(error)
        states.append(repr(t.platform_config))
    ''')
    (error,) = ip.user_ns["errors"]
    assert message in str(error)
    assert "\n" not in str(error)
    before, after = ip.user_ns["states"]
    assert before == after


def test_env_outside_a_pipeline_points_to_bind(ip):
    with pytest.raises(UsageError, match="inside a @dsl.pipeline function; outside one, use %kfp_secret"):
        run(ip, "%kfp_secret env t creds user=U")


def test_list_keys_and_store(ip, tmp_path, monkeypatch):
    answers = iter(["s3cr3t-canary-1", "s3cr3t-canary-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run(ip, "%kfp_secret store add db-creds username password")
    manifest = tmp_path / "api.yaml"
    manifest.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: api-token}\nstringData: {token: x}\n")
    run(ip, f"%kfp_secret store import {manifest}")
    dotenv = tmp_path / "s3.env"
    dotenv.write_text("ACCESS_KEY=a\nSECRET_KEY=b\n")
    run(ip, f"%kfp_secret store import {dotenv} --name s3-creds")
    listing = run(ip, "%kfp_secret list --filter creds")
    assert [row[0] for row in listing.rows] == ["db-creds", "s3-creds"]
    assert listing.rows[0][2] == "password, username"
    keys = run(ip, "%kfp_secret keys s3-creds")
    assert [row[0] for row in keys.rows] == ["ACCESS_KEY", "SECRET_KEY"]
    run(ip, "%kfp_secret store rm api-token")
    shown = run(ip, "%kfp_secret store ls")
    assert [row[0] for row in shown.rows] == ["db-creds", "s3-creds"]
    bundle = shown._repr_mimebundle_()
    assert "canary" not in repr(bundle) and "canary" not in repr(listing._repr_mimebundle_())
    with pytest.raises(UsageError, match="give the secret's name with --name"):
        run(ip, f"%kfp_secret store import {dotenv}")
    with pytest.raises(UsageError, match="secret 'nope' not found"):
        run(ip, "%kfp_secret store rm nope")


def test_config_traits_reach_the_sources(ip):
    run(ip, "%config KfpSecretMagics.source = 'memory'")
    run(ip, "%config KfpSecretMagics.namespace = 'team-a'")
    settings_now = sources.current_settings()
    assert (settings_now.source, settings_now.namespace) == ("memory", "team-a")
    assert "in-memory" in repr(run(ip, "%kfp_secret list"))


def test_full_errors_shows_the_library_exception(ip):
    with pytest.raises(UsageError) as short:
        run(ip, "%kfp_secret keys nope")
    assert "not found" in str(short.value)
    run(ip, "%config KfpSecretMagics.full_errors = True")
    with pytest.raises(sources.SecretNotFound):
        run(ip, "%kfp_secret keys nope")


def test_help(ip, capsys):
    run(ip, "%kfp_secret help")
    out = capsys.readouterr().out
    for name in ("env", "mount", "list", "keys", "store", "help"):
        assert f"  {name} " in out
    run(ip, "%kfp_secret help mount")
    assert "usage: %kfp_secret mount" in capsys.readouterr().out
    run(ip, "%kfp_secret mount --help")
    assert "absolute mount path" in capsys.readouterr().out
    with pytest.raises(UsageError, match="did you mean 'mount'"):
        run(ip, "%kfp_secret help mout")
    assert "%kfp_secret env TASK SECRET KEY=ENV" in ip.find_line_magic("kfp_secret").__doc__


FUZZ_WORDS = ["env", "mount", "bind", "unbind", "bindings", "preview", "lint", "list", "keys", "check",
              "pick", "store", "add", "import", "rm", "ls", "help", "fuzzed", "consume", "exit-handler-1",
              "t", "db-creds", "{{secret_name}}", "{{x}}", "{{tasks.produce.Output}}", "{{tasks.a.b}}", "k=V",
              "=", "/secrets/x", "/", "..", "--env", "--mount", "--param", "--default", "--optional",
              "--keep-cache", "--source", "memory", "k8s", "--namespace", "--arg", "'", "\"", "-h", "{", "}"]
_fuzzed = nested()


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
       | st.lists(st.sampled_from(FUZZ_WORDS), max_size=9).map(" ".join))
def test_fuzzed_lines_raise_only_usage_or_package_errors_and_a_failing_line_changes_nothing(line):
    """With full errors on, anything but a UsageError or the package's own one-line error is a bug."""
    from IPython.core.interactiveshell import InteractiveShell

    from kfp_nbsecrets import ir

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kfp_nbsecrets")
    magics = shell.magics_manager.registry["KfpSecretMagics"]
    sources.configure(source="memory")
    shell.user_ns["fuzzed"] = _fuzzed
    before = ir.load(_fuzzed).documents()
    magics.full_errors = True
    try:
        with mock.patch("getpass.getpass", return_value="fuzz-value"):
            shell.run_line_magic("kfp_secret", line)
    except (UsageError, KfpNbSecretsError) as error:
        assert "\n" not in str(error).strip(), repr(error)
        assert ir.load(_fuzzed).documents() == before
    finally:
        magics.full_errors = False


PIPELINE = '''
@dsl.pipeline
def etl(region: str = "eu"):
    name = make_name()
    with dsl.ParallelFor(["a", "b"]):
        consume(x=region)
    consume(x="top")
'''


def test_bind_unbind_bindings_preview_lint(ip, tmp_path):
    run(ip, PIPELINE, header=True)
    table = run(ip, "%kfp_secret bind etl for-loop-2/consume {{region}} --env user=DB_USER password=DB_PASS")
    assert ("for-loop-2/consume", "{{region}}") == table.rows[0][:2]
    line = "%kfp_secret bind etl consume-2 db-creds --mount /etc/db --param db_secret --default dev-db"
    run(ip, line)
    run(ip, line)  # a re-executed cell changes nothing more
    found, spec = executors(ip, tmp_path, "etl")
    assert spec["root"]["inputDefinitions"]["parameters"]["db_secret"]["defaultValue"] == "dev-db"
    mounts = [e for config in found.values() for e in config.get("secretAsVolume", [])]
    assert mounts == [{"mountPath": "/etc/db", "optional": False,
                       "secretNameParameter": {"componentInputParameter": "db_secret"}}]
    assert len(run(ip, "%kfp_secret bindings etl")) == 2
    preview = run(ip, "%kfp_secret preview etl")
    assert "application/vnd.kfp-nbsecrets.pipeline-ir.v1+json" in preview._repr_mimebundle_()
    findings = run(ip, "%kfp_secret lint etl")
    assert {row[4] for row in findings.rows} <= {"cache-hazard"}
    run(ip, "%kfp_secret unbind etl for-loop-2/consume")
    assert len(run(ip, "%kfp_secret bindings etl")) == 1
    path = tmp_path / "etl.yaml"
    run(ip, f"compiler.Compiler().compile(etl, {str(path)!r})")
    assert len(run(ip, f"%kfp_secret bindings {path}")) == 1
    assert len(run(ip, f"%kfp_secret lint {path}")) <= len(findings)
    ip.user_ns["compiled_path"] = path  # a pathlib.Path variable works like the path itself
    assert len(run(ip, "%kfp_secret bindings compiled_path")) == 1


def test_bind_an_image_pull_secret_through_a_parameter(ip, tmp_path):
    run(ip, PIPELINE, header=True)
    table = run(ip, "%kfp_secret bind etl consume-2 regcred --image-pull --param pull_secret")
    assert ("consume-2", "{{pull_secret}}", "parameter, default 'regcred'", "image pull") in table.rows
    found, spec = executors(ip, tmp_path, "etl")
    assert spec["root"]["inputDefinitions"]["parameters"]["pull_secret"]["defaultValue"] == "regcred"
    assert [e for config in found.values() for e in config.get("imagePullSecret", [])] == [
        {"secretNameParameter": {"componentInputParameter": "pull_secret"}}]
    run(ip, "%kfp_secret unbind etl consume-2 {{pull_secret}}")
    assert "imagePullSecret" not in str(executors(ip, tmp_path, "etl")[0])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bind etl consume-2 db --env user=U --mount /x", "--mount: not allowed with argument --env"),
        ("bind etl consume-2 db", "one of the arguments --env --mount --image-pull is required"),
        ("bind etl consume-2 db --image-pull --mount /x", "not allowed with argument"),
        ("bind etl consume-2 db --image-pull --optional", "an image pull secret cannot be optional"),
        ("bind etl consume-2 db --env user=U user=V", "secret key 'user' is given twice"),
        ("bind etl consume-2 db --env user=U --default x", "--default needs --param"),
        ("bind etll consume-2 db --env user=U", "did you mean 'etl'"),
        ("bind etl consum db --env user=U", "has no task 'consum'"),
        ("bind etl consume-2 Db_X --env user=U", "not a valid Kubernetes name"),
        ("bind etl consume-2 {{regoin}} --env user=U", "regoin"),
        ("bind etl for-loop-2 db --env user=U", "secrets can only be bound to container tasks"),
        ("unbind etl consume-2 nope", "has no secret 'nope' bound"),
        ("lint nowhere.yaml", "no pipeline variable or compiled YAML file 'nowhere.yaml'"),
    ],
)
def test_bad_bind_lines_change_nothing(ip, tmp_path, line, message):
    run(ip, PIPELINE, header=True)
    before = executors(ip, tmp_path, "etl")
    with pytest.raises(UsageError) as caught:
        run(ip, f"%kfp_secret {line}")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert executors(ip, tmp_path, "etl") == before


def test_readme_shows_the_generated_grammar_of_the_magic():
    from pathlib import Path

    from kfp_nbsecrets.magics import KfpSecretMagics

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert KfpSecretMagics.grammar() in readme


def test_in_body_secret_is_a_python_expression_like_the_python_api(ip, tmp_path):
    """`item.secret` and `m.output` give what use_secret_as_env gives for the same objects."""
    run(ip, header=True, code='''
    import kfp_nbsecrets

    @dsl.pipeline(name="same")
    def via_magic():
        m = make_name()
        u = consume(x="c")
        %kfp_secret env u m.output password=PW

    @dsl.pipeline(name="same")
    def via_api():
        m = make_name()
        u = consume(x="c")
        kfp_nbsecrets.use_secret_as_env(u, m.output, {"password": "PW"})
    ''')
    magic_executors, magic_spec = executors(ip, tmp_path, "via_magic")
    api_executors, api_spec = executors(ip, tmp_path, "via_api")
    assert magic_executors == api_executors and magic_spec == api_spec
    (config,) = magic_executors.values()
    assert config["secretAsEnv"][0]["secretNameParameter"] == {
        "taskOutputParameter": {"producerTask": "make-name", "outputParameterKey": "Output"}}

    with pytest.raises(kfp_nbsecrets_errors.ChannelError) as from_python:
        run(ip, '''
        @dsl.pipeline
        def loop_api():
            with dsl.ParallelFor([{"secret": "db"}]) as item:
                t = consume(x="a")
                kfp_nbsecrets.use_secret_as_env(t, item.secret, {"password": "PW"})
        ''')
    with pytest.raises(UsageError) as from_magic:
        run(ip, '''
        @dsl.pipeline
        def loop_magic():
            with dsl.ParallelFor([{"secret": "db"}]) as item:
                t = consume(x="a")
                %kfp_secret env t item.secret password=PW
        ''')
    assert str(from_magic.value) == str(from_python.value)
    assert "loop over a list of the secret names" in str(from_magic.value)


def test_in_body_typos_and_literals(ip, tmp_path):
    run(ip, header=True, code='''
    @dsl.pipeline
    def lit():
        m = make_name()
        u = consume(x="c")
        %kfp_secret env u team.db-creds password=PW
    ''')
    (config,) = executors(ip, tmp_path, "lit")[0].values()
    assert config["secretAsEnv"][0]["secretName"] == "team.db-creds"
    with pytest.raises(UsageError, match=r"has no attribute 'outptu' \(did you mean 'output'"):
        run(ip, header=True, code='''
        @dsl.pipeline
        def typo():
            m = make_name()
            u = consume(x="c")
            %kfp_secret env u m.outptu password=PW
        ''')
    with pytest.raises(UsageError, match="secret key 'password' is given twice"):
        run(ip, header=True, code='''
        @dsl.pipeline
        def twice():
            u = consume(x="c")
            %kfp_secret env u db password=A password=B
        ''')


def test_a_bug_in_the_core_keeps_its_traceback(ip, monkeypatch):
    """Only the package's own errors become one-line UsageErrors; a bug surfaces as itself."""
    from kfp_nbsecrets import bind as bind_module
    from kfp_nbsecrets import validate

    run(ip, PIPELINE, header=True)

    def broken(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'get'")

    monkeypatch.setattr(bind_module, "_bind", broken)
    with pytest.raises(AttributeError, match="no attribute 'get'"):
        run(ip, "%kfp_secret bind etl consume-2 db --env user=U")
    monkeypatch.setattr(validate, "env_mapping", broken)
    with pytest.raises(AttributeError, match="no attribute 'get'"):
        run(ip, header=True, code='''
        @dsl.pipeline
        def p():
            u = consume(x="c")
            %kfp_secret env u db password=PW
        ''')
