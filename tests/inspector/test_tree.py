"""AllocTree: lazy loading, big directories, labels, secrets, permission errors."""

from __future__ import annotations

import os
import threading
import time

import pytest

from allocdir import AllocDir
from allocdir.testing import temp_alloc_dir
from inspector.tui import tree as tree_module
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root
from inspector.tui.tree import BATCH, AllocTree, load_dir

from .conftest import ALLOC_A, ALLOC_B, find_node, node_labels, run_as_nobody, wait_for


async def expand(pilot, tree: AllocTree, node) -> None:
    """Expand `node` with the keyboard and wait for its listing."""
    await move_to(pilot, tree, node)
    if not node.is_expanded:
        await pilot.press("space")
    await wait_for(pilot, lambda: node.data.loaded and not _loading(node), message="listing")


async def move_to(pilot, tree: AllocTree, node) -> None:
    """Put the cursor on `node` (once the tree has laid out its lines)."""
    await pilot.pause()
    tree.move_cursor(node)
    await pilot.pause()
    assert tree.cursor_node is node


def _loading(node) -> bool:
    return any(str(child.label) == "loading…" for child in node.children)


async def open_path(pilot, tree: AllocTree, alloc_id: str, rel: str):
    """Expand the directories down to `rel` and return its node."""
    await wait_for(pilot, lambda: find_node(tree, "", alloc_id) is not None, message="allocs")
    node = find_node(tree, "", alloc_id)
    await expand(pilot, tree, node)
    parts = rel.split("/") if rel else []
    for depth in range(1, len(parts)):
        node = find_node(tree, "/".join(parts[:depth]), alloc_id)
        assert node is not None, parts[:depth]
        await expand(pilot, tree, node)
    return find_node(tree, rel, alloc_id) if rel else node


async def test_allocations_are_listed_and_directories_load_lazily(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: len(tree.root.children) == 2, message="allocations")
        assert [str(n.label) for n in tree.root.children] == [ALLOC_A, ALLOC_B]
        alloc_node = tree.root.children[0]
        # Nothing below an allocation is read before it is expanded.
        assert not alloc_node.data.loaded and list(alloc_node.children) == []
        await expand(pilot, tree, alloc_node)
        assert [str(n.label).split()[0] for n in alloc_node.children] == ["alloc/", "web/"]
        web = find_node(tree, "web", ALLOC_A)
        assert not web.data.loaded and list(web.children) == []


