"""What snapshot, move and destroy check and do, for every front-end.

No Textual here: the terminal app and the notebook front-end call the same
functions. Each check is a function that returns a refusal (a reason the
user can act on) or what it found; the ``run_*`` functions claim the
allocations in a :class:`BusyRegistry`, check again, and act.

Everything that looks at the disk blocks: call it from a worker thread,
never from an event loop. Paths quoted in reasons go through
``printable`` (a task chooses the names).

The rules, in short:

- destroy: only an alloc dir; never the client alloc root, a Nomad data_dir
  or anything holding them; never a mount point; never while another action
  runs on the allocation.
- move: into an existing alloc dir (Nomad's case: the replacement
  allocation), or a directory that does not exist yet or is empty, to build
  one there. Never into the source or anything inside it, anything holding
  it, the client root or a data_dir (or anything holding them), anything
  deeper in a client root than its own alloc dirs, a non-empty directory
  that is not an alloc dir, a directory inside an alloc dir or what looks
  like one or a task dir (its tasks could redirect the writes), a path
  through a directory or a link someone other than the operator can
  change, or a read-only file system. The directories it builds in are
  made through directory fds.
- snapshot: to a file in an existing directory outside every alloc dir (or
  what looks like one, or a task dir) and every client root, on a file
  system with room for the estimated tar and its reserve. The directory is
  opened from ``/`` without following a link; the tar is written to a
  temporary file made in it and renamed into place once complete; a file
  that grows past the room meanwhile stops it before it is written. A
  failed one is removed unless it was checked to end with Nomad's error
  marker (never when it stopped for room).

Where a path may lead is :mod:`inspector.core.destination`'s to say.
"""

from __future__ import annotations

import os
import stat
import tarfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from allocdir import (
    SHARED_ALLOC_NAME,
    SHARED_DATA_DIR,
    TASK_LOCAL,
    AllocDir,
    AllocDirError,
    PathKind,
    SnapshotResult,
    dirfd,
    is_alloc_dir,
    recognize,
    snapshot_error_filename,
)
from allocdir.destination import (
    create_partial_at, open_dir_nofollow, open_owned_dir, trusted_realpath,
)
from allocdir.fsops import TreeSize, measure_at
from allocdir.plaintext import size_words
from allocdir.room import NoRoomError, RoomCheck, room_of

from .busy import BusyRegistry, busy_reason
from .destination import (
    client_roots, enclosing_allocation, holding_client_root, mount_point, read_only, within,
)
from .roots import Root
from .text import printable

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
SKIPPED_SHOWN = 3
"""How many of a snapshot's skipped entries are named in its report."""


@dataclass(frozen=True)
class Refused:
    """An action refused before anything was done; ``reason`` says why."""

    reason: str

    def __str__(self) -> str:
        return self.reason


# ------------------------------------------------------------------ busy


def _check_busy(busy: BusyRegistry | None, paths: Iterable[str]) -> str | None:
    if busy is None:
        return None
    for path in paths:
        what = busy.running(path)
        if what is not None:
            return busy_reason(path, what)
    return None


# ------------------------------------------------------------------ paths


def resolve_typed(typed: str, cwd: str) -> str:
    """The absolute path of what a user typed: ``~`` expanded, relative to
    ``cwd``, normalised. Pure: nothing is looked at on disk. With ``cwd``
    "" (the working directory was removed) a relative path stays relative."""
    return os.path.normpath(os.path.join(cwd, os.path.expanduser(typed.strip())))


def _typed_path(typed: str, cwd: str) -> str | Refused:
    path = resolve_typed(typed, cwd)
    if not os.path.isabs(path):
        return Refused("The current directory no longer exists: type an absolute path")
    return path


