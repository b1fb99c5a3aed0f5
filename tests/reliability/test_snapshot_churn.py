"""Snapshot under churn: files appended to, truncated, deleted and created
while snapshots run; every tar must read back whole with tarfile and GNU
tar, every entry with exactly its header's length."""

from __future__ import annotations

import os
import random
import subprocess
import tarfile
import threading

from allocdir.testing import temp_alloc_dir


def _churn(roots: list[str], stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        root = rng.choice(roots)
        path = os.path.join(root, f"f{rng.randrange(40)}")
        action = rng.random()
        try:
            if action < 0.5:
                with open(path, "ab") as f:
                    f.write(rng.randbytes(rng.choice([10, 4096, 100_000, 700_000])))
            elif action < 0.7:
                os.truncate(path, rng.randrange(0, 50_000))
            elif action < 0.85:
                os.unlink(path)
            else:
                os.makedirs(os.path.join(root, f"d{rng.randrange(5)}"), exist_ok=True)
        except (FileNotFoundError, IsADirectoryError):
            pass


def _check_tar(path: str) -> list[str]:
    problems = []
    try:
        with tarfile.open(path) as tar:
            for member in tar:
                if member.isfile():
                    with tar.extractfile(member) as f:
                        data = f.read()
                    if len(data) != member.size:
                        problems.append(f"{member.name}: {len(data)} bytes, header says {member.size}")
    except tarfile.TarError as e:
        problems.append(f"tarfile: {e}")
    listing = subprocess.run(["tar", "-tf", path], capture_output=True, text=True)
    if listing.returncode != 0:
        problems.append(f"GNU tar -t: {listing.stderr.strip()}")
    return problems


def test_snapshots_under_churn_stay_valid(tmp_path, soak, figures):
    snapshots = 100 if soak else 25
    failures, problems = 0, []
    with temp_alloc_dir() as alloc:
        task = alloc.new_task_dir("web")
        task.build()
        roots = [os.path.join(alloc.shared_dir, "data"), task.local_dir]
        stop = threading.Event()
        writers = [threading.Thread(target=_churn, args=(roots, stop, seed)) for seed in range(3)]
        for w in writers:
            w.start()
        try:
            for i in range(snapshots):
                out = os.path.join(tmp_path, f"snap-{i}.tar")
                with open(out, "wb") as f:
                    alloc.snapshot(f)
                found = _check_tar(out)
                if found:
                    failures += 1
                    problems.extend(found[:3])
                os.unlink(out)
        finally:
            stop.set()
            for w in writers:
                w.join()
    figures.update(attempts=snapshots, failures=failures)
    assert failures == 0, problems[:10]
