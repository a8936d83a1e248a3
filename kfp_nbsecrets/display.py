"""Display object for a compiled pipeline: its tasks, secret bindings and lint findings.

``preview(pipeline)`` returns a :class:`PipelinePreview`, whose ``_repr_mimebundle_`` gives
``text/plain``, ``text/html`` and the JSON payload :data:`IR_MIME_TYPE` (schema in
:func:`payload`). The output is deterministic and HTML-escaped; it holds secret names, never values.
"""

from __future__ import annotations

import html
from typing import Any

from kfp_nbsecrets import ir, lint, svg, tables
from kfp_nbsecrets.tables import Table, plural

IR_MIME_TYPE = "application/vnd.kfp-nbsecrets.pipeline-ir.v1+json"
PAYLOAD_VERSION = 1
HEADERS = ("TASK", "SECRET", "SOURCE", "ENV / MOUNT")
#: Rows of each table in the text and HTML fallbacks (a note says how many more there are).
MAX_ROWS = 100
#: Task names written in one row of the grouped findings.
MAX_TASK_NAMES = 5


def preview(pipeline: Any) -> PipelinePreview:
    """A display object for a pipeline from any source that :func:`kfp_nbsecrets.ir.inspect` reads."""
    model = ir.read_pipeline(pipeline)
    return PipelinePreview(model, lint.lint(model))


def bindings_table(model: ir.PipelineModel, title: str, limit: int | None = None) -> Table:
    """One (task, secret, source, env/mount) row per binding."""
    rows = [(b.task, b.source.secret_text(), b.source.origin_text(), b.target()) for b in model.bindings()]
    return Table(title, HEADERS, rows, empty="no secret bindings", limit=limit)


def findings_table(findings: list[lint.Finding], title: str, limit: int | None = None) -> Table:
    """One (severity, task, problem, fix, code) row per lint finding, coloured by severity."""
    return Table(title, ("SEVERITY", "TASK", "PROBLEM", "FIX", "CODE"),
                 [(f.severity, f.task, f.message, f.fix, f.code) for f in findings], empty="no findings",
                 status_column=0, limit=limit)


def payload(model: ir.PipelineModel, findings: list[lint.Finding]) -> dict:
    """The JSON payload of :data:`IR_MIME_TYPE`, version 1 (schema: ``schemas/pipeline-ir.v1.schema.json``).

    ``{"version": 1, "pipeline": {"name", "parameters": [{"name", "type", "default"?}]},
    "tasks": [{"path", "name", "kind", "parent", "component", "executor", "dependsOn", "caching",
    "image", "condition"?}], "edges": [{"from", "to"}], "bindings": [{"task", "kind", "reference",
    "source": {"kind", "text", ...}, "optional", "env" | "mountPath"}], "findings": [{"severity",
    "code", "tasks", "message", "fix"}], "irGzip": "..."}``.
    Paths join task names with '/'; ``parent`` is '' at the root; edges are the dependencies
    between tasks of one DAG; ``condition`` is a condition task's predicate as written in the IR.
    A problem found on several tasks is written once, with the paths of all its ``tasks``.
    The compiled IR is carried once, compact: ``irGzip`` is the base64 of the gzip of its documents
    as a JSON array (deterministic: no timestamp); the renderer takes the commands, the platform spec
    and the YAML tab from it.
    """
    import base64
    import gzip
    import json

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
        "findings": [{"severity": severity, "code": code, "tasks": tasks, "message": message, "fix": fix}
                     for (severity, code, message, fix), tasks in _problems(findings).items()],
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
        return (f"pipeline {self.model.name!r}: {plural(len(self.model.tasks), 'task')},"
                f" {plural(bindings, 'secret binding')}, {plural(errors, 'error')},"
                f" {plural(warnings, 'warning')}")

    def text(self) -> str:
        """A compact table of the bindings, then the findings (each capped at :data:`MAX_ROWS`)."""
        table = bindings_table(self.model, self.summary(), limit=MAX_ROWS)
        findings = grouped_findings(self.findings)
        lines = [repr(table), *(str(finding) for finding in findings[:MAX_ROWS])]
        if len(findings) > MAX_ROWS:
            hidden = plural(len(findings) - MAX_ROWS, "more finding")
            lines.append(f"\u2026 {hidden} not shown (first {MAX_ROWS})")
        return "\n".join(lines)

    def html(self) -> str:
        """The static fallback: the DAG as inline SVG, then the bindings and findings tables.

        No script and no network; the IR itself is left to the JSON payload, and every part is capped
        (:data:`MAX_ROWS` table rows, :data:`svg.MAX_TASKS` tasks in the graph) with a
        note, so that the fallback stays small beside the compiled YAML. The Kubernetes platform spec is
        not repeated: the bindings table says the same per task.
        """
        tasks = len(self.model.tasks)
        style = tables.style(".kfp-nbsecrets-preview")
        if tasks > svg.MAX_TASKS:
            graph = (f"<p><i>The graph of these {tasks} tasks is not drawn in this static view (it draws at"
                     f" most {svg.MAX_TASKS}, to keep the notebook small); JupyterLab with kfp-nbsecrets"
                     f" draws it.</i></p>")
        else:
            style += svg.STYLE
            graph = (f"<div style='overflow:auto;max-height:640px;max-width:100%'>"
                     f"{svg.render(self.model, self.findings)}</div>")
        findings = grouped_findings(self.findings)
        findings_html = findings_table(findings, "Lint findings", MAX_ROWS).html(inline_style=False)
        return (
            f"<div class='kfp-nbsecrets-preview'><style>{style}</style>"
            f"<p><b>{html.escape(self.summary())}</b></p>"
            + graph
            + bindings_table(self.model, "Secret bindings", MAX_ROWS).html(inline_style=False)
            + (findings_html if findings else "")
            + "<p style='font-size:85%;opacity:.8'>A static view: the full IR and the"
            " interactive graph are shown by JupyterLab / Notebook 7 with kfp-nbsecrets installed, or"
            " by <code>kfp_nbsecrets.ir.load(pipeline).to_yaml()</code>.</p></div>"
        )


def grouped_findings(findings: list[lint.Finding]) -> list[lint.Finding]:
    """The findings with the same problem merged into one, whose ``task`` names their tasks."""
    merged = []
    for (severity, code, message, fix), tasks in _problems(findings).items():
        named = ", ".join(task or "" for task in tasks[:MAX_TASK_NAMES])
        if len(tasks) > MAX_TASK_NAMES:
            named += f", \u2026 ({len(tasks)} tasks)"
        merged.append(lint.Finding(severity, code, named, message, fix))
    return merged


def _problems(findings: list[lint.Finding]) -> dict[tuple[str, str, str, str], list[str]]:
    """The findings by problem (severity, code, message, fix), each with the paths of its tasks."""
    problems: dict[tuple[str, str, str, str], list[str]] = {}
    for f in findings:
        problems.setdefault((f.severity, f.code, f.message, f.fix), []).append(f.task)
    return problems
