"""How the rows of the allocation tree look in a terminal: a style for each
role of a label's parts (the words are the model's,
:mod:`inspector.core.tree.labels`). The text stays plain: a ``Text`` is
never parsed as markup, whatever a task named its files.

In a narrow pane the name comes first and stays readable: what follows it
(size, age, tasks) is cut first, and a name wider than the pane loses its
middle, not its end, so the index of ``web.stdout.12`` is always seen."""

from __future__ import annotations

from rich.text import Text

from ..core.tree import labels as roles
from ..core.tree.labels import Label

STYLES = {
    roles.ROOT_NAME: "bold",
    roles.ALLOC_NAME: "bold",
    roles.SET_NAME: "bold",
    roles.NAME: "",
    roles.DIR_NAME: "bold blue",
    roles.LINK: "cyan",
    roles.LINK_TO_DIR: "bold cyan",
    roles.TARGET: "dim cyan",
    roles.SPECIAL_NAME: "magenta",
    roles.SPECIAL_TAG: "dim magenta",
    roles.LOCKED_DIR: "bold yellow",
    roles.LOCKED_NAME: "yellow",
    roles.LOCKED_TAG: "yellow",
    roles.LOCKED_DETAIL: "dim yellow",
    roles.DETAIL: "dim",
    roles.REASON: "yellow",
    roles.ERROR: "red",
    roles.NOTE_TEXT: "dim italic",
    roles.MERGED_NAME: "bold green",
    roles.MARK: "bold reverse",
}
"""The style of each role."""


def styled(label: Label) -> Text:
    """``label`` as a ``Text``, each part in its role's style."""
    text = Text(end="")
    for part in label.parts:
        text.append(part.text, style=STYLES.get(part.role, ""))
    return text


ELLIPSIS = "…"


def fitted(label: Label, width: int) -> Text:
    """``label`` styled, in at most ``width`` cells: the details after the
    name cut at the edge, a name wider than ``width`` cut in its middle."""
    text = styled(label)
    if text.cell_len <= width or not label.parts:
        return text
    name = label.parts[0]
    if len(name.text) <= width:
        text.truncate(width, overflow="ellipsis")
        return text
    out = Text(end="")
    out.append(middle_cut(name.text, width), style=STYLES.get(name.role, ""))
    return out


def middle_cut(name: str, width: int) -> str:
    """``name`` in ``width`` characters, its middle replaced by "…": the
    end (a rotation index, an extension) is kept a little longer than the
    start."""
    if len(name) <= width:
        return name
    if width <= 1:
        return ELLIPSIS[:width]
    tail = width // 2
    head = width - 1 - tail
    return name[:head] + ELLIPSIS + name[len(name) - tail:]
