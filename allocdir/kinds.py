"""What an entry is, from the first letter of its ``ls``-style mode: the one
table every part of the project reads (the library's reprs, the tree's rows,
the viewer's and the command line's refusals).

A FIFO, a socket or a device is *special*: nothing reads it (opening a FIFO
blocks, reading a device can do anything), so every front-end marks it and
says why it is not opened.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    """One kind of entry and the words for it."""

    letter: str
    """The first letter of an ``ls`` mode (``stat.filemode``)."""
    word: str
    """The kind in a word, as tables show it: "dir", "FIFO", "char device"."""
    tag: str
    """The kind as a tree row tags it after the name: "fifo", "socket"."""
    phrase: str
    """The kind in a sentence: "is a FIFO", "is a character device"."""
    mark: str
    """What ``ls -F`` appends to the name: "/", "@", "|", "=" or ""."""
    special: bool
    """True for what is never opened: FIFOs, sockets, devices."""


FILE, DIR, SYMLINK, FIFO, SOCKET, CHAR_DEVICE, BLOCK_DEVICE = (
    FileKind("-", "file", "file", "a regular file", "", False),
    FileKind("d", "dir", "dir", "a directory", "/", False),
    FileKind("l", "symlink", "symlink", "a symbolic link", "@", False),
    FileKind("p", "FIFO", "fifo", "a FIFO", "|", True),
    FileKind("s", "socket", "socket", "a socket", "=", True),
    FileKind("c", "char device", "char device", "a character device", "", True),
    FileKind("b", "block device", "block device", "a block device", "", True),
)
OTHER = FileKind("?", "other", "other", "a file of an unknown kind", "", True)
"""A mode letter none of the above has (a door, a whiteout): never opened."""

KINDS = {kind.letter: kind for kind in (FILE, DIR, SYMLINK, FIFO, SOCKET, CHAR_DEVICE,
                                        BLOCK_DEVICE)}
"""Every kind by its mode letter."""


def file_kind(file_mode: str) -> FileKind:
    """The kind an ``ls``-style mode (``drwxr-xr-x``) says an entry is."""
    return KINDS.get(file_mode[:1], OTHER)


def kind_of(file_mode: str) -> str:
    """The kind of an entry in a word: "dir", "file", "symlink", "FIFO",
    "socket", "char device", "block device" (or "other")."""
    return file_kind(file_mode).word


def is_special(file_mode: str) -> bool:
    """True for a FIFO, socket or device: nothing to open and read."""
    return file_kind(file_mode).special
