"""Playing a hostile task against the library, for the security and
reliability suites: a canary outside every alloc dir whose state must never
change, and a task (a forked child that drops to ``nobody``, as a real task
runs) racing the library for a bounded time."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import select
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import mounting

NOBODY = 65534
RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def exchange(a: str, b: str) -> None:
    """Atomically swap two names (renameat2 RENAME_EXCHANGE), as a task can
    in a directory it owns."""
    if _libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), a)


@dataclass
class Canary:
    """A host directory outside every alloc dir, with files, a subdir and a
    mounted tmpfs (a host file system a task would like unmounted). Its
    state must never change."""

    root: Path
    mount: Path

    def state(self) -> dict:
        """Every entry's kind, mode, owner and content digest, and whether the
        tmpfs is still mounted."""
        return {"mounted": mounting.is_mount(self.mount), **tree_state(self.root)}

    CONTENT = b"CANARY: host data that no alloc dir operation may touch\n"

    @classmethod
    def make(cls, base: Path) -> "Canary":
        """A canary in ``base/host``: files, a subdir and a mounted 1 MiB tmpfs."""
        root = base / "host"
        (root / "sub").mkdir(parents=True)
        for rel in ("data.txt", "sub/data.txt", "token"):
            (root / rel).write_bytes(cls.CONTENT)
        mnt = root / "mnt"
        mnt.mkdir()
        mounting.tmpfs(mnt, "1m")
        (mnt / "data.txt").write_bytes(cls.CONTENT)
        for p in (root, root / "sub", mnt):
            os.chmod(p, 0o755)
        return cls(root, mnt)


@contextlib.contextmanager
def work_dir() -> Iterator[Path]:
    """A fresh temporary directory every user can traverse (nobody plays the
    task in it); whatever is mounted below it is unmounted, then it goes."""
    path = tempfile.mkdtemp(prefix="allocdir-hostile-")
    os.chmod(path, 0o755)
    try:
        yield Path(path)
    finally:
        points = sorted((line.split(" ")[4] for line in open("/proc/self/mountinfo")
                         if line.split(" ")[4].startswith(path + "/")), key=len, reverse=True)
        for point in points:
            try:
                mounting.umount(point)
            except OSError:
                pass
        subprocess.run(["rm", "-rf", "--one-file-system", path], check=False)


def tree_state(top) -> dict:
    """Kind, mode, owner and content digest of ``top`` and everything below."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [""] + dirnames + filenames:
            path = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(path)
            digest = ""
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            found[os.path.relpath(path, top)] = (
                stat.filemode(st.st_mode), st.st_uid, st.st_gid, digest)
    return found


