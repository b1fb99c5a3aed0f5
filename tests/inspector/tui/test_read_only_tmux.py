"""The real command in tmux on a snapshot .tar.gz and on a keep directory:
opened read-only, read (kept generations as one log), quit."""

from __future__ import annotations

import gzip
import shutil

from ..core.test_archive_root import _snapshot
from ..core.test_kept_root import kept  # noqa: F401  (the fixture)
from .test_tmux import command, pytestmark, tmux  # noqa: F401  (the fixture, the skip)


def test_a_snapshot_tar_gz_is_read_in_the_terminal(tmp_path, tmux):  # noqa: F811
    plain = _snapshot(tmp_path)
    with open(plain, "rb") as src, gzip.open(plain + ".gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    tmux.start([*command(), plain + ".gz", "--open", "web/local/app.log"])
    tmux.wait_for(lambda s: "line 0" in s and "snapshot tar" in s, what="the member")
    tmux.keys("G")
    tmux.wait_for(lambda s: "line 4999" in s, what="the tail of the member")
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_a_keep_directory_is_read_in_the_terminal(kept, tmux):  # noqa: F811
    keep, _ = kept
    tmux.start([*command(), str(keep), "--open",
                "5fc98185-17ff-26bc-a802-0c74fa471c99/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "after the truncation" in s and "before the truncation" in s,
                  what="both generations of the kept log")
    tmux.wait_for(lambda s: "keep directory" in s, what="the title says what is read")
    tmux.keys("q")
    assert tmux.exit_status() == 0
