"""Who is using an allocation: the live processes whose working directory,
root or open files are inside it, read from ``/proc`` as ``lsof +D`` would.

Only the magic links ``/proc/PID/{cwd,root,fd/*}`` are read (``readlink``):
the paths they name are compared as text with the alloc dirs, never
opened, stat'ed or followed, so a symlink a task planted leads nowhere. A
process that exits during the scan, or whose ``/proc`` entries cannot be
read (another user's, when not root), is skipped and counted. Command lines
are cut to :data:`MAX_CMDLINE` bytes and shown through ``printable``.

``psutil`` gives the same links one Python object per process and per
file; reading ``/proc`` through a directory fd per process does less
(see the benchmark row beside ``lsof +D``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from allocdir import usage as usage_lib

from ..text import printable

PROC = "/proc"
MAX_CMDLINE = 4096
TIME_LIMIT = 5.0
"""Seconds a scan may take: a task with a million open files cannot make it
run for minutes (the processes not looked at are counted)."""
MAX_HELD = 100_000
"""Files inside allocations remembered with their holders, at most."""
_DELETED = " (deleted)"


@dataclass(frozen=True)
class ProcessUse:
    """One process using an allocation: its pid, its command line (plain,
    escaped) and how it uses the allocation (``cwd``, ``root``, ``fd N``),
    with the paths inside it."""

    pid: int
    command: str
    uses: tuple[tuple[str, str], ...]  # (how, path inside the alloc dir)

    def describe(self) -> str:
        """``1234 nginx -g daemon off; (cwd web/local, fd 3 alloc/logs/web.stdout.0)``."""
        shown = ", ".join(f"{how} {printable(rel) or '.'}" for how, rel in self.uses[:3])
        more = f", +{len(self.uses) - 3}" if len(self.uses) > 3 else ""
        return f"{self.pid} {self.command} ({shown}{more})"


@dataclass
class ProcessMap:
    """The processes using each alloc dir, and which hold which files."""

    users: dict[str, list[ProcessUse]] = field(default_factory=dict)
    """alloc dir (as given) -> processes using it"""
    held: dict[str, list[int]] = field(default_factory=dict)
    """absolute path of a file inside an alloc dir -> pids holding it open"""
    scanned: int = 0
    vanished: int = 0
    unreadable: int = 0
    not_looked_at: int = 0
    """Processes left out when the scan ran out of time."""

    def using(self, alloc_dir: str) -> list[ProcessUse]:
        """The processes using ``alloc_dir``."""
        return self.users.get(os.fspath(alloc_dir), [])

    def holders(self, path: str) -> list[ProcessUse]:
        """The processes holding the file at ``path`` (absolute) open."""
        pids = set(self.held.get(path, ()))
        found = []
        for uses in self.users.values():
            found += [use for use in uses if use.pid in pids]
        return found

    def note(self) -> str:
        """What could not be looked at, in words ("" when nothing)."""
        parts = []
        if self.unreadable:
            parts.append(f"{self.unreadable} processes could not be read")
        if self.vanished:
            parts.append(f"{self.vanished} exited during the scan")
        if self.not_looked_at:
            parts.append(f"{self.not_looked_at} not looked at (out of time)")
        return "; ".join(parts)


class _Matcher:
    """Tells which alloc dir a path is in, by text: the alloc dirs grouped by
    their parent directory (usually one client root), one dict lookup each."""

    def __init__(self, alloc_dirs: Iterable[str]) -> None:
        self.by_parent: dict[str, dict[str, str]] = {}
        for alloc_dir in alloc_dirs:
            given = os.fspath(alloc_dir)
            # The operator's path (in directories only root writes) may pass
            # through symlinks; /proc names the real one.
            real = os.path.realpath(given)
            parent, name = os.path.split(real.rstrip("/"))
            self.by_parent.setdefault(parent, {})[name] = given

    def match(self, path: str) -> tuple[str, str] | None:
        """(alloc dir as given, path inside it) or None."""
        for parent, names in self.by_parent.items():
            if path.startswith(parent) and path[len(parent):len(parent) + 1] == "/":
                rest = path[len(parent) + 1:]
                name, _, inside = rest.partition("/")
                alloc = names.get(name)
                if alloc is not None:
                    return alloc, inside
        return None


def scan_processes(alloc_dirs: Iterable[str], *, proc: str = PROC,
                   time_limit: float = TIME_LIMIT) -> ProcessMap:
    """Look at every process for cwd, root and open files inside
    ``alloc_dirs`` (blocking: run it in a worker), for at most
    ``time_limit`` seconds."""
    matcher = _Matcher(alloc_dirs)
    found = ProcessMap()
    skip = {os.getpid(), *usage_lib.walker_pids()}
    deadline = time.monotonic() + time_limit
    proc_fd = os.open(proc, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        pids = [n for n in os.listdir(proc_fd) if n.isdigit() and int(n) not in skip]
        for index, name in enumerate(pids):
            if time.monotonic() > deadline:
                found.not_looked_at = len(pids) - index
                break
            found.scanned += 1
            try:
                _scan_one(proc_fd, name, matcher, found)
            except (FileNotFoundError, ProcessLookupError):
                found.vanished += 1
            except PermissionError:
                found.unreadable += 1
            except OSError:
                found.unreadable += 1
    finally:
        os.close(proc_fd)
    return found


def _scan_one(proc_fd: int, name: str, matcher: _Matcher, found: ProcessMap) -> None:
    pid_fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=proc_fd)
    try:
        uses: dict[str, list[tuple[str, str]]] = {}
        for link in ("cwd", "root"):
            _note(uses, link, _readlink(link, pid_fd), matcher)
        try:
            fd_dir = os.open("fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=pid_fd)
        except PermissionError:
            fd_dir = -1
        if fd_dir >= 0:
            try:
                for fd in os.listdir(fd_dir):
                    target = _readlink(fd, fd_dir)
                    hit = _note(uses, f"fd {fd}", target, matcher)
                    if hit and len(found.held) < MAX_HELD:
                        found.held.setdefault(_strip(target), []).append(int(name))
            finally:
                os.close(fd_dir)
        if uses:
            command = _command(pid_fd)
            for alloc, how in uses.items():
                found.users.setdefault(alloc, []).append(
                    ProcessUse(int(name), command, tuple(how)))
    finally:
        os.close(pid_fd)


def _readlink(name: str, dir_fd: int) -> str:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except FileNotFoundError:  # an fd closed meanwhile
        return ""


def _strip(target: str) -> str:
    return target[:-len(_DELETED)] if target.endswith(_DELETED) else target


def _note(uses: dict, how: str, target: str, matcher: _Matcher) -> bool:
    if not target.startswith("/"):
        return False  # socket:[…], pipe:[…], anon_inode:…
    hit = matcher.match(_strip(target))
    if hit is None:
        return False
    alloc, inside = hit
    suffix = " (deleted)" if target.endswith(_DELETED) else ""
    uses.setdefault(alloc, []).append((how, inside + suffix))
    return True


def _command(pid_fd: int) -> str:
    """The command line as plain escaped text (``[comm]`` when it has none)."""
    try:
        fd = os.open("cmdline", os.O_RDONLY | os.O_CLOEXEC, dir_fd=pid_fd)
        try:
            raw = os.read(fd, MAX_CMDLINE)
        finally:
            os.close(fd)
    except OSError:
        raw = b""
    args = [os.fsdecode(a) for a in raw.rstrip(b"\0").split(b"\0") if a]
    if args:
        return printable(" ".join(args))
    try:
        fd = os.open("comm", os.O_RDONLY | os.O_CLOEXEC, dir_fd=pid_fd)
        try:
            comm = os.fsdecode(os.read(fd, 64).rstrip(b"\n"))
            return f"[{printable(comm)}]"
        finally:
            os.close(fd)
    except OSError:
        return "?"
