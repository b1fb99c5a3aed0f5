"""The tree model without an App: lazy listing, what rows say, rotation
sets, orders, the filter, locked secrets, failures on their nodes, stale
listings dropped, reload and reveal, choosing a row."""

from __future__ import annotations

import os

import pytest

from allocdir import AllocDir
from inspector.core.roots import Root
from inspector.core.text import printable
from inspector.core.tree import (
    MTIME, SECRET, SECRET_FILE, SET, SPECIAL, STRAY, Changed, Loaded, Notice, Open, Refused,
    Toggled,
)

from ...conftest import ALLOC_A, ALLOC_B
from .conftest import key, labels, make_model, shown


def _open(model, rel: str, index: int = 0):
    """Reveal ``rel`` (expanding it too) and return its node."""
    model.reveal(model.allocs[index], rel, expand=True)
    node = model.find(key(model, rel, index))
    assert node is not None, rel
    return node


def test_allocations_are_listed_and_nothing_below_before_it_is_expanded(alloc_root,
                                                                       monkeypatch):
    listed = []
    real = AllocDir.list
    monkeypatch.setattr(AllocDir, "list",
                        lambda self, path: listed.append(str(path)) or real(self, path))
    model, events = make_model(alloc_root)
    assert labels(model.root) == [f"{ALLOC_A[:8]}  web", f"{ALLOC_B[:8]}  api"]
    assert listed == [] and events.of(Loaded) == [Loaded(None)]
    alloc = model.root.children[0]
    assert not alloc.loaded and alloc.children == []
    model.expand(alloc)
    assert listed == [""]
    assert labels(alloc) == ["all logs  in time order", "alloc/  10 minutes ago",
                             "web/  10 minutes ago"]
    web = model.find(key(model, "web"))
    assert not web.loaded and model.row_count == 6  # root, 2 allocations, all logs, alloc/, web/


def test_rows_read_as_the_terminal_draws_them(model):
    _open(model, "web/local")
    _open(model, "alloc/logs")
    assert shown(model)[1:] == [
        (1, f"{ALLOC_A[:8]}  web"),
        (2, "all logs  in time order"),
        (2, "alloc/  10 minutes ago"),
        (3, "data/  10 minutes ago"),
        (3, "logs/  10 minutes ago"),
        (4, ".web.stdout.fifo fifo  10 minutes ago"),
        (4, "web.stderr.0  18 Bytes · 10 minutes ago"),
        (4, "web.stdout.0  7.6 KiB · 10 minutes ago"),
        (3, "tmp/  10 minutes ago"),
        (2, "web/  10 minutes ago"),
        (3, "web: stdout+stderr  in time order"),
        (3, "local/  10 minutes ago"),
        (4, "blob.bin  2.0 KiB · 10 minutes ago"),
        (4, "config.json  17 Bytes · 10 minutes ago"),
        (4, "link@ → file  10 minutes ago"),
        (4, "notes.txt  24 Bytes · 10 minutes ago"),
        (3, "secrets/ [locked]"),
        (3, "tmp/  10 minutes ago"),
        (1, f"{ALLOC_B[:8]}  api"),
    ]
    parts = model.find(key(model, "web/local/notes.txt")).label.parts
    assert [(p.text, p.role) for p in parts] == [("notes.txt", "name"),
                                               ("  24 Bytes · 10 minutes ago", "detail")]


def test_a_rotation_set_is_one_entry_expandable_to_its_files(model, alloc_root):
    for n in range(1, 11):
        (alloc_root / ALLOC_A / f"alloc/logs/web.stdout.{n}").write_text(f"file {n}\n")
    logs = _open(model, "alloc/logs")
    assert [str(c.label).split()[0] for c in logs.children] == \
        [".web.stdout.fifo", "web.stderr.0", "web.stdout.[0–10]"]
    web = logs.children[-1]
    assert web.kind == SET and str(web.label).startswith("web.stdout.[0–10]  11 files · ")
    model.expand(web)
    assert [c.name for c in web.children] == [f"web.stdout.{n}" for n in range(11)]
    # Choosing the set opens the log from its first file.
    assert model.activate(web) == Open(web.alloc, "alloc/logs/web.stdout.0", None)
    # A member is found by its own path, below its set.
    member = model.find(key(model, "alloc/logs/web.stdout.7"))
    assert member.parent is web and model.row_of(member) == model.row_of(web) + 8


def test_natural_order_and_newest_first(tmp_path):
    alloc = AllocDir(tmp_path / "cccccccc-0000-4000-8000-000000000001")
    alloc.build()
    data = tmp_path / alloc.alloc_id / "alloc" / "data"
    for i, name in enumerate(["api.out.10", "api.out.2", "api.out.1", "b"]):
        (data / name).write_text("")
        os.utime(data / name, (1_000_000 + i, 1_000_000 + i))
    model, events = make_model(alloc.alloc_dir)
    node = _open(model, "alloc/data")
    assert [c.name for c in node.children] == ["api.out.1", "api.out.2", "api.out.10", "b"]
    assert model.next_order() is MTIME and events.of(Changed)
    assert [c.name for c in node.children] == ["b", "api.out.1", "api.out.2", "api.out.10"]


