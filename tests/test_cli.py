"""The kfp-nbsecrets command line: inspect, lint and attach, with their exit codes."""

import json

import pytest
from pipelines import compile_to, lintable, nested

from kfp_nbsecrets import ir
from kfp_nbsecrets.cli import main


@pytest.fixture
def compiled(tmp_path):
    path = tmp_path / "p.yaml"
    compile_to(nested(), path)
    return str(path)


def test_help_describes_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(word in out for word in ("inspect", "lint", "attach", "examples:"))
    with pytest.raises(SystemExit):
        main(["attach", "--help"])
    assert "--mount PATH" in capsys.readouterr().out


def test_inspect_text_and_json(compiled, capsys):
    assert main(["inspect", compiled]) == 0
    assert "exit-handler-1/for-loop-2/consume-3" in capsys.readouterr().out
    assert main(["inspect", compiled, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1


def test_lint_exit_status(compiled, tmp_path, capsys):
    assert main(["lint", compiled]) == 0
    assert "0 errors, 4 warnings" in capsys.readouterr().out
    broken = ir.load(compiled)
    broken.kubernetes_executors()["exec-consume"]["secretAsEnv"][0]["secretNameParameter"] = {
        "componentInputParameter": "nope"}
    broken.write(tmp_path / "broken.yaml")
    assert main(["lint", str(tmp_path / "broken.yaml")]) == 1
    assert "[missing-input]" in capsys.readouterr().out


def test_attach_env_and_parameterized_mount(tmp_path, capsys):
    source = tmp_path / "p.yaml"
    compile_to(lintable(), source)
    out = tmp_path / "out.yaml"
    assert main(["attach", str(source), "--task", "consume", "--secret", "db-creds",
                 "--env", "password=DB_PASSWORD", "--env", "user=DB_USER", "-o", str(out)]) == 0
    assert main(["attach", str(out), "--task", "consume", "--param", "tls_secret", "--default", "tls",
                 "--mount", "/tls", "--optional", "-o", str(out)]) == 0
    env, volume = ir.read_pipeline(str(out)).task("consume").secret_bindings()
    assert env.env == (("password", "DB_PASSWORD"), ("user", "DB_USER"))
    assert (volume.source.parameter, volume.source.default, volume.optional) == ("tls_secret", "tls", True)
    assert main(["lint", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--task", "consume", "--secret", "Bad_Name", "--env", "k=K"], "not a valid Kubernetes name"),
    (["--task", "nope", "--secret", "s", "--env", "k=K"], "no task 'nope'"),
    (["--task", "consume", "--secret", "s", "--env", "novalue"], "is not KEY=ENV"),
    (["--task", "consume", "--mount", "/m"], "give --secret"),
])
def test_attach_errors_exit_2_without_writing(tmp_path, capsys, args, message):
    source = tmp_path / "p.yaml"
    compile_to(lintable(), source)
    out = tmp_path / "out.yaml"
    assert main(["attach", str(source), *args, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_file_and_usage_errors(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["attach", "p.yaml", "--task", "t", "--env", "a=A", "--mount", "/m", "-o", "x"])
    assert exit_info.value.code == 2
