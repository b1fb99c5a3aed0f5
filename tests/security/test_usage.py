"""Measuring usage while the task plays tricks: a directory swapped for a
symlink to a host dir mid-walk must never add a byte of the host dir, and
nothing the walk touches outside the alloc dir changes."""

from __future__ import annotations

import os

from allocdir import usage as usage_mod
from allocdir.usage import measure
from tests.hostile import NOBODY, Racer, exchange

HOST_BYTES = 8 << 20


def test_a_dir_swapped_for_a_link_to_a_host_dir_adds_nothing(alloc, canary, base, monkeypatch):
    monkeypatch.setattr(usage_mod, "PARALLEL_MIN_ENTRIES", 0)
    host = base / "hostbig"
    host.mkdir()
    (host / "big.bin").write_bytes(os.urandom(HOST_BYTES))
    os.chmod(host, 0o755)
    local = alloc.task_dirs["web"].local_dir
    sub, link = os.path.join(local, "sub"), os.path.join(local, "link")
    os.mkdir(sub)
    for i in range(50):
        with open(os.path.join(sub, f"f{i}"), "wb") as f:
            f.write(b"t" * 1000)
    os.symlink(str(host), link)
    for path in (sub, *(os.path.join(sub, n) for n in os.listdir(sub))):
        os.chown(path, NOBODY, NOBODY)
    os.lchown(link, NOBODY, NOBODY)
    before = canary.state()
    totals = []
    with Racer(lambda: exchange(sub, link)) as racer:
        for round_ in range(60):
            u = measure(alloc.alloc_dir, workers=2 if round_ % 2 else 0)
            totals.append(u.apparent_bytes)
            assert u.apparent_bytes < HOST_BYTES, u.largest_files()
            assert all("big.bin" not in f.rel for f in u.largest_files())
    assert racer.done > 100
    assert canary.state() == before
    assert max(totals) >= 50_000  # the task's own files were counted when in place
