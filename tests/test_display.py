"""The preview display object: text, escaped HTML and the versioned JSON payload."""

import json
import re

from pipelines import flat, nested

from kfp_nbsecrets import ir
from kfp_nbsecrets.bind import bind
from kfp_nbsecrets.display import IR_MIME_TYPE, preview


def test_mime_bundle_has_the_three_types_and_honours_include_exclude():
    shown = preview(nested())
    assert set(shown._repr_mimebundle_()) == {"text/plain", "text/html", IR_MIME_TYPE}
    assert set(shown._repr_mimebundle_(include=[IR_MIME_TYPE])) == {IR_MIME_TYPE}
    assert set(shown._repr_mimebundle_(exclude=["text/html"])) == {"text/plain", IR_MIME_TYPE}
    assert IR_MIME_TYPE == "application/vnd.kfp-nbsecrets.pipeline-ir.v1+json"


def test_text_table_lists_each_binding():
    text = preview(nested())._repr_mimebundle_()["text/plain"]
    lines = text.splitlines()
    assert lines[0] == "pipeline 'nested': 15 tasks, 6 secret bindings, 0 errors, 4 warnings"
    single = flat()
    bind(single, "consume", "db", env={"k": "K"})
    assert "2 tasks, 1 secret binding, 0 errors, 0 warnings" in preview(single).summary()
    assert lines[1].split() == ["TASK", "SECRET", "SOURCE", "ENV", "/", "MOUNT"]
    assert any(line.split()[:2] == ["exit-handler-1/for-loop-2/consume-3", "item"] for line in lines)
    assert "parameter, default 'db-creds'" in text
    assert "password → DB_PASSWORD" in text and "/secrets/out" in text
    assert lines[-1].startswith("warning: ")


def test_output_is_deterministic_across_definitions():
    first = preview(nested())._repr_mimebundle_()
    second = preview(nested())._repr_mimebundle_()
    assert first == second
    dumped = json.dumps(first)
    assert not re.search(r"[0-9a-f]{32}", dumped), "no random ids (the root group's uuid) may leak"


def test_html_is_escaped_and_carries_no_ir():
    pipeline = flat()
    bind(pipeline, "consume", "{{secret_name}}", env={"k": "K"})
    compiled = ir.load(pipeline)
    compiled.pipeline_spec["pipelineInfo"]["name"] = "<script>alert(1)</script>"
    page = preview(compiled)._repr_mimebundle_()["text/html"]
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "cache-hazard" not in page  # bind turned caching off
    assert "secretAsEnv" not in page and "deploymentSpec" not in page  # no IR, no platform spec
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page


def test_static_html_draws_one_svg_node_per_task_with_badges_and_markers():
    model = ir.read_pipeline(nested())
    page = preview(model).html()
    svg = page[page.index("<svg"):page.index("</svg>")]
    nodes = re.findall(r"<g class='(?:t|g)[ '][^>]*><title>([^<]*)</title>", svg)
    assert sorted(title.split(" (")[0] for title in nodes) == sorted(task.path for task in model.tasks)
    assert "<script" not in page and " id=" not in svg  # no ids: previews never clash on a page
    # badges name the secret or its parameter
    assert ">regcred<" in svg and ">literal-creds<" in svg and ">{{secret_name}}<" in svg
    assert "class='mw'" in svg  # the cache-hazard warnings are marked
    assert "condition-4: produce-Output == 'x'" in svg  # conditions show their predicate
    assert svg.count("<path d='M") >= 2  # edges with their arrowheads


def test_fallbacks_are_capped_with_a_note(monkeypatch):
    from kfp_nbsecrets import display, svg

    monkeypatch.setattr(display, "MAX_ROWS", 2)
    monkeypatch.setattr(svg, "MAX_TASKS", 3)
    shown = preview(nested())
    assert "4 more rows not shown (first 2 of 6)" in shown.text()
    page = shown.html()
    assert "<svg" not in page and "is not drawn in this static view (it draws at most 3" in page
    assert "4 more rows not shown" in page


def test_findings_of_the_same_problem_share_one_row():
    from kfp_nbsecrets import lint
    from kfp_nbsecrets.display import grouped_findings

    same = [lint.Finding("warning", "cache-hazard", f"t{i}", "m", "f") for i in range(7)]
    merged = grouped_findings([*same, lint.Finding("error", "no-name", "x", "m2", "f2")])
    assert [f.task for f in merged] == ["t0, t1, t2, t3, t4, \u2026 (7 tasks)", "x"]


def test_payload_schema():
    pipeline = nested()
    data = preview(pipeline).payload()
    assert data["version"] == 1
    assert data["pipeline"]["name"] == "nested"
    assert {"name": "secret_name", "type": "STRING", "default": "db-creds"} in data["pipeline"]["parameters"]
    tasks = {task["path"]: task for task in data["tasks"]}
    loop_task = tasks["exit-handler-1/for-loop-2/consume-3"]
    assert loop_task["parent"] == "exit-handler-1/for-loop-2" and loop_task["kind"] == "container"
    assert loop_task["image"] == "python:3.11" and "command" not in loop_task  # read in the IR
    assert tasks["exit-handler-1"]["kind"] == "exit-handler" and tasks["exit-handler-1"]["image"] is None
    assert {"from": "produce", "to": "exit-handler-1"} in data["edges"]
    binding = next(b for b in data["bindings"] if b["task"] == "exit-handler-1/inner/consume")
    assert binding["source"]["kind"] == "parameter" and binding["source"]["default"] == "db-creds"
    assert binding["env"] == [{"secretKey": "token", "envVar": "TOKEN"}]
    assert {f["code"] for f in data["findings"]} == {"cache-hazard"}
    # a problem found on several tasks is written once, with all its tasks
    assert data["findings"][0]["tasks"] == ["exit-handler-1/condition-branches-3/condition-4/consume-4",
                                            "exit-handler-1/inner/consume"]
    assert sum(len(f["tasks"]) for f in data["findings"]) == len(preview(pipeline).findings) == 4
    assert json.loads(json.dumps(data)) == data
