"""The pipeline's DAG as one static, inline SVG: the graph of the preview's ``text/html`` fallback.

Front ends without the JupyterLab renderer (VS Code, nbconvert HTML, GitHub, nbviewer) show this
picture: nested groups for sub-pipelines, loops, conditions and exit handlers, task boxes, edges
with arrowheads, one badge per secret binding naming the secret (or its parameter) and lint markers,
in the visual language of the Lab renderer (``labextension/style/base.css``).

The layout runs in Python with igraph's Sugiyama layering, one DAG level at a time, inner groups
first (a group is a box sized by its own layout). The SVG has no script, no network and no ``id``
(arrowheads are drawn as paths, not ``<marker>`` references), so any number of previews can share a
page. Colours are JupyterLab theme variables with light fallbacks.

To stay small beside the compiled YAML, the picture is drawn in layers over the nested boxes: all
accent bars, badges and markers of one colour are one ``<path>`` of round-capped lines, all texts of
one kind one ``<g>``, each carrying its presentation attributes once.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from kfp_nbsecrets import ir, lint
from kfp_nbsecrets.tables import plural

#: Above this many tasks the SVG is left out of the fallback (a note says so): at about 0.35 KB a task,
#: a 1000-task graph alone would be a fifth of the compiled YAML's size.
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
LEAF_KINDS = {"container", "importer"}

# Classes: boxes are <g class='t'> (task) or <g class='g KIND'> (group) holding a <rect class='k'>, with
# 'w' / 'e' for a warning / an error; 'l' edges, 'h' arrowheads, 'r' accent bars, 'bo' / 'bi' a badge's
# outline and inside, 'p KIND' its pill, 'mw' / 'me' lint markers; texts: 'c' a group's kind, 'n' names,
# 's' images, 'q' pill and marker labels, and the source kind for the secret names on badges.
# Nested CSS, scoped to the SVG: JupyterLab theme colours with light fallbacks (VS Code, nbconvert,
# nbviewer). Where a sanitizer drops the <style> (GitHub), the light presentation attributes each
# layer carries once stay (CSS wins over them wherever it applies).
STYLE = (
    ".kfp-nbsecrets-svg{font:11px var(--jp-ui-font-family,system-ui,sans-serif);"
    "fill:var(--jp-ui-font-color1,#333);"
    ".k{fill:var(--jp-layout-color0,#fff);rx:4px}.k,.bo{stroke:var(--jp-border-color1,#999)}"
    ".g>.k{fill:var(--jp-layout-color1,#f5f5f5);stroke-dasharray:4 3;rx:6px}"
    ".g .g>.k{fill:var(--jp-layout-color2,#eee)}.g .g .g>.k{fill:var(--jp-layout-color1,#f5f5f5)}"
    ".for-loop>.k,.pipeline>.k{stroke-dasharray:none}.pipeline>.k{stroke-width:3px}"
    ".w>.k,.r.w,.mw{stroke:var(--jp-warn-color1,#e65100)}"
    ".e>.k,.r.e,.me,.bo.unresolved{stroke:var(--jp-error-color1,#c62828)}"
    ".l{stroke:var(--jp-ui-font-color2,#888)}.h{fill:var(--jp-ui-font-color2,#888)}"
    ".r,.p{stroke:var(--jp-brand-color1,#1976d2)}.r.importer,.p.volume{stroke:var(--jp-accent-color1,#388e3c)}"
    ".p.image-pull{stroke:var(--jp-ui-font-color2,#666)}.bi{stroke:var(--jp-layout-color1,#f5f5f5)}"
    ".c,.s{fill:var(--jp-ui-font-color2,#666)}.c,.q{font-size:9px}.c{letter-spacing:.04em}.s{font-size:10px}"
    ".n,.q{font-weight:600}.n{fill:var(--jp-ui-font-color0,#111)}.q{fill:var(--jp-ui-inverse-font-color0,#fff)}"
    ".parameter{font-style:italic}.task-output,.loop-item{text-decoration:underline dotted}}"
)
#: Layers drawn over the boxes, bottom to top: (class, light presentation attributes) of one <path> each,
#: whose sub-paths are lines (round-capped 14 px wide unless said otherwise).
STROKES = {
    "r": " stroke='#1976d2' stroke-width='4'", "r importer": " stroke='#388e3c' stroke-width='4'",
    "r w": " stroke='#e65100' stroke-width='4'", "r e": " stroke='#c62828' stroke-width='4'",
    "bo": " stroke='#999'", "bo unresolved": " stroke='#c62828'", "bi": " stroke='#f5f5f5' stroke-width='12'",
    "p env": " stroke='#1976d2'", "p volume": " stroke='#388e3c'", "p image-pull": " stroke='#666'",
    "mw": " stroke='#e65100'", "me": " stroke='#c62828'",
}
#: Text layers over the strokes: (class, light presentation attributes) of one <g> each.
TEXTS = {
    "c": " fill='#666' font-size='9'", "n": " font-weight='bold'", "s": " fill='#666' font-size='10'",
    "q": " fill='#fff' font-size='9' font-weight='bold'", "literal": "", "parameter": " font-style='italic'",
    "task-output": " text-decoration='underline'", "loop-item": " text-decoration='underline'",
    "unresolved": "",
}


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
    """The DAG of ``model`` as an ``<svg>`` element (deterministic, escaped, without ids).

    Its style is :data:`STYLE`, which the page carries once (a ``<style>`` beside the SVG).
    """
    children: dict[str, list[ir.Task]] = defaultdict(list)
    for task in model.tasks:
        children[task.parent].append(task)
    by_task: dict[str, list[lint.Finding]] = defaultdict(list)
    for finding in findings:
        if finding.task:
            by_task[finding.task].append(finding)
    bindings = {task.path: task.bindings for task in model.tasks}
    root_children, edges, width, height = _layout_level("", children, bindings)
    drawing = _Drawing(bindings, by_task)
    drawing.level(root_children, edges, 1, 1)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='kfp-nbsecrets-svg' width='{width + 2:.0f}'"
            f" height='{height + 2:.0f}' role='img'"
            f" aria-label='{html.escape(model.name)}: {plural(len(model.tasks), 'task')}'"
            f" font-family='sans-serif' font-size='11' fill='#333'>{drawing.markup()}</svg>")


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

class _Drawing:
    """The SVG's content in layers: the nested boxes with each level's edges, then strokes, then texts
    (which let the pointer through to the boxes and their titles). Coordinates are absolute, in whole
    pixels; a task costs its box, a few sub-paths and its texts."""

    def __init__(self, bindings: dict, findings: dict):
        self.bindings = bindings
        self.findings = findings
        self.boxes: list[str] = []
        self.strokes: dict[str, list[str]] = defaultdict(list)
        self.texts: dict[str, list[str]] = defaultdict(list)

    def markup(self) -> str:
        """The layers in the order of :data:`STROKES` and :data:`TEXTS` (bottom to top)."""
        strokes = "".join(f"<path d='{''.join(self.strokes[name])}' class='{name}'{STROKES[name]}/>"
                          for name in sorted(self.strokes, key=list(STROKES).index))
        texts = "".join(f"<g class='{name}'{TEXTS[name]}>{''.join(self.texts[name])}</g>"
                        for name in sorted(self.texts, key=list(TEXTS).index))
        return (f"<g fill='#fff' stroke='#999'>{''.join(self.boxes)}</g><g pointer-events='none'>"
                f"<g stroke-linecap='round' stroke-width='14'>{strokes}</g>{texts}</g>")

    def text(self, layer: str, x: float, y: float, content: str) -> None:
        self.texts[layer].append(f"<text x='{x:.0f}' y='{y:.0f}'>{_escape(content)}</text>")

    def line(self, layer: str, x: float, y: float, dx: float = 0, dy: float = 0) -> None:
        """A sub-path from (x, y) by (dx, dy): horizontal or vertical."""
        self.strokes[layer].append(f"M{x:.0f} {y:.0f}" + (f"h{dx:.0f}" if dx else f"v{dy:.0f}"))

    def level(self, boxes: list[Box], edges, left: float, top: float) -> None:
        """The boxes and edges of one DAG level, placed at (left, top)."""
        if edges:
            lines, heads = [], []
            for points in edges:
                points = [(x + left, y + top) for x, y in points]
                tip = points[-1]
                lines.append("M" + "L".join(f"{x:.0f} {y:.0f}" for x, y in points[:-1])
                             + f"L{tip[0]:.0f} {tip[1] - 5:.0f}")
                heads.append(_arrowhead(points[-2], tip))
            self.boxes.append(f"<path d='{''.join(lines)}' class='l' fill='none' stroke='#888'/>"
                              f"<path d='{''.join(heads)}' class='h' fill='#888' stroke='none'/>")
        for box in boxes:
            self.box(box, left + box.x, top + box.y)

    def box(self, box: Box, x: float, y: float) -> None:
        task = box.task
        own = self.findings.get(task.path, [])
        severity = _worst(own)[:1]
        kind = GROUP_LABEL.get(task.kind, task.kind)
        group = bool(box.children) or task.kind not in LEAF_KINDS
        classes = " ".join(c for c in ("g" if group else "t", task.kind, severity) if c and c != "container")
        title = f"{task.path} ({kind})" if group else task.path
        self.boxes.append(f"<g class='{classes}'><title>{_escape(title)}</title><rect class='k'"
                          f" x='{x:.0f}' y='{y:.0f}' width='{box.width:.0f}' height='{box.height:.0f}'"
                          + (" fill='#f5f5f5'/>" if group else "/>"))
        if group:
            self.text("c", x + 8, y + 16, kind.upper())
            title_x = x + 16 + _text_width(kind) * 1.1
            self.text("n", title_x, y + 16, _fit(_group_title(task), box.width - 110))
            self.level(box.children, box.edges, x + PAD, y + GROUP_HEADER + PAD)
        else:
            accent = f"r {severity}" if severity else "r importer" if task.kind == "importer" else "r"
            self.line(accent, x + 2, y + 2, dy=box.height - 4)
            self.text("n", x + 10, y + 16, _fit(task.name, box.width - 56))
            self.text("s", x + 10, y + 32, _fit(task.image or task.component or task.kind, box.width - 16))
        self.boxes.append("</g>")
        if own:
            self.line(f"m{severity}", x + box.width - 31, y + 12, dx=18)
            glyph = "\u2716" if severity == "e" else "\u26a0"
            self.text("q", x + box.width - 34, y + 16, f"{glyph} {len(own)}")
        for row, binding in enumerate(self.bindings.get(task.path, ())):
            self.badge(binding, x + 8, y + LEAF_HEADER + row * BADGE_ROW, box.width - 16)

    def badge(self, binding: ir.Binding, x: float, y: float, width: float) -> None:
        """A pill naming the binding's kind (ENV, VOL, PULL) and its secret, parameter or source."""
        kind = BINDING_LABEL.get(binding.kind, binding.kind)
        kind_width = _text_width(kind) + 8
        source = binding.source.kind
        self.line("bo unresolved" if source == "unresolved" else "bo", x + 7, y + 7, dx=width - 14)
        self.line("bi", x + 7, y + 7, dx=width - 14)
        self.line(f"p {binding.kind}", x + 7, y + 7, dx=max(kind_width - 14, 1))
        self.text("q", x + 4, y + 10, kind.upper())
        self.text(source, x + kind_width + 4, y + 11,
                  _fit(binding.source.secret_text(), width - kind_width - 8))


def _arrowhead(before: tuple[float, float], tip: tuple[float, float]) -> str:
    """A filled triangle ending at ``tip``, pointing away from ``before`` (no <marker>, so no id)."""
    (x0, y0), (x1, y1) = before, tip
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    bx, by = x1 - 8 * ux, y1 - 8 * uy
    return f"M{x1:.0f} {y1:.0f}L{bx - 4 * uy:.0f} {by + 4 * ux:.0f}L{bx + 4 * uy:.0f} {by - 4 * ux:.0f}Z"


_CHANNEL = re.compile(r"inputs\.parameter_values\['(?:pipelinechannel--)?([^']+)'\]")


def _group_title(task: ir.Task) -> str:
    """A group's name; a condition shows its predicate, with KFP's channel names shortened."""
    condition = task.spec.get("triggerPolicy", {}).get("condition")
    if task.kind == "condition" and condition:
        predicate = _CHANNEL.sub(r"\1", condition)
        return _fit(f"{task.name}: {predicate}", 60 * CHAR_WIDTH)
    return task.name


def _escape(text: str) -> str:
    """``text`` escaped for element content (quotes need no escaping there)."""
    return html.escape(text, quote=False)


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
