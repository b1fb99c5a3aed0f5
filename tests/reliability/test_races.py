"""Swap race: a path flipped between a regular file and a symlink to outside
(or into secrets) while another thread reads it: zero outside reads."""

from __future__ import annotations

import ctypes
import os
import threading

from allocdir import AllocDirError

_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def _exchange(a: str, b: str) -> None:
    """Atomically swap two names (renameat2 RENAME_EXCHANGE)."""
    if _libc.renameat2(-100, a.encode(), -100, b.encode(), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def test_swap_race_never_reads_outside(tmp_path, soak, figures):
    from allocdir.testing import temp_alloc_dir

    reads = 20_000 if soak else 10_000
    outside = tmp_path / "outside"
    outside.write_bytes(b"OUTSIDE")
    with temp_alloc_dir() as alloc:
        task = alloc.new_task_dir("web")
        task.build()
        with open(os.path.join(task.secrets_dir, "token"), "wb") as f:
            f.write(b"SECRET")
        local = task.local_dir
        target = os.path.join(local, "target")
        with open(target, "wb") as f:
            f.write(b"INSIDE")
        links = [os.path.join(local, "to-outside"), os.path.join(local, "to-secret")]
        os.symlink(str(outside), links[0])
        os.symlink("../secrets/token", links[1])

        stop = threading.Event()

        def flipper():
            i = 0
            while not stop.is_set():
                _exchange(target, links[i % 2])  # target becomes a link, and back
                _exchange(target, links[i % 2])
                i += 1

        thread = threading.Thread(target=flipper)
        thread.start()
        outcomes = {"inside": 0, "refused": 0, "outside": 0}
        try:
            for _ in range(reads):
                try:
                    with alloc.read_at("web/local/target", 0) as f:
                        data = f.read()
                except (AllocDirError, FileNotFoundError):
                    outcomes["refused"] += 1
                    continue
                outcomes["inside" if data == b"INSIDE" else "outside"] += 1
        finally:
            stop.set()
            thread.join()
    figures.update(attempts=reads, failures=outcomes["outside"], outcomes=outcomes)
    assert outcomes["outside"] == 0
    assert outcomes["inside"] > 0 and outcomes["refused"] > 0, outcomes