def _strerror(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _error_text(exc: BaseException) -> str:
    """An error as one line that names its path: the message of ours, or
    "<path>: <reason>" for an OS error."""
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {_strerror(exc)}"
    return str(exc) or type(exc).__name__


def _protected(root: Root) -> list[tuple[str, str]]:
    """(real path, name) of each directory no action may touch."""
    return [(os.path.realpath(path), "the client alloc root" if path == root.path
             else "the Nomad data_dir") for path in root.protected]


def _protected_refusal(path: str, root: Root, *, suffix: str = "") -> str | None:
    """Why ``path`` (real) is one of the root's protected directories
    (``suffix`` appended) or holds one, or None."""
    protected = _protected(root)
    for top, name in protected:
        if path == top:
            return f"{printable(path)} is {name}{suffix}"
    for top, name in protected:
        if within(top, path):
            return f"{printable(path)} holds {name} {printable(top)}"
    return None


def _kind_phrase(kind: PathKind) -> str:
    if kind is PathKind.OTHER:
        return "is not an alloc dir"
    return f"is {kind.value}, not an alloc dir"


# ------------------------------------------------------------------ destroy


@dataclass(frozen=True)
class DestroyWords:
    """What destroying ``alloc`` is called where it is offered: an
    allocation is destroyed, a kept copy (:mod:`inspector.core.kept`) is
    removed from its keep directory, the allocation itself untouched."""

    title: str
    """The action: "Destroy", "Remove kept copy"."""
    doing: str
    """While it runs: "destroying"."""
    done: str
    """Once done: "destroyed"."""
    what: str
    """What goes: "Allocation", "Kept copy"."""
    warning: str
    """What it removes, with ``{path}`` for the directory."""


DESTROY_WORDS = DestroyWords(
    "Destroy", "destroying", "destroyed", "Allocation",
    "This removes {path} and everything in it: the allocation's data and logs and every "
    "task's directory. It cannot be undone.")
"""The words of destroying an allocation (anything without ``destroy_words``)."""


def destroy_words(alloc) -> DestroyWords:
    """The words of destroying ``alloc`` (its own ``destroy_words``, if it has them)."""
    return getattr(alloc, "destroy_words", DESTROY_WORDS)


def destroy_refusal(alloc: AllocDir, root: Root, busy: BusyRegistry | None = None) -> str | None:
    """Why ``alloc`` must not be destroyed, or None.

    Refused: anything not recognised as an alloc dir now (a data_dir, a
    client root, a vanished directory), the client alloc root or the
    data_dir it was opened from (or anything holding them), a mount point
    (looked at through an fd, not by name), and an allocation another
    action is running on (when ``busy`` is given).
    """
    path = os.path.abspath(alloc.alloc_dir)
    shown = printable(path)
    refusal = _check_busy(busy, [path])
    if refusal:
        return refusal
    own = getattr(alloc, "removal_refusal", None)  # a kept copy: no keeper running
    refusal = own() if own is not None else None
    if refusal:
        return refusal
    refusal = _protected_refusal(os.path.realpath(path), root, suffix=", not an allocation")
    if refusal:
        return refusal
    try:
        kind = recognize(path).kind
    except FileNotFoundError:
        return f"{shown} no longer exists"
    except OSError as exc:
        return f"{shown} cannot be looked at: {printable(_strerror(exc))}"
    if kind is not PathKind.ALLOC_DIR:
        return f"{shown} {_kind_phrase(kind)}"
    try:
        fd = dirfd.open_dir(path)
    except (OSError, AllocDirError) as exc:
        return f"{shown} cannot be opened: {printable(_strerror(exc))}"
    try:
        if dirfd.is_mount_root(fd):
            return f"{shown} is a mount point: unmount it first"
    except OSError as exc:
        return f"{shown} cannot be looked at: {printable(_strerror(exc))}"
    finally:
        os.close(fd)
    return None


def run_destroy(alloc: AllocDir, root: Root, busy: BusyRegistry) -> str | None:
    """Destroy ``alloc`` unless refused: claims it, checks again right
    before, destroys. Returns the refusal (nothing done) or None; raises
    what ``AllocDir.destroy`` raises."""
    refusal = busy.claim("a destroy", alloc.alloc_dir)
    if refusal:
        return refusal
    try:
        refusal = destroy_refusal(alloc, root)
        if refusal:
            return refusal
        alloc.destroy()
        return None
    finally:
        busy.release(alloc.alloc_dir)


# ------------------------------------------------------------------ move


@dataclass(frozen=True)
class MovePart:
    """One directory a move takes: ``label`` like "alloc/data" or
    "web/local"; ``size`` None when there is nothing there to move."""

    label: str
    size: TreeSize | None
    error: str = ""

    def describe(self) -> str:
        """One line, e.g. "web/local  12 files, 1.5 MiB"."""
        if self.error:
            return f"{printable(self.label)}  ({printable(self.error)})"
        if self.size is None:
            return f"{printable(self.label)}  (none)"
        count = self.size.entries
        return (f"{printable(self.label)}  {count:,} {'entry' if count == 1 else 'entries'}, "
                f"{size_words(self.size.content_bytes)}")


def move_parts(source: AllocDir) -> list[MovePart]:
    """What a move of ``source`` takes: its ``alloc/data`` and each task's
    ``local/``, measured without following a link or crossing a mount."""
    tops = [(SHARED_ALLOC_NAME, SHARED_DATA_DIR)] + [
        (task, TASK_LOCAL) for task in sorted(source.task_dirs)]
    parts = []
    try:
        alloc_fd = dirfd.open_dir(source.alloc_dir)
    except (OSError, AllocDirError) as exc:
        reason = _strerror(exc)
        return [MovePart(f"{parent}/{name}", None, reason) for parent, name in tops]
    try:
        for parent, name in tops:
            label = f"{parent}/{name}"
            try:
                fd = dirfd.open_dir_at(alloc_fd, parent, f"{source.alloc_dir}/{parent}")
            except FileNotFoundError:
                parts.append(MovePart(label, None))
                continue
            except (OSError, AllocDirError) as exc:
                parts.append(MovePart(label, None, _strerror(exc)))
                continue
            try:
                size = TreeSize()
                measure_at(fd, name, label, size)
                parts.append(MovePart(label, size if size.entries else None))
            except (OSError, AllocDirError) as exc:
                parts.append(MovePart(label, None, _strerror(exc)))
            finally:
                os.close(fd)
    finally:
        os.close(alloc_fd)
    return parts


@dataclass(frozen=True)
class MoveTarget:
    """Where a move goes: ``path`` is absolute with symlinks resolved;
    ``build`` when an alloc dir is to be built there; ``creates`` lists the
    missing parent directories that building creates, outermost first."""

    path: str
    build: bool
    creates: tuple[str, ...] = ()

    def describe(self) -> str:
        """What will happen there, in one or two sentences."""
        shown = printable(self.path)
        if not self.build:
            return f"Into the existing alloc dir {shown}."
        text = f"A new alloc dir will be built at {shown}"
        if self.creates:
            text += ", creating " + ", ".join(printable(p) for p in self.creates)
        return text + "."


def move_target(source: AllocDir, typed: str, root: Root, cwd: str,
                busy: BusyRegistry | None = None) -> MoveTarget | Refused:
    """Check the destination a user typed for a move of ``source``.

    Returns where it goes, or why not (see the module's rules). A path that
    does not exist yet is built, with its missing parents, unless the
    nearest existing one is refused.
    """
    if not typed.strip():
        return Refused("Name a destination: an existing alloc dir (e.g. the replacement "
                       "allocation) or a new directory to build one in")
    path = _typed_path(typed, cwd)
    if isinstance(path, Refused):
        return path
    try:
        path = trusted_realpath(path)
    except (OSError, AllocDirError) as exc:
        return Refused(printable(_error_text(exc)))
    shown = printable(path)
    source_path = os.path.realpath(source.alloc_dir)
    refusal = _check_busy(busy, [source.alloc_dir, path])
    if refusal:
        return Refused(refusal)
    if path == source_path:
        return Refused(f"{shown} is the allocation being moved")
    if within(path, source_path):
        return Refused(f"{shown} is inside the allocation being moved")
    refusal = _protected_refusal(path, root)
    if refusal:
        return Refused(refusal)
    if within(source_path, path):
        return Refused(f"{shown} holds the allocation being moved")
    try:
        refusal = _move_layout_refusal(path, source, root)
        if refusal:
            return Refused(refusal)
        if not is_alloc_dir(source.alloc_dir):
            return Refused(f"the allocation {printable(source.alloc_dir)} is no longer "
                           "an alloc dir")
        return _move_destination(path)
    except OSError as exc:
        return Refused(f"{shown} cannot be looked at: {printable(_strerror(exc))}")


def _move_layout_refusal(path: str, source: AllocDir, root: Root) -> str | None:
    """Why ``path`` lies where a task can change what is on the way: inside
    an allocation, or below a client root other than directly in it."""
    enclosing = enclosing_allocation(path, itself=False)
    if enclosing is not None:
        return f"{printable(path)} is {enclosing}: its tasks can change what is there"
    top = holding_client_root(path, client_roots(source, root), direct_child_ok=True)
    if top == path:
        return f"{printable(path)} is the client alloc root"
    if top is not None:
        return (f"{printable(path)} is inside the client alloc root {printable(top)}: its "
                "tasks can change what is there; only an alloc dir directly in it can take "
                "a move")
    return None


def _move_destination(path: str) -> MoveTarget | Refused:
    shown = printable(path)
    existing, missing = path, []
    while not os.path.lexists(existing):
        missing.insert(0, existing)
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return Refused(f"{printable(existing)} is not a directory")
    kind = None
    if not missing:
        kind = recognize(path).kind
        if kind is PathKind.OTHER:
            return Refused(f"{shown} is a non-empty directory that is not an alloc dir")
        if kind not in (PathKind.ALLOC_DIR, PathKind.EMPTY):
            return Refused(f"{shown} {_kind_phrase(kind)}")
    parent = existing if missing else os.path.dirname(path)
    if parent != path and recognize(parent).kind is PathKind.DATA_DIR:
        return Refused(f"{shown} is inside the Nomad data_dir {printable(parent)}")
    if read_only(existing):
        return Refused(f"{shown} is on a read-only file system "
                       f"({printable(mount_point(existing))})")
    refusal = _owned_refusal(existing)
    if refusal:
        return Refused(refusal)
    if missing:
        return MoveTarget(path, build=True, creates=tuple(missing[:-1]))
    return MoveTarget(path, build=kind is PathKind.EMPTY)


def _owned_refusal(path: str, *, create: bool = False) -> str | None:
    """Why the directory ``path`` (made, with ``create``) is not one only
    the operator can change all the way from ``/``, or None."""
    try:
        os.close(open_owned_dir(path, create=create))
    except (OSError, AllocDirError) as exc:
        return printable(_error_text(exc))
    return None


def run_move(source: AllocDir, target: MoveTarget, root: Root, cwd: str,
             busy: BusyRegistry) -> str | None:
    """Move ``source``'s data into ``target`` unless refused: claims both,
    checks the destination again (it must still be what was confirmed),
    makes the directories to build in through directory fds (each one only
    the operator can change), builds it if asked, moves. Returns the
    refusal (nothing done) or None; raises what building or
    ``AllocDir.move`` raises."""
    refusal = busy.claim("a move", source.alloc_dir, target.path)
    if refusal:
        return refusal
    try:
        again = move_target(source, target.path, root, cwd)
        if isinstance(again, Refused):
            return again.reason
        if again.build != target.build:
            return (f"{printable(target.path)} changed since it was checked: "
                    "check it again")
        refusal = _owned_refusal(target.path, create=target.build)
        if refusal:
            return refusal
        if target.build:
            dest = AllocDir(target.path)
            dest.build()
        else:
            dest = AllocDir.discover(target.path)
        dest.move(source, tasks=list(source.task_dirs))
        return None
    finally:
        busy.release(source.alloc_dir, target.path)


# ------------------------------------------------------------------ snapshot


def tar_size_estimate(size: TreeSize) -> int:
    """An upper bound of the bytes a tar of ``size`` takes: what it stores
    of the files (holes left out), a header and at most a block of padding
    per entry, the end blocks and the padding to a whole record."""
    return size.archived_bytes + size.entries * 2 * BLOCK + 2 * BLOCK + RECORD


@dataclass(frozen=True)
class SnapshotTarget:
    """Where a snapshot goes: ``path`` absolute (its directory resolved),
    ``cwd`` the directory a relative path was taken from, ``exists`` when a
    regular file is there (replaced once the new tar is complete), the
    estimate and the room on the file system (``mount``) it is written to;
    ``include_logs`` when ``alloc/logs`` goes in too."""

    path: str
    cwd: str
    exists: bool
    estimate: TreeSize
    needs: int
    free: int
    mount: str
    include_logs: bool = False


def snapshot_target(alloc: AllocDir, typed: str, root: Root, cwd: str,
                    busy: BusyRegistry | None = None, *,
                    include_logs: bool = False) -> SnapshotTarget | Refused:
    """Check the file a user typed for a snapshot of ``alloc`` (with
    ``include_logs``, one holding ``alloc/logs`` too), and whether the
    estimated tar fits on its file system, its reserve left free."""
    if not typed.strip():
        return Refused("Name the file to write")
    path = _typed_path(typed, cwd)
    if isinstance(path, Refused):
        return path
    if typed.strip().endswith("/"):
        return Refused(f"{printable(path)} names a directory: name a file")
    refusal = _check_busy(busy, [alloc.alloc_dir])
    if refusal:
        return Refused(refusal)
    try:
        parent = trusted_realpath(os.path.dirname(path))
    except (OSError, AllocDirError) as exc:
        return Refused(printable(_error_text(exc)))
    path = os.path.join(parent, os.path.basename(path))
    shown = printable(path)
    try:
        if not os.path.isdir(parent):
            what = "is not a directory" if os.path.lexists(parent) else "does not exist"
            return Refused(f"the directory {printable(parent)} {what}")
        refusal = snapshot_place_refusal(alloc, path, root)
        if refusal:
            return Refused(refusal)
        exists = os.path.lexists(path)
        if exists:
            st = os.lstat(path)
            if os.path.isdir(path) and not os.path.islink(path):
                return Refused(f"{shown} is a directory: name a file")
            if os.path.islink(path):
                return Refused(f"{shown} is a symbolic link: name the file itself")
            if not stat.S_ISREG(st.st_mode):
                return Refused(f"{shown} exists and is not a regular file")
        if read_only(parent):
            return Refused(f"{shown} is on a read-only file system "
                           f"({printable(mount_point(parent))})")
        estimate = alloc.snapshot_estimate(include_logs=include_logs)
        needs = tar_size_estimate(estimate)
        room = room_of(os.statvfs(parent))
        mount = mount_point(parent)
    except (OSError, AllocDirError) as exc:
        return Refused(f"{shown} cannot be checked: {printable(_strerror(exc))}")
    if needs > room.usable:
        return Refused(f"Not enough space: the snapshot needs ~{size_words(needs)}, "
                       f"{printable(room.describe(mount))}")
    return SnapshotTarget(path, cwd, exists, estimate, needs, room.free, mount, include_logs)


def snapshot_place_refusal(alloc: AllocDir, path: str, root: Root) -> str | None:
    """Why the file ``path`` (absolute, its directory real) is no place for
    a snapshot of ``alloc``: inside an allocation or below a client root,
    where a task can change what is on the way; None if it is not."""
    directory, shown = os.path.dirname(path), printable(path)
    enclosing = enclosing_allocation(directory, itself=True)
    if enclosing is not None:
        return (f"{shown} is {enclosing}: its tasks could redirect the write; write the "
                "snapshot elsewhere")
    top = holding_client_root(directory, client_roots(alloc, root), direct_child_ok=False)
    if top is not None:
        return (f"{shown} is in the client alloc root {printable(top)}, where tasks can "
                "change what is on the way; write the snapshot elsewhere")
    return None


class SnapshotCancelled(Exception):
    """Raised from the progress callback to stop a snapshot that was cancelled."""


@dataclass
class SnapshotOutcome:
    """How a snapshot ended, and the one message that says so.

    ``written`` once the tar is at ``path`` (complete, or ending with the
    error marker when ``marker`` is set); ``partial`` is the temporary file
    and ``removed`` whether it was removed, ``removal_error`` why not.
    """

    path: str
    alloc_id: str
    written: bool = False
    size: int = 0
    result: SnapshotResult | None = None
    error: str = ""
    cancelled: bool = False
    marker: bool = False
    partial: str = ""
    removed: bool = False
    removal_error: str = ""
    replaced: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when a complete snapshot was written."""
        return self.written and not self.error and not self.cancelled

    def message(self) -> str:
        """What happened, for the user."""
        path = printable(self.path)
        if self.ok:
            text = (f"Snapshot of {printable(self.alloc_id)} written to {path} "
                    f"({size_words(self.size)})")
            return text + self._skipped_text()
        if self.cancelled:
            text = "Snapshot cancelled"
        else:
            text = f"Snapshot failed: {printable(self.error)}"
        if self.marker:
            marker = snapshot_error_filename(self.alloc_id)
            return (f"{text}\nThe tar at {path} holds what was archived and ends with "
                    f"{printable(marker)} holding the error.")
        if not self.partial:
            return f"{text}; nothing was written"
        partial = printable(self.partial)
        if self.removed:
            text += f"; the partial file {partial} was removed"
        else:
            text += (f"; the partial file {partial} could not be removed: "
                     f"{printable(self.removal_error)}")
        if self.replaced:
            text += f"; {path} was not changed"
        return text

    def _skipped_text(self) -> str:
        if not self.skipped:
            return ""
        names = ", ".join(f"{printable(name)} ({printable(reason)})"
                          for name, reason in self.skipped[:SKIPPED_SHOWN])
        more = len(self.skipped) - SKIPPED_SHOWN
        tail = f" and {more} more" if more > 0 else ""
        count = len(self.skipped)
        return f"\n{count} {'entry was' if count == 1 else 'entries were'} left out: {names}{tail}"


class _CheckedWriter:
    """The file object a snapshot writes to: every write is complete or
    raises, and the first write error is kept (``error``) so that a failure
    to write is never mistaken for a failure to read."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self.error: OSError | None = None

    def fileno(self) -> int:
        """The fd (the tar writer sends large files to it with sendfile)."""
        return self._fd

    def write(self, data) -> int:
        """Write all of ``data`` or raise."""
        # Released however it ends: a view the traceback keeps alive would
        # pin the caller's buffer (it could not be resized or reused).
        with memoryview(data) as whole:
            view = whole
            try:
                while view:
                    view = view[os.write(self._fd, view):]
            except OSError as exc:
                if self.error is None:
                    self.error = exc
                raise
            finally:
                view.release()
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered here."""


def _ends_with_marker(dir_fd: int, name: str, marker: str) -> bool:
    """True when ``name`` in ``dir_fd`` is a whole tar whose last entry is
    ``marker``."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "rb") as f:
            with tarfile.open(fileobj=f, mode="r:") as tar:
                last = None
                for member in tar:
                    last = member
                end = tar.offset
            f.seek(end)
            return last is not None and last.name == marker and f.read(2 * BLOCK) == bytes(
                2 * BLOCK)
    except (OSError, tarfile.TarError, EOFError):
        return False


def run_snapshot(alloc: AllocDir, target: SnapshotTarget, root: Root, busy: BusyRegistry, *,
                 progress: Callable[[int], None] | None = None,
                 cancel: threading.Event | None = None) -> SnapshotOutcome | Refused:
    """Write the snapshot of ``alloc`` to ``target``.

    The place is checked again first. The directory is opened from ``/``
    without following a symlink, and the tar goes to a temporary file made
    in it (mode 0600: it holds the tasks' data), renamed into place once
    complete, so an existing file is replaced only by a whole snapshot.
    Before each file's bytes are written the free space is looked at again:
    one that grew since the estimate and would take the file system below
    its reserve stops the snapshot, named. On a failure the temporary file
    is removed, unless nothing failed to write and it was checked to be a
    whole tar ending with Nomad's error marker: that one is kept at the
    target, as Nomad does. ``progress`` gets the content bytes archived so
    far; setting ``cancel`` stops the snapshot and removes what was written.
    """
    refusal = busy.claim("a snapshot", alloc.alloc_dir)
    if refusal:
        return Refused(refusal)
    try:
        refusal = snapshot_place_refusal(alloc, target.path, root)
        if refusal:
            return Refused(refusal)
        directory, name = os.path.split(target.path)
        outcome = SnapshotOutcome(target.path, alloc.alloc_id, replaced=target.exists)
        try:
            dir_fd = open_dir_nofollow(directory)
        except (OSError, AllocDirError) as exc:
            outcome.error = _strerror(exc)
            return outcome
        try:
            _write_snapshot(alloc, target, outcome, dir_fd, name, progress, cancel)
        finally:
            os.close(dir_fd)
        return outcome
    finally:
        busy.release(alloc.alloc_dir)


def _write_snapshot(alloc: AllocDir, target: SnapshotTarget, outcome: SnapshotOutcome,
                    dir_fd: int, name: str, progress: Callable[[int], None] | None,
                    cancel: threading.Event | None) -> None:
    """The body of :func:`run_snapshot`, in the opened directory ``dir_fd``."""
    try:
        fd, partial = create_partial_at(dir_fd, name)
    except OSError as exc:
        outcome.error = _strerror(exc)
        return
    outcome.partial = os.path.join(os.path.dirname(target.path), partial)

    def report(done: int) -> None:
        if cancel is not None and cancel.is_set():
            raise SnapshotCancelled()
        if progress is not None:
            progress(done)

    writer = _CheckedWriter(fd)
    try:
        try:
            outcome.result = alloc.snapshot(writer, progress=report,
                                            room=RoomCheck(fd, target.mount),
                                            include_logs=target.include_logs)
            outcome.size = os.fstat(fd).st_size
        finally:
            try:
                os.close(fd)
            except OSError as exc:  # a late write error (e.g. NFS)
                writer.error = writer.error or exc
        if writer.error is not None:
            raise writer.error
        os.rename(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except Exception as exc:
        _failed(outcome, exc, writer, target, dir_fd, partial)
        return
    outcome.written = True
    outcome.partial = ""
    outcome.skipped = list(outcome.result.skipped)


def _failed(outcome: SnapshotOutcome, exc: BaseException, writer: _CheckedWriter,
            target: SnapshotTarget, dir_fd: int, partial: str) -> None:
    """Record why a snapshot failed; keep its file only if it is known good."""
    outcome.cancelled = cancel_requested(exc)
    no_room = _no_room(exc)
    cause = writer.error or no_room or _root_cause(exc)
    outcome.error = _strerror(cause)
    if no_room is not None and _written(dir_fd, partial) + no_room.needed > target.needs:
        outcome.error += (f" (the allocation grew after the snapshot was estimated at "
                          f"~{size_words(target.needs)})")
    marker = snapshot_error_filename(outcome.alloc_id)
    name = os.path.basename(outcome.path)
    if (not outcome.cancelled and writer.error is None and no_room is None
            and _ends_with_marker(dir_fd, partial, marker)):
        try:
            os.rename(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as error:
            outcome.error += f" (and keeping the tar failed: {_strerror(error)})"
        else:
            outcome.marker = outcome.written = True
            outcome.partial = ""
            return
    try:
        os.unlink(partial, dir_fd=dir_fd)
    except FileNotFoundError:
        outcome.removed = True
    except OSError as error:
        outcome.removal_error = _strerror(error)
    else:
        outcome.removed = True


def _written(dir_fd: int, partial: str) -> int:
    """The size of the partial file (0 if it cannot be looked at)."""
    try:
        return os.stat(partial, dir_fd=dir_fd, follow_symlinks=False).st_size
    except OSError:
        return 0


def _no_room(exc: BaseException) -> NoRoomError | None:
    """The :class:`NoRoomError` that stopped a snapshot, if one did."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NoRoomError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def cancel_requested(exc: BaseException) -> bool:
    """True when ``exc`` is (or was caused by) a cancelled snapshot."""
    seen = exc
    while seen is not None:
        if isinstance(seen, SnapshotCancelled):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _root_cause(exc: BaseException) -> BaseException:
    """The OSError under an AllocDirError, if there is one (its text is the
    precise reason, e.g. "Input/output error"), else ``exc``."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen
        seen = seen.__cause__
    return exc
