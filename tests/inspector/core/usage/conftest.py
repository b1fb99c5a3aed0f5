"""A Nomad data_dir with two allocations whose tasks wrote files, one with
a hostile name, for the usage command, model and process map."""

from __future__ import annotations

import os

import pytest

from allocdir import AllocDir

ALLOC_IDS = ("11111111-aaaa-bbbb-cccc-000000000001", "22222222-aaaa-bbbb-cccc-000000000002")
HOSTILE = "evil\x1b]0;pwned\x07name"


@pytest.fixture
def data_dir(tmp_path):
    """``<tmp>/nomad`` (a data_dir: ``alloc/`` holds two alloc dirs, ``client/`` beside)."""
    data = tmp_path / "nomad"
    (data / "client").mkdir(parents=True)
    root = data / "alloc"
    root.mkdir()
    for n, alloc_id in enumerate(ALLOC_IDS):
        alloc = AllocDir(str(root / alloc_id))
        alloc.build()
        for task in ("web", "sidecar"):
            alloc.new_task_dir(task).build()
            local = os.path.join(alloc.alloc_dir, task, "local")
            for i in range(5 * (n + 1)):
                with open(os.path.join(local, f"f{i}"), "wb") as f:
                    f.write(b"d" * (1000 * (i + 1)))
        with open(os.path.join(alloc.alloc_dir, "alloc", "logs", "web.stdout.0"), "wb") as f:
            f.write(b"log line\n" * 1000 * (n + 1))
    first = root / ALLOC_IDS[0]
    (first / "web" / "local" / HOSTILE).write_bytes(b"h" * 123)
    os.link(first / "web" / "local" / "f0", first / "sidecar" / "local" / "same-as-f0")
    yield data
    for alloc_id in ALLOC_IDS:
        AllocDir.discover(str(root / alloc_id)).destroy()
