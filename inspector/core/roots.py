"""What PATH is, by its layout: one alloc dir, a client alloc root, or a
Nomad data_dir (whose ``alloc/`` is the client alloc root).

Nomad keeps allocations in ``<data_dir>/alloc/<alloc id>/``. Recognition is
``allocdir.recognize``'s: an alloc dir has an ``alloc/`` holding Nomad's
shared dirs; a client alloc root holds alloc dirs; a data_dir is opened as
its ``alloc/``, and says so. An empty directory is an empty root. Anything
else is refused, so that no action ever takes a directory that merely
contains an ``alloc/`` (``/tmp``, a data_dir, a client root) for one
allocation.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from allocdir import (
    AllocDir, AllocDirError, NotAnAllocDirError, PathEscapesError, PathKind, is_alloc_dir,
    recognize,
)

from allocdir.kinds import DIR, file_kind
from allocdir.recognize import why_not_alloc_dir

from .archive.source import ArchiveError, ArchiveFile
from .strays import StrayDirs
from .text import printable

KEEP, ARCHIVE = "keep", "archive"
"""What a :class:`Root` reads besides live allocations (``Root.source``)."""


class RootError(Exception):
    """PATH cannot be inspected; the message is the one-line reason."""


def _reason(exc: OSError) -> str:
    """A short lower-case reason for an OS error, e.g. "permission denied"."""
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc)


@dataclass
class Discovery:
    """The allocations found under a root, the directories there that are
    not allocations (see ``inspector.core.strays``), and those that could
    not be read."""

    allocs: list[AllocDir] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # alloc id -> reason
    strays: StrayDirs = field(default_factory=StrayDirs)
    unexamined: int = 0
    """Directories of the root left unlooked at (a discovery with a limit)."""


@dataclass(frozen=True)
class Root:
    """A validated PATH.

    ``path`` (absolute) is what the tree shows: the client alloc root, or the
    one alloc dir when ``single``. ``kind`` is what PATH was recognised as
    and ``given`` is PATH itself (absolute): for a data_dir ``path`` is
    ``given/alloc``.
    """

    path: str
    single: bool
    kind: PathKind = PathKind.CLIENT_ROOT
    given: str = ""
    source: str = ""
    """"" for allocations on disk, ``KEEP`` for a keep directory (kept
    copies, read-only), ``ARCHIVE`` for a snapshot tar (read-only)."""
    _opened: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Root:
        """Recognise PATH, raising RootError with a one-line reason when it
        is neither an alloc dir, a client alloc root, a Nomad data_dir nor an
        empty directory (or cannot be read). Blocking: it lists PATH."""
        abspath = os.path.abspath(os.fspath(path))
        special = _open_special(abspath)
        if special is not None:
            return special
        try:
            found = recognize(abspath)
        except FileNotFoundError:
            raise RootError("no such file or directory") from None
        except NotADirectoryError:
            raise RootError("not a directory") from None
        except OSError as exc:
            raise RootError(_reason(exc)) from None
        if found.kind is PathKind.ALLOC_DIR:
            return cls(abspath, single=True, kind=found.kind, given=abspath)
        if found.alloc_root is None:
            raise RootError(found.kind.value)
        return cls(found.alloc_root, single=False, kind=found.kind, given=abspath)

    def __post_init__(self) -> None:
        if not self.given:
            object.__setattr__(self, "given", self.path)

    @property
    def read_only(self) -> bool:
        """Whether nothing here is a live allocation (a keep directory, an archive)."""
        return bool(self.source)

    @property
    def description(self) -> str:
        """What is being browsed, in words (shown as the app's sub-title)."""
        if self.source == KEEP:
            return f"keep directory {printable(self.path)} (kept copies, read-only)"
        if self.source == ARCHIVE:
            return f"snapshot tar {printable(self.path)} (read-only)"
        if self.kind is PathKind.DATA_DIR:
            return f"data_dir {printable(self.given)} → client root {printable(self.path)}"
        if self.single:
            return f"alloc dir {printable(self.path)}"
        if self.kind is PathKind.EMPTY:
            return f"client root {printable(self.path)} (empty)"
        return f"client root {printable(self.path)}"

    @property
    def protected(self) -> tuple[str, ...]:
        """Directories no action may destroy, write into or build in: the
        client alloc root and, when PATH was a data_dir, the data_dir.

        (Their ancestors are refused as well; see ``inspector.core.actions``.)
        """
        if self.single:
            return ()
        if self.given != self.path:
            return (self.path, self.given)
        return (self.path,)

    def discover(self, limit: int | None = None, progress=None) -> Discovery:
        """Read the allocations from disk (blocking: call it from a worker).

        Under a root, entries recognised as alloc dirs are allocations and
        every other directory is a stray, with the reason (a task can hide
        its allocation by renaming its ``alloc/data``); a symlink is never
        followed, and a directory that cannot be looked into is reported
        rather than silently left out. With ``limit``, only the first
        ``limit`` directories (by name) are looked into; the others are
        counted in :attr:`Discovery.unexamined`. A snapshot tar's headers
        are read here the first time (for a ``.tar.gz``, its seek index is
        built): ``progress(done, total)`` is told how far, in bytes of the file.
        """
        found = Discovery(strays=StrayDirs(
            os.path.dirname(self.path) if self.single else self.path))
        if self.source == ARCHIVE:
            try:
                found.allocs.append(self.archive(progress))
            except (OSError, ArchiveError) as exc:
                found.errors[os.path.basename(self.path)] = _reason(exc) if isinstance(
                    exc, OSError) and exc.errno else str(exc)
            return found
        if self.single:
            self._look_at(found, self.path)
            return found
        try:
            with os.scandir(self.path) as it:
                names = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
        except OSError as exc:
            found.errors[os.path.basename(self.path)] = _reason(exc)
            return found
        if limit is not None and len(names) > limit:
            found.unexamined = len(names) - limit
            names = names[:limit]
        for name in names:
            self._look_at(found, os.path.join(self.path, name))
        if self.source == KEEP:
            from .kept import KeptCopy

            found.allocs = [KeptCopy(alloc, self.path) for alloc in found.allocs]
        return found

    def _look_at(self, found: Discovery, path: str) -> None:
        """Record the directory ``path`` as an allocation, a stray (with
        why it is not one) or an error."""
        name = os.path.basename(path)
        if not os.access(path, os.R_OK | os.X_OK):
            found.errors[name] = "permission denied"
            return
        problem = why_not_alloc_dir(path)
        if problem is None:
            self._add(found, path)
        else:
            found.strays.add(name, problem)

    def archive(self, progress=None):
        """The snapshot tar, opened and indexed once (blocking: its headers
        are read; ``progress(done, total)`` is told how far)."""
        from .archive import ArchiveFS

        opened = self._opened.get(ARCHIVE)
        if opened is None:
            opened = self._opened.setdefault(ARCHIVE, ArchiveFS.open(self.path, progress=progress))
        return opened

    @staticmethod
    def _add(found: Discovery, path: str) -> None:
        name = os.path.basename(path)
        try:
            found.allocs.append(AllocDir.discover(path))
        except NotAnAllocDirError:
            found.strays.add(name, "changed while being looked at")
        except FileNotFoundError:
            found.errors[name] = "no longer exists"
        except OSError as exc:
            found.errors[name] = _reason(exc)
        except Exception as exc:  # an AllocDirError or anything discover raises
            found.errors[name] = str(exc) or type(exc).__name__

    def locate(self, rel: str) -> tuple[AllocDir, str]:
        """Find the allocation and alloc-relative path of an --open REL.

        REL is relative to PATH (under a root it begins with the alloc id, or
        a prefix of it that names one allocation), or an absolute path inside
        PATH. Raises RootError when REL names no allocation; the file itself
        is checked by `check_openable`.
        """
        rel = rel.replace(os.sep, "/")
        if rel.startswith("/"):
            rel = self._relative(rel)
        rel = rel.lstrip("/")
        if self.source == ARCHIVE:
            try:
                return self.archive(), rel
            except (OSError, ArchiveError) as exc:
                raise RootError(str(exc)) from None
        if self.single:
            alloc_path, path = self.path, rel
        else:
            alloc_id, _, path = rel.partition("/")
            if alloc_id in ("", ".", ".."):
                raise RootError(f"{printable(alloc_id or rel)}: no such allocation")
            alloc_path = os.path.join(self.path, self._alloc_id(alloc_id))
        try:
            alloc = AllocDir.discover(alloc_path)
            if self.source == KEEP:
                from .kept import KeptCopy

                alloc = KeptCopy(alloc, self.path)
            return alloc, path
        except NotAnAllocDirError:
            raise RootError(f"{printable(alloc_path)}: not an alloc dir") from None
        except AllocDirError as exc:
            raise RootError(str(exc)) from None
        except OSError as exc:
            raise RootError(_reason(exc)) from None

    def _relative(self, path: str) -> str:
        """An absolute --open path made relative to PATH (as given or resolved)."""
        path = os.path.normpath(path)
        for base in dict.fromkeys((self.path, os.path.realpath(self.path))):
            for candidate in dict.fromkeys((path, os.path.realpath(path))):
                if candidate == base:
                    return ""
                if candidate.startswith(base.rstrip("/") + "/"):
                    return candidate[len(base.rstrip("/")) + 1:]
        raise RootError(f"{printable(path)}: not inside {printable(self.path)}")

    def _alloc_id(self, given: str) -> str:
        """The allocation named by ``given``: its id, or a prefix of one id."""
        if is_alloc_dir(os.path.join(self.path, given)):
            return given
        try:
            with os.scandir(self.path) as it:
                names = sorted(e.name for e in it if e.name.startswith(given)
                               and e.is_dir(follow_symlinks=False))
        except OSError as exc:
            raise RootError(_reason(exc)) from None
        found = [n for n in names if is_alloc_dir(os.path.join(self.path, n))]
        if not found:
            raise RootError(f"{printable(given)}: no such allocation")
        if len(found) > 1:
            shown = ", ".join(printable(n) for n in found[:5])
            raise RootError(f"{printable(given)}: matches several allocations ({shown})")
        return found[0]


def _open_special(path: str) -> Root | None:
    """A Root for a snapshot tar (a regular file; its first block checked,
    other compressions refused) or a keep directory (by its manifest), or
    None for anything else."""
    try:
        st = os.stat(path)
    except OSError:
        return None  # said by recognize
    if stat.S_ISREG(st.st_mode):
        try:
            ArchiveFile(path).close()
        except ArchiveError as exc:
            if str(exc).startswith(("compressed with", "reading .tar.gz")):
                raise RootError(str(exc)) from None
            raise RootError(f"not a directory nor a snapshot tar ({exc})") from None
        return Root(path, single=True, kind=PathKind.ALLOC_DIR, given=path, source=ARCHIVE)
    from .kept import is_keep_dir  # the keeper's package, loaded only here

    if stat.S_ISDIR(st.st_mode) and is_keep_dir(path):
        return Root(path, single=False, kind=PathKind.CLIENT_ROOT, given=path, source=KEEP)
    return None


def check_openable(alloc: AllocDir, path: str) -> None:
    """Raise RootError unless `path` is a regular file the viewer may read.

    Secrets are refused with allocdir's own refusal message; FIFOs, sockets,
    devices and directories are named as such. Nothing here blocks: read_at is
    only tried on a regular file.
    """
    try:
        info = alloc.stat(path)
        kind = DIR if info.is_dir else file_kind(info.file_mode)
        if kind is DIR or kind.special:
            raise RootError(f"is {kind.phrase}")
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

