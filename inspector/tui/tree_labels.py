"""How the rows of the allocation tree look in a terminal: a style for each
role of a label's parts (the words are the model's,
:mod:`inspector.core.tree.labels`). The text stays plain: a ``Text`` is
never parsed as markup, whatever a task named its files."""

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
