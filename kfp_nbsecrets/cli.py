"""The ``kfp-nbsecrets`` command: inspect, lint and attach secrets to compiled pipeline YAML."""

from __future__ import annotations

import argparse
import json
import sys

from kfp_nbsecrets import validate
from kfp_nbsecrets.errors import KfpNbSecretsError, SecretBindingError, one_line

_EPILOG = """examples:
  kfp-nbsecrets inspect pipeline.yaml
  kfp-nbsecrets lint pipeline.yaml
  kfp-nbsecrets attach pipeline.yaml --task train --secret db-creds --env password=DB_PASSWORD -o out.yaml
  kfp-nbsecrets attach pipeline.yaml --task train --secret db-creds --param db_secret --mount /secrets/db \\
      -o out.yaml"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kfp-nbsecrets",
        description="Inspect, lint and bind Kubernetes Secrets in compiled Kubeflow Pipelines YAML.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inspect = commands.add_parser("inspect", help="list every secret binding with its task path and source",
                                  description="List every secret binding of a compiled pipeline: task path,"
                                  " secret, where its name comes from, env vars or mount path.")
    inspect.add_argument("file", metavar="FILE", help="compiled pipeline YAML")
    inspect.add_argument("--json", action="store_true",
                         help="print the versioned JSON payload (tasks, edges, bindings, findings)")

    lint = commands.add_parser("lint", help="report secret bindings that would fail or misbehave",
                               description="Report secret bindings that would fail or misbehave on the"
                               " cluster. Exit status 1 when there is an error, 0 otherwise.")
    lint.add_argument("file", metavar="FILE", help="compiled pipeline YAML")

    attach = commands.add_parser("attach", help="bind a secret to a task and write the new YAML",
                                 description="Bind a Secret to one task of a compiled pipeline, as env vars,"
                                 " a mounted directory or an image pull secret, and write the resulting"
                                 " YAML.")
    attach.add_argument("file", metavar="FILE", help="compiled pipeline YAML")
    attach.add_argument("--task", required=True, help="task path (a/b/task) or a unique task name")
    attach.add_argument("--secret", help="secret name, '{{PARAM}}' or '{{tasks.TASK.OUTPUT}}'"
                        " (with --param: the default name)")
    target = attach.add_mutually_exclusive_group(required=True)
    target.add_argument("--env", action="append", metavar="KEY=ENV",
                        help="expose secret key KEY as env var ENV (repeatable)")
    target.add_argument("--mount", metavar="PATH", help="mount the secret's keys as files under PATH")
    target.add_argument("--image-pull", action="store_true",
                        help="use the secret as an image pull secret of the task's pod")
    attach.add_argument("--param", metavar="NAME", help="add a string pipeline parameter NAME that names"
                        " the secret, threaded down to the task")
    attach.add_argument("--default", metavar="VALUE", help="default secret name of --param")
    attach.add_argument("--optional", action="store_true", help="let the task start without the secret")
    attach.add_argument("--keep-cache", action="store_true",
                        help="keep caching on although the secret name is parameterized")
    attach.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the new YAML")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return {"inspect": _inspect, "lint": _lint, "attach": _attach}[args.command](args)
    except KfpNbSecretsError as error:
        print(f"kfp-nbsecrets: error: {one_line(error)}", file=sys.stderr)
        return 2


def _inspect(args: argparse.Namespace) -> int:
    from kfp_nbsecrets.display import preview

    shown = preview(args.file)
    print(json.dumps(shown.payload(), indent=2, sort_keys=True) if args.json else shown.text())
    return 0


def _lint(args: argparse.Namespace) -> int:
    from kfp_nbsecrets.lint import has_errors, lint

    findings = lint(args.file)
    for finding in findings:
        print(finding)
    errors = sum(f.severity == "error" for f in findings)
    print(f"{errors} errors, {len(findings) - errors} warnings")
    return 1 if has_errors(findings) else 0


def _attach(args: argparse.Namespace) -> int:
    from kfp_nbsecrets.bind import bind

    env = validate.mapping_from_pairs(_key_to_env(pair) for pair in args.env) if args.env else None
    if args.secret is None and args.param is None:
        raise SecretBindingError("give --secret NAME, or --param NAME with --default VALUE")
    text = bind(args.file, args.task, args.secret, env=env, mount_path=args.mount, image_pull=args.image_pull,
                optional=args.optional, param=args.param, default=args.default, keep_cache=args.keep_cache)
    try:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise OutputError(f"cannot write {args.output}: {error.strerror or type(error).__name__}") from None
    print(f"wrote {args.output}")
    return 0


def _key_to_env(pair: str) -> tuple[str, str]:
    key, sep, name = pair.partition("=")
    if not sep:
        raise SecretBindingError(f"--env {pair!r} is not KEY=ENV; write e.g. --env password=DB_PASSWORD")
    return key, name


class OutputError(KfpNbSecretsError):
    """The attached pipeline could not be written."""


if __name__ == "__main__":
    sys.exit(main())
