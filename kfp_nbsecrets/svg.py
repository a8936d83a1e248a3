"""The pipeline's DAG as one static, inline SVG: the graph of the preview's ``text/html`` fallback.

Front ends without the JupyterLab renderer (VS Code, nbconvert HTML, GitHub, nbviewer) show this
picture: nested groups for sub-pipelines, loops, conditions and exit handlers, task boxes, edges
with arrowheads, one badge per secret binding naming the secret (or its parameter) and lint markers,
in the visual language of the Lab renderer (``labextension/style/base.css``).

The layout runs in Python with igraph's Sugiyama layering, one DAG level at a time, inner groups
first (a group is a box sized by its own layout). The SVG has no script, no network and no ``id``
(arrowheads are drawn as paths, not ``<marker>`` references), so any number of previews can share a
page. Colours are JupyterLab theme variables with light fallbacks.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from kfp_nbsecrets import ir, lint
from kfp_nbsecrets.tables import plural

#: Above this many tasks the SVG is left out of the fallback (a note says so): at about 0.3 KB a task,
#: a 1000-task graph alone would be a third of the compiled YAML's size.
MAX_TASKS = 500
LEAF_WIDTH = 210
LEAF_HEADER = 40
BADGE_ROW = 17
GROUP_HEADER = 24
PAD = 10
GAP_X = 16
GAP_Y = 30
#: Target width / height of rows of unconnected components (as ELK's aspect ratio).
ASPECT = 1.6
CHAR_WIDTH = 6.2  # average advance of an 11 px UI font

GROUP_LABEL = {"pipeline": "sub-pipeline", "for-loop": "loop", "condition": "condition",
               "condition-branches": "branches", "exit-handler": "exit handler"}
BINDING_LABEL = {"env": "env", "volume": "vol", "image-pull": "pull"}
#: Light colours written as SVG attributes, for pages that drop the <style> (the theme CSS wins elsewhere).
BADGE_COLOUR = {"env": "#1976d2", "volume": "#388e3c"}
LEAF_KINDS = {"container", "importer"}

# Scoped to the SVG's class; JupyterLab theme colours with light fallbacks (VS Code, nbconvert, nbviewer).
# The elements also carry light colours as attributes, so that the picture stays legible where a
# sanitizer drops <style> (CSS wins over those attributes wherever it applies).
STYLE = (  # nested CSS: every rule applies inside the SVG only
    ".kfp-nbsecrets-svg{"
    "& text{font:11px var(--jp-ui-font-family,system-ui,sans-serif);fill:var(--jp-ui-font-color1,#333)}"
    ".k{fill:var(--jp-layout-color0,#fff);stroke:var(--jp-border-color1,#999);rx:4px}"
    ".g>.k{fill:var(--jp-layout-color1,#f5f5f5);stroke-dasharray:4 3;rx:6px}"
    ".g .g>.k{fill:var(--jp-layout-color2,#eee)}.g .g .g>.k{fill:var(--jp-layout-color1,#f5f5f5)}"
    ".for-loop>.k,.pipeline>.k{stroke-dasharray:none}.pipeline>.k{stroke-width:3px}"
    ".c{fill:var(--jp-ui-font-color2,#666);font-size:9px;letter-spacing:.04em}"
    ".n{font-weight:600;fill:var(--jp-ui-font-color0,#111)}.r{fill:var(--jp-brand-color1,#1976d2)}"
    ".importer>.r{fill:var(--jp-accent-color1,#388e3c)}"
    ".s{fill:var(--jp-ui-font-color2,#666);font-size:10px}"
    ".e{stroke:var(--jp-ui-font-color2,#888);fill:none;stroke-width:1.3}"
    ".h{fill:var(--jp-ui-font-color2,#888)}.b>.k{fill:var(--jp-layout-color1,#f5f5f5);rx:7px}"
    ".p{fill:var(--jp-brand-color1,#1976d2);rx:7px}.volume>.p{fill:var(--jp-accent-color1,#388e3c)}"
    ".image-pull>.p{fill:var(--jp-ui-font-color2,#666)}"
    ".q{fill:var(--jp-ui-inverse-font-color0,#fff);font-size:9px;font-weight:600}"
    ".parameter>text{font-style:italic}"
    ".task-output>text,.loop-item>text{text-decoration:underline dotted}"
    ".unresolved>.k{stroke:var(--jp-error-color1,#c62828)}"
    ".warning>.k,.warning>.r,.mw{stroke:var(--jp-warn-color1,#e65100);fill:var(--jp-warn-color1,#e65100)}"
    ".error>.k,.error>.r,.me{stroke:var(--jp-error-color1,#c62828);fill:var(--jp-error-color1,#c62828)}"
    ".warning>.k,.error>.k{fill:var(--jp-layout-color0,#fff)}"
    ".g.warning>.k,.g.error>.k{fill:var(--jp-layout-color1,#f5f5f5)}"
    ".mw+text,.me+text{fill:var(--jp-ui-inverse-font-color0,#fff);font-size:9px}}"
)


@dataclass
class Box:
    """A task or group placed relative to its parent group's inner origin."""

    task: ir.Task
    width: float
    height: float
    x: float = 0.0
    y: float = 0.0
    children: list[Box] = field(default_factory=list)
    edges: list[list[tuple[float, float]]] = field(default_factory=list)


