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


def test_attach_an_image_pull_secret(tmp_path):
    source = tmp_path / "p.yaml"
    compile_to(lintable(), source)
    out = tmp_path / "out.yaml"
    assert main(["attach", str(source), "--task", "consume", "--secret", "regcred", "--image-pull",
                 "-o", str(out)]) == 0
    (pull,) = ir.read_pipeline(str(out)).task("consume").bindings
    assert (pull.kind, pull.source.name, pull.target()) == ("image-pull", "regcred", "image pull")


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


BILLION_LAUGHS = "root: {dag: {tasks: {}}}\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n" for i in range(9))


@pytest.mark.parametrize("make, expected", [
    (lambda d: (d / "p.yaml", "root: 5\n"), "does not parse"),
    (lambda d: (d / "p.yaml", "root:\n  dag:\n    tasks: [1, 2]\n"), "does not parse"),
    (lambda d: (d / "p.yaml", "- just\n- a list\n"), "is not a compiled pipeline"),
    (lambda d: (d / "p.yaml", BILLION_LAUGHS), "uses YAML aliases"),
    (lambda d: (d / "p.yaml", b"\x89PNG\r\n\x1a\n\xff\xfe"), "is not UTF-8 text"),
    (lambda d: (d / "dir.yaml", None), "is a directory"),
    (lambda d: (d / "missing.yaml", False), "no such file"),
])
@pytest.mark.parametrize("command", ["inspect", "lint", "attach"])
@pytest.mark.timeout(30)
def test_hostile_files_get_one_line_and_exit_2(tmp_path, capsys, make, expected, command):
    path, content = make(tmp_path)
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content:
        path.write_text(content)
    extra = ["--task", "t", "--secret", "s", "--mount", "/s", "-o", str(tmp_path / "out.yaml")] \
        if command == "attach" else []
    assert main([command, str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and str(path) in err and "Traceback" not in err
