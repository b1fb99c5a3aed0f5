"""Fixtures for the inspector app tests: deterministic alloc roots and helpers."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
import pwd
import shutil
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ALLOC_A = "11111111-2222-4333-8444-555555555555"
ALLOC_B = "99999999-8888-4777-8666-555555555555"
AGE_SECONDS = 10 * 60  # every fixture file is "10 minutes ago"

LOG_LINES = [f"line {n:04d} of the web task\n" for n in range(1, 301)]


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def _age_tree(top: Path, seconds_ago: int) -> None:
    """Set every mtime under `top` (not following links) to `seconds_ago`."""
    stamp = time.time() - seconds_ago
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (stamp, stamp), follow_symlinks=False)
    os.utime(top, (stamp, stamp))


def make_socket(path: Path) -> None:
    """Leave a unix socket file at `path` (bound at a short name: AF_UNIX paths are short)."""
    short = tempfile.mktemp(prefix="sock-", dir="/tmp")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(short)
    os.rename(short, path)


def build_alloc_root(root: Path) -> Path:
    """A client alloc root with two built allocations of fixed content."""
    from allocdir import AllocDir

    root.mkdir(parents=True, exist_ok=True)
    a = AllocDir(root / ALLOC_A)
    a.build()
    web = a.new_task_dir("web")
    web.build()
    _write(root / ALLOC_A / "alloc/logs/web.stdout.0", "".join(LOG_LINES))
    _write(root / ALLOC_A / "alloc/logs/web.stderr.0", "warning: low disk\n")
    os.mkfifo(root / ALLOC_A / "alloc/logs/.web.stdout.fifo")
    make_socket(root / ALLOC_A / "alloc/tmp/consul_grpc.sock")
    _write(root / ALLOC_A / "alloc/data/state.json", '{"healthy": true}\n')
    _write(root / ALLOC_A / "web/local/notes.txt", "hello from the web task\n")
    _write(root / ALLOC_A / "web/local/config.json", '{"listen": 8080}\n')
    _write(root / ALLOC_A / "web/local/blob.bin", bytes(range(256)) * 8)
    _write(root / ALLOC_A / "web/secrets/token", "s.very-secret\n")
    os.symlink("notes.txt", root / ALLOC_A / "web/local/link")

    b = AllocDir(root / ALLOC_B)
    b.build()
    api = b.new_task_dir("api")
    api.build()
    _write(root / ALLOC_B / "api/local/app.conf", "port = 9090\n")
    for alloc_dir in (root / ALLOC_A, root / ALLOC_B):
        _age_tree(alloc_dir, AGE_SECONDS)
    return root


@pytest.fixture
def alloc():
    """A fresh built alloc dir for viewer tests, destroyed afterwards."""
    from allocdir.testing import temp_alloc_dir

    with temp_alloc_dir() as alloc_dir:
        yield alloc_dir


@pytest.fixture
def alloc_root(tmp_path: Path) -> Path:
    """A deterministic client alloc root (two allocations), destroyed afterwards."""

    try:
        yield build_alloc_root(tmp_path / "alloc")
    finally:
        destroy_fixture(tmp_path / "alloc")


DATA_DIR_MARKERS = {
    "client/client-id": "8f2b3c4d-client\n",
    "server/raft/raft.db": "raft log: every job of the cluster\n",
    "server/serf/local.keyring": "[]\n",
    "plugins/marker": "plugin state\n",
}


def build_data_dir(data_dir: Path) -> Path:
    """A fake Nomad data_dir: the fixture's client root as `alloc/`, beside
    `client/`, `server/` (raft data) and `plugins/` with marker files."""
    build_alloc_root(data_dir / "alloc")
    for rel, content in DATA_DIR_MARKERS.items():
        _write(data_dir / rel, content)
    return data_dir


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fake Nomad data_dir (see `build_data_dir`), destroyed afterwards."""
    try:
        yield build_data_dir(tmp_path / "nomad")
    finally:
        destroy_fixture(tmp_path / "nomad" / "alloc")


