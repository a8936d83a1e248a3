"""Secret references: where a secret's name comes from, and the ``{{...}}`` template syntax.

A reference is one of

* :class:`Literal` -- a fixed name, ``"db-creds"``;
* :class:`PipelineParam` -- an input of the enclosing pipeline (or DAG), ``"{{env_secret}}"``;
* :class:`TaskOutput` -- an output parameter of an upstream task, ``"{{tasks.make-name.Output}}"``.

Loop items reach a task as inputs of the loop's DAG, so in the IR they are
:class:`PipelineParam` references too. This module is pure: it imports nothing from kfp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kfp_nbsecrets.errors import TemplateError, quote

CHANNEL_PLACEHOLDER = "{{channel:"
#: Prefix of the DAG inputs the KFP compiler adds to pass a value into a nested DAG.
CHANNEL_PREFIX = "pipelinechannel--"
#: The one arrow shown between a secret key and its env var (also in the JupyterLab renderer).
ARROW = "\u2192"

_TEMPLATE = re.compile(
    r"\{\{\s*(?:tasks\.(?P<task>[A-Za-z0-9][-A-Za-z0-9_]*)\.(?P<output>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<param>[A-Za-z_][A-Za-z0-9_]*))\s*\}\}"
)


@dataclass(frozen=True)
class Literal:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class PipelineParam:
    name: str

    def __str__(self) -> str:
        return "{{" + self.name + "}}"


@dataclass(frozen=True)
class TaskOutput:
    task: str
    output: str

    def __str__(self) -> str:
        return "{{tasks." + self.task + "." + self.output + "}}"


SecretRef = Literal | PipelineParam | TaskOutput


def describe(ref: SecretRef) -> str:
    """A reference in words, for messages: ``'db-creds'``, ``parameter 'env'``, ``output 'x' of task 't'``."""
    if isinstance(ref, PipelineParam):
        return f"parameter {quote(ref.name.removeprefix(CHANNEL_PREFIX))}"
    if isinstance(ref, TaskOutput):
        return f"output {quote(ref.output)} of task {quote(ref.task)}"
    return quote(ref.name)


def key_to_env_text(pairs) -> str:
    """``'password → DB_PASSWORD, user → DB_USER'`` for (secret key, env var) pairs."""
    return ", ".join(f"{key} {ARROW} {env}" for key, env in pairs)


def is_template(text: str) -> bool:
    """Whether ``text`` is meant as a template (it contains ``{{``) rather than a plain name."""
    return "{{" in text


def parse(text: str) -> SecretRef:
    """Parse a secret name as written by a user: a literal name or one ``{{...}}`` template.

    Raises TemplateError for a string that contains ``{{`` but is not exactly one template.
    """
    if not is_template(text):
        return Literal(text)
    if CHANNEL_PLACEHOLDER in text:
        raise TemplateError(
            f"{quote(text)} embeds a pipeline channel placeholder; pass the parameter or task output"
            " itself as the secret name, not a string built from it"
        )
    match = _TEMPLATE.fullmatch(text.strip())
    if match is None:
        raise TemplateError(
            f"malformed secret name template {quote(text)}: the whole name must be one template,"
            " either '{{PARAM}}' (a pipeline parameter) or '{{tasks.TASK.OUTPUT}}' (a task output)"
        )
    if match["param"]:
        return PipelineParam(match["param"])
    return TaskOutput(match["task"], match["output"])


def to_ir(ref: SecretRef) -> dict:
    """The ``secretNameParameter`` value that names ``ref`` in a compiled pipeline."""
    if isinstance(ref, Literal):
        return {"runtimeValue": {"constant": ref.name}}
    if isinstance(ref, PipelineParam):
        return {"componentInputParameter": ref.name}
    return {"taskOutputParameter": {"producerTask": ref.task, "outputParameterKey": ref.output}}


def from_ir(entry: dict) -> SecretRef | None:
    """The reference of a compiled ``secretAsEnv`` / ``secretAsVolume`` entry (None if it has none)."""
    param = entry.get("secretNameParameter") or {}
    if "componentInputParameter" in param:
        return PipelineParam(param["componentInputParameter"])
    if "taskOutputParameter" in param:
        top = param["taskOutputParameter"]
        return TaskOutput(top.get("producerTask", ""), top.get("outputParameterKey", ""))
    constant = param.get("runtimeValue", {}).get("constant")
    if isinstance(constant, str):
        return Literal(constant)
    if entry.get("secretName"):
        return Literal(entry["secretName"])
    return None
