"""What PATH is: one alloc dir, or a client alloc root holding many.

Nomad keeps allocations in `<data_dir>/alloc/<alloc id>/`; each alloc dir has
a shared `alloc/` directory. The inspector accepts either one alloc dir or the
directory holding them (an empty directory is an empty root).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from allocdir import SHARED_ALLOC_NAME, AllocDir, AllocDirError, PathEscapesError


class RootError(Exception):
    """PATH cannot be inspected; the message is the one-line reason."""


def is_alloc_dir(path: str) -> bool:
    """True when `path` looks like an alloc dir (it holds an `alloc/` directory)."""
    return os.path.isdir(os.path.join(path, SHARED_ALLOC_NAME))


def _reason(exc: OSError) -> str:
    """A short lower-case reason for an OS error, e.g. "permission denied"."""
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc)


@dataclass
class Discovery:
    """The allocations found under a root, and those that could not be read."""

    allocs: list[AllocDir] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # alloc id -> reason


@dataclass(frozen=True)
class Root:
    """A validated PATH: `path` is absolute, `single` when it is one alloc dir."""

    path: str
    single: bool

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Root:
        """Validate PATH, raising RootError with a one-line reason when unusable."""
        abspath = os.path.abspath(os.fspath(path))
        try:
            with os.scandir(abspath) as it:
                names = [entry.name for entry in it]
        except FileNotFoundError:
            raise RootError("no such file or directory") from None
        except NotADirectoryError:
            raise RootError("not a directory") from None
        except OSError as exc:
            raise RootError(_reason(exc)) from None
        if SHARED_ALLOC_NAME in names and is_alloc_dir(abspath):
            return cls(abspath, single=True)
        if not names or any(is_alloc_dir(os.path.join(abspath, n)) for n in names):
            return cls(abspath, single=False)
        raise RootError("not an alloc dir (no alloc/ inside) nor a client alloc root")

    def discover(self) -> Discovery:
        """Read the allocations from disk (blocking: call it from a worker)."""
        found = Discovery()
        if self.single:
            candidates = [self.path]
        else:
            try:
                names = sorted(os.listdir(self.path))
            except OSError as exc:
                found.errors[os.path.basename(self.path)] = _reason(exc)
                return found
            candidates = [os.path.join(self.path, n) for n in names]
        for path in candidates:
            if not is_alloc_dir(path):
                continue
            try:
                found.allocs.append(AllocDir.discover(path))
            except OSError as exc:
                found.errors[os.path.basename(path)] = _reason(exc)
            except Exception as exc:  # an AllocDirError or anything discover raises
                found.errors[os.path.basename(path)] = str(exc) or type(exc).__name__
        return found

    def locate(self, rel: str) -> tuple[AllocDir, str]:
        """Find the allocation and alloc-relative path of an --open REL.

        Under a root REL begins with the alloc id. Raises RootError when REL
        names no allocation; the file itself is checked by `check_openable`.
        """
        rel = rel.replace(os.sep, "/").lstrip("/")
        if self.single:
            alloc_path, path = self.path, rel
        else:
            alloc_id, _, path = rel.partition("/")
            alloc_path = os.path.join(self.path, alloc_id)
            if alloc_id in ("", ".", "..") or not is_alloc_dir(alloc_path):
                raise RootError(f"{alloc_id or rel}: no such allocation")
        try:
            return AllocDir.discover(alloc_path), path
        except OSError as exc:
            raise RootError(_reason(exc)) from None


def check_openable(alloc: AllocDir, path: str) -> None:
    """Raise RootError unless `path` is a regular file the viewer may read.

    Secrets are refused with allocdir's own refusal message; FIFOs, sockets,
    devices and directories are named as such. Nothing here blocks: read_at is
    only tried on a regular file.
    """
    try:
        info = alloc.stat(path)
        kind = _special_kind(info.file_mode, info.is_dir)
        if kind:
            raise RootError(f"is a {kind}")
        with alloc.read_at(path, 0):
            pass
    except RootError:
        raise
    except PathEscapesError:
        raise RootError("path escapes the alloc dir") from None
    except FileNotFoundError:
        raise RootError("no such file or directory") from None
    except AllocDirError as exc:
        raise RootError(str(exc)) from None
    except OSError as exc:
        raise RootError(_reason(exc)) from None
    except ValueError as exc:
        raise RootError(str(exc)) from None


def _special_kind(file_mode: str, is_dir: bool) -> str:
    """"directory", "FIFO", "socket", "device" or "" for a regular file or symlink."""
    if is_dir or file_mode.startswith("d"):
        return "directory"
    return {"p": "FIFO", "s": "socket", "c": "device", "b": "device"}.get(file_mode[:1], "")