def render(model: ir.PipelineModel, findings: list[lint.Finding]) -> str:
    """The DAG of ``model`` as an ``<svg>`` element (deterministic, escaped, without ids)."""
    children: dict[str, list[ir.Task]] = defaultdict(list)
    for task in model.tasks:
        children[task.parent].append(task)
    by_task: dict[str, list[lint.Finding]] = defaultdict(list)
    for finding in findings:
        if finding.task:
            by_task[finding.task].append(finding)
    bindings = {task.path: task.bindings for task in model.tasks}
    root_children, edges, width, height = _layout_level("", children, bindings)
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='kfp-nbsecrets-svg' width='{width + 2:.0f}'"
           f" height='{height + 2:.0f}' role='img'"
           f" aria-label='{html.escape(model.name)}: {plural(len(model.tasks), 'task')}'>"
           f"<style>{STYLE}</style><g transform='translate(1,1)' font-family='sans-serif' font-size='11'"
           f" fill='#333'>"]
    _draw_level(out, root_children, edges, bindings, by_task)
    out.append("</g>")
    out.append("</svg>")
    return "".join(out)


# -- layout -----------------------------------------------------------------------------------------

def _layout_level(parent: str, children: dict[str, list[ir.Task]], bindings: dict):
    """Boxes of the tasks directly in ``parent`` (sized, placed) and its edges; and its width, height."""
    tasks = children.get(parent, [])
    boxes = []
    for task in tasks:
        if task.kind in LEAF_KINDS and task.path not in children:
            badges = len(bindings.get(task.path, ()))
            boxes.append(Box(task, LEAF_WIDTH, LEAF_HEADER + badges * BADGE_ROW + (4 if badges else 0)))
        else:
            inner, inner_edges, width, height = _layout_level(task.path, children, bindings)
            width = max(width, _text_width(_group_title(task)) + 120)
            boxes.append(Box(task, width + 2 * PAD, height + GROUP_HEADER + 2 * PAD, children=inner,
                             edges=inner_edges))
    if not boxes:
        return [], [], 0.0, 0.0
    index = {box.task.path: i for i, box in enumerate(boxes)}
    links = [(index[dep], index[box.task.path])
             for box in boxes for dep in box.task.depends_on if dep in index]
    components = _components(len(boxes), links)
    placed = [_layout_component(boxes, members, links) for members in components]
    # rows of components, as close to ASPECT as the widest component allows
    area = sum(w * h for _, w, h in placed)
    target = max(max(w for _, w, _ in placed), math.sqrt(area * ASPECT))
    x = y = row_height = width = 0.0
    edges = []
    for (component_edges, w, h), members in zip(placed, components, strict=True):
        if x > 0 and x + w > target:
            x, y = 0.0, y + row_height + GAP_Y
            row_height = 0.0
        for i in members:
            boxes[i].x += x
            boxes[i].y += y
        edges += [[(px + x, py + y) for px, py in points] for points in component_edges]
        x += w + GAP_X
        row_height = max(row_height, h)
        width = max(width, x - GAP_X)
    return boxes, edges, width, y + row_height


