"""A task can hide its allocation from the inspector (case 15 of the second
hostile-task issue): it owns ``alloc/`` and renames two of ``data``,
``logs``, ``tmp`` away, and its directory no longer has an alloc dir's
layout. Every directory of the client root that is not an allocation is
shown, with the reason, browsable read-only under the read side's rules,
and every action on it is refused with that reason."""

from __future__ import annotations

import os

import pytest

from allocdir import NotAnAllocDirError, PathEscapesError, PathKind, SecretReadError
from inspector.core.roots import Root
from inspector.core.strays import NonAllocDir
from inspector.tui.app import InspectorApp
from inspector.tui.destroy_screen import DestroyScreen

from tests.hostile import run_as_nobody, tree_state
from tests.inspector.conftest import find_node, wait_for

REASON = "not an allocation: alloc/ lacks data, tmp"


@pytest.fixture
def hidden(alloc):
    """The task's allocation, with ``alloc/data`` and ``alloc/tmp`` renamed
    away by the task itself, a file in ``local/`` and a secret."""
    top = alloc.alloc_dir

    def hide() -> list[str]:
        with open(f"{top}/web/local/app.log", "w") as f:
            f.write("what the operator came for\n")
        with open(f"{top}/web/secrets/token", "w") as f:
            f.write("s.never-shown\n")
        os.rename(f"{top}/alloc/data", f"{top}/alloc/.d")
        os.rename(f"{top}/alloc/tmp", f"{top}/alloc/.t")
        return sorted(os.listdir(f"{top}/alloc"))

    assert run_as_nobody(hide) == [".d", ".t", "logs"]
    return alloc


def test_discovery_lists_it_with_the_reason(hidden):
    # Its client root (and the data_dir above) are still recognised as such,
    # though the allocation in it no longer has an alloc dir's layout.
    client_root = os.path.dirname(hidden.alloc_dir)
    assert Root.open(client_root).kind is PathKind.CLIENT_ROOT
    assert Root.open(os.path.dirname(client_root)).path == client_root
    found = Root.open(client_root).discover()
    assert found.allocs == []
    assert found.strays.names == [hidden.alloc_id]
    fs = found.strays.fs(0)
    assert fs.description == REASON


def test_its_read_side_keeps_the_rules_and_it_has_no_action(hidden, canary):
    fs = NonAllocDir(hidden.alloc_dir, "alloc/ lacks data, tmp")
    assert [i.name for i in fs.list("web/local")] == ["app.log"]
    with fs.read_at("web/local/app.log", 0) as f:
        assert f.read() == b"what the operator came for\n"
    assert fs.stat("web/local/app.log").size == 27
    with pytest.raises(SecretReadError):
        fs.read_at("web/secrets/token", 0)
    os.symlink(str(canary.root / "data.txt"), f"{hidden.alloc_dir}/web/local/out")
    with pytest.raises(PathEscapesError):
        fs.read_at("web/local/out", 0)
    before = tree_state(hidden.alloc_dir)
    for action in (fs.snapshot, fs.snapshot_estimate, fs.move, fs.destroy):
        with pytest.raises(NotAnAllocDirError, match="lacks data, tmp"):
            action()
    assert tree_state(hidden.alloc_dir) == before


async def test_the_app_shows_it_browses_it_and_refuses_every_action(hidden, canary, notified):
    before = tree_state(hidden.alloc_dir), canary.state()
    app = InspectorApp(Root.open(os.path.dirname(hidden.alloc_dir)))
    async with app.run_test(size=(140, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: find_node(tree, "", hidden.alloc_id) is not None,
                       message="the hidden allocation")
        node = find_node(tree, "", hidden.alloc_id)
        assert str(node.label) == f"{hidden.alloc_id}  {REASON}"
        node.expand()
        await wait_for(pilot, lambda: node.loaded, message="listed")
        assert [str(c.label).split()[0] for c in node.children] == ["alloc/", "web/"]
        web = find_node(tree, "web", hidden.alloc_id)
        web.expand()
        await wait_for(pilot, lambda: web.loaded, message="web listed")
        local = find_node(tree, "web/local", hidden.alloc_id)
        local.expand()
        await wait_for(pilot, lambda: local.loaded, message="local listed")
        log = find_node(tree, "web/local/app.log", hidden.alloc_id)
        tree.focus()
        tree.move_cursor(log)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.viewer.mode == "text", message="the file open")
        assert "what the operator came for" in "\n".join(app.viewer.body.plain_lines())
        for key, verb in (("s", "snapshot"), ("M", "move"), ("D", "destroy")):
            tree.focus()
            tree.move_cursor(log)
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0], verb  # no dialog opened
            said = [n.message for n in notified]
            assert f"Cannot {verb} {hidden.alloc_id}: {REASON}" in said, said
        # The secret shows the refusal, never its content.
        secrets = find_node(tree, "web/secrets", hidden.alloc_id)
        secrets.expand()
        await wait_for(pilot, lambda: secrets.loaded, message="secrets listed")
        tree.move_cursor(find_node(tree, "web/secrets/token", hidden.alloc_id))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.viewer.mode == "message"
                       and "prohibited" in "\n".join(app.viewer.body.plain_lines()),
                       message="the refusal")
        assert "s.never-shown" not in "\n".join(app.viewer.body.plain_lines())
        assert not isinstance(app.screen, DestroyScreen)
    assert (tree_state(hidden.alloc_dir), canary.state()) == before


def test_the_notebook_shows_it_in_the_root_and_browses_it(hidden):
    pytest.importorskip("ipywidgets")
    from inspector import notebook as nb
    from inspector.notebook.actions import ActionRefused
    from inspector.notebook.roots import root_text

    root = nb.open_root(os.path.dirname(hidden.alloc_dir))
    assert REASON in root._repr_html_()
    assert f"{hidden.alloc_id}: {REASON}" in root_text(root.summary())
    fs = root.lookup(hidden.alloc_id)
    assert isinstance(fs, NonAllocDir)
    browser = nb.browse(root).wait()
    labels = [label.replace("\u00a0", " ").strip() for label in browser.labels()]
    assert labels == [f"▸ {hidden.alloc_id}  {REASON}"]
    browser.expand("", fs).expand("web", fs).expand("web/local", fs).wait()
    browser.open("web/local/app.log", fs)
    browser.wait()
    assert browser.viewer.text() == ["what the operator came for"]
    for verb, act in (("snapshot", lambda: nb.snapshot(fs, "/tmp/never.tar")),
                      ("move", lambda: nb.move(hidden.alloc_dir + "-new", fs)),
                      ("destroy", lambda: nb.destroy(fs, confirm=fs.alloc_id))):
        with pytest.raises(ActionRefused, match=f"Cannot {verb} .*lacks data, tmp"):
            act()
    assert os.path.isdir(hidden.alloc_dir) and not os.path.exists("/tmp/never.tar")