class Racer:
    """Runs ``step()`` over and over in a forked child (as nobody unless told
    otherwise) until the block ends, at most ``limit`` seconds; counts how
    many steps raised nothing. Exceptions of a step are ignored: a task that
    loses a race simply tries again."""

    def __init__(self, step: Callable[[], None], *, as_nobody: bool = True,
                 limit: float = 30.0) -> None:
        self.step = step
        self.as_nobody = as_nobody
        self.limit = limit
        self.done = 0
        self.failed = 0

    def __enter__(self) -> "Racer":
        self._stop_r, self._stop_w = os.pipe()
        self._out_r, out_w = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            os.close(self._stop_w)
            os.close(self._out_r)
            self._child(out_w)
        os.close(self._stop_r)
        os.close(out_w)
        time.sleep(0.02)  # let it start racing
        return self

    def _child(self, out_w: int) -> None:
        code = 0
        try:
            signal.signal(signal.SIGIO, signal.SIG_IGN)
            if self.as_nobody:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            done = failed = 0
            deadline = time.monotonic() + self.limit
            while time.monotonic() < deadline:
                for _ in range(32):
                    try:
                        self.step()
                        done += 1
                    except Exception:
                        failed += 1
                if select.select([self._stop_r], [], [], 0)[0]:
                    break
            os.write(out_w, f"{done} {failed}".encode())
        except BaseException:
            os.write(out_w, traceback.format_exc().encode())
            code = 1
        finally:
            os._exit(code)

    def __exit__(self, *exc) -> None:
        os.close(self._stop_w)
        with os.fdopen(self._out_r, "rb") as f:
            report = f.read().decode()
        _, status = os.waitpid(self._pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, report
        self.done, self.failed = (int(n) for n in report.split())


class TaskInItsOwnMounts:
    """A task (a forked child, as nobody) in a mount namespace of its own
    where ``hidden`` (host mount points) are not mounted: there, unlike in
    the host's namespace, it may rename them. The host's mounts follow the
    renamed directories, which is how a task that can make a user and mount
    namespace (``unshare -rm``) moves a mount point away from its name and
    puts a symlink there. ``swap()`` has it exchange ``a`` and ``b`` now and
    returns once it has."""

    _CLONE_NEWNS = 0x00020000
    _MS_REC, _MS_PRIVATE = 0x4000, 0x40000

    def __init__(self, hidden: list[str], a: str, b: str) -> None:
        self.hidden, self.a, self.b = hidden, a, b
        self.swaps = 0

    def __enter__(self) -> "TaskInItsOwnMounts":
        self._ask_r, self._ask_w = os.pipe()
        self._answer_r, self._answer_w = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            self._child()
        os.close(self._ask_r)
        os.close(self._answer_w)
        self._expect(b"ready")
        return self

    def _child(self) -> None:
        code = 0
        try:
            os.close(self._ask_w)
            os.close(self._answer_r)
            if _libc.unshare(self._CLONE_NEWNS) != 0 or _libc.mount(
                    None, b"/", None, self._MS_REC | self._MS_PRIVATE, None) != 0:
                raise OSError(ctypes.get_errno(), "unshare or make-rprivate")
            for point in self.hidden:
                mounting.umount(point)  # in this namespace only
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(self._answer_w, b"ready")
            while os.read(self._ask_r, 1):
                exchange(self.a, self.b)
                os.write(self._answer_w, b"swapped")
        except BaseException:
            os.write(self._answer_w, traceback.format_exc().encode())
            code = 1
        finally:
            os._exit(code)

    def _expect(self, word: bytes, timeout: float = 10.0) -> None:
        if not select.select([self._answer_r], [], [], timeout)[0]:
            pytest.fail(f"the task did not answer in {timeout} s")
        answer = os.read(self._answer_r, 65536)
        assert answer == word, answer.decode(errors="replace")

    def swap(self) -> None:
        """Exchange ``a`` and ``b`` now, as the task."""
        os.write(self._ask_w, b"x")
        self._expect(b"swapped")
        self.swaps += 1

    def __exit__(self, *exc) -> None:
        os.close(self._ask_w)
        os.close(self._answer_r)
        _, status = os.waitpid(self._pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


def at_every_step(call: Callable[[], object], swap: Callable[[], None],
                  unswap: Callable[[], None], *, hold: int | None = None,
                  limit: int = 10_000) -> list[object]:
    """Run ``call()`` once for every point where a racing task could act:
    the ``k``-th run calls ``swap()`` just before the ``k``-th C function
    ``call`` calls (every system call comes through one), and ``unswap()``
    ``hold`` C functions later or, without ``hold``, after ``call`` returns.
    Returns each run's result (or the exception it raised), until a run
    ends before reaching its swap. Deterministic: no race is left to
    chance, whatever the machine's load."""
    outcomes: list[object] = []
    for k in range(limit):
        seen = 0
        swapped = unswapped = False

        def profile(frame, event, arg, k=k):
            nonlocal seen, swapped, unswapped
            if event != "c_call":
                return
            if seen == k:
                swap()  # the profiler is off inside its own hook
                swapped = True
            elif hold is not None and seen == k + hold:
                unswap()
                unswapped = True
            seen += 1

        sys.setprofile(profile)
        try:
            outcome = call()
        except Exception as e:  # an outcome like any other, for the test to judge
            outcome = e
        finally:
            sys.setprofile(None)
        if not swapped:
            return outcomes
        if not unswapped:
            unswap()
        outcomes.append(outcome)
    raise AssertionError(f"call() still running C functions after {limit} steps")


def run_as_nobody(fn: Callable[[], object], timeout: float = 60.0) -> object:
    """Run ``fn`` in a forked child as nobody and return what it returns
    (repr'd through a pipe as text); a failure fails the test with the
    child's traceback."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            payload = "ok " + repr(fn())
        except BaseException:
            payload = "error " + traceback.format_exc()
            code = 1
        with os.fdopen(w, "w") as f:
            f.write(payload)
        os._exit(code)
    os.close(w)
    deadline = time.monotonic() + timeout
    chunks = []
    with os.fdopen(r, "rb") as f:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([f], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"child running as nobody did not finish in {timeout} s")
            chunk = os.read(f.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
    os.waitpid(pid, 0)
    text = b"".join(chunks).decode()
    if not text.startswith("ok "):
        pytest.fail("child running as nobody failed:\n" + text)
    return eval(text[3:])  # noqa: S307 - a repr of builtins we wrote ourselves


def nobody_dir(base) -> str:
    """A new directory ``base/nobody`` that nobody owns (to work in as nobody)."""
    path = os.path.join(base, "nobody")
    os.mkdir(path)
    os.chown(path, NOBODY, NOBODY)
    return path


def alloc_with_a_secret(work: str):
    """Run as nobody (without root secrets/ is a plain directory): an alloc
    dir ``work/alloc/a1`` with a task ``web`` whose ``secrets/token`` holds
    ``s.secret-token``; the alloc dir and the task dir."""
    from allocdir import AllocDir

    alloc = AllocDir(os.path.join(work, "alloc", "a1"))
    alloc.build()
    web = alloc.new_task_dir("web")
    web.build()
    with open(os.path.join(web.secrets_dir, "token"), "w") as f:
        f.write("s.secret-token\n")
    return alloc, web


def holey_file(path: str, size: int, pieces: dict[int, bytes]) -> None:
    """A file of ``size`` bytes that holds ``pieces`` (offset -> bytes) and
    holes everywhere else, as ``truncate`` makes them in a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for offset, data in pieces.items():
            os.pwrite(fd, data, offset)
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def make_deep(top: str, depth: int, name: str = "d") -> None:
    """``top/d/d/.../d`` ``depth`` levels deep, with a file at the bottom,
    made through fds (the path is longer than PATH_MAX)."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        out = os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, b"the bottom\n")
        os.close(out)
    finally:
        os.close(fd)


def make_many(top: str, count: int) -> None:
    """``count`` empty files ``e000000``... in ``top`` (made if missing), as
    a task fills a directory to make whoever lists it slow."""
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(count):
            os.close(os.open(f"e{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
    finally:
        os.close(fd)


def depth_of(top: str, name: str = "d") -> int:
    """How many ``name`` levels there are below ``top`` (through fds)."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    depth = 0
    try:
        while True:
            try:
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                return depth
            os.close(fd)
            fd = child
            depth += 1
    finally:
        os.close(fd)


