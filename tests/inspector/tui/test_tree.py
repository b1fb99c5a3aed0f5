"""AllocTree: lazy loading, a virtual list for big directories, natural
order, rotation sets, the name filter, live refresh, labels, secrets,
permission errors."""

from __future__ import annotations

import gc
import os
import threading
import time

import pytest

from allocdir import AllocDir
from allocdir.testing import temp_alloc_dir
from inspector.core.tree.listing import Listing
from inspector.core.tree.order import natural_key
from inspector.core.roots import Root
from inspector.tui.app import InspectorApp
from inspector.tui.tree import AllocTree, Node, load_dir

from ...process_resources import Resources
from ..conftest import ALLOC_A, ALLOC_B, find_node, node_labels, run_as_nobody, wait_for


async def expand(pilot, tree: AllocTree, node) -> None:
    """Expand `node` with the keyboard and wait for its listing."""
    await move_to(pilot, tree, node)
    if not node.is_expanded:
        await pilot.press("space")
    await wait_for(pilot, lambda: node.data.loaded and not _loading(node), message="listing")


async def move_to(pilot, tree: AllocTree, node) -> None:
    """Put the cursor on `node`."""
    await pilot.pause()
    tree.move_cursor(node)
    await pilot.pause()
    assert tree.cursor_node is node or (tree.cursor_node is not None
                                        and tree.cursor_node.key == node.key), node


def _loading(node) -> bool:
    return any(str(child.label) == "loading…" for child in node.children)


def first_word(node) -> str:
    return str(node.label).split()[0]


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
        assert [first_word(n) for n in tree.root.children] == [ALLOC_A[:8], ALLOC_B[:8]]
        alloc_node = tree.root.children[0]
        # Nothing below an allocation is read before it is expanded.
        assert not alloc_node.data.loaded and list(alloc_node.children) == []
        await expand(pilot, tree, alloc_node)
        assert [str(n.label) for n in alloc_node.children][0] == "all logs  in time order"
        assert [first_word(n) for n in alloc_node.children][1:] == ["alloc/", "web/"]
        web = find_node(tree, "web", ALLOC_A)
        assert not web.data.loaded and list(web.children) == []


async def test_allocation_label_shows_tasks_and_when_logs_changed(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: len(tree.root.children) == 2, message="allocations")
        label = str(tree.root.children[0].label)
        assert label == f"{ALLOC_A[:8]}  web · logs 10 minutes ago"
        assert str(tree.root.children[1].label) == f"{ALLOC_B[:8]}  api"  # no logs yet


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
        assert fifo.startswith(".web.stdout.fifo fifo")
        await open_path(pilot, tree, ALLOC_A, "alloc/tmp/consul_grpc.sock")
        sock = str(find_node(tree, "alloc/tmp/consul_grpc.sock").label)
        assert sock.startswith("consul_grpc.sock socket")
        # Directories first, then files, each sorted by name.
        local = find_node(tree, "web/local")
        names = [first_word(c) for c in local.children]
        assert names == ["blob.bin", "config.json", "link@", "notes.txt"]


async def test_secrets_list_names_and_sizes_locked(alloc_root, opened_reads):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        secrets = await open_path(pilot, tree, ALLOC_A, "web/secrets")
        assert str(secrets.label) == "secrets/ [locked]"
        assert secrets.allow_expand
        await expand(pilot, tree, secrets)
        labels = [str(c.label) for c in secrets.children]
        assert "token  14 Bytes [locked]" in labels
        token = find_node(tree, "web/secrets/token")
        await move_to(pilot, tree, token)
        await pilot.press("enter")
        viewer = app.viewer
        await wait_for(pilot, lambda: viewer.status is not None and viewer.mode == "message"
                       and viewer.status.notice != "loading…", message="refusal")
        shown = "\n".join(viewer.body.plain_lines())
        assert "Reading secret file prohibited" in shown
        assert "s.very-secret" not in shown
        # The refusal was shown, and no read of anything in secrets/ ever succeeded.
        assert not any("secrets" in path for path in opened_reads), opened_reads
    assert isinstance(load_dir(AllocDir.discover(alloc_root / ALLOC_A), "web/secrets"), Listing)


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
    result, _ = run_as_nobody(lambda: load_dir(alloc, "alloc/data").names)
    assert result == ["locked"]


