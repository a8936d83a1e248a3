"""A loopback KFP API server (v2beta1 subset) for submission tests.

It serves the endpoints ``kfp.Client`` uses for runs: healthz, experiments (create/get/list) and runs
(create/get/list). Every request body and every response is validated against the official REST spec
(``kfp_api_single_file.swagger.json``, with unknown properties rejected); a submitted pipeline spec and
its Kubernetes platform spec are parsed with the real protos (``json_format.ParseDict`` without
``ignore_unknown_fields``), as the Go backend does. ``backend_version`` emulates the rejections of old
backends (< 2.5.0: ``secretNameParameter``; < 2.15.0: ``optional`` on env secrets). Runs move through
a script of states, one step per ``get``. Failures (status codes), auth and slowness can be injected.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

# The official KFP REST spec (v2beta1, KFP 2.17.0), kept in the repo: see tests/data/README.md.
SWAGGER = Path(__file__).resolve().parent / "data" / "kfp_api_single_file.swagger.json"
PREFIX = "/apis/v2beta1"

DEFAULT_SCRIPT = (
    ("PENDING", {}),
    ("RUNNING", {"consume": "RUNNING"}),
    ("SUCCEEDED", {"consume": "SUCCEEDED"}),
)


def _swagger() -> dict:
    if not SWAGGER.exists():
        raise FileNotFoundError(f"no KFP REST spec at {SWAGGER}; set KFP_API_SPEC to its path")
    return json.loads(SWAGGER.read_text())


def _strict(node: Any) -> Any:
    """The definitions with ``additionalProperties: false`` on every object that lists its properties."""
    if isinstance(node, dict):
        out = {key: _strict(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(value) for value in node]
    return node


class SpecValidator:
    """Validates documents against one definition of the swagger spec (draft-4 JSON Schema subset)."""

    def __init__(self) -> None:
        self.definitions = _strict(_swagger()["definitions"])
        self._validators: dict[str, jsonschema.Draft4Validator] = {}

    def errors(self, definition: str, document: Any) -> list[str]:
        if definition not in self._validators:
            schema = {"$ref": f"#/definitions/{definition}", "definitions": self.definitions}
            self._validators[definition] = jsonschema.Draft4Validator(schema)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in self._validators[definition].iter_errors(document)]


class Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: str


@dataclass
class Failure:
    status: int
    times: int
    method: str | None = None
    path: str | None = None
    message: str = "injected failure"


@dataclass
class _Run:
    data: dict
    script: list
    step: int = 0
    tasks: list[str] = field(default_factory=list)


def _version(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    return tuple(int(part) for part in text.lstrip("v").split(".")[:3])


class KfpServer:
    """The server state; ``start()`` serves it on 127.0.0.1 at a free port (``url``)."""

    def __init__(self, *, backend_version: str | None = None, multi_user: bool = False,
                 token: str | None = None, cookie: str | None = None) -> None:
        self.backend_version = backend_version
        self.multi_user = multi_user
        self.token = token
        self.cookie = cookie
        self.delay = 0.0
        self.script = list(DEFAULT_SCRIPT)
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.experiments: dict[str, dict] = {}
        self.runs: dict[str, _Run] = {}
        self.problems: list[str] = []
        self.validator = SpecValidator()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> KfpServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server._serve(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                server._serve(self, "POST")

            def do_DELETE(self) -> None:  # noqa: N802
                server._serve(self, "DELETE")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kfp-test-server", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    # -- test controls --------------------------------------------------------------------------

    def fail(self, status: int, times: int = 1, method: str | None = None, path: str | None = None,
             message: str = "injected failure") -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        self.failures.append(Failure(status, times, method, path, message))

    def bodies(self, method: str = "POST", path: str = "") -> list[dict]:
        return [json.loads(r.body) for r in self.requests if r.method == method and r.path.startswith(path)
                and r.body]

    def add_experiment(self, name: str, namespace: str | None = None) -> str:
        experiment_id = str(uuid.uuid4())
        self.experiments[experiment_id] = {"experiment_id": experiment_id, "display_name": name,
                                           "namespace": namespace or "", "storage_state": "AVAILABLE",
                                           "created_at": _now()}
        return experiment_id

    # -- serving --------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        headers = {key.lower(): value for key, value in handler.headers.items()}
        record = Recorded(method, parts.path, parse_qs(parts.query), headers, body)
        with self._lock:
            self.requests.append(record)
        if self.delay:
            time.sleep(self.delay)
        try:
            self._authorize(record)
            self._injected(record)
            status, payload, definition = self._route(record)
            errors = self.validator.errors(definition, payload)
            if errors:
                self.problems.append(f"response of {method} {parts.path} breaks the spec: {errors}")
                raise Rejected(500, f"test server response breaks the spec: {errors[:3]}")
        except Rejected as error:
            status, payload = error.status, {"code": _grpc_code(error.status), "message": error.message,
                                             "details": []}
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass

    def _authorize(self, record: Recorded) -> None:
        if self.token and record.headers.get("authorization") != f"Bearer {self.token}":
            raise Rejected(401, "Unauthorized: missing or invalid bearer token")
        if self.cookie and self.cookie not in (record.headers.get("cookie") or ""):
            raise Rejected(403, "Forbidden: no session cookie")

    def _injected(self, record: Recorded) -> None:
        with self._lock:
            for failure in self.failures:
                if failure.times <= 0:
                    continue
                if failure.method and failure.method != record.method:
                    continue
                if failure.path and failure.path not in record.path:
                    continue
                failure.times -= 1
                raise Rejected(failure.status, failure.message)

    def _route(self, record: Recorded) -> tuple[int, Any, str]:
        path, method = record.path, record.method
        if not path.startswith(PREFIX):
            raise Rejected(404, f"Not Found: {path}")
        rest = path[len(PREFIX):]
        if rest == "/healthz" and method == "GET":
            health = {"multi_user": self.multi_user, "pipeline_store": "database"}
            return 200, health, "v2beta1GetHealthzResponse"
        if rest == "/experiments":
            if method == "POST":
                created = self._create_experiment(self._body(record, "v2beta1Experiment"))
                return 200, created, "v2beta1Experiment"
            if method == "GET":
                return 200, self._list(self.experiments.values(), record, "experiments"), \
                    "v2beta1ListExperimentsResponse"
        if rest.startswith("/experiments/") and method == "GET":
            experiment = self.experiments.get(rest.split("/")[2])
            if experiment is None:
                raise Rejected(404, f"Failed to get experiment: ResourceNotFoundError: Experiment"
                                    f" {rest.split('/')[2]} not found")
            return 200, experiment, "v2beta1Experiment"
        if rest == "/runs":
            if method == "POST":
                return 200, self._create_run(self._body(record, "v2beta1Run")), "v2beta1Run"
            if method == "GET":
                runs = [self._view(run) for run in self.runs.values()]
                return 200, self._list(runs, record, "runs"), "v2beta1ListRunsResponse"
        if rest.startswith("/runs/") and method == "GET":
            run = self.runs.get(rest.split("/")[2])
            if run is None:
                raise Rejected(404, f"Failed to get run: ResourceNotFoundError: Run {rest.split('/')[2]}"
                                    f" not found")
            with self._lock:
                run.step = min(run.step + 1, len(run.script) - 1)
            return 200, self._view(run), "v2beta1Run"
        raise Rejected(404, f"Not Found: {method} {path}")

    def _body(self, record: Recorded, definition: str) -> dict:
        try:
            document = json.loads(record.body)
        except ValueError:
            raise Rejected(400, "invalid JSON body") from None
        errors = self.validator.errors(definition, document)
        if errors:
            raise Rejected(400, f"request body is not a valid {definition}: {'; '.join(errors)}")
        return document

    def _list(self, items: Any, record: Recorded, key: str) -> dict:
        items = list(items)
        filter_text = (record.query.get("filter") or [""])[0]
        if filter_text:
            for predicate in json.loads(filter_text).get("predicates", []):
                field_name = predicate["key"]
                value = predicate.get("stringValue", predicate.get("string_value"))
                items = [item for item in items if item.get(field_name) == value]
        namespace = (record.query.get("namespace") or [""])[0]
        if namespace and key == "experiments":
            items = [item for item in items if item.get("namespace") == namespace]
        return {key: items, "total_size": len(items)}

    def _create_experiment(self, body: dict) -> dict:
        if not body.get("display_name"):
            raise Rejected(400, "Invalid input error: Experiment name is empty")
        for experiment in self.experiments.values():
            if experiment["display_name"] == body["display_name"]:
                raise Rejected(409, f"Experiment {body['display_name']!r} already exists")
        experiment_id = self.add_experiment(body["display_name"], body.get("namespace"))
        return self.experiments[experiment_id]

    def _create_run(self, body: dict) -> dict:
        experiment_id = body.get("experiment_id")
        if experiment_id and experiment_id not in self.experiments:
            raise Rejected(404, f"Failed to create a run: Experiment {experiment_id} not found")
        if not body.get("display_name"):
            raise Rejected(400, "Invalid input error: The run name is empty")
        if "pipeline_spec" not in body:
            raise Rejected(400, "Invalid input error: pipeline_spec is required (no pipeline version used)")
        pipeline_spec, tasks = self._parse_pipeline(body["pipeline_spec"])
        self._check_parameters(pipeline_spec, (body.get("runtime_config") or {}).get("parameters") or {})
        run_id = str(uuid.uuid4())
        data = copy.deepcopy(body)
        data.update(run_id=run_id, storage_state="AVAILABLE", created_at=_now(), scheduled_at=_now(),
                    state="PENDING")
        run = _Run(data, list(self.script), 0, tasks)
        self.runs[run_id] = run
        return self._view(run)

    def _parse_pipeline(self, document: dict) -> tuple[dict, list[str]]:
        from google.protobuf import json_format
        from kfp.kubernetes import kubernetes_executor_config_pb2
        from kfp.pipeline_spec import pipeline_spec_pb2

        if "pipeline_spec" in document and "platform_spec" in document:
            pipeline_doc, platform_doc = document["pipeline_spec"], document["platform_spec"]
        else:
            pipeline_doc, platform_doc = document, {}
        try:
            pipeline = json_format.ParseDict(pipeline_doc, pipeline_spec_pb2.PipelineSpec())
            platform = json_format.ParseDict(platform_doc, pipeline_spec_pb2.PlatformSpec())
        except json_format.ParseError as error:
            raise Rejected(400, f"Invalid input error: failed to parse the pipeline spec: {error}") from None
        version = _version(self.backend_version)
        kubernetes = platform.platforms.get("kubernetes")
        executors = kubernetes.deployment_spec.executors if kubernetes is not None else {}
        for label, struct in executors.items():
            config = json_format.MessageToDict(struct)
            if version is not None:
                self._old_backend(label, config, version)
            try:
                json_format.ParseDict(config, kubernetes_executor_config_pb2.KubernetesExecutorConfig())
            except json_format.ParseError as error:
                raise Rejected(400, f"Invalid input error: executor {label}: {error}") from None
        tasks = sorted(pipeline.root.dag.tasks)
        return json_format.MessageToDict(pipeline), tasks

    @staticmethod
    def _old_backend(label: str, config: dict, version: tuple[int, ...]) -> None:
        for key, kind in (("secretAsEnv", "SecretAsEnv"), ("secretAsVolume", "SecretAsVolume")):
            for entry in config.get(key, []):
                if version < (2, 5, 0) and "secretNameParameter" in entry:
                    raise Rejected(400, f"Invalid input error: executor {label}: proto: (line 1:2): unknown"
                                        f" field \"secretNameParameter\" in kfp_kubernetes.{kind}")
                if version < (2, 15, 0) and key == "secretAsEnv" and "optional" in entry:
                    raise Rejected(400, f"Invalid input error: executor {label}: proto: (line 1:2): unknown"
                                        f" field \"optional\" in kfp_kubernetes.{kind}")

    @staticmethod
    def _check_parameters(pipeline: dict, parameters: dict) -> None:
        declared = pipeline.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise Rejected(400, f"Invalid input error: unknown runtime parameters {unknown}")
        for name, spec in declared.items():
            if name not in parameters and "defaultValue" not in spec and not spec.get("isOptional"):
                raise Rejected(400, f"Invalid input error: parameter {name!r} is required")

    def _view(self, run: _Run) -> dict:
        state, task_states = run.script[run.step]
        data = copy.deepcopy(run.data)
        data["state"] = state
        if state in ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"):
            data["finished_at"] = _now()
        details = []
        for name, task_state in sorted(task_states.items()):
            detail = {"run_id": data["run_id"], "task_id": f"{name}-id", "display_name": name,
                      "state": task_state, "pod_name": f"{data['run_id'][:8]}-{name}"}
            if task_state == "FAILED":
                detail["error"] = {"code": 2, "message": f"task {name} failed", "details": []}
            details.append(detail)
        if details:
            data["run_details"] = {"task_details": details}
        if state == "FAILED":
            data["error"] = {"code": 2, "message": "the run failed", "details": []}
        return data


def _grpc_code(status: int) -> int:
    return {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 500: 13, 503: 14}.get(status, 2)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
