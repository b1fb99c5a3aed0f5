"""The usage view in a real terminal (tmux): `u`, drill down, `a`, escape;
`--config` gives the thresholds; a hostile name cannot retitle the pane."""

from __future__ import annotations

import shutil

import pytest

from ..conftest import ALLOC_A, ALLOC_B
from .test_tmux import Tmux, command

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

HOSTILE = "title\x1b]0;pwned\x07"


@pytest.fixture
def tmux(tmp_path):
    session = Tmux(tmp_path)
    yield session
    session.close()


def test_u_drill_toggle_and_escape(alloc_root, tmux, tmp_path):
    (alloc_root / ALLOC_A / "web" / "local" / HOSTILE).write_bytes(b"x" * 500_000)
    conf = tmp_path / "client.hcl"
    conf.write_text("client {\n  gc_max_allocs = 1\n}\n")
    tmux.start([*command(), str(alloc_root), "--config", str(conf)], size=(150, 36))
    tmux.wait_for(lambda s: ALLOC_B[:8] in s, what="the tree")
    title = tmux.pane_title()
    tmux.keys("u")
    screen = tmux.wait_for(lambda s: "measured in" in s and ALLOC_A in s, what="the view")
    assert "allocs 2 / 1 ▲" in screen and "(from client.hcl)" in screen
    rows = [line for line in screen.splitlines() if ALLOC_A in line or ALLOC_B in line]
    assert ALLOC_A in rows[0] and "█" in rows[0]  # the larger first, with its bar
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "web/" in s and "alloc/" in s and f"/{ALLOC_A}" in s,
                  what="inside the allocation")
    tmux.keys("Enter", "Enter")  # web, then local
    screen = tmux.wait_for(lambda s: "title\\x1b]0;pwned\\x07" in s, what="the file")
    assert "488.3 KiB" in screen
    tmux.keys("a")
    tmux.wait_for(lambda s: "allocated," in s, what="allocated bytes")
    tmux.keys("BSpace")
    tmux.wait_for(lambda s: f"/{ALLOC_A}/web " in s, what="back up")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "measured in" not in s and ALLOC_B[:8] in s, what="the tree")
    assert tmux.pane_title() == title
    tmux.keys("q")
    assert tmux.exit_status() == 0