async def test_permission_denied_node_in_the_app(alloc_root, monkeypatch):
    """In the app a PermissionError is a child row, not an empty directory.

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


BIG = 100_000


@pytest.fixture(scope="module")
def big_alloc():
    """An allocation whose alloc/data/big holds 100,000 empty files."""
    with temp_alloc_dir(alloc_id="bbbbbbbb-0000-4000-8000-000000000100") as alloc:
        big = os.path.join(alloc.alloc_dir, "alloc", "data", "big")
        os.mkdir(big)
        for n in range(BIG):
            os.close(os.open(os.path.join(big, f"f{n:06d}"), os.O_CREAT | os.O_WRONLY, 0o644))
        yield alloc


async def test_100k_entries_are_one_virtual_list(big_alloc, monkeypatch):
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
        await wait_for(pilot, lambda: big.loaded, timeout=60, message="100k listing")
        # Every entry is a row: no "more" node, the last reachable with G.
        assert len(big.items()) == BIG
        started = time.monotonic()
        await pilot.press("G", "k", "k")  # the last row is alloc/tmp, after alloc/logs
        await wait_for(pilot, lambda: tree.cursor_node is not None
                       and tree.cursor_node.name == "f099999", message="last entry")
        assert time.monotonic() - started < 2.0
        rows = "".join(str(tree.render_line(y).text) for y in range(tree.size.height))
        assert "f099999" in rows
        await pilot.press("g")
        await wait_for(pilot, lambda: tree.cursor_line == 0, message="first row")
        started = time.monotonic()
        await pilot.press("pagedown", "pagedown", "j", "k")
        assert time.monotonic() - started < 2.0
        # Memory: a node object for what was on screen, not one per entry.
        gc.collect()
        assert len(big._weak) < 1000
        assert sum(isinstance(o, Node) for o in gc.get_objects()) < 2000


async def test_natural_order_and_o_orders_by_time(tmp_path):
    with temp_alloc_dir(alloc_id="cccccccc-0000-4000-8000-000000000001") as alloc:
        data = os.path.join(alloc.alloc_dir, "alloc", "data")
        for i, name in enumerate(["api.out.10", "api.out.2", "api.out.1", "b"]):
            path = os.path.join(data, name)
            open(path, "w").close()
            os.utime(path, (1_000_000 + i, 1_000_000 + i))
        app = InspectorApp(Root.open(alloc.alloc_dir))
        async with app.run_test(size=(120, 36)) as pilot:
            tree = app.alloc_tree
            node = await open_path(pilot, tree, alloc.alloc_id, "alloc/data")
            await expand(pilot, tree, node)
            assert [c.name for c in node.children] == ["api.out.1", "api.out.2", "api.out.10", "b"]
            await pilot.press("o")
            await wait_for(pilot, lambda: [c.name for c in node.children][0] == "b",
                           message="newest first")
            assert [c.name for c in node.children] == ["b", "api.out.1", "api.out.2", "api.out.10"]
    assert sorted(["a10", "a2", "a1b", "a1"], key=natural_key) == ["a1", "a1b", "a2", "a10"]


async def test_a_rotation_set_is_one_node_expandable_to_its_files(alloc_root):
    logs = alloc_root / ALLOC_A / "alloc/logs"
    for n in range(1, 11):
        (logs / f"web.stdout.{n}").write_text(f"file {n}\n")
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        logs_node = await open_path(pilot, tree, ALLOC_A, "alloc/logs")
        await expand(pilot, tree, logs_node)
        names = [first_word(c) for c in logs_node.children]
        assert names == [".web.stdout.fifo", "web.stderr.0", "web.stdout.[0–10]"]
        web = logs_node.children[-1]
        assert str(web.label).startswith("web.stdout.[0–10]  11 files · ")
        await expand(pilot, tree, web)
        assert [c.name for c in web.children] == [f"web.stdout.{n}" for n in range(11)]
        # enter on the set opens the whole log from its first file
        await move_to(pilot, tree, web)
        await pilot.press("enter")
        viewer = app.viewer
        await wait_for(pilot, lambda: viewer.status is not None and viewer.status.members == 11,
                       message="the set")
        assert viewer.path == "alloc/logs/web.stdout.0"


async def test_filter_narrows_names_and_escape_clears(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        local = await open_path(pilot, tree, ALLOC_A, "web/local")
        await expand(pilot, tree, local)
        await move_to(pilot, tree, local)
        await pilot.press("ampersand")
        await pilot.press("n", "o")
        await wait_for(pilot, lambda: [c.name for c in local.children] == ["notes.txt"],
                       message="filtered")
        # Expanded directories on the way stay, so the match can be seen.
        assert find_node(tree, "web", ALLOC_A) is not None
        assert "web/" in [first_word(c) for c in find_node(tree, "", ALLOC_A).children]
        await pilot.press("enter")
        assert tree.has_focus and tree.filter_text == "no"
        await pilot.press("ampersand", "escape")
        await wait_for(pilot, lambda: len(local.children) == 4, message="filter cleared")
        assert tree.filter_text == ""


async def test_expanded_directories_refresh_themselves(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        logs = await open_path(pilot, tree, ALLOC_A, "alloc/logs")
        await expand(pilot, tree, logs)
        await wait_for(pilot, lambda: (logs.alloc.alloc_dir, "alloc/logs") in tree.watched,
                       message="watched")
        (alloc_root / ALLOC_A / "alloc/logs/web.stdout.1").write_text("rotated\n")
        os.unlink(alloc_root / ALLOC_A / "alloc/logs/web.stderr.0")
        await wait_for(pilot, lambda: "web.stdout.[0–1]" in [first_word(c) for c in logs.children],
                       timeout=5, message="new file shown without r")
        assert "web.stderr.0" not in [first_word(c) for c in logs.children]
        # Collapsing stops the watch.
        await move_to(pilot, tree, logs)
        await pilot.press("space")
        await wait_for(pilot, lambda: (logs.alloc.alloc_dir, "alloc/logs") not in tree.watched,
                       message="unwatched")


def test_no_watch_or_thread_outlives_the_app(alloc_root):
    import asyncio

    resources = Resources()
    before = resources.snapshot()

    async def run() -> None:
        app = InspectorApp(Root.open(alloc_root))
        async with app.run_test(size=(120, 36)) as pilot:
            tree = app.alloc_tree
            await open_path(pilot, tree, ALLOC_A, "web/local/notes.txt")
            await wait_for(pilot, lambda: len(tree.watched) >= 3, message="watches")
            assert resources.inotify_watches() >= 3

    asyncio.run(run())
    after = resources.settle(before, {"threads": 0, "fds": 0, "inotify_watches": 0})
    assert after["inotify_watches"] <= before["inotify_watches"]
    assert after["threads"] <= before["threads"]


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


async def test_ages_keep_ticking(alloc_root, monkeypatch):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        notes = await open_path(pilot, tree, ALLOC_A, "web/local/notes.txt")
        from datetime import datetime, timedelta, timezone
        later = datetime.now(timezone.utc) + timedelta(hours=3)
        assert str(tree.label_of(notes, now=later)).endswith("3 hours ago")
        ticks = []
        monkeypatch.setattr(tree, "refresh", lambda *a, **k: ticks.append(1))
        tree._tick()
        assert ticks  # the tick redraws the rows, whose ages are computed as they are drawn


async def test_escaping_symlink_is_marked(alloc_root):
    os.symlink("../../../" + ALLOC_B, alloc_root / ALLOC_A / "web/local/out")
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await open_path(pilot, tree, ALLOC_A, "web/local/out")
        assert str(find_node(tree, "web/local/out").label).startswith("out@ → escapes")
    assert node_labels  # the helper stays importable for the other test files


async def test_a_log_write_is_the_allocations_age_without_listing_its_logs(alloc_root,
                                                                          monkeypatch):
    listed = []
    real_list = AllocDir.list

    def counting(self, path):
        listed.append(str(path))
        return real_list(self, path)

    monkeypatch.setattr(AllocDir, "list", counting)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: len(tree.root.children) == 2, message="allocations")
        node = tree.root.children[0]
        assert str(node.label).endswith("logs 10 minutes ago")
        with open(alloc_root / ALLOC_A / "alloc/logs/web.stdout.0", "a") as f:
            f.write("a new line\n")
        await wait_for(pilot, lambda: str(node.label).endswith("logs now"), timeout=5,
                       message="the write seen")
        tree._tick()  # an age tick looks at nothing: the write came as an event
        await pilot.pause(0.2)
    assert "alloc/logs" not in listed


@pytest.fixture
def junk_root(tmp_path):
    """A client root with one allocation and 100,000 directories that are not
    allocations (on a tmpfs as root: made in a second)."""
    root = tmp_path / "root"
    root.mkdir()
    mounted = os.geteuid() == 0
    if mounted:
        from tests.mounting import tmpfs

        tmpfs(root, "64m")
    try:
        alloc = AllocDir(root / ALLOC_A)
        alloc.build()
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for n in range(BIG):
                os.mkdir(f"junk{n:06d}", dir_fd=fd)
        finally:
            os.close(fd)
        yield root
    finally:
        if mounted:
            from tests.mounting import umount

            umount(root)


async def test_100k_directories_that_are_not_allocations_are_one_virtual_list(junk_root):
    app = InspectorApp(Root.open(junk_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: find_node(tree, "", ALLOC_A) is not None, timeout=60,
                       message="the root")
        assert tree.row_count > BIG
        await pilot.press("G")
        await wait_for(pilot, lambda: tree.cursor_node is not None
                       and tree.cursor_node.name == "junk099999", message="the last one")
        assert str(tree.cursor_node.label) == "junk099999  not an allocation: no alloc/ in it"
        await pilot.press("enter")  # it browses, read-only
        node = tree.cursor_node
        await wait_for(pilot, lambda: node.loaded, message="listed")
        assert [str(c.label) for c in node.children] == ["empty"]
        gc.collect()
        assert sum(isinstance(o, Node) for o in gc.get_objects()) < 2000