def _components(count: int, links: list[tuple[int, int]]) -> list[list[int]]:
    """The weakly connected components, each in task order, ordered by their first task."""
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _layout_component(boxes: list[Box], members: list[int], links: list[tuple[int, int]]):
    """Places one connected component with a Sugiyama layering; returns (edges, width, height)."""
    if len(members) == 1:
        box = boxes[members[0]]
        box.x = box.y = 0.0
        return [], box.width, box.height
    import igraph

    local = {i: n for n, i in enumerate(members)}
    own = [(local[a], local[b]) for a, b in links if a in local]
    graph = igraph.Graph(n=len(members), edges=own, directed=True)
    layout = graph.layout_sugiyama()
    coords = layout.coords
    layers: dict[int, list[int]] = defaultdict(list)
    for n in range(len(members)):
        layers[round(coords[n][1])].append(n)
    layer_top, top = {}, 0.0
    layer_height = {}
    for layer in sorted(layers):
        layer_top[layer] = top
        layer_height[layer] = max(boxes[members[n]].height for n in layers[layer])
        top += layer_height[layer] + GAP_Y
    unit = LEAF_WIDTH + GAP_X
    width = 0.0
    for layer, nodes in layers.items():
        cursor = 0.0
        for n in sorted(nodes, key=lambda n: coords[n][0]):
            box = boxes[members[n]]
            box.x = max(cursor, coords[n][0] * unit)
            box.y = layer_top[layer]
            cursor = box.x + box.width + GAP_X
        width = max(width, cursor - GAP_X)
    edges = []
    for (a, b), route in zip(own, layout.edge_routing, strict=True):
        source, target = boxes[members[a]], boxes[members[b]]
        points = [(source.x + source.width / 2, source.y + source.height)]
        for cx, cy in route:
            layer = round(cy)
            if layer in layer_top:
                points.append((cx * unit + LEAF_WIDTH / 2, layer_top[layer] + layer_height[layer] / 2))
        points.append((target.x + target.width / 2, target.y))
        edges.append(points)
    return edges, width, top - GAP_Y


# -- drawing ----------------------------------------------------------------------------------------

def _draw_level(out: list[str], boxes: list[Box], edges, bindings: dict, findings: dict) -> None:
    """The boxes and edges of one DAG level, in coordinates relative to the enclosing ``<g>``."""
    if edges:
        out.append("<g class='e' stroke='#888' fill='none'>")
        heads = []
        for points in edges:
            tip = points[-1]
            out.append("<path d='M" + "L".join(f"{x:.0f} {y:.0f}" for x, y in points[:-1])
                       + f"L{tip[0]:.0f} {tip[1] - 5:.0f}'/>")
            heads.append(_arrowhead(points[-2], tip))
        out.append("</g><g class='h' fill='#888'>")
        out += heads
        out.append("</g>")
    for box in boxes:
        task = box.task
        own = findings.get(task.path, [])
        severity = _worst(own)
        kind = GROUP_LABEL.get(task.kind, task.kind)
        group = bool(box.children) or task.kind not in LEAF_KINDS
        classes = " ".join(c for c in ("g" if group else "t", task.kind, severity) if c != "container")
        title = f"{task.path} ({kind})" if group else task.path
        out.append(f"<g class='{classes}' transform='translate({box.x:.0f},{box.y:.0f})'>"
                   f"<title>{html.escape(title)}</title>"
                   f"<rect class='k' width='{box.width:.0f}' height='{box.height:.0f}'"
                   f" fill='{'#f5f5f5' if group else '#fff'}' stroke='#999'/>")
        if group:
            out.append(f"<text class='c' x='8' y='16' font-size='9'>{html.escape(kind.upper())}</text>"
                       f"<text class='n' x='{16 + _text_width(kind) * 1.1:.0f}' y='16'>"
                       f"{html.escape(_fit(_group_title(task), box.width - 110))}</text>")
        else:
            out.append(f"<rect class='r' width='4' height='{box.height:.0f}' fill='#1976d2'/>"
                       f"<text class='n' x='10' y='16'>{html.escape(_fit(task.name, box.width - 56))}</text>"
                       f"<text class='s' x='10' y='32'>"
                       f"{html.escape(_fit(task.image or task.component or task.kind, box.width - 16))}"
                       f"</text>")
        if own:
            out.append(_marker(box.width - 38, 5, severity, len(own)))
        if group:
            out.append(f"<g transform='translate({PAD},{GROUP_HEADER + PAD})'>")
            _draw_level(out, box.children, box.edges, bindings, findings)
            out.append("</g>")
        for row, binding in enumerate(bindings.get(task.path, ())):
            out.append(_badge(binding, 8, LEAF_HEADER + row * BADGE_ROW, box.width - 16))
        out.append("</g>")


