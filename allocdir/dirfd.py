"""Acting inside an alloc dir without ever following a name a task can change.

The rule this module enforces, for the whole package: **as root, nothing is
done to a path that a task can change by its name.** A task owns its task dir
and the shared ``alloc/`` and can swap any entry in them for a symlink at any
moment, so:

- A directory is reached from the alloc dir downwards, one component at a
  time, each opened ``O_DIRECTORY | O_NOFOLLOW`` relative to its parent's fd
  (``openat2`` with ``RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`` where the kernel
  has it). A symlink where a directory is wanted is an error, or is replaced
  where Nomad's layout owns the name; it is never followed.
- Everything is then done with ``*at()`` calls relative to those fds, and
  ``fchmod``/``fchown`` on them.
- Mount points are recognised on the fd (``statx``'s ``STATX_ATTR_MOUNT_ROOT``),
  never by comparing resolved path strings. Mounting targets
  ``/proc/self/fd/N`` of an fd already opened (the magic link pins that very
  directory); unmounting uses ``UMOUNT_NOFOLLOW`` below a pinned parent.
- Tree walks are iterative and hold a bounded number of fds whatever the
  depth (:class:`DirStack`, :func:`walk`).
- Opens for reading use ``O_NONBLOCK``: a task holding a lease on its own
  file gets the caller an ``EWOULDBLOCK`` at once instead of a 45 s wait.

The paths callers pass in (the alloc dir, the client root) are the
operator's, in directories only root can write; everything below them is
reached only through this module.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import AllocDirError

#: Flags that open a directory for listing without following a symlink.
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: Flags that pin a directory (for mounting on it) without opening it for I/O.
PATH_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: Flags that open a regular file for reading: never a symlink, never blocks
#: (a FIFO opens at once, a lease holder answers ``EWOULDBLOCK``).
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

#: At most this many directory fds are held open by one tree walk.
MAX_WALK_FDS = 64

_libc = None


def libc():
    """The C library, loaded once (through ctypes)."""
    global _libc
    if _libc is None:
        # The process's own symbols, libc's among them (find_library would
        # spawn ldconfig to find the same library).
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


class UnsafePathError(AllocDirError):
    """A name that must be a directory is a symlink or something else, and
    following or replacing it could act outside the alloc dir or lose data."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}; refusing to follow it")
        self.path = path


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is one path component (not ``.``/``..``, no ``/``
    or NUL, not empty); raise ``ValueError`` otherwise."""
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a string, not {type(name).__name__}")
    if name in ("", ".", "..") or "/" in name or "\x00" in name:
        raise ValueError(f"invalid {what} {name!r}: it must be a single path component")
    return name


def identity(st: os.stat_result) -> tuple[int, int]:
    """The (device, inode) pair that names a file whatever its path."""
    return st.st_dev, st.st_ino


# --------------------------------------------------------------------------
# opening


def open_dir(path: str, flags: int = DIR_FLAGS) -> int:
    """Open the operator-given directory ``path`` (its last component is not
    followed). Raises :class:`UnsafePathError` when it is a symlink."""
    try:
        return os.open(path, flags)
    except OSError as e:
        raise _refusal(e, path, lambda: os.lstat(path)) from None


def open_dir_at(dir_fd: int, name: str, where: str, flags: int = DIR_FLAGS) -> int:
    """Open the directory ``name`` of ``dir_fd`` without following a symlink.

    ``where`` is the path shown in errors. ``FileNotFoundError`` passes
    through; a symlink or non-directory raises :class:`UnsafePathError`.
    """
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as e:
        raise _refusal(e, where, lambda: lstat_at(dir_fd, name)) from None


def _refusal(e: OSError, where: str, look=None) -> OSError | AllocDirError:
    """The error for a failed open of a directory: a symlink or other file in
    its place is an :class:`UnsafePathError` saying which (``look`` lstats it:
    the kernel says ENOTDIR for a link opened ``O_DIRECTORY | O_NOFOLLOW``)."""
    if e.errno in (errno.ELOOP, errno.ENOTDIR):
        try:
            is_link = look is not None and stat.S_ISLNK(look().st_mode)
        except OSError:
            is_link = e.errno == errno.ELOOP
        if is_link or (look is None and e.errno == errno.ELOOP):
            return UnsafePathError(where, "is a symbolic link")
        return UnsafePathError(where, "is not a directory")
    e.filename = where
    return e


_SYS_OPENAT2 = 437  # the same number on every Linux architecture
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_openat2_works = True


def open_beneath(root_fd: int, rel: str, where: str, flags: int = DIR_FLAGS) -> int:
    """Open ``rel`` (components separated by ``/``) below ``root_fd``,
    following no symlink at any level and never leaving ``root_fd``.

    One ``openat2`` call where the kernel has it, else one ``openat`` per
    component. A symlink on the way raises :class:`UnsafePathError`.
    """
    global _openat2_works
    parts = [p for p in rel.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"{rel!r} must not contain . or ..")
    if not parts:
        return os.open(".", flags, dir_fd=root_fd)
    if _openat2_works:
        how = struct.pack("QQQ", flags, 0,
                          _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS)
        fd = libc().syscall(_SYS_OPENAT2, root_fd, os.fsencode("/".join(parts)), how, len(how))
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EPERM, errno.E2BIG, errno.EAGAIN):
            if err in (errno.ELOOP, errno.ENOTDIR, errno.EXDEV):
                return _walk_beneath(root_fd, parts, where, flags)  # to name the culprit
            raise _refusal(OSError(err, os.strerror(err)), where)
        if err != errno.EAGAIN:
            _openat2_works = False  # not on this kernel, or filtered: walk instead
    return _walk_beneath(root_fd, parts, where, flags)


def _walk_beneath(root_fd: int, parts: list[str], where: str, flags: int) -> int:
    fd = root_fd
    try:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            next_fd = open_dir_at(fd, part, where, flags if last else DIR_FLAGS)
            if fd != root_fd:
                os.close(fd)
            fd = next_fd
        return fd
    except BaseException:
        if fd != root_fd:
            os.close(fd)
        raise


def open_file_at(dir_fd: int, name: str, where: str) -> tuple[int, os.stat_result]:
    """Open the regular file ``name`` of ``dir_fd`` for reading, without
    following a symlink or blocking; return the fd and its ``fstat``.

    A lease held by another process raises ``BlockingIOError`` naming
    ``where``; anything that is not a regular file raises ``AllocDirError``.
    """
    try:
        fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        raise named(e, where) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise AllocDirError(f"{where}: not a regular file")
        return fd, st
    except BaseException:
        os.close(fd)
        raise


def named(e: OSError, where: str) -> OSError:
    """``e`` naming ``where`` (a path inside the alloc dir) rather than the
    name or ``/proc/self/fd`` path the system call was given; a lease gets a
    message that says what is going on."""
    if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
        return BlockingIOError(e.errno, "another process holds a lease on it; try again", where)
    e.filename = where
    return e


def lstat_at(dir_fd: int, name: str) -> os.stat_result:
    """``lstat`` of ``name`` in ``dir_fd``."""
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)


# --------------------------------------------------------------------------
# creating


def ensure_dir_at(dir_fd: int, name: str, mode: int, where: str, *,
                  owner: tuple[int, int] | None = None, replace_link: bool = False) -> int:
    """Make sure ``name`` in ``dir_fd`` is a directory; return it opened.

    It is created with ``mode`` if missing. An existing directory is kept
    (its content untouched). A symlink in its place is removed and replaced
    when ``replace_link`` (the name is Nomad's and the link only a link), else
    refused, as is any other kind of file. Then ``mode`` and ``owner`` are
    applied to the opened directory itself, never through a name.
    """
    for _ in range(8):  # a task racing mkdir against unlink gets bored first
        try:
            os.mkdir(name, mode, dir_fd=dir_fd)
        except FileExistsError:
            pass
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            continue  # removed between mkdir and open: again
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise named(e, where) from None
            st = lstat_at(dir_fd, name)
            if not (stat.S_ISLNK(st.st_mode) and replace_link):
                raise _refusal(e, where, lambda st=st: st) from None
            try:
                os.unlink(name, dir_fd=dir_fd)
            except FileNotFoundError:
                pass
            continue
        try:
            set_perms(fd, mode, owner)
        except BaseException:
            os.close(fd)
            raise
        return fd
    raise AllocDirError(f"{where}: kept changing while being created")


def set_perms(fd: int, mode: int, owner: tuple[int, int] | None) -> None:
    """``fchown`` (when ``owner`` is given) then ``fchmod`` the open ``fd``
    (chown clears set-id bits, so the mode goes last)."""
    if owner is not None:
        os.fchown(fd, *owner)
    os.fchmod(fd, mode)


# --------------------------------------------------------------------------
# mounts


_STATX_BUF = 256
_AT_SYMLINK_NOFOLLOW = 0x100
_AT_EMPTY_PATH = 0x1000
_STATX_BASIC = 0x7FF
_STATX_ATTR_MOUNT_ROOT = 0x2000
_statx_works = True


def is_mount_root(dir_fd: int, name: str = "") -> bool:
    """True when ``name`` in ``dir_fd`` (or ``dir_fd`` itself, for ``""``)
    is the root of a mount: another file system, or a bind mount of the same
    one. A symlink is not followed (and is never a mount root)."""
    global _statx_works
    if _statx_works:
        buf = ctypes.create_string_buffer(_STATX_BUF)
        flags = _AT_SYMLINK_NOFOLLOW | (_AT_EMPTY_PATH if not name else 0)
        try:
            rc = libc().statx(dir_fd, os.fsencode(name), flags, _STATX_BASIC, buf)
        except AttributeError:  # a libc without statx
            rc, err = -1, errno.ENOSYS
        else:
            err = ctypes.get_errno() if rc else 0
        if rc == 0:
            attributes, supported = struct.unpack_from("Q", buf, 8)[0], \
                struct.unpack_from("Q", buf, 56)[0]
            if supported & _STATX_ATTR_MOUNT_ROOT:
                return bool(attributes & _STATX_ATTR_MOUNT_ROOT)
            _statx_works = False
        elif err in (errno.ENOSYS, errno.EPERM):
            _statx_works = False
        else:
            raise OSError(err, os.strerror(err), name or None)
    return _is_mount_root_by_mnt_id(dir_fd, name)


def _is_mount_root_by_mnt_id(dir_fd: int, name: str) -> bool:
    """Kernels before 5.8: compare the mount ids of the entry and its parent."""
    try:
        fd = os.open(name or ".", os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    try:
        if stat.S_ISLNK(os.fstat(fd).st_mode):
            return False
        parent = os.open("..", os.O_PATH | os.O_CLOEXEC, dir_fd=fd)
        try:
            return _mnt_id(fd) != _mnt_id(parent) or identity(os.fstat(fd)) == \
                identity(os.fstat(parent))
        finally:
            os.close(parent)
    finally:
        os.close(fd)


def _mnt_id(fd: int) -> int:
    with open(f"/proc/self/fdinfo/{fd}", "rb") as f:
        for line in f:
            if line.startswith(b"mnt_id:"):
                return int(line.split()[1])
    raise OSError(errno.ENOSYS, "no mnt_id in fdinfo")


MS_NOEXEC = 8
MS_BIND = 4096
UMOUNT_NOFOLLOW = 8
_STACKED_MOUNTS = 64  # a bound on mounts stacked on one directory


def mount_on(target_fd: int, source: str, fstype: str | None, flags: int,
             data: str | None, where: str) -> None:
    """mount(2) on the directory ``target_fd`` is open on (through its
    ``/proc/self/fd`` magic link, so no name is resolved). ``source`` may be
    ``/proc/self/fd/M`` of another pinned directory for a bind mount."""
    def enc(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    lib = libc()
    lib.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    if lib.mount(enc(source), enc(proc_fd_path(target_fd)), enc(fstype), flags, enc(data)):
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source}: {os.strerror(err)}", where)


def unmount_at(dir_fd: int, name: str, where: str) -> bool:
    """Unmount everything stacked on ``name`` in the pinned directory
    ``dir_fd``, not following ``name`` if it is a symlink; return True when
    something was unmounted. Not mounted is not an error."""
    lib = libc()
    lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    target = os.fsencode(f"{proc_fd_path(dir_fd)}/{name}")
    unmounted = False
    for _ in range(_STACKED_MOUNTS):
        try:
            if not is_mount_root(dir_fd, name):
                return unmounted
        except FileNotFoundError:
            return unmounted
        if lib.umount2(target, UMOUNT_NOFOLLOW):
            err = ctypes.get_errno()
            if err in (errno.EINVAL, errno.ENOENT):
                return unmounted
            raise OSError(err, f"unmount: {os.strerror(err)}", where)
        unmounted = True
    raise OSError(errno.EBUSY, "too many stacked mounts", where)


def proc_fd_path(fd: int) -> str:
    """The ``/proc/self/fd`` magic link of ``fd``."""
    return f"/proc/self/fd/{fd}"


# --------------------------------------------------------------------------
# walking trees with a bounded number of fds


class TreeChangedError(AllocDirError):
    """A directory was moved away during a walk that had to come back to it."""


@dataclass
class _Frame:
    name: str
    ident: tuple[int, int]
    fd: int | None


class DirStack:
    """The chain of directories from a base fd down to the current one.

    At most ``limit`` of them are held open: going deeper closes the
    shallowest open one; coming back up reopens a closed parent through
    ``..`` of its child and checks it is the same directory (dev, inode), so a
    directory moved away meanwhile raises :class:`TreeChangedError` rather
    than leading elsewhere. The base fd belongs to the caller.
    """

    def __init__(self, base_fd: int, *, limit: int = MAX_WALK_FDS) -> None:
        self._base = base_fd
        self._frames: list[_Frame] = []
        self._limit = max(2, limit)
        self._open = 0

    def __len__(self) -> int:
        return len(self._frames)

    def push(self, name: str, fd: int) -> None:
        """Enter ``name``, just opened as ``fd`` (now owned by the stack)."""
        self._frames.append(_Frame(name, identity(os.fstat(fd)), fd))
        self._open += 1
        if self._open > self._limit:
            for frame in self._frames:
                if frame.fd is not None:
                    os.close(frame.fd)
                    frame.fd = None
                    self._open -= 1
                    break

    def top(self) -> int:
        """The fd of the current directory (the base when the stack is empty)."""
        if not self._frames:
            return self._base
        fd = self._frames[-1].fd
        if fd is None:  # only the deepest frame is ever asked for; it is open
            raise AssertionError("the current directory of a walk is always open")
        return fd

    def pop(self) -> None:
        """Leave the current directory, reopening its parent if it was closed."""
        frame = self._frames.pop()
        try:
            if self._frames and self._frames[-1].fd is None:
                parent = self._frames[-1]
                fd = os.open("..", DIR_FLAGS, dir_fd=frame.fd)
                if identity(os.fstat(fd)) != parent.ident:
                    os.close(fd)
                    raise TreeChangedError(f"{parent.name}: moved away during the walk")
                parent.fd = fd
                self._open += 1
        finally:
            os.close(frame.fd)
            self._open -= 1

    def close(self) -> None:
        """Close every fd the stack holds (not the base)."""
        for frame in self._frames:
            if frame.fd is not None:
                os.close(frame.fd)
        self._frames.clear()
        self._open = 0


ENTER, LEAF, RUN, LEAVE, MOUNT, ERROR = "enter", "leaf", "run", "leave", "mount", "error"


@dataclass
class Step:
    """One step of :func:`walk`.

    ``dir_fd`` is the directory holding ``name`` (valid until the next step);
    ``rel`` the path below the walked top (``""`` for the top itself). For
    ``ENTER``, ``fd`` is the entered directory and ``st`` its ``fstat``; for
    ``ERROR``, ``error`` says why a directory could not be entered. For a
    ``LEAF``, ``regular`` is what the directory listing said (``d_type``): a
    hint to skip an ``lstat``, to be checked on what is then opened. A
    ``RUN`` carries in ``leaves`` consecutive non-directories of ``dir_fd``
    (name, regular hint) and ``rel`` is that directory's.
    """

    kind: str
    dir_fd: int
    name: str
    rel: str
    depth: int
    st: os.stat_result | None = None
    fd: int = -1
    error: BaseException | None = None
    regular: bool = False
    leaves: list[tuple[str, bool]] = field(default_factory=list)


def _listing(fd: int, sort: bool, runs: bool) -> list[tuple[str, bool, bool]]:
    with os.scandir(fd) as entries:
        found = [(e.name, e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False))
                 for e in entries]
    if sort:
        found.sort(reverse=True)  # popped from the end: name order
    return found


def _files_first(step: Step, listing: list[tuple[str, bool, bool]]) -> tuple[Step | None, list]:
    """Unsorted runs: all the files of a directory as one RUN step, and the
    rest of its listing (its directories)."""
    leaves = [(name, regular) for name, is_dir, regular in listing if not is_dir]
    if not leaves:
        return None, listing
    run = Step(RUN, step.fd, "", step.rel, step.depth + 1, leaves=leaves)
    return run, [entry for entry in listing if entry[1]]


def walk(dir_fd: int, name: str, *, sort: bool = False, where: str = "",
         limit: int = MAX_WALK_FDS, runs: bool = False,
         device: int | None = None) -> Iterator[Step]:
    """Walk ``name`` in ``dir_fd`` and everything below it, depth first,
    without recursion, following no symlink and crossing no mount.

    Yields ``ENTER`` for each directory before its entries and ``LEAVE``
    after them, ``LEAF`` for everything that is not a directory (symlinks to
    directories included), ``MOUNT`` for a directory that is a mount root (not
    entered) and ``ERROR`` for one that could not be opened or listed. A
    directory swapped for a symlink between listing and opening is a
    ``LEAF``; an entry that vanished is skipped. ``sort`` walks in name order.
    With ``runs``, consecutive non-directories of a directory come as one
    ``RUN`` step rather than a ``LEAF`` each (without ``sort``, all of a
    directory's files make one run, right after its ``ENTER``): the
    consumer loops over them, the cost that matters for trees of many small
    files. ``device``, when given, is the device ``name`` itself must be on
    (a walk of a subtree: its top counts as a mount point otherwise).
    """
    where = where or name
    try:
        st = lstat_at(dir_fd, name)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        yield Step(LEAF, dir_fd, name, "", 0, st)
        return
    stack = DirStack(dir_fd, limit=limit)
    try:
        entered, listing = _enter(dir_fd, name, "", 0, device, sort, runs, where)
        if entered is None:
            return
        if entered.kind != ENTER:
            yield entered
            return
        top_dev = entered.st.st_dev
        stack.push(name, entered.fd)
        yield entered
        if runs and not sort:
            run, listing = _files_first(entered, listing)
            if run is not None:
                yield run
        pending, rels = [listing], [""]
        while pending:
            entries = pending[-1]
            if entries:
                parent_fd = stack.top()
                if runs and not entries[-1][1]:
                    leaves = []
                    while entries and not entries[-1][1]:
                        child, _, regular = entries.pop()
                        leaves.append((child, regular))
                    yield Step(RUN, parent_fd, "", rels[-1], len(rels), leaves=leaves)
                    continue
                child, is_dir, regular = entries.pop()
                rel = f"{rels[-1]}/{child}" if rels[-1] else child
                if not is_dir:
                    yield Step(LEAF, parent_fd, child, rel, len(rels), regular=regular)
                    continue
                step, listing = _enter(parent_fd, child, rel, len(rels), top_dev, sort, runs,
                                       f"{where}/{rel}")
                if step is None:
                    continue
                if step.kind == ENTER:
                    stack.push(child, step.fd)
                    rels.append(rel)
                    run = None
                    if runs and not sort:
                        run, listing = _files_first(step, listing)
                    pending.append(listing)
                    yield step
                    if run is not None:
                        yield run
                    continue
                yield step
                continue
            pending.pop()
            rel = rels.pop()
            stack.pop()
            yield Step(LEAVE, stack.top(), rel.rsplit("/", 1)[-1] if rel else name, rel,
                       len(rels))
    finally:
        stack.close()


_Entered = tuple["Step | None", "list[tuple[str, bool, bool]]"]


def _enter(parent_fd: int, name: str, rel: str, depth: int, top_dev: int | None,
           sort: bool, runs: bool, where: str) -> _Entered:
    """Open and list a directory of a walk: its ``ENTER`` step and listing,
    or the step that stands for it instead (``LEAF`` when it was swapped for
    a link or file, ``MOUNT``, ``ERROR``), or None when it vanished."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        return None, []
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            return Step(LEAF, parent_fd, name, rel, depth), []
        return Step(ERROR, parent_fd, name, rel, depth, error=named(e, where)), []
    try:
        st = os.fstat(fd)
        if (top_dev is not None and st.st_dev != top_dev) or is_mount_root(fd):
            os.close(fd)
            return Step(MOUNT, parent_fd, name, rel, depth, st), []
        listing = _listing(fd, sort, runs)
    except OSError as e:
        os.close(fd)
        return Step(ERROR, parent_fd, name, rel, depth, error=named(e, where)), []
    return Step(ENTER, parent_fd, name, rel, depth, st, fd), listing
