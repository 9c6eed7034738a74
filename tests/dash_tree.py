"""Reading Dash component trees in tests: every component, all the words (helpers, not fixtures)."""

from __future__ import annotations


def walk(component):
    """Every component in a Dash tree (lists, children), depth first."""
    if isinstance(component, list | tuple):
        for c in component:
            yield from walk(c)
        return
    if component is None or isinstance(component, str | int | float):
        return
    yield component
    yield from walk(getattr(component, "children", None))


def text(component) -> str:
    """All the words in a tree, space-joined."""
    out = []

    def collect(c):
        if isinstance(c, str | int | float):
            out.append(str(c))
        elif isinstance(c, list | tuple):
            for x in c:
                collect(x)
        elif c is not None:
            collect(getattr(c, "children", None))
    collect(component)
    return " ".join(out)
