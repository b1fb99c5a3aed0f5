"""Errors raised by the allocdir package."""

from __future__ import annotations

from collections.abc import Sequence


class AllocDirError(Exception):
    """Base of every allocdir error.

    An operation made of several independent steps (``unmount_all``,
    ``destroy``) keeps going after a failed step and raises one
    ``AllocDirError`` at the end whose ``errors`` lists every failure.
    """

    def __init__(self, message: str, errors: Sequence[BaseException] = ()) -> None:
        super().__init__(message)
        self.errors: list[BaseException] = list(errors)

    @classmethod
    def collect(cls, what: str, errors: Sequence[BaseException]) -> "AllocDirError":
        """One error summarising ``errors``, the failures of the steps of ``what``."""
        detail = "; ".join(str(e) for e in errors)
        plural = "s" if len(errors) != 1 else ""
        return cls(f"{what}: {len(errors)} error{plural}: {detail}", errors)


class PathEscapesError(AllocDirError):
    """A path given relative to the alloc dir leads outside it."""

    def __init__(self, path: str, detail: str = "") -> None:
        message = f"Path {path!r} escapes the alloc directory"
        if detail:
            message += f" ({detail})"
        super().__init__(message)
        self.path = path


class SecretReadError(AllocDirError):
    """A read of a task's secrets (or private) directory was refused."""

    def __init__(self, path: str, detail: str = "") -> None:
        message = f"Reading secret file prohibited: {path}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)
        self.path = path


class NotBuiltError(AllocDirError):
    """The operation needs an alloc dir that has been built."""


class NotAnAllocDirError(AllocDirError):
    """A directory taken for an alloc dir does not have Nomad's layout."""
