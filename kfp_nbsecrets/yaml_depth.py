"""A guard against YAML nested too deeply to load: the C loader recurses once per level and can
overflow the C stack (a crash, not an exception, on Python 3.10). The event stream is flat, so it
is read first to measure the depth."""

from __future__ import annotations

#: Far beyond any compiled pipeline or Secret manifest (a few dozen levels at most).
MAX_DEPTH = 200


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the YAML ``text`` nests sequences and mappings more than ``limit`` levels deep."""
    import yaml

    if text.count("[") + text.count("{") + text.count(":") + text.count("-") < limit:
        return False
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limit:
                return True
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return False
