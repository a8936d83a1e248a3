"""Display object for a compiled pipeline: its tasks, secret bindings and lint findings.

``preview(pipeline)`` returns a :class:`PipelinePreview`, whose ``_repr_mimebundle_`` gives
``text/plain``, ``text/html`` and the JSON payload :data:`IR_MIME_TYPE` (schema in
:func:`payload`). The output is deterministic and HTML-escaped; it holds secret names, never values.
"""

from __future__ import annotations

import html
import json
from typing import Any

from kfp_nbsecrets import ir, lint
from kfp_nbsecrets.tables import Table

IR_MIME_TYPE = "application/vnd.kfp-nbsecrets.pipeline-ir.v1+json"
PAYLOAD_VERSION = 1
HEADERS = ("TASK", "SECRET", "SOURCE", "ENV / MOUNT")


def preview(pipeline: Any) -> PipelinePreview:
    """A display object for a pipeline from any source that :func:`kfp_nbsecrets.ir.inspect` reads."""
    model = ir.read_pipeline(pipeline)
    return PipelinePreview(model, lint.lint(model))


def bindings_table(model: ir.PipelineModel, title: str) -> Table:
    """One (task, secret, source, env/mount) row per binding."""
    rows = [(b.task, b.source.secret_text(), b.source.origin_text(), b.target()) for b in model.bindings()]
    return Table(title, HEADERS, rows, empty="no secret bindings")


def findings_table(findings: list[lint.Finding], title: str) -> Table:
    """One (severity, task, problem, fix, code) row per lint finding, coloured by severity."""
    return Table(title, ("SEVERITY", "TASK", "PROBLEM", "FIX", "CODE"),
                 [(f.severity, f.task, f.message, f.fix, f.code) for f in findings], empty="no findings",
                 status_column=0)


def payload(model: ir.PipelineModel, findings: list[lint.Finding]) -> dict:
    """The JSON payload of :data:`IR_MIME_TYPE`, version 1.

    ``{"version": 1, "pipeline": {"name", "parameters": [{"name", "type", "default"?}]},
    "tasks": [{"path", "name", "kind", "parent", "component", "executor", "dependsOn", "caching",
    "image", "command"}], "edges": [{"from", "to"}], "bindings": [{"task", "kind", "reference",
    "source": {"kind", "text", ...}, "optional", "env" | "mountPath"}], "findings": [{"severity",
    "code", "task", "message", "fix"}], "platformSpec": {"platforms": {...}}, "ir": [documents]}``.
    Paths join task names with '/'; ``parent`` is '' at the root; edges are the dependencies
    between tasks of one DAG; ``platformSpec`` and ``ir`` are the compiled documents.
    """
    parameters = []
    for parameter in model.parameters.values():
        entry = {"name": parameter.name, "type": parameter.type}
        if parameter.has_default:
            entry["default"] = parameter.default
        parameters.append(entry)
    tasks = [{
        "path": task.path, "name": task.name, "kind": task.kind, "parent": task.parent,
        "component": task.component, "executor": task.executor, "dependsOn": list(task.depends_on),
        "caching": task.caching, "image": task.image, "command": list(task.command),
    } for task in model.tasks]
    return {
        "version": PAYLOAD_VERSION,
        "pipeline": {"name": model.name, "parameters": parameters},
        "tasks": tasks,
        "edges": [{"from": dep, "to": task.path} for task in model.tasks for dep in task.depends_on],
        "bindings": [binding.to_json() for binding in model.bindings()],
        "findings": [finding.to_json() for finding in findings],
        "platformSpec": model.compiled.platform_spec,
        "ir": model.compiled.documents(),
    }


class PipelinePreview:
    """Tasks, secret bindings and findings of a pipeline, for Jupyter and for the terminal."""

    def __init__(self, model: ir.PipelineModel, findings: list[lint.Finding]):
        self.model = model
        self.findings = findings

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        makers = {"text/plain": self.text, "text/html": self.html, IR_MIME_TYPE: self.payload}
        wanted = [m for m in makers if (not include or m in include) and not (exclude and m in exclude)]
        return {mime: makers[mime]() for mime in wanted}

    def payload(self) -> dict:
        return payload(self.model, self.findings)

    def summary(self) -> str:
        errors = sum(f.severity == lint.ERROR for f in self.findings)
        warnings = len(self.findings) - errors
        bindings = sum(1 for b in self.model.bindings())
        return (f"pipeline {self.model.name!r}: {len(self.model.tasks)} tasks, {bindings} secret bindings,"
                f" {errors} errors, {warnings} warnings")

    def text(self) -> str:
        """A compact table of the bindings, then the findings."""
        table = bindings_table(self.model, self.summary())
        return "\n".join([repr(table), *(str(finding) for finding in self.findings)])

    def html(self) -> str:
        """The table, the findings, the Kubernetes platform spec as highlighted YAML, the full IR."""
        escape = html.escape
        compiled = self.model.compiled
        platform = compiled.platform_spec.get("platforms", {}).get("kubernetes", {})
        ir_json = json.dumps(compiled.documents(), indent=1, sort_keys=True)
        return (
            '<div class="kfp-nbsecrets-preview">'
            + bindings_table(self.model, self.summary())._repr_html_()
            + (findings_table(self.findings, "Lint findings")._repr_html_() if self.findings else "")
            + "<details open><summary>Kubernetes platform spec</summary>"
            + _highlighted_yaml({"platforms": {"kubernetes": platform}} if platform else {})
            + "</details><details><summary>Full IR (JSON)</summary>"
            + f"<pre>{escape(ir_json)}</pre></details></div>"
        )


def _highlighted_yaml(data: dict) -> str:
    """``data`` as YAML in HTML, highlighted by pygments."""
    import yaml
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import YamlLexer

    text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=True)
    return highlight(text, YamlLexer(), HtmlFormatter(noclasses=True, nowrap=False))
