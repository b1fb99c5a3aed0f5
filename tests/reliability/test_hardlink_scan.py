"""A task fills its own ``private/`` (100,000 entries in the soak) and
gives 60 files of ``local/`` a second name, half of them by linking files
of ``private/``: every one is refused (the check gives up on a directory
that big and fails closed), none is read, and all 60 opens and stats
together take about as long as one look through ``private/``."""

from __future__ import annotations

import os
import time
from functools import partial

from allocdir import AllocDir, SecretReadError, hardlinks
from tests.hostile import make_many, run_as_nobody, work_dir

LINKS = 60


def _fill_as_the_task(web_dir: str, local: str, entries: int) -> None:
    private = os.path.join(web_dir, "private")
    make_many(private, entries)
    for i in range(LINKS // 2):
        os.link(os.path.join(private, f"e{i:06d}"), os.path.join(local, f"secret-{i}"))
    for i in range(LINKS // 4):
        plain = os.path.join(local, f"plain-{i}")
        with open(plain, "w") as f:
            f.write("plain\n")
        os.link(plain, plain + ".again")


def test_hard_links_beside_a_private_dir_the_task_filled(soak, figures, monkeypatch):
    if not soak:  # the short run: a smaller bound, a directory just over it
        monkeypatch.setattr(hardlinks, "SCAN_ENTRIES", 1000)
    entries = 100_000 if soak else hardlinks.SCAN_ENTRIES + 1
    with work_dir() as base:
        alloc = AllocDir(base / "alloc" / "5fc98185-17ff-26bc-a802-0c74fa471c99")
        alloc.build()
        web = alloc.new_task_dir("web")
        web.build()  # as root, web/ and local/ are the task's (nobody's)
        fill = partial(_fill_as_the_task, web.dir, web.local_dir, entries)
        run_as_nobody(fill) if os.geteuid() == 0 else fill()
        names = sorted(os.listdir(web.local_dir))
        refused = read = 0
        started = time.monotonic()
        for name in names:
            try:
                with alloc.read_at(f"web/local/{name}", 0):
                    read += 1
            except SecretReadError:
                refused += 1
            alloc.stat(f"web/local/{name}")
        took = time.monotonic() - started
        alloc.destroy()
    figures.update(entries=entries, attempts=2 * len(names), read=read, refused=refused,
                   failures=read, seconds_for_all=round(took, 3))
    assert len(names) == LINKS
    assert read == 0 and refused == LINKS
