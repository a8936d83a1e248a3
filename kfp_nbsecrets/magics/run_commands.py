"""``check``, ``run``, ``schedule`` and ``upload``: the pre-run secret check, runs, recurring runs and
pipeline uploads through ``kfp.Client``."""

from __future__ import annotations

import argparse

from IPython.core.error import UsageError
from traitlets import Enum, Float, HasTraits, Unicode

from kfp_nbsecrets.magics.router import SOURCE_CHOICES, arg, subcommand


def name_value(text: str) -> tuple[str, str]:
    """argparse type of a ``NAME=VALUE`` word."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE, e.g. secret_name=db-creds")
    return name, value


_COMMON = (
    arg("pipeline", metavar="PIPELINE", help="a pipeline variable or a compiled YAML file"),
    arg("--arg", metavar="NAME=VALUE", action="append", type=name_value, default=[],
        help="a run argument (repeatable); typed by the parameter's declared type"),
    arg("--namespace", metavar="NS", help="namespace of the run and of its secrets"),
    arg("--source", choices=SOURCE_CHOICES, help="where to check secrets (default: check_source, k8s)"),
)


_GUARD = (
    arg("--no-resolve", action="store_true",
        help="backend < 2.5.0: refuse parameter-named secrets instead of sending their resolved names"),
    arg("--legacy-secret-name", action="store_true",
        help="with --no-resolve, backend < 2.5.0: send literal names as the deprecated secretName"),
    arg("--drop-optional", action="store_true",
        help="backend < 2.15.0: drop 'optional' from env secrets (they become required)"),
)


class RunCommands(HasTraits):
    """``check``, ``run``, ``schedule``, ``upload``; their settings are traits of ``KfpSecretMagics``."""

    backend_version = Unicode(None, allow_none=True, config=True,
                              help="KFP backend version for the version-skew guard, e.g. '2.14.0'; default:"
                                   " the version the server reports (healthz tag_name).")
    kfp_namespace = Unicode(None, allow_none=True, config=True,
                            help="Namespace for runs and experiments (multi-user KFP); default: namespace.")
    existing_token = Unicode(None, allow_none=True, config=True,
                             help="Bearer token for the KFP API (as kfp.Client(existing_token=...)).")
    cookies = Unicode(None, allow_none=True, config=True,
                      help="Cookie header for the KFP API, e.g. an auth session cookie.")
    ui_host = Unicode(None, allow_none=True, config=True,
                      help="Base URL of the KFP UI for run links (default: the API host, or relative).")
    experiment = Unicode(None, allow_none=True, config=True,
                         help="Experiment for runs (default: KF_PIPELINES_DEFAULT_EXPERIMENT_NAME or"
                              " 'Default').")
    check_source = Enum(SOURCE_CHOICES, default_value="k8s", config=True,
                           help="Source the pre-run check reads secret names from: k8s, local or memory.")
    kfp_timeout = Float(30.0, config=True, help="Seconds to wait for each KFP API request.")
    poll_interval = Float(2.0, config=True, help="First delay between run status polls (backs off to 30 s).")

    @subcommand(
        "Check the secrets a run would use (names, keys, volume names) before submitting it.",
        *_COMMON,
    )
    def cmd_check(self, args: argparse.Namespace, scope: dict):
        from kfp_nbsecrets.check import check_run

        pipeline = self._pipeline_in(scope, args.pipeline, files=True)
        arguments = self._arguments(pipeline, args.arg)
        return check_run(pipeline, arguments, source=args.source or self.check_source,
                         namespace=self._run_namespace(args))

    @subcommand(
        "Submit a run through kfp.Client after a pre-run secret check; returns a live run handle.",
        *_COMMON,
        arg("--experiment", metavar="E", help="experiment name (created when missing)"),
        arg("--run-name", metavar="N", help="run name (default: pipeline name and time)"),
        arg("--wait", action="store_true", help="block until the run finishes, showing progress"),
        arg("--timeout", metavar="SECONDS", type=float, help="with --wait: stop waiting after SECONDS"),
        arg("--no-check", action="store_true", help="skip the pre-run secret check"),
        arg("--local", action="store_true", help="run locally with kfp.local, secrets injected"),
        *_GUARD,
    )
    def cmd_run(self, args: argparse.Namespace, scope: dict):
        pipeline, arguments = self._checked_line(args, scope)
        if args.local:
            from kfp_nbsecrets.local_run import run_local

            return run_local(pipeline, arguments=arguments, source=args.source)
        from kfp_nbsecrets.submit import submit

        handle = self._remote(submit, pipeline, arguments, args,
                              experiment=args.experiment or self.experiment,
                              run_name=args.run_name)
        if args.wait:
            return self._wait(handle, args.timeout)
        from kfp_nbsecrets.widgets.run_status import status_widget

        status_widget(handle)
        return handle

    @subcommand(
        "Create a recurring run (cron schedule) after the pre-run check; returns its handle.",
        *_COMMON,
        arg("--cron", metavar="CRON", required=True,
            help="standard 5 fields ('0 2 * * *': daily at 02:00), KFP's 6 (seconds first) or '@daily'"),
        arg("--max-concurrency", metavar="N", type=int, default=1, help="runs at once, 1 to 10 (default 1)"),
        arg("--no-catchup", action="store_true", help="after a pause, run only the latest missed interval"),
        arg("--experiment", metavar="E", help="experiment name (created when missing)"),
        arg("--name", metavar="N", help="recurring run name (default: pipeline name and time)"),
        arg("--no-check", action="store_true", help="skip the pre-run secret check"),
        *_GUARD,
    )
    def cmd_schedule(self, args: argparse.Namespace, scope: dict):
        from kfp_nbsecrets.submit import schedule

        pipeline, arguments = self._checked_line(args, scope)
        return self._remote(schedule, pipeline, arguments, args, cron=args.cron, name=args.name,
                            max_concurrency=args.max_concurrency, no_catchup=args.no_catchup,
                            experiment=args.experiment or self.experiment)

    @subcommand(
        "Upload a pipeline (with its secret bindings) to KFP, or a new version of it; shows the link.",
        arg("pipeline", metavar="PIPELINE", help="a pipeline variable or a compiled YAML file"),
        arg("--name", metavar="N", help="pipeline name in KFP (default: the pipeline's name)"),
        arg("--version", metavar="V", help="add version V to the existing pipeline N"),
        arg("--description", metavar="TEXT", help="description shown in the KFP UI"),
        arg("--namespace", metavar="NS", help="a namespaced pipeline (multi-user KFP; default: shared)"),
        arg("--drop-optional", action="store_true",
            help="backend < 2.15.0: drop 'optional' from env secrets (they become required)"),
    )
    def cmd_upload(self, args: argparse.Namespace, scope: dict):
        pipeline = self._pipeline_in(scope, args.pipeline, files=True)
        from kfp_nbsecrets.submit import upload

        return upload(pipeline, args.name, version=args.version, description=args.description,
                      host=self.kfp_host or None, namespace=args.namespace,
                      backend_version=self.backend_version, drop_optional=args.drop_optional,
                      existing_token=self.existing_token, cookies=self.cookies, ui_host=self.ui_host,
                      timeout=self.kfp_timeout)

    def _remote(self, create, pipeline, arguments: dict, args: argparse.Namespace, **options):
        """``create`` (submit or schedule) with the notebook's settings."""
        from kfp_nbsecrets.submit import Backoff

        backoff = Backoff(self.poll_interval, max(self.poll_interval, 30.0))
        return create(
            pipeline, arguments, host=self.kfp_host or None, namespace=self._run_namespace(args),
            check=not args.no_check, source=args.source or self.check_source,
            backend_version=self.backend_version, resolve_names=not args.no_resolve,
            legacy_secret_name=args.legacy_secret_name, drop_optional=args.drop_optional,
            existing_token=self.existing_token, cookies=self.cookies, ui_host=self.ui_host,
            timeout=self.kfp_timeout, backoff=backoff, **options)

    def _checked_line(self, args: argparse.Namespace, scope: dict) -> tuple:
        """The pipeline and typed arguments of a run or schedule line whose options all mean something."""
        self._refuse_no_ops(args)
        pipeline = self._pipeline_in(scope, args.pipeline, files=True)
        return pipeline, self._arguments(pipeline, args.arg)

    @staticmethod
    def _refuse_no_ops(args: argparse.Namespace) -> None:
        """Options that would change nothing in this combination are refused, not silently ignored."""
        if getattr(args, "timeout", None) is not None:
            if not args.wait:
                raise UsageError("--timeout applies to --wait only; add --wait, or drop --timeout")
            if args.timeout <= 0:
                raise UsageError(f"--timeout {args.timeout:g}: give a number of seconds above 0")
        if getattr(args, "local", False):
            remote = [flag for flag, given in (
                ("--experiment", args.experiment), ("--run-name", args.run_name), ("--wait", args.wait),
                ("--namespace", args.namespace), ("--no-check", args.no_check),
                ("--legacy-secret-name", args.legacy_secret_name), ("--drop-optional", args.drop_optional),
                ("--no-resolve", args.no_resolve)) if given]
            if remote:
                raise UsageError(f"{', '.join(remote)} {'applies' if len(remote) == 1 else 'apply'} to runs"
                                 f" submitted to KFP, not to --local runs (which always wait and read"
                                 f" values from --source); drop {'it' if len(remote) == 1 else 'them'}")
        if args.no_check and args.source:
            raise UsageError("--source tells the pre-run check where to look, and --no-check skips the"
                             " check; drop one of them")
        if args.legacy_secret_name and not args.no_resolve:
            raise UsageError("--legacy-secret-name applies with --no-resolve only: by default every secret"
                             " name (literal ones too) is sent as a literal to backends before 2.5.0")

    def _wait(self, handle, timeout: float | None):
        from IPython.display import display

        from kfp_nbsecrets.widgets.run_status import RunStatus

        status = RunStatus(handle, autostart=False)
        display(status)
        try:
            handle.wait(timeout, on_update=status.update)
        except KeyboardInterrupt:
            print(f"Stopped waiting; run {handle.name!r} goes on: {handle.url}")
        return handle

    def _run_namespace(self, args: argparse.Namespace) -> str | None:
        return args.namespace or self.kfp_namespace or self.namespace or None

    @staticmethod
    def _arguments(pipeline, pairs: list[tuple[str, str]]) -> dict:
        from kfp_nbsecrets.check import coerce_arguments

        return coerce_arguments(pipeline, dict(pairs))
