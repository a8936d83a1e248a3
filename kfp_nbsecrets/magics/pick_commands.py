"""The ``pick`` subcommand: open the widget-driven secret picker."""

from __future__ import annotations

import argparse

from kfp_nbsecrets.magics.router import SOURCE_CHOICES, arg, subcommand


class PickCommands:
    """``pick``: a :class:`~kfp_nbsecrets.widgets.picker.SecretPicker`, for a pipeline or on its own."""

    @subcommand(
        "Open the secret picker (a widget): choose a secret, keys and tasks; attach or get the lines.",
        arg("pipeline", metavar="PIPELINE", nargs="?", help="a @dsl.pipeline function (variable name)"),
        arg("--source", choices=SOURCE_CHOICES, help="where secret names and keys come from"),
        arg("--namespace", metavar="NS", help="Kubernetes namespace"),
    )
    def cmd_pick(self, args: argparse.Namespace, scope: dict):
        from kfp_nbsecrets.widgets.picker import SecretPicker

        pipeline = self._pipeline_in(scope, args.pipeline) if args.pipeline is not None else None
        return SecretPicker(pipeline, args.source, namespace=args.namespace, pipeline_name=args.pipeline)
