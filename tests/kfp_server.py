"""A loopback KFP API server (v2beta1 subset) for submission tests.

It serves the endpoints ``kfp.Client`` uses for runs, recurring runs and pipeline uploads: healthz,
experiments (create/get/list), runs (create/get/list), recurring runs (create/get/list), pipelines
(upload, upload_version, list). Every JSON request body and every JSON response is validated against
the official REST spec (``kfp_api_single_file.swagger.json``, with unknown properties rejected); query
parameters of uploads against the spec's list; a submitted or uploaded pipeline spec and its Kubernetes
platform spec are parsed with the real protos (``json_format.ParseDict`` without
``ignore_unknown_fields``), as the Go backend does. ``backend_version`` emulates a release: the
rejections of old backends (< 2.5.0: ``secretNameParameter`` on env, volume and image pull secrets;
< 2.15.0: ``optional`` on env secrets)
and its healthz answer, which the real server writes outside the gRPC gateway (main.go): ``tag_name``,
``commit_sha``, ``multi_user`` on ``/apis/v1beta1/healthz`` and ``/apis/v2beta1/healthz``, plus
``pipeline_store`` on v2beta1 from 2.14.0. ``tag_name = "unknown"`` models a deployment without
TAG_NAME. Runs move through a script of states, one step per ``get``. Failures (status codes), auth,
slowness, hanging, trickling answers and connection resets can be injected.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import re
import socket
import struct
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
CURRENT_RELEASE = "2.17.0"
PIPELINE_STORE_SINCE = (2, 14, 0)
VARCHAR_DESCRIPTION_UNTIL = (2, 15, 0)  # jinzhu/gorm v1 until 2.14: run/job Description is VARCHAR(255)
HANG_LIMIT = 60.0  # seconds a hanging or trickling answer lasts at most (stop() ends it sooner)
UPLOAD_QUERY = {"/pipelines/upload": {"name", "display_name", "description", "namespace", "tags",
                                      "code_source_url"},
                "/pipelines/upload_version": {"name", "display_name", "pipelineid", "description", "tags",
                                              "code_source_url"}}

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
    """The definitions with ``additionalProperties: false`` on every object that lists its properties;
    64-bit integers (strings in the spec) may also be JSON numbers, as protojson accepts both."""
    if isinstance(node, dict):
        out = {key: _strict(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if out.get("type") == "string" and out.get("format") in ("int64", "uint64"):
            out["type"] = ["string", "integer"]
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
    raw: bytes = b""


@dataclass
class Failure:
    """An injected answer: a ``status`` code, or a ``mode`` of "hang" (no answer), "trickle" (a valid
    answer, one byte at a time) or "reset" (the request is served, then the connection is reset)."""

    status: int
    times: int
    method: str | None = None
    path: str | None = None
    message: str = "injected failure"
    mode: str = "status"


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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a reset or abandoned connection is what the tests inject


class KfpServer:
    """The server state; ``start()`` serves it on 127.0.0.1 at a free port (``url``)."""

    def __init__(self, *, backend_version: str | None = None, multi_user: bool = False,
                 token: str | None = None, cookie: str | None = None, tag_name: str | None = None) -> None:
        self.backend_version = backend_version
        self.tag_name = tag_name
        self.multi_user = multi_user
        self.token = token
        self.cookie = cookie
        self.delay = 0.0
        self.script = list(DEFAULT_SCRIPT)
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.experiments: dict[str, dict] = {}
        self.runs: dict[str, _Run] = {}
        self.recurring_runs: dict[str, dict] = {}
        self.pipelines: dict[str, dict] = {}
        self.versions: dict[str, dict] = {}
        self.uploads: list[dict] = []
        self.problems: list[str] = []
        self.validator = SpecValidator()
        self._lock = threading.Lock()
        self._released = threading.Event()
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

        self._released.clear()
        self._httpd = _HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kfp-test-server", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        return self

    def stop(self) -> None:
        self._released.set()
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

    def hang(self, times: int = 1, method: str | None = None, path: str | None = None) -> None:
        """Read the next ``times`` matching requests and never answer them (until ``stop()``)."""
        self.failures.append(Failure(0, times, method, path, mode="hang"))

    def trickle(self, times: int = 1, method: str | None = None, path: str | None = None) -> None:
        """Answer the next ``times`` matching requests correctly, one byte every 0.2 s."""
        self.failures.append(Failure(0, times, method, path, mode="trickle"))

    def reset(self, times: int = 1, method: str | None = None, path: str | None = None) -> None:
        """Serve the next ``times`` matching requests (a run is created), then reset the connection
        instead of answering."""
        self.failures.append(Failure(0, times, method, path, mode="reset"))

    @property
    def reported_tag(self) -> str:
        """The ``tag_name`` of healthz: set, else the emulated release, else the current release."""
        return self.tag_name or self.backend_version or CURRENT_RELEASE

    def fire(self, recurring_run_id: str) -> str:
        """Start a run of a recurring run, as the scheduler would; returns the run id."""
        job = self.recurring_runs[recurring_run_id]
        body = {"experiment_id": job["experiment_id"], "display_name": f"{job['display_name']}-{_now()}",
                "pipeline_spec": job["pipeline_spec"], "runtime_config": job.get("runtime_config", {})}
        run = self._create_run(body)
        self.runs[run["run_id"]].data["recurring_run_id"] = recurring_run_id
        return run["run_id"]
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
        raw = handler.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in handler.headers.items()}
        record = Recorded(method, parts.path, parse_qs(parts.query), headers,
                          raw.decode(errors="replace") if raw else "", raw)
        with self._lock:
            self.requests.append(record)
        if self.delay:
            time.sleep(self.delay)
        mode = "status"
        try:
            self._authorize(record)
            mode = self._injected(record)
            if mode == "hang":
                self._released.wait(HANG_LIMIT)
                handler.close_connection = True
                return
            status, payload, definition = self._route(record)
            errors = self.validator.errors(definition, payload) if definition else []
            if errors:
                self.problems.append(f"response of {method} {parts.path} breaks the spec: {errors}")
                raise Rejected(500, f"test server response breaks the spec: {errors[:3]}")
        except Rejected as error:
            status, payload = error.status, {"code": _grpc_code(error.status), "message": error.message,
                                             "details": []}
        if mode == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
            return
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if mode == "trickle":
                for index in range(len(data)):
                    handler.wfile.write(data[index:index + 1])
                    handler.wfile.flush()
                    if self._released.wait(0.2):
                        break
                handler.close_connection = True
            else:
                handler.wfile.write(data)
        except OSError:
            pass

    def _authorize(self, record: Recorded) -> None:
        if self.token and record.headers.get("authorization") != f"Bearer {self.token}":
            raise Rejected(401, "Unauthorized: missing or invalid bearer token")
        if self.cookie and self.cookie not in (record.headers.get("cookie") or ""):
            raise Rejected(403, "Forbidden: no session cookie")

    def _injected(self, record: Recorded) -> str:
        """The mode of the first matching injected failure ("status" when none matches)."""
        with self._lock:
            for failure in self.failures:
                if failure.times <= 0:
                    continue
                if failure.method and failure.method != record.method:
                    continue
                if failure.path and failure.path not in record.path:
                    continue
                failure.times -= 1
                if failure.mode == "status":
                    raise Rejected(failure.status, failure.message)
                return failure.mode
        return "status"

    def _route(self, record: Recorded) -> tuple[int, Any, str | None]:
        path, method = record.path, record.method
        if path in ("/apis/v1beta1/healthz", "/apis/v2beta1/healthz") and method == "GET":
            return 200, self._healthz(path.split("/")[2]), None
        if not path.startswith(PREFIX):
            raise Rejected(404, f"Not Found: {path}")
        rest = path[len(PREFIX):]
        if rest in UPLOAD_QUERY and method == "POST":
            if rest == "/pipelines/upload":
                return 200, self._upload(record, rest), "v2beta1Pipeline"
            return 200, self._upload(record, rest), "v2beta1PipelineVersion"
        if rest == "/pipelines" and method == "GET":
            listed = self._list(self.pipelines.values(), record, "pipelines")
            return 200, listed, "v2beta1ListPipelinesResponse"
        if rest == "/recurringruns":
            if method == "POST":
                created = self._create_recurring_run(self._body(record, "v2beta1RecurringRun"))
                return 200, created, "v2beta1RecurringRun"
            if method == "GET":
                jobs = [job for job in self.recurring_runs.values() if _in_experiment(job, record)]
                return 200, self._list(jobs, record, "recurringRuns"), "v2beta1ListRecurringRunsResponse"
        if rest.startswith("/recurringruns/") and method == "GET":
            job = self.recurring_runs.get(rest.split("/")[2])
            if job is None:
                raise Rejected(404, f"Failed to get a recurring run: ResourceNotFoundError: RecurringRun"
                                    f" {rest.split('/')[2]} not found")
            return 200, job, "v2beta1RecurringRun"
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
                runs = [self._view(run) for run in self.runs.values() if _in_experiment(run.data, record)]
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
        if (record.query.get("sort_by") or [""])[0] == "created_at desc":
            items.reverse()  # insertion order is creation order
        size = int((record.query.get("page_size") or ["0"])[0]) or len(items)
        return {key: items[:size], "total_size": len(items)}

    def _healthz(self, api: str) -> dict:
        """The healthz answer of the emulated release, as main.go writes it (outside the gateway)."""
        health = {"commit_sha": "0123abc" if self.reported_tag != "unknown" else "unknown",
                  "tag_name": self.reported_tag, "multi_user": self.multi_user}
        version = _version(self.backend_version or CURRENT_RELEASE)
        if api == "v2beta1" and version >= PIPELINE_STORE_SINCE:
            health["pipeline_store"] = "database"
        documented = {k: v for k, v in health.items() if k in ("multi_user", "pipeline_store")}
        errors = self.validator.errors("v2beta1GetHealthzResponse", documented)
        if errors:
            self.problems.append(f"healthz breaks the documented fields: {errors}")
        return health

    def _create_experiment(self, body: dict) -> dict:
        if not body.get("display_name"):
            raise Rejected(400, "Invalid input error: Experiment name is empty")
        for experiment in self.experiments.values():
            if experiment["display_name"] == body["display_name"]:
                raise Rejected(409, f"Experiment {body['display_name']!r} already exists")
        experiment_id = self.add_experiment(body["display_name"], body.get("namespace"))
        return self.experiments[experiment_id]

    def _checked_pipeline(self, body: dict, kind: str) -> list[str]:
        """What run and recurring-run creation both check; returns the root DAG's tasks."""
        version = _version(self.backend_version)
        too_long = len(body.get("description") or "") > 255
        if version is not None and version < VARCHAR_DESCRIPTION_UNTIL and too_long:
            raise Rejected(500, "Internal error: Failed to store the run: Error 1406 (22001): Data too long"
                                " for column 'Description' at row 1")
        experiment_id = body.get("experiment_id")
        if experiment_id and experiment_id not in self.experiments:
            raise Rejected(404, f"Failed to create a {kind}: Experiment {experiment_id} not found")
        if not body.get("display_name"):
            raise Rejected(400, f"Invalid input error: The {kind} name is empty")
        if "pipeline_spec" not in body:
            raise Rejected(400, "Invalid input error: pipeline_spec is required (no pipeline version used)")
        pipeline_spec, tasks = self._parse_pipeline(body["pipeline_spec"])
        self._check_parameters(pipeline_spec, (body.get("runtime_config") or {}).get("parameters") or {})
        return tasks

    def _create_run(self, body: dict) -> dict:
        tasks = self._checked_pipeline(body, "run")
        run_id = str(uuid.uuid4())
        data = copy.deepcopy(body)
        data.update(run_id=run_id, storage_state="AVAILABLE", created_at=_now(), scheduled_at=_now(),
                    state="PENDING")
        run = _Run(data, list(self.script), 0, tasks)
        self.runs[run_id] = run
        return self._view(run)

    def _create_recurring_run(self, body: dict) -> dict:
        """As the backend's toModelJob (backend/src/apiserver/server/api_converter.go)."""
        self._checked_pipeline(body, "recurring run")
        concurrency = int(body.get("max_concurrency") or 0)
        if not 1 <= concurrency <= 10:
            raise Rejected(400, f"Invalid input error: Max concurrency of a recurring run must be at least 1"
                                f" and at most 10. Received {concurrency}")
        trigger = body.get("trigger") or {}
        cron = (trigger.get("cron_schedule") or {}).get("cron")
        interval = (trigger.get("periodic_schedule") or {}).get("interval_second")
        if cron is None and interval is None:
            raise Rejected(400, "Invalid input error: a recurring run needs a cron or periodic trigger")
        if cron is not None:
            problem = robfig_cron_problem(cron)
            if problem:
                raise Rejected(400, f"Invalid input error: Schedule cron is not a supported"
                                    f" format(https://godoc.org/github.com/robfig/cron). Error: {problem}")
        recurring_run_id = str(uuid.uuid4())
        job = copy.deepcopy(body)
        enabled = body.get("mode") == "ENABLE"
        job.update(recurring_run_id=recurring_run_id, created_at=_now(), updated_at=_now(),
                   status="ENABLED" if enabled else "DISABLED", max_concurrency=str(concurrency))
        self.recurring_runs[recurring_run_id] = job
        return job

    def _upload(self, record: Recorded, rest: str) -> dict:
        """A multipart pipeline upload (``uploadfile``), with the spec's query parameters only."""
        unknown = sorted(set(record.query) - UPLOAD_QUERY[rest])
        if unknown:
            raise Rejected(400, f"Invalid input error: unknown query parameters {unknown}")
        content = _multipart_file(record, "uploadfile")
        if content is None:
            raise Rejected(400, "Invalid input error: Failed to read pipeline from file: http: no such file")
        import yaml

        try:
            documents = [doc for doc in yaml.safe_load_all(content) if doc is not None]
        except yaml.YAMLError:
            raise Rejected(400, "Invalid input error: the uploaded file is not YAML") from None
        if not documents or not isinstance(documents[0], dict):
            raise Rejected(400, "Invalid input error: the uploaded file has no pipeline spec")
        platform = documents[1] if len(documents) > 1 else {}
        spec, _ = self._parse_pipeline({"pipeline_spec": documents[0], "platform_spec": platform})
        query = {key: values[0] for key, values in record.query.items()}
        self.uploads.append({"path": rest, "query": query, "documents": documents})
        name = query.get("name") or query.get("display_name") or spec.get("pipelineInfo", {}).get("name")
        if rest == "/pipelines/upload":
            if any(p["name"] == name for p in self.pipelines.values()):
                raise Rejected(409, f"Already exist error: Failed to create a pipeline: pipeline {name!r}"
                                    f" already exists")
            pipeline_id = str(uuid.uuid4())
            pipeline = {"pipeline_id": pipeline_id, "name": name, "display_name": name, "created_at": _now()}
            if query.get("description"):
                pipeline["description"] = query["description"]
            self.pipelines[pipeline_id] = pipeline
            self._add_version(pipeline_id, name, documents)
            return pipeline
        pipeline_id = query.get("pipelineid", "")
        if pipeline_id not in self.pipelines:
            raise Rejected(404, f"Failed to upload a pipeline version: ResourceNotFoundError: Pipeline"
                                f" {pipeline_id} not found")
        if any(v["pipeline_id"] == pipeline_id and v["name"] == name for v in self.versions.values()):
            raise Rejected(409, f"Already exist error: pipeline version {name!r} already exists")
        return self._add_version(pipeline_id, name, documents)

    def _add_version(self, pipeline_id: str, name: str, documents: list) -> dict:
        version_id = str(uuid.uuid4())
        version = {"pipeline_id": pipeline_id, "pipeline_version_id": version_id, "name": name,
                   "display_name": name, "created_at": _now(), "pipeline_spec": documents[0]}
        self.versions[version_id] = version
        return version

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
        for label, executor in executors.items():
            config = json_format.MessageToDict(executor)
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
        kinds = (("secretAsEnv", "SecretAsEnv"), ("secretAsVolume", "SecretAsVolume"),
                 ("imagePullSecret", "ImagePullSecret"))
        for key, kind in kinds:
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


