"""The tree at 80×24 and 60×20: allocations by their short ids with their
task names, the index of every rotated file visible, FIFOs said in a word."""

from __future__ import annotations

import shutil

import pytest

from inspector.core.tree.labels import Label, Part

from ..conftest import ALLOC_A

TASK = "frontend-api-gateway"


def test_a_name_wider_than_the_pane_loses_its_middle_not_its_index():
    from inspector.tui.tree_labels import middle_cut

    assert middle_cut(f"{TASK}.stdout.11", 15) == "frontend…dout.11"[:7] + "…" + "stdout.11"[-7:]
    assert middle_cut(f"{TASK}.stdout.11", 15).endswith(".11")
    assert len(middle_cut(f"{TASK}.stdout.11", 15)) == 15
    assert middle_cut("web.stdout.3", 15) == "web.stdout.3"


def test_details_are_cut_before_the_name():
    from inspector.tui.tree_labels import fitted

    label = Label((Part("web.stdout.12", "name"), Part("  1.2 MiB · 3 minutes ago", "detail")))
    assert fitted(label, 16).plain == "web.stdout.12  …"
    assert fitted(label, 10).plain == "web.…ut.12"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
def test_tmux_the_narrow_tree_reads(alloc_root, tmp_path, size):
    """As a person sees it: short ids with task names, every member's index."""
    from .test_tmux import Tmux, command

    logs = alloc_root / ALLOC_A / "alloc/logs"
    for n in range(12):
        (logs / f"{TASK}.stdout.{n}").write_text(f"file {n}\n")
    tmux = Tmux(tmp_path)
    try:
        tmux.start([*command(), str(alloc_root), "--open",
                    f"{ALLOC_A}/alloc/logs/{TASK}.stdout.0"], size=size)
        # At 60x20 only the first members fit under the allocation's rows.
        screen = tmux.wait_for(lambda s: {"0", "1", "2"} <= _indices(_members(s)),
                               what="the members")
        assert f"▾ {ALLOC_A[:8]}  web" in screen and f"{ALLOC_A[:9]}" not in screen
        members = _members(screen)
        assert len(members) >= 3, screen
        # each name loses its middle, never its index
        assert all(line[-1].isdigit() for line in members), screen
        assert ".web.stdout.fifo|" not in screen and "fifo" in screen
        tmux.keys("q")
        assert tmux.exit_status() == 0
    finally:
        tmux.close()


def _members(screen: str) -> list[str]:
    """The tree's rows of the set's members (not the set's own row)."""
    tree = [line.split("▕")[0].rstrip(" ▂▆") for line in screen.splitlines()]
    return [line.strip() for line in tree if line.lstrip().startswith("fro") and "[" not in line]


def _indices(members: list[str]) -> set[str]:
    return {line.rsplit(".", 1)[-1] for line in members}