async def test_labels_show_size_age_and_special_files(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await open_path(pilot, tree, ALLOC_A, "web/local/notes.txt")
        notes = str(find_node(tree, "web/local/notes.txt").label)
        assert notes == "notes.txt  24 Bytes · 10 minutes ago"
        assert str(find_node(tree, "web/local/link").label).startswith("link@ → file")
        await open_path(pilot, tree, ALLOC_A, "alloc/logs/web.stdout.0")
        fifo = str(find_node(tree, "alloc/logs/.web.stdout.fifo").label)
        assert fifo.startswith(".web.stdout.fifo| fifo")
        await open_path(pilot, tree, ALLOC_A, "alloc/tmp/consul_grpc.sock")
        sock = str(find_node(tree, "alloc/tmp/consul_grpc.sock").label)
        assert sock.startswith("consul_grpc.sock= socket")
        # Directories first, then files, each sorted by name.
        local = find_node(tree, "web/local")
        names = [str(c.label).split()[0] for c in local.children]
        assert names == ["blob.bin", "config.json", "link@", "notes.txt"]


async def test_secrets_are_locked_and_never_listed(alloc_root, monkeypatch):
    listed = []
    real_list = AllocDir.list

    def spy(self, path):
        listed.append(str(path))
        return real_list(self, path)

    monkeypatch.setattr(AllocDir, "list", spy)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        secrets = await open_path(pilot, tree, ALLOC_A, "web/secrets")
        assert str(secrets.label) == "secrets/ [locked]"
        assert not secrets.allow_expand
        await move_to(pilot, tree, secrets)
        await pilot.press("enter", "space")
        await pilot.pause(0.2)
        assert list(secrets.children) == [] and not secrets.is_expanded
        assert not any("secrets" in path for path in listed)
        assert "token" not in " ".join(node_labels(tree))
    assert load_dir(AllocDir.discover(alloc_root / ALLOC_A), "web/secrets") == (
        "secrets are never listed"
    )


def test_permission_denied_as_an_unprivileged_user(shared_tmp):
    """The loader itself, run as nobody on a 000 directory, says why."""
    alloc = AllocDir(shared_tmp / "alloc-perm")
    alloc.build()
    locked = shared_tmp / "alloc-perm" / "alloc" / "data" / "locked"
    locked.mkdir()
    (locked / "inside.txt").write_text("x")
    locked.chmod(0o000)
    result, _ = run_as_nobody(lambda: load_dir(alloc, "alloc/data/locked"))
    assert result == "permission denied"
    # and the entries beside it still list as nobody
    result, _ = run_as_nobody(lambda: [e.info.name for e in load_dir(alloc, "alloc/data")])
    assert result == ["locked"]


async def test_permission_denied_node_in_the_app(alloc_root, monkeypatch):
    """In the app a PermissionError is a child node, not an empty directory.

    The app runs as root here, so `AllocDir.list` is made to raise the error
    an unprivileged user gets (the loader is checked for real as nobody above).
    """
    real_list = AllocDir.list

    def denied(self, path):
        if str(path) == "web/local":
            raise PermissionError(13, "Permission denied", str(path))
        return real_list(self, path)

    monkeypatch.setattr(AllocDir, "list", denied)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        local = await open_path(pilot, tree, ALLOC_A, "web/local")
        await expand(pilot, tree, local)
        assert [str(c.label) for c in local.children] == ["permission denied"]


@pytest.fixture
def big_alloc():
    """An allocation whose alloc/data/big holds 100,000 empty files."""
    with temp_alloc_dir(alloc_id="bbbbbbbb-0000-4000-8000-000000000100") as alloc:
        big = os.path.join(alloc.alloc_dir, "alloc", "data", "big")
        os.mkdir(big)
        for n in range(100_000):
            os.close(os.open(os.path.join(big, f"f{n:06d}"), os.O_CREAT | os.O_WRONLY, 0o644))
        yield alloc


async def test_100k_entries_stay_responsive(big_alloc, monkeypatch):
    # The listing of the 100k entries is real; it is held at its end until the
    # test has seen a key answered, so "while loading" is not left to timing.
    listed = threading.Event()
    release = threading.Event()
    real_list = AllocDir.list

    def held_list(self, path):
        entries = real_list(self, path)
        if str(path) == "alloc/data/big":
            listed.set()
            release.wait(30)
        return entries

    monkeypatch.setattr(AllocDir, "list", held_list)
    app = InspectorApp(Root.open(big_alloc.alloc_dir))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        big = await open_path(pilot, tree, big_alloc.alloc_id, "alloc/data/big")
        await move_to(pilot, tree, big)
        await pilot.press("space")  # starts listing 100k entries in a worker
        # The screen answers keys while the listing runs: the cursor moves at once.
        line = tree.cursor_line
        started = time.monotonic()
        await pilot.press("k")
        assert tree.cursor_line == line - 1
        assert time.monotonic() - started < 2.0
        assert _loading(big), "the key was answered while the listing was running"
        release.set()
        await wait_for(pilot, lambda: not _loading(big), timeout=60, message="100k listing")
        children = list(big.children)
        assert len(children) == BATCH + 1
        assert str(children[0].label).startswith("f000000")
        assert str(children[-1].label).startswith(f"… {100_000 - BATCH:,} more")
        # The "more" node adds the next batch, and keys stay quick.
        await move_to(pilot, tree, children[-1])
        await pilot.press("enter")
        await pilot.pause()
        assert len(big.children) == 2 * BATCH + 1
        assert str(big.children[BATCH].label).startswith(f"f{BATCH:06d}")
        started = time.monotonic()
        await pilot.press("j", "j", "k")
        assert time.monotonic() - started < 2.0


async def test_refresh_keeps_expanded_directories(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await open_path(pilot, tree, ALLOC_A, "web/local/notes.txt")
        await move_to(pilot, tree, find_node(tree, "web/local/notes.txt"))
        (alloc_root / ALLOC_A / "web/local/new.txt").write_text("fresh\n")
        await pilot.press("r")
        await wait_for(
            pilot, lambda: find_node(tree, "web/local/new.txt") is not None, message="refresh"
        )
        assert find_node(tree, "web/local").is_expanded
        await wait_for(
            pilot,
            lambda: tree.cursor_node is not None
            and tree.cursor_node.data.rel == "web/local/notes.txt",
            message="cursor kept",
        )


async def test_empty_root_says_so(tmp_path):
    app = InspectorApp(Root.open(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: len(tree.root.children) == 1, message="empty root")
        assert str(tree.root.children[0].label) == "no allocations"


def test_entry_label_marks_devices_and_escaping_links():
    assert tree_module.special_tag("crw-rw-rw-") == ("", "char device")
    assert tree_module.special_tag("prw-r--r--") == ("|", "fifo")
    assert tree_module.special_tag("srwxr-xr-x") == ("=", "socket")
    assert tree_module.special_tag("-rw-r--r--") == ("", "")
    assert tree_module.is_secret_dir("web/secrets")
    assert tree_module.is_secret_dir("web/Private")
    assert not tree_module.is_secret_dir("alloc/secrets")
    assert not tree_module.is_secret_dir("web/local/secrets")


async def test_escaping_symlink_is_marked(alloc_root):
    os.symlink("../../../" + ALLOC_B, alloc_root / ALLOC_A / "web/local/out")
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await open_path(pilot, tree, ALLOC_A, "web/local/out")
        assert str(find_node(tree, "web/local/out").label).startswith("out@ → escapes")