def isolate_client_environment(monkeypatch: Any, home: Path) -> None:
    """No KFP endpoint, UI endpoint or service-account token from the machine; ``home`` as HOME (kfp's
    context file)."""
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    monkeypatch.delenv("KF_PIPELINES_UI_ENDPOINT", raising=False)
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(home / "no-token"))
    monkeypatch.setenv("HOME", str(home))


def _in_experiment(item: dict, record: Recorded) -> bool:
    experiment_id = (record.query.get("experiment_id") or [""])[0]
    return not experiment_id or item.get("experiment_id") == experiment_id


def _multipart_file(record: Recorded, field_name: str) -> str | None:
    """The text of the file part ``field_name`` of a multipart/form-data body."""
    content_type = record.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + record.raw)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == field_name:
            return part.get_payload(decode=True).decode()
    return None


_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_CRON_FIELDS = ((0, 59, {}), (0, 59, {}), (0, 23, {}), (1, 31, {}),
                (1, 12, {month: i + 1 for i, month in enumerate(_MONTHS)}),
                (0, 6, {day: i for i, day in enumerate("sun mon tue wed thu fri sat".split())}))
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def robfig_cron_problem(spec: str) -> str | None:
    """Why github.com/robfig/cron v1.2.0 ``cron.Parse`` (what the backend calls) refuses ``spec``.

    Its parser takes seconds first: Second Minute Hour Dom Month [Dow], or a descriptor.
    """
    spec = spec.strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS or re.fullmatch(r"@every \S+", spec):
            return None
        return f"Unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) not in (5, 6):
        return f"Expected 5 to 6 fields, found {len(fields)}: {spec}"
    for text, (low, high, names) in zip(fields, _CRON_FIELDS, strict=False):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and not step.isdigit():
                return f"Failed to parse int from {step}"
            if base in ("*", "?"):
                continue
            bounds = [names.get(b.lower(), b) for b in base.split("-")]
            if len(bounds) > 2 or not all(isinstance(b, int) or b.isdigit() for b in bounds):
                return f"Failed to parse int from {base}"
            numbers = [int(b) for b in bounds]
            if numbers[0] < low or numbers[-1] > high or numbers[0] > numbers[-1]:
                return f"Beginning of range ({numbers[0]}) below minimum ({low}): {part}" \
                    if numbers[0] < low else f"End of range ({numbers[-1]}) above maximum ({high}): {part}"
    return None


def _grpc_code(status: int) -> int:
    return {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 500: 13, 503: 14}.get(status, 2)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