def test_the_filter_narrows_every_listed_directory_and_keeps_the_way_open(model):
    local = _open(model, "web/local")
    model.set_filter("no")
    assert [c.name for c in local.children] == ["notes.txt"]
    # Expanded directories on the way stay, so that the match is seen.
    assert model.find(key(model, "web")) in model.find(key(model, "")).children
    assert ALLOC_B not in str(shown(model))
    tmp = _open(model, "web/tmp")
    assert labels(tmp) == ["empty"]
    model.set_filter("zzz")
    assert labels(local) == ["no name matches the filter"]
    model.set_filter("")
    assert len(local.children) == 4


def test_secrets_are_listed_locked_and_never_read(model, opened_reads):
    secrets = _open(model, "web/secrets")
    assert secrets.kind == SECRET and str(secrets.label) == "secrets/ [locked]"
    token = model.find(key(model, "web/secrets/token"))
    assert token.kind == SECRET_FILE and str(token.label) == "token  14 Bytes [locked]"
    # Choosing it hands it to a viewer, which shows the library's refusal.
    assert model.activate(token) == Open(token.alloc, "web/secrets/token", token.info)
    assert opened_reads == []  # listing a tree opens no file
    # The rule is the library's own: case-insensitive, and private/ too; not alloc/.
    for rel, locked in (("web/SECRETS", True), ("web/private", True), ("alloc/secrets", False),
                        ("web/local/secrets", False)):
        os.makedirs(os.path.join(model.allocs[0].alloc_dir, rel), exist_ok=True)
        model.reload()
        node = _open(model, rel)
        assert (node.kind == SECRET) is locked, rel


def test_special_files_are_refused_with_the_reason(model):
    _open(model, "alloc/logs")
    fifo = model.find(key(model, "alloc/logs/.web.stdout.fifo"))
    assert fifo.kind == SPECIAL
    assert model.activate(fifo) == Refused("alloc/logs/.web.stdout.fifo: not a regular file")
    local = model.find(key(model, "alloc"))
    assert model.activate(local) == Toggled(expanded=False)


def test_a_failed_listing_is_a_message_on_its_node_and_the_rest_works(model, monkeypatch):
    real = AllocDir.list

    def listing(self, path):
        if str(path) == "web/local":
            raise RuntimeError("the listing broke")
        if str(path) == "web/tmp":
            raise PermissionError(13, "Permission denied", str(path))
        return real(self, path)

    monkeypatch.setattr(AllocDir, "list", listing)
    local = _open(model, "web/local")
    assert labels(local) == ["unexpected error: RuntimeError: the listing broke"]
    assert local.children[0].tone == "error"
    assert labels(_open(model, "web/tmp")) == ["permission denied"]
    assert _open(model, "alloc").error is None


def test_a_failed_discovery_is_the_roots_message(alloc_root, monkeypatch):
    def broken(self):
        raise RuntimeError("discovery broke")

    monkeypatch.setattr(Root, "discover", broken)
    model, _ = make_model(alloc_root)
    assert model.root.note() is None
    assert labels(model.root) == [
        "alloc: unexpected error: RuntimeError: discovery broke"]


def test_an_empty_root_says_so(tmp_path):
    model, _ = make_model(tmp_path)
    assert labels(model.root) == ["no allocations"]


def test_directories_that_are_not_allocations_come_after_them_with_the_reason(alloc_root):
    (alloc_root / "junk").mkdir()
    model, _ = make_model(alloc_root)
    assert labels(model.root)[-1] == "junk  not an allocation: no alloc/ in it"
    stray = model.root.children[-1]
    assert stray.kind == STRAY and stray.alloc.reason == "no alloc/ in it"
    model.expand(stray)
    assert labels(stray) == ["empty"]
    assert model.find((str(alloc_root / "junk"), "")) is stray


def test_reload_keeps_what_was_expanded_and_the_cursor(model, alloc_root):
    notes = _open(model, "web/local/notes.txt")
    model.move_cursor(notes)
    (alloc_root / ALLOC_A / "web/local/new.txt").write_text("fresh\n")
    model.reload()
    assert model.find(key(model, "web/local/new.txt")) is not None
    assert model.find(key(model, "web/local")).expanded
    assert model.cursor.node.rel == "web/local/notes.txt"
    assert model.cursor.node is not notes  # a new node, found by its key


def test_reveal_says_when_a_part_of_the_path_is_missing(model):
    events = []
    model.listener = events.append
    model.reveal(model.allocs[0], "web/nope/deeper", say_missing=True)
    assert Notice("web/nope/deeper: no such entry") in events
    assert model.wants.expanded == set() and model.wants.cursor is None
    model.reveal(model.allocs[0], "web/local/notes.txt")
    assert model.cursor.node.rel == "web/local/notes.txt"


def test_collapsing_above_the_cursor_puts_it_on_the_collapsed_directory(model):
    model.move_cursor(_open(model, "web/local/config.json"))
    web = model.find(key(model, "web"))
    model.collapse(web)
    assert model.cursor.node is web
    assert model.current_alloc() is web.alloc


@pytest.mark.parametrize("hostile", ["x\x1b]0;pwned\x07", "[b]bold[b]\nline", "a\u202eb"])
def test_names_a_task_chose_are_shown_escaped(model, alloc_root, hostile):
    (alloc_root / ALLOC_A / "web/local" / hostile).write_text("")
    local = _open(model, "web/local")
    text = " ".join(labels(local))
    assert hostile not in text
    assert printable(hostile) in text