def _badge(binding: ir.Binding, x: float, y: float, width: float) -> str:
    """A pill naming the binding's kind (ENV, VOL, PULL) and its secret, parameter or source."""
    kind = BINDING_LABEL.get(binding.kind, binding.kind)
    kind_width = _text_width(kind) + 8
    colour = BADGE_COLOUR.get(binding.kind, "#666")
    name = html.escape(_fit(binding.source.secret_text(), width - kind_width - 8))
    return (f"<g class='b {binding.kind} {binding.source.kind}' transform='translate({x:.0f},{y:.0f})'>"
            f"<rect class='k' width='{width:.0f}' height='14' fill='#f5f5f5' stroke='#999'/>"
            f"<rect class='p' width='{kind_width:.0f}' height='14' fill='{colour}'/>"
            f"<text class='q' x='4' y='10' fill='#fff' font-size='9'>{kind.upper()}</text>"
            f"<text x='{kind_width + 4:.0f}' y='11'>{name}</text></g>")


def _marker(x: float, y: float, severity: str, count: int) -> str:
    glyph = "\u2716" if severity == lint.ERROR else "\u26a0"
    colour = "#c62828" if severity == lint.ERROR else "#e65100"
    return (f"<rect class='m{severity[0]}' x='{x:.0f}' y='{y:.0f}' width='32' height='14' rx='3'"
            f" fill='{colour}'/><text x='{x + 4:.0f}' y='{y + 11:.0f}' fill='#fff' font-size='9'>"
            f"{glyph} {count}</text>")


def _arrowhead(before: tuple[float, float], tip: tuple[float, float]) -> str:
    """A filled triangle ending at ``tip``, pointing away from ``before`` (no <marker>, so no id)."""
    (x0, y0), (x1, y1) = before, tip
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    bx, by = x1 - 8 * ux, y1 - 8 * uy
    return (f"<path d='M{x1:.0f} {y1:.0f}L{bx - 4 * uy:.0f} {by + 4 * ux:.0f}"
            f"L{bx + 4 * uy:.0f} {by - 4 * ux:.0f}Z'/>")


_CHANNEL = re.compile(r"inputs\.parameter_values\['(?:pipelinechannel--)?([^']+)'\]")


def _group_title(task: ir.Task) -> str:
    """A group's name; a condition shows its predicate, with KFP's channel names shortened."""
    condition = task.spec.get("triggerPolicy", {}).get("condition")
    if task.kind == "condition" and condition:
        predicate = _CHANNEL.sub(r"\1", condition)
        return _fit(f"{task.name}: {predicate}", 60 * CHAR_WIDTH)
    return task.name


def _worst(findings: list[lint.Finding]) -> str:
    if not findings:
        return ""
    return lint.ERROR if any(f.severity == lint.ERROR for f in findings) else lint.WARNING


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _fit(text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels."""
    room = max(int(width / CHAR_WIDTH), 4)
    return text if len(text) <= room else text[: room - 1] + "\u2026"
