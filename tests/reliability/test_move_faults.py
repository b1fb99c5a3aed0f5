"""Move under faults: a cross-filesystem move killed (SIGKILL) at random
points loses nothing, and running it again completes it."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from allocdir import AllocDir, mounts
from tests import mounting

_MOVER = """
import sys
from allocdir import AllocDir
dst, src = AllocDir.discover(sys.argv[1]), AllocDir.discover(sys.argv[2])
print("start", flush=True)
dst.move(src, ["web"])
print("done", flush=True)
"""


@pytest.fixture
def other_fs():
    """A directory on another file system than the temp dir: a tmpfs we mount
    as root, else /dev/shm."""
    if mounts.is_root():
        path = tempfile.mkdtemp(prefix="allocdir-otherfs-")
        mounting.tmpfs(path, "256m")
        yield path
        mounts.unmount(path, lazy=True)
        os.rmdir(path)
    else:
        path = tempfile.mkdtemp(prefix="allocdir-otherfs-", dir="/dev/shm")
        yield path
        subprocess.run(["rm", "-rf", path], check=False)


def _populate(alloc: AllocDir, rng: random.Random) -> dict[str, str]:
    """Files in alloc/data and web/local; returns rel path -> sha256."""
    files = {}
    roots = {"data": os.path.join(alloc.shared_dir, "data"),
             "local": alloc.task_dirs["web"].local_dir}
    for kind, root in roots.items():
        for i in range(120):
            sub = os.path.join(root, f"d{i % 7}")
            os.makedirs(sub, exist_ok=True)
            size = rng.choice([0, 100, 4096, 70_000]) if i % 40 else 3 << 20
            data = rng.randbytes(size)
            rel = os.path.join(kind, f"d{i % 7}", f"f{i:03d}")
            with open(os.path.join(sub, f"f{i:03d}"), "wb") as f:
                f.write(data)
            files[rel] = hashlib.sha256(data).hexdigest()
    return files


def _where(alloc: AllocDir, rel: str) -> str:
    kind, rest = rel.split(os.sep, 1)
    base = os.path.join(alloc.shared_dir, "data") if kind == "data" else os.path.join(
        alloc.alloc_dir, "web", "local")
    return os.path.join(base, rest)


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def _run_mover(dst: AllocDir, src: AllocDir, kill_after: float | None) -> str | float:
    """Run a move in a child; kill it ``kill_after`` seconds into the move, or
    let it finish and return how long the move took."""
    proc = subprocess.Popen([sys.executable, "-c", _MOVER, dst.alloc_dir, src.alloc_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline().strip()
    if first != "start":
        proc.wait(timeout=30)
        pytest.fail(f"the mover did not start: {proc.stderr.read()}")
    started = time.monotonic()
    if kill_after is None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        return time.monotonic() - started
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    return "killed" if proc.returncode == -signal.SIGKILL else "finished before the kill"


def test_move_killed_at_random_points_loses_nothing(other_fs, tmp_path, soak, figures):
    rng = random.Random(20261128)
    attempts = 50 if soak else 8
    failures, outcomes = 0, {}
    # How long one uninterrupted move takes, to spread the kills over it.
    src = AllocDir(os.path.join(other_fs, "calibrate-src"))
    src.build(), src.new_task_dir("web").build()
    _populate(src, rng)
    dst = AllocDir(os.path.join(tmp_path, "calibrate-dst"))
    dst.build()
    duration = _run_mover(dst, src, None)
    src.destroy(), dst.destroy()

    for attempt in range(attempts):
        src = AllocDir(os.path.join(other_fs, f"src-{attempt}"))
        src.build(), src.new_task_dir("web").build()
        files = _populate(src, rng)
        dst = AllocDir(os.path.join(tmp_path, f"dst-{attempt}"))
        dst.build()
        outcome = _run_mover(dst, src, rng.uniform(0, duration))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        lost = [rel for rel, digest in files.items()
                if digest not in (_digest(_where(src, rel)), _digest(_where(dst, rel)))]
        _run_mover(dst, src, None)  # moving again completes it
        incomplete = [rel for rel, digest in files.items() if _digest(_where(dst, rel)) != digest]
        leftovers = [p for p in (os.path.join(src.shared_dir, "data"),
                                 os.path.join(src.alloc_dir, "web", "local")) if os.path.exists(p)]
        sidecars = [n for root in (dst.shared_dir, os.path.join(dst.alloc_dir, "web"))
                    for n in os.listdir(root) if n.startswith(".allocdir-")]
        if lost or incomplete or leftovers or sidecars:
            failures += 1
            print(f"attempt {attempt}: lost={lost[:3]} incomplete={incomplete[:3]} "
                  f"leftovers={leftovers} sidecars={sidecars}")
        src.destroy(), dst.destroy()
    figures.update(attempts=attempts, failures=failures, outcomes=outcomes,
                   uninterrupted_move_s=round(duration, 3))
    assert failures == 0
    assert outcomes.get("killed", 0) > 0, outcomes
