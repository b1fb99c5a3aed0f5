"""nb.open_root takes a snapshot tar and a keep directory, as the app does."""

from __future__ import annotations

import inspector.notebook as nb
from tests.inspector.core.test_archive_root import _snapshot
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
