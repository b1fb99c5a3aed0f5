"""nb.open_root takes a snapshot tar and a keep directory, as the app does."""

from __future__ import annotations

import pytest

import inspector.notebook as nb
from inspector.notebook.roots import root_text
from tests.inspector.core.test_archive_root import LOG, _snapshot
from tests.inspector.core.test_kept_root import kept  # noqa: F401  (the fixture)
from tests.keeping import ALLOC


def test_open_root_reads_a_snapshot_tar(tmp_path):
    root = nb.open_root(_snapshot(tmp_path))
    assert root.ids == ["5fc98185-17ff-26bc-a802-0c74fa471c99"]
    assert "snapshot tar" in root.description
    assert str(nb.tail(root[0], "web/local/app.log", 2)).splitlines() == [
        "2024-05-01T10:18:00Z line 4998", "2024-05-01T10:19:00Z line 4999"]


def test_open_root_reads_a_keep_directory(kept):  # noqa: F811
    keep, written = kept
    root = nb.open_root(keep)
    assert root.ids == [ALLOC] and "keep directory" in root.description
    assert str(nb.tail(root[0], "alloc/logs/web.stdout", 5)).encode() + b"\n" == \
        b"".join(written.splitlines(keepends=True)[-5:])


def test_a_snapshot_tars_row_in_the_table_is_read_from_its_index(tmp_path):
    root = nb.open_root(_snapshot(tmp_path))
    summary = root.summary()
    (row,) = summary.allocs
    assert row.error == "", row.error  # not "is not a directory"
    assert [t.name for t in row.tasks] == ["web"]
    assert row.data.content_bytes == len('{"ok": true}\n')
    assert row.tasks[0].local.content_bytes == len(LOG) + (1 << 32)
    html = root._repr_html_()
    assert "not a directory" not in html and "snapshot tar: " in html
    assert "4.0 GiB" in root_text(summary)


def test_a_kept_copys_row_says_it_is_kept_and_what_it_holds(kept):  # noqa: F811
    keep, written = kept
    root = nb.open_root(keep)
    (row,) = root.summary().allocs
    assert row.error == "", row.error
    assert row.log_count == 2 and row.log_bytes == len(written)
    html = root._repr_html_()
    assert "kept · gone, last seen" in html and "refusing" not in html


def test_a_snapshot_tar_refuses_destroy_at_once_and_a_kept_copy_is_removed(tmp_path, kept):  # noqa: F811
    archive = nb.open_root(_snapshot(tmp_path))[0]
    with pytest.raises(nb.ActionRefused, match="a snapshot tar is read-only"):
        nb.destroy(archive, confirm=archive.alloc_id)
    keep, _ = kept
    copy = nb.open_root(keep)[0]
    job = nb.destroy(copy, confirm=copy.alloc_id)
    assert job.wait(10) is None
    assert job.message.startswith(f"removed {keep / ALLOC}") and not (keep / ALLOC).exists()