def disk_state(top: Path | str) -> dict[str, tuple]:
    """Everything under `top` (not following links, not crossing mounts):
    rel path -> (type, mode, size, sha256 of a file / target of a link).

    Two equal states mean nothing was created, removed, renamed or changed.
    """
    top = os.fspath(top)
    state: dict[str, tuple] = {}
    top_dev = os.lstat(top).st_dev
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            detail: object = None
            if stat.S_ISREG(kind):
                with open(path, "rb") as f:
                    detail = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(kind):
                detail = os.readlink(path)
            state[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_size if stat.S_ISREG(kind)
                          else 0, detail)
        # a mount (the secrets tmpfs) is listed but not entered
        dirnames[:] = [d for d in dirnames
                       if os.lstat(os.path.join(dirpath, d)).st_dev == top_dev]
    return state


def destroy_fixture(root: Path) -> None:
    """Destroy the fixture's allocations (unmounting their secrets tmpfs)."""
    from allocdir import AllocDir

    for alloc_id in (ALLOC_A, ALLOC_B):
        if (root / alloc_id).exists():
            try:
                AllocDir.discover(root / alloc_id).destroy()
            except Exception:
                pass


async def wait_for(
    pilot, predicate: Callable[[], bool], timeout: float = 10.0, message: str = ""
) -> None:
    """Let the app run until `predicate()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message or predicate}")
        await pilot.pause(0.02)
        await asyncio.sleep(0)


def node_labels(tree) -> list[str]:
    """The plain labels of every node of the tree, depth first."""
    out = []

    def walk(node):
        for child in node.children:
            out.append(str(child.label))
            walk(child)

    walk(tree.root)
    return out


def find_node(tree, rel: str, alloc_id: str | None = None):
    """The node whose data has this rel path (and alloc id), or None."""

    def walk(node):
        for child in node.children:
            data = child.data
            if (
                data is not None
                and data.alloc is not None
                and data.rel == rel
                and data.kind not in ("more", "note")
                and (alloc_id is None or data.alloc.alloc_id == alloc_id)
            ):
                return child
            found = walk(child)
            if found is not None:
                return found
        return None

    return walk(tree.root)


# ---------------------------------------------------------------- privileges
# Root reads everything, so permission errors are only seen by an unprivileged
# process: a forked child drops to `nobody` and runs already-imported code.


def nobody_ids() -> tuple[int, int]:
    """(uid, gid) of `nobody`; skips the test when there is no such user."""
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user")
    return entry.pw_uid, entry.pw_gid


@pytest.fixture
def shared_tmp():
    """A fresh directory `nobody` can traverse (pytest's tmp_path is 0700 root)."""
    path = tempfile.mkdtemp(prefix="inspector-perm-")
    os.chmod(path, 0o755)
    yield Path(path)
    for dirpath, dirnames, _ in os.walk(path):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    shutil.rmtree(path, ignore_errors=True)


def run_as_nobody(func: Callable[[], object]) -> tuple[object, str]:
    """Run `func` as nobody in a forked child: (its result or exit code, its stderr)."""
    uid, gid = nobody_ids()
    result_r, result_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(result_r)
            os.close(err_r)
            os.dup2(err_w, 2)
            sys.stderr = open(2, "w", closefd=False)  # pytest replaced sys.stderr
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                value = func()
            except SystemExit as exc:
                value = exc.code
            with os.fdopen(result_w, "wb") as out:
                pickle.dump(value, out)
            sys.stderr.flush()
        except BaseException as exc:  # report, never fall back into pytest
            os.write(2, f"child failed: {exc!r}\n".encode())
            code = 99
        finally:
            os._exit(code)
    os.close(result_w)
    os.close(err_w)
    with os.fdopen(result_r, "rb") as inp:
        data = inp.read()
    with os.fdopen(err_r, "rb") as inp:
        err = inp.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, err
    return pickle.loads(data), err
