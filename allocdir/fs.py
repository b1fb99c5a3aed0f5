"""``AllocDirFS``: the read side of an allocation, as the inspector uses it."""

from __future__ import annotations

from concurrent.futures import Future
from typing import BinaryIO, Protocol, runtime_checkable

from .fileinfo import AllocFileInfo
from .watch import FileChanges


@runtime_checkable
class AllocDirFS(Protocol):
    """File operations on an alloc dir (Nomad's ``AllocDirFS``), so that a
    backend other than the local disk can serve the inspector."""

    def list(self, path: str) -> list[AllocFileInfo]:
        """The entries of a directory, sorted by name."""

    def stat(self, path: str) -> AllocFileInfo:
        """One entry, with its content type."""

    def read_at(self, path: str, offset: int) -> BinaryIO:
        """An open binary file positioned at ``offset``."""

    def snapshot(self, w: BinaryIO) -> None:
        """A tar of the allocation's data written to ``w``."""

    def block_until_exists(self, path: str) -> "Future[None]":
        """A future resolved when ``path`` exists."""

    def change_events(self, path: str, cur_offset: int) -> FileChanges:
        """The change events of a file."""
