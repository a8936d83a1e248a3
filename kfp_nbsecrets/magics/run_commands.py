"""``check`` and ``run``: the pre-run secret check and run submission through ``kfp.Client``."""

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


class RunCommands(HasTraits):
    """``check`` and ``run``; their settings are traits of ``KfpSecretMagics`` (``%config``)."""

    backend_version = Unicode(None, allow_none=True, config=True,
                              help="KFP backend version (the server does not report it), e.g. '2.14.0'; "
                                   "enables the version-skew guard.")
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
        from kfp_nbsecrets.check import CheckUnavailable, check_run

        pipeline = self._pipeline_in(scope, args.pipeline, files=True)
        arguments = self._arguments(pipeline, args.arg)
        try:
            return check_run(pipeline, arguments, source=args.source or self.check_source,
                             namespace=self._run_namespace(args))
        except CheckUnavailable as error:
            raise UsageError(str(error)) from None

    @subcommand(
        "Submit a run through kfp.Client after a pre-run secret check; returns a live run handle.",
        *_COMMON,
        arg("--experiment", metavar="E", help="experiment name (created when missing)"),
        arg("--run-name", metavar="N", help="run name (default: pipeline name and time)"),
        arg("--wait", action="store_true", help="block until the run finishes, showing progress"),
        arg("--timeout", metavar="SECONDS", type=float, help="with --wait: stop waiting after SECONDS"),
        arg("--no-check", action="store_true", help="skip the pre-run secret check"),
        arg("--local", action="store_true", help="run locally with kfp.local, secrets injected"),
        arg("--legacy-secret-name", action="store_true",
            help="backend < 2.5.0: send literal names as the deprecated secretName only"),
        arg("--drop-optional", action="store_true",
            help="backend < 2.15.0: drop 'optional' from env secrets (they become required)"),
    )
    def cmd_run(self, args: argparse.Namespace, scope: dict):
        pipeline = self._pipeline_in(scope, args.pipeline, files=True)
        arguments = self._arguments(pipeline, args.arg)
        source = args.source or self.check_source
        if args.local:
            from kfp_nbsecrets.local_run import run_local

            return run_local(pipeline, arguments=arguments, source=args.source)
        from kfp_nbsecrets.check import CheckUnavailable, PreRunCheckError
        from kfp_nbsecrets.submit import Backoff, SubmitError, submit

        backoff = Backoff(self.poll_interval, max(self.poll_interval, 30.0))
        try:
            handle = submit(
                pipeline, arguments, host=self.kfp_host or None, namespace=self._run_namespace(args),
                experiment=args.experiment or self.experiment, run_name=args.run_name,
                check=not args.no_check, source=source, backend_version=self.backend_version,
                legacy_secret_name=args.legacy_secret_name, drop_optional=args.drop_optional,
                existing_token=self.existing_token, cookies=self.cookies,
                ui_host=self.ui_host, timeout=self.kfp_timeout, backoff=backoff,
            )
        except (SubmitError, PreRunCheckError, CheckUnavailable) as error:
            raise UsageError(" ".join(str(error).split())) from None
        if args.wait:
            return self._wait(handle, args.timeout)
        try:
            from kfp_nbsecrets.widgets.run_status import status_widget
        except ImportError:  # ipywidgets missing: the handle displays as static text/HTML
            return handle
        status_widget(handle)
        return handle

    def _wait(self, handle, timeout: float | None):
        from IPython.display import display

        from kfp_nbsecrets.submit import SubmitError

        try:
            from kfp_nbsecrets.widgets.run_status import RunStatus

            status = RunStatus(handle, autostart=False)
            display(status)
            update = status.update
        except ImportError:
            def update(h):
                print(h.status_line())
        try:
            handle.wait(timeout, on_update=update)
        except KeyboardInterrupt:
            print(f"Stopped waiting; run {handle.name!r} goes on: {handle.url}")
        except SubmitError as error:
            raise UsageError(" ".join(str(error).split())) from None
        return handle

    def _run_namespace(self, args: argparse.Namespace) -> str | None:
        return args.namespace or self.kfp_namespace or self.namespace or None

    @staticmethod
    def _arguments(pipeline, pairs: list[tuple[str, str]]) -> dict:
        from kfp_nbsecrets.check import coerce_arguments

        try:
            return coerce_arguments(pipeline, dict(pairs))
        except ValueError as error:
            raise UsageError(str(error)) from None
