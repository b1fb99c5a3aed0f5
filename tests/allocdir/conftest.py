"""Fixtures shared by the allocdir tests.

Helpers are handed out as fixtures (rather than imported) because the test
directories are not packages.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import shutil
import signal
import stat
import struct
import tempfile
import threading
import time
import traceback
from pathlib import Path

import pytest

from tests.process_resources import Resources

from allocdir import AllocDir

NOBODY_UID = 65534
NOBODY_GID = 65534

_libc = ctypes.CDLL(None, use_errno=True)
_MNT_DETACH = 2
_MS_BIND = 4096
_IN_OPEN = 0x20
_IN_ACCESS = 0x01


def is_root() -> bool:
    return os.geteuid() == 0


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``root`` when not running as root (CI runs as root)."""
    if is_root():
        return
    skip = pytest.mark.skip(reason="needs root (mounts, chown)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


# --------------------------------------------------------------------------
# mounts


def _unescape_mountinfo(field: str) -> str:
    """Undo the octal escapes (``\\040`` for space...) of /proc/self/mountinfo."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


class Mounts:
    """Reads /proc/self/mountinfo and mounts/unmounts things for tests."""

    @staticmethod
    def entries() -> list[dict]:
        result = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, right = line.rstrip("\n").split(" - ", 1)
                fields = left.split(" ")
                rfields = right.split(" ")
                result.append(
                    {
                        "root": _unescape_mountinfo(fields[3]),
                        "mount_point": _unescape_mountinfo(fields[4]),
                        "options": fields[5].split(","),
                        "fstype": rfields[0],
                        "source": _unescape_mountinfo(rfields[1]),
                        "super_options": rfields[2].split(",") if len(rfields) > 2 else [],
                    }
                )
        return result

    def at(self, path) -> list[dict]:
        """Mount entries whose mount point is exactly ``path``."""
        path = os.path.realpath(path)
        return [e for e in self.entries() if e["mount_point"] == path]

    def is_mount(self, path) -> bool:
        return bool(self.at(path))

    def under(self, path) -> list[str]:
        """Mount points at or below ``path``."""
        path = os.path.realpath(path)
        return [
            e["mount_point"]
            for e in self.entries()
            if e["mount_point"] == path or e["mount_point"].startswith(path + "/")
        ]

    @staticmethod
    def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None):
        rc = _libc.mount(
            source.encode(),
            str(target).encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        )
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")

    def tmpfs(self, target, size: str = "64m") -> None:
        os.makedirs(target, exist_ok=True)
        self._mount("tmpfs", str(target), "tmpfs", 0, f"size={size}")

    def bind(self, source, target) -> None:
        os.makedirs(target, exist_ok=True)
        self._mount(str(source), str(target), None, _MS_BIND, None)

    def proc(self, target) -> None:
        os.makedirs(target, exist_ok=True)
        self._mount("proc", str(target), "proc", 0, None)

    @staticmethod
    def umount(target, detach: bool = True) -> None:
        rc = _libc.umount2(str(target).encode(), _MNT_DETACH if detach else 0)
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"umount {target}: {os.strerror(err)}")

    def cleanup_under(self, path) -> list[str]:
        """Lazily unmount everything at or under ``path``, deepest first."""
        left = []
        for _ in range(20):
            points = sorted(self.under(path), key=len, reverse=True)
            if not points:
                break
            left = points
            for p in points:
                try:
                    self.umount(p)
                except OSError:
                    pass
        return left


@pytest.fixture
def mounts() -> Mounts:
    return Mounts()


_cleanup_roots: list[str] = []


@pytest.fixture(autouse=True)
def _no_leaked_mounts(tmp_path):
    """Never leave a test's mounts behind (pytest would rmtree through them)."""
    yield
    if not is_root():
        return
    m = Mounts()
    for root in [str(tmp_path), *_cleanup_roots]:
        m.cleanup_under(root)


# --------------------------------------------------------------------------
# alloc dirs


@pytest.fixture
def client_root(tmp_path) -> Path:
    """A Nomad client alloc root (``<data_dir>/alloc``) holding alloc dirs."""
    root = tmp_path / "client" / "alloc"
    root.mkdir(parents=True)
    return root


@pytest.fixture
def alloc(client_root):
    """A built AllocDir (no tasks); destroyed afterwards."""
    d = AllocDir(client_root / "8f3b2c1e-alloc")
    d.build()
    yield d
    try:
        d.destroy()
    except Exception:
        pass


@pytest.fixture
def alloc_with_task(alloc):
    """``alloc`` with a built (non-chroot) task ``web``."""
    td = alloc.new_task_dir("web")
    td.build(False, None)
    return alloc


# --------------------------------------------------------------------------
# blocking calls


class Blocking:
    """Runs a call in a thread so a hang (e.g. opening a FIFO) fails the test."""

    def __init__(self):
        self._fifos: list[str] = []

    def watch_fifo(self, path) -> None:
        """Remember a FIFO so that a reader stuck on it is released at teardown."""
        self._fifos.append(str(path))

    def run(self, fn, *args, timeout: float = 10.0, **kwargs):
        box: dict = {}

        def target():
            try:
                box["value"] = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                box["error"] = e

        t = threading.Thread(target=target, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            self.release()
            t.join(5)
            pytest.fail(f"{getattr(fn, '__name__', fn)} blocked for more than {timeout} s")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def release(self) -> None:
        for fifo in self._fifos:
            for flags in (os.O_WRONLY | os.O_NONBLOCK, os.O_RDONLY | os.O_NONBLOCK):
                try:
                    fd = os.open(fifo, flags)
                    os.close(fd)
                except OSError:
                    pass


@pytest.fixture
def blocking():
    b = Blocking()
    yield b
    b.release()


class OpenWatch:
    """Reports whether a path was opened (inotify IN_OPEN/IN_ACCESS).

    ``lstat`` and ``O_PATH`` opens do not count; a real open does.
    """

    def __init__(self):
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.paths: dict[int, str] = {}

    def add(self, path) -> None:
        wd = _libc.inotify_add_watch(self.fd, str(path).encode(), _IN_OPEN | _IN_ACCESS)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")
        self.paths[wd] = str(path)

    def opened(self) -> list[str]:
        seen = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return seen
            i = 0
            while i < len(buf):
                wd, mask, _cookie, length = struct.unpack_from("iIII", buf, i)
                if mask & (_IN_OPEN | _IN_ACCESS) and wd in self.paths:
                    seen.append(self.paths[wd])
                i += 16 + length

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def open_watch():
    w = OpenWatch()
    yield w
    w.close()


# --------------------------------------------------------------------------
# running as nobody


class Nobody:
    """Runs a function in a forked child that dropped to ``nobody``."""

    def __init__(self, workdir: str):
        self.workdir = workdir

    def run(self, fn, *args, timeout: float = 60.0) -> dict:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(r)
            code = 0
            try:
                os.setgroups([])
                os.setgid(NOBODY_GID)
                os.setuid(NOBODY_UID)
                os.umask(0o022)
                result = fn(*args)
                payload = json.dumps({"ok": True, "result": result}, default=str)
            except BaseException:  # noqa: BLE001 - reported to the parent
                payload = json.dumps({"ok": False, "traceback": traceback.format_exc()})
                code = 1
            try:
                with os.fdopen(w, "w") as f:
                    f.write(payload)
            finally:
                os._exit(code)
        os.close(w)
        chunks = []
        deadline = time.monotonic() + timeout
        with os.fdopen(r, "rb") as f:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    pytest.fail(f"child running as nobody did not finish in {timeout} s")
                ready, _, _ = select.select([f], [], [], left)
                if not ready:
                    continue
                chunk = os.read(f.fileno(), 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        os.waitpid(pid, 0)
        data = json.loads(b"".join(chunks).decode() or '{"ok": false, "traceback": "no output"}')
        if not data["ok"]:
            pytest.fail("child running as nobody failed:\n" + data["traceback"])
        return data["result"]


@pytest.fixture
def nobody():
    """A ``Nobody`` runner and a work dir owned by nobody it can write in."""
    if not is_root():
        pytest.skip("dropping to nobody needs root")
    # tmp_path's parents are 0700 root: nobody gets a dir of its own.
    workdir = tempfile.mkdtemp(prefix="allocdir-nobody-")
    os.chmod(workdir, 0o755)
    os.chown(workdir, NOBODY_UID, NOBODY_GID)
    _cleanup_roots.append(workdir)
    yield Nobody(workdir)
    Mounts().cleanup_under(workdir)
    _cleanup_roots.remove(workdir)
    shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------
# process resources


@pytest.fixture
def resources() -> Resources:
    return Resources()


# --------------------------------------------------------------------------
# misc


@pytest.fixture
def outside(tmp_path) -> Path:
    """A directory outside every alloc dir, with a recognisable file."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "OUTSIDE_MARKER").write_bytes(b"OUTSIDE: must never be read through an alloc dir\n")
    fifo = d / "outside.fifo"
    os.mkfifo(fifo)
    return d


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def file_mode():
    """``file_mode(path)`` -> permission bits (incl. sticky) as lstat sees them."""
    return mode_of


MEASURED: dict = {}


@pytest.fixture(scope="session")
def measured():
    """Figures the tests measure; printed at the end of the session."""
    yield MEASURED
    if MEASURED:
        print("\nallocdir measured figures:", json.dumps(MEASURED, indent=2, sort_keys=True))


def bind_unix_socket(path):
    """A listening Unix socket at ``path``, however long the path is (the
    kernel limits sun_path to 108 bytes, so bind through /proc/self/fd)."""
    import socket as socket_module

    dirfd = os.open(os.path.dirname(str(path)), os.O_PATH | os.O_DIRECTORY)
    s = socket_module.socket(socket_module.AF_UNIX)
    try:
        s.bind(f"/proc/self/fd/{dirfd}/{os.path.basename(str(path))}")
        s.listen(1)
    finally:
        os.close(dirfd)
    return s


@pytest.fixture
def unix_socket():
    """``unix_socket(path)`` -> a listening socket bound at ``path``; closed afterwards."""
    made = []

    def make(path):
        s = bind_unix_socket(path)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
