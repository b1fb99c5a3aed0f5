"""A task must never be able to end the inspector through what its
directories make a listing raise (case 1 of the second hostile-task issue):
its own ``secrets/`` tmpfs keeps any 64-bit mtime, and 2**40 s is a year no
``datetime`` holds. Every worker of the tree (listing a directory,
discovering the allocations, looking at the logs) and of the notebook's
browser turns whatever it meets into a message on the node or entry it was
working for; the app stays up and the rest of the tree still works."""

from __future__ import annotations

import os

import pytest

from allocdir import AllocDir
from inspector.core.roots import Root
from inspector.tui.app import InspectorApp

from tests.hostile import run_as_nobody
from tests.inspector.conftest import find_node, wait_for

FAR = 2**40  # seconds: the year 36812


def _far_future(alloc: AllocDir) -> None:
    """As the task: a file in its secrets tmpfs, and the tmpfs itself, dated 2**40 s."""
    secrets = os.path.join(alloc.alloc_dir, "web", "secrets")

    def attack() -> float:
        token = os.path.join(secrets, "token")
        with open(token, "w") as f:
            f.write("s.secret\n")
        os.utime(token, ns=(FAR * 10**9, FAR * 10**9))
        os.utime(secrets, ns=(FAR * 10**9, FAR * 10**9))
        return os.stat(secrets).st_mtime

    assert run_as_nobody(attack) == FAR  # the tmpfs kept it


async def _expand(pilot, tree, rel: str, alloc_id: str):
    node = find_node(tree, rel, alloc_id)
    assert node is not None, rel
    node.expand()
    await wait_for(pilot, lambda: node.loaded, message=f"{rel} listed")
    return node


def _labels(node) -> list[str]:
    return [str(child.label) for child in node.children]


async def test_a_task_dating_its_secrets_in_year_36812_does_not_end_the_app(alloc, canary):
    _far_future(alloc)
    before = canary.state()
    app = InspectorApp(Root.open(os.path.dirname(alloc.alloc_dir)))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: find_node(tree, "web", alloc.alloc_id) is not None,
                       message="the allocation expanded")
        web = await _expand(pilot, tree, "web", alloc.alloc_id)
        labels = _labels(web)
        secrets = find_node(tree, "web/secrets", alloc.alloc_id)
        if secrets is None:  # the listing could not describe the entry: it says so
            assert len(labels) == 1 and "out of range" in labels[0], labels
        else:
            await _expand(pilot, tree, "web/secrets", alloc.alloc_id)
            token = [label for label in _labels(secrets) if label.startswith("token")]
            assert token or "out of range" in _labels(secrets)[0], _labels(secrets)
        # Every row draws (the ages of far-future times included).
        for y in range(tree.size.height):
            tree.render_line(y)
        # The app is still there and the rest of the tree works.
        await _expand(pilot, tree, "alloc", alloc.alloc_id)
        assert "logs/" in " ".join(_labels(find_node(tree, "alloc", alloc.alloc_id)))
        assert app.is_running
    assert app.return_code in (0, None)
    assert canary.state() == before


@pytest.fixture
def failing_list(monkeypatch):
    """``AllocDir.list`` of ``web/local`` raises what nobody planned for."""
    real = AllocDir.list

    def listing(self, path):
        if str(path) == "web/local":
            raise RuntimeError("the listing broke")
        return real(self, path)

    monkeypatch.setattr(AllocDir, "list", listing)


async def test_an_unexpected_listing_error_is_a_message_on_the_node(alloc, failing_list):
    app = InspectorApp(Root.open(os.path.dirname(alloc.alloc_dir)))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: find_node(tree, "web", alloc.alloc_id) is not None,
                       message="the allocation expanded")
        await _expand(pilot, tree, "web", alloc.alloc_id)
        local = await _expand(pilot, tree, "web/local", alloc.alloc_id)
        assert _labels(local) == ["unexpected error: RuntimeError: the listing broke"]
        tmp = await _expand(pilot, tree, "web/tmp", alloc.alloc_id)
        assert tmp.error is None
        assert app.is_running


async def test_a_failed_discovery_is_the_roots_message(alloc, monkeypatch):
    def broken(self):
        raise RuntimeError("discovery broke")

    monkeypatch.setattr(Root, "discover", broken)
    app = InspectorApp(Root.open(os.path.dirname(alloc.alloc_dir)))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: tree.root.note() is None and bool(tree.root.children),
                       message="the root's note")
        labels = _labels(tree.root)
        assert len(labels) == 1 and "unexpected error: RuntimeError: discovery broke" in labels[0]
        assert app.is_running


async def test_a_failed_look_at_the_logs_is_said_on_the_allocation(alloc, monkeypatch):
    from inspector.core import logtimes

    def broken(fd, cap):
        raise RuntimeError("logs look broke")

    monkeypatch.setattr(logtimes, "_newest_entry", broken)
    app = InspectorApp(Root.open(os.path.dirname(alloc.alloc_dir)))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: find_node(tree, "", alloc.alloc_id) is not None,
                       message="the allocation")
        label = str(find_node(tree, "", alloc.alloc_id).label)
        assert "logs: unexpected error: RuntimeError: logs look broke" in label
        assert app.is_running


def test_the_notebook_browser_lists_the_rest_and_says_why_on_the_entry(alloc, monkeypatch):
    pytest.importorskip("ipywidgets")
    from inspector import notebook as nb

    other = AllocDir(os.path.join(os.path.dirname(alloc.alloc_dir), "0other-alloc"))
    other.build()
    other.new_task_dir("api").build()
    _far_future(alloc)
    real = AllocDir.list

    def listing(self, path):
        if self.alloc_dir == other.alloc_dir and str(path) == "api/local":
            raise RuntimeError("the listing broke")
        return real(self, path)

    monkeypatch.setattr(AllocDir, "list", listing)
    try:
        root = nb.open_root(os.path.dirname(alloc.alloc_dir))
        browser = nb.browse(root).wait()
        browser.expand("", other).expand("api", other).expand("api/local", other)
        browser.expand("", alloc).expand("web", alloc).expand("alloc", alloc).wait()
        labels = [label.replace("\u00a0", " ").strip() for label in browser.labels()]
        names = [label.split("  ")[0] for label in labels]
        at = names.index("▾ api/")
        # The task's own logs merged come first, then its directories.
        assert names[at + 1:at + 4] == ["api: stdout+stderr", "▾ local/",
                                        "unexpected error: RuntimeError: the listing broke"]
        # The task dir holding the secrets dated 2**40 lists it (locked), or says
        # why it cannot, and the rest of that allocation is listed all the same.
        at = names.index("▾ web/")
        assert "secrets/" in " ".join(labels[at + 1:at + 4]) or "out of range" in labels[at + 1]
        assert "▸ logs/" in names
    finally:
        other.destroy()
