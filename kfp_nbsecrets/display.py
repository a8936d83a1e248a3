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
    model = ir.inspect(pipeline)
    return PipelinePreview(model, lint.lint(model))


def secret_text(source: ir.NameSource) -> str:
    """The secret name, or the template it comes from."""
    if source.kind == "literal":
        return str(source.name)
    if source.kind == "parameter":
        return "{{" + str(source.parameter) + "}}"
    if source.kind == "loop-item":
        return "item of " + (secret_text(source.items) if source.items else "?")
    if source.kind == "task-output":
        return source.describe()
    return "?"


def source_text(source: ir.NameSource) -> str:
    """What kind of value names the secret, with the parameter default."""
    if source.kind == "parameter":
        return f"parameter, default {source.default!r}" if source.has_default else "parameter, no default"
    if source.kind == "loop-item" and source.items is not None and source.items.kind == "parameter":
        return f"loop item, {source_text(source.items)}"
    if source.kind == "unresolved":
        return f"unresolved: {source.problem}"
    return source.kind.replace("-", " ")


def rows(model: ir.PipelineModel) -> list[tuple[str, str, str, str]]:
    """One (task, secret, source, env/mount) row per binding."""
    return [(b.task, secret_text(b.source), source_text(b.source), b.target()) for b in model.bindings()]


def payload(model: ir.PipelineModel, findings: list[lint.Finding]) -> dict:
    """The JSON payload of :data:`IR_MIME_TYPE`, version 1 (schema: ``schemas/pipeline-ir.v1.schema.json``).

    ``{"version": 1, "pipeline": {"name", "parameters": [{"name", "type", "default"?}]},
    "tasks": [{"path", "name", "kind", "parent", "component", "executor", "dependsOn", "caching",
    "image", "condition"?}], "edges": [{"from", "to"}], "bindings": [{"task", "kind", "reference",
    "source": {"kind", "text", ...}, "optional", "env" | "mountPath"}], "findings": [{"severity",
    "code", "task", "message", "fix"}], "irGzip": "..."}``.
    Paths join task names with '/'; ``parent`` is '' at the root; edges are the dependencies
    between tasks of one DAG; ``condition`` is a condition task's predicate as written in the IR.
    The compiled IR is carried once, compact: ``irGzip`` is the base64 of the gzip of its documents
    as a JSON array (deterministic: no timestamp); the renderer takes the commands, the platform spec
    and the YAML tab from it.
    """
    import base64
    import gzip

    parameters = []
    for parameter in model.parameters.values():
        entry = {"name": parameter.name, "type": parameter.type}
        if parameter.has_default:
            entry["default"] = parameter.default
        parameters.append(entry)
    tasks = []
    for task in model.tasks:
        entry = {
            "path": task.path, "name": task.name, "kind": task.kind, "parent": task.parent,
            "component": task.component, "executor": task.executor, "dependsOn": list(task.depends_on),
            "caching": task.caching, "image": task.image,
        }
        condition = task.spec.get("triggerPolicy", {}).get("condition")
        if condition is not None:
            entry["condition"] = condition
        tasks.append(entry)
    documents = json.dumps(model.compiled.documents(), separators=(",", ":"), sort_keys=True)
    return {
        "version": PAYLOAD_VERSION,
        "pipeline": {"name": model.name, "parameters": parameters},
        "tasks": tasks,
        "edges": [{"from": dep, "to": task.path} for task in model.tasks for dep in task.depends_on],
        "bindings": [binding.to_json() for binding in model.bindings()],
        "findings": [finding.to_json() for finding in findings],
        "irGzip": base64.b64encode(gzip.compress(documents.encode(), mtime=0)).decode("ascii"),
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
        table = Table(self.summary(), HEADERS, rows(self.model), empty="no secret bindings")
        return "\n".join([repr(table), *(str(finding) for finding in self.findings)])

    def html(self) -> str:
        """The table, the findings, the Kubernetes platform spec as highlighted YAML, the full IR."""
        escape = html.escape
        head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
        body = "".join("<tr>" + "".join(f"<td><code>{escape(cell)}</code></td>" for cell in row) + "</tr>"
                       for row in rows(self.model))
        findings = "".join(
            f'<li class="kfp-nbsecrets-{escape(f.severity)}"><b>{escape(f.severity)}</b>'
            f" <code>{escape(f.task)}</code>: {escape(f.message)}; <i>{escape(f.fix)}</i>"
            f" <small>[{escape(f.code)}]</small></li>" for f in self.findings)
        compiled = self.model.compiled
        platform = compiled.platform_spec.get("platforms", {}).get("kubernetes", {})
        ir_json = json.dumps(compiled.documents(), indent=1, sort_keys=True)
        return (
            f'<div class="kfp-nbsecrets-preview"><p>{escape(self.summary())}</p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<ul>{findings}</ul>" if findings else "")
            + "<details open><summary>Kubernetes platform spec</summary>"
            + _highlighted_yaml({"platforms": {"kubernetes": platform}} if platform else {})
            + "</details><details><summary>Full IR (JSON)</summary>"
            + f"<pre>{escape(ir_json)}</pre></details></div>"
        )


def _highlighted_yaml(data: dict) -> str:
    """``data`` as YAML in HTML, highlighted by pygments when it is installed."""
    import yaml

    text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=True)
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import YamlLexer
    except ImportError:
        return f"<pre>{html.escape(text)}</pre>"
    return highlight(text, YamlLexer(), HtmlFormatter(noclasses=True, nowrap=False))
