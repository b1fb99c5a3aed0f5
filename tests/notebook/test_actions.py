"""``nb.snapshot``, ``nb.move`` and ``nb.destroy``: the terminal app's checks,
a progress bar, and destroy refusing anything but the exact alloc id."""

from __future__ import annotations

import os
import tarfile
import threading

import pytest

pytest.importorskip("ipywidgets")

from allocdir import AllocDir  # noqa: E402
from inspector import notebook as nb  # noqa: E402
from inspector.notebook import actions  # noqa: E402

from .conftest import SECRET, _write  # noqa: E402


@pytest.mark.parametrize("confirm", [None, "", "wrong", "PREFIX", "ID ", "UPPER"])
def test_destroy_refuses_anything_but_the_exact_id(alloc, confirm):
    if confirm == "PREFIX":
        confirm = alloc.alloc_id[:8]
    elif confirm == "ID ":
        confirm = alloc.alloc_id + " "
    elif confirm == "UPPER":
        confirm = alloc.alloc_id.upper()
    threads = threading.active_count()
    with pytest.raises(nb.ConfirmationError, match="exact alloc id"):
        nb.destroy(alloc, confirm=confirm)
    assert os.path.isdir(alloc.alloc_dir) and alloc.list("web/local")
    assert threading.active_count() == threads  # nothing was started


def test_destroy_with_the_exact_id(alloc):
    job = nb.destroy(alloc, confirm=alloc.alloc_id)
    assert job.wait(10) is None
    assert not os.path.exists(alloc.alloc_dir)
    assert job.progress.value == 1000 and job.progress.bar_style == "success"
    assert "destroyed" in job.label.value


def test_destroy_refuses_a_client_root_given_as_an_allocation(alloc):
    root = os.path.dirname(alloc.alloc_dir)
    fake = AllocDir(root)
    job = nb.destroy(fake, confirm=fake.alloc_id)
    with pytest.raises(nb.ActionRefused, match="client alloc root"):
        job.wait(10)
    assert os.path.isdir(alloc.alloc_dir)
    assert job.progress.bar_style == "danger"


def test_snapshot_with_progress_and_no_secret(alloc, tmp_path):
    _write(f"{alloc.alloc_dir}/web/local/big.bin", os.urandom(3 << 20))
    out = tmp_path / "snap.tar"
    job = nb.snapshot(alloc, out)
    outcome = job.wait(30)
    assert outcome.ok and job.progress.value == 1000
    assert "written to" in job.label.value
    with tarfile.open(out) as tar:
        names = tar.getnames()
        content = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert "web/local/big.bin" in names and "web/local/config.json" in names
    assert SECRET.encode() not in content and not any("secrets" in n for n in names)
    # An existing file is replaced only when asked.
    with pytest.raises(nb.ActionRefused, match="overwrite=True"):
        nb.snapshot(alloc, out).wait(10)
    assert nb.snapshot(alloc, out, overwrite=True).wait(30).ok


def test_snapshot_refused_inside_an_alloc_dir(alloc):
    with pytest.raises(nb.ActionRefused, match="inside the alloc dir"):
        nb.snapshot(alloc, os.path.join(alloc.alloc_dir, "alloc/data/x.tar")).wait(10)


def test_snapshot_cancel_removes_what_was_written(alloc, tmp_path, monkeypatch):
    started, release = threading.Event(), threading.Event()
    real = AllocDir.snapshot

    def slow(self, w, *, progress=None, room=None, include_logs=False):
        def report(done):
            started.set()
            release.wait(10)
            if progress is not None:
                progress(done)
        return real(self, w, progress=report)

    monkeypatch.setattr(AllocDir, "snapshot", slow)
    _write(f"{alloc.alloc_dir}/web/local/big.bin", b"x" * (2 << 20))
    job = nb.snapshot(alloc, tmp_path / "snap.tar")
    assert started.wait(10)
    job.cancel_button.click()
    release.set()
    with pytest.raises(nb.ActionFailed, match="cancelled"):
        job.wait(10)
    assert os.listdir(tmp_path) == []


def test_busy_allocation_refuses_a_second_action(alloc, tmp_path):
    claim = actions.BUSY.claim("a snapshot", alloc.alloc_dir)
    assert claim is None
    try:
        with pytest.raises(nb.ActionRefused, match="a snapshot of .* is running"):
            nb.destroy(alloc, confirm=alloc.alloc_id).wait(10)
    finally:
        actions.BUSY.release(alloc.alloc_dir)
    assert os.path.isdir(alloc.alloc_dir)


def test_move_only_the_tasks_named(alloc):
    api = alloc.new_task_dir("api")
    api.build()
    _write(f"{alloc.alloc_dir}/api/local/app.conf", "port = 9090\n")
    _write(f"{alloc.alloc_dir}/alloc/data/state.json", "{}\n")
    destination = os.path.join(os.path.dirname(alloc.alloc_dir),
                               "d1e2f3a4-0000-4000-8000-000000000001")
    job = nb.move(destination, alloc, ["web"])
    moved = job.wait(10)
    try:
        assert isinstance(moved, AllocDir) and moved.alloc_dir == destination
        assert [i.name for i in moved.list("web/local")] == ["blob.bin", "config.json"]
        assert [i.name for i in moved.list("alloc/data")] == ["state.json"]
        assert not os.path.exists(os.path.join(destination, "api"))
        assert os.path.exists(f"{alloc.alloc_dir}/api/local/app.conf")  # not asked: stays
        assert "web/local" in job.message
    finally:
        moved.destroy()


def test_move_refuses_the_client_root_and_bad_task_names(alloc):
    with pytest.raises(ValueError):
        nb.move(os.path.dirname(alloc.alloc_dir) + "/new", alloc, ["../etc"])
    job = nb.move(os.path.dirname(alloc.alloc_dir), alloc)
    with pytest.raises(nb.ActionRefused):
        job.wait(10)
    assert alloc.list("web/local")


async def test_await_a_job_in_a_cell(alloc, tmp_path):
    outcome = await nb.snapshot(alloc, tmp_path / "snap.tar")
    assert outcome.ok
