"""Logs as one stream from the tree model: the "all logs" and task entries,
marks (files and rotation sets, across allocations) and what merging opens,
read through a reader session as a front-end shows it."""

from __future__ import annotations

import os

from inspector.core.merge import MAX_SOURCES
from inspector.core.session import ReaderSession
from inspector.core.session.jobs import InlineExecutor
from inspector.core.tree import Marked, OpenMerged, Redraw, Refused

from ...conftest import ALLOC_A, ALLOC_B
from .conftest import key, labels, make_model

LOGS = "alloc/logs"


def _write(root, alloc_id: str, rel: str, text: str) -> None:
    path = os.path.join(root, alloc_id, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def _stamped(root) -> None:
    """web's stdout on even seconds, stderr on odd ones (allocation A), api's
    stdout on multiples of 5 (allocation B)."""
    for name, seconds in (("web.stdout.0", range(0, 10, 2)), ("web.stderr.0", range(1, 10, 2))):
        _write(root, ALLOC_A, f"{LOGS}/{name}",
               "".join(f"2024-01-01T10:00:0{s}Z {name[:10]} {s}\n" for s in seconds))
    _write(root, ALLOC_B, f"{LOGS}/api.stdout.0",
           "".join(f"2024-01-01T10:00:0{s}Z api {s}\n" for s in (0, 5)))


def _reveal(model, rel: str, index: int = 0):
    model.reveal(model.allocs[index], rel, expand=True)
    node = model.find(key(model, rel, index))
    assert node is not None, rel
    return node


def _opened(outcome: OpenMerged) -> ReaderSession:
    """What a front-end does with an OpenMerged: open it in a session."""
    frames = []
    session = ReaderSession(InlineExecutor(), frames.append, width=80, height=12)
    session.open_merged(outcome.sources, label=outcome.label, fs=outcome.fs)
    return session


def _rows(session: ReaderSession) -> list[tuple[str, str]]:
    return [(row.tag.plain, row.plain) for row in session.frame.rows]


def test_an_allocation_and_a_task_show_an_entry_of_their_logs_first(alloc_root):
    model, _ = make_model(alloc_root)
    alloc = model.root.children[0]
    model.expand(alloc)
    assert labels(alloc)[0] == "all logs  in time order"
    web = _reveal(model, "web")
    assert labels(web)[0] == "web: stdout+stderr  in time order"
    assert not any("stdout+stderr" in label for label in labels(_reveal(model, "alloc")))
    assert not any("time order" in label for label in labels(_reveal(model, "web/local")))


def test_choosing_all_logs_opens_every_task_stream_in_time_order(alloc_root):
    _stamped(alloc_root)
    model, _ = make_model(alloc_root)
    model.expand(model.root.children[0])
    entry = model.root.children[0].children[0]
    outcome = model.activate(entry)
    assert isinstance(outcome, OpenMerged) and outcome.label == f"{ALLOC_A}: all logs"
    session = _opened(outcome)
    assert _rows(session)[:4] == [
        ("web▸out", "2024-01-01T10:00:00Z web.stdout 0"),
        ("web▸err", "2024-01-01T10:00:01Z web.stderr 1"),
        ("web▸out", "2024-01-01T10:00:02Z web.stdout 2"),
        ("web▸err", "2024-01-01T10:00:03Z web.stderr 3"),
    ]


def test_the_entry_is_found_again_by_its_key_after_a_reload(alloc_root):
    model, _ = make_model(alloc_root)
    web = _reveal(model, "web")
    entry = web.children[0]
    assert model.move_cursor(entry)
    model.reload()
    assert "stdout+stderr" in str(model.cursor.node.label)


def test_space_marks_files_and_sets_across_allocations_and_m_merges_them(alloc_root):
    _stamped(alloc_root)
    _write(alloc_root, ALLOC_A, f"{LOGS}/web.stdout.1", "2024-01-01T10:00:09Z rotated 9\n")
    model, events = make_model(alloc_root)
    logs_a = _reveal(model, LOGS)
    web_out = model.find(key(model, f"{LOGS}/web.stdout.*"))  # the set: two files now
    web_err = model.find(key(model, f"{LOGS}/web.stderr.0"))
    assert web_out is not None and web_err is not None and logs_a.expanded
    assert model.toggle_mark(web_out) == Marked(True, 1)
    assert str(web_out.label).endswith("[marked]")
    assert events.of(Redraw)
    assert model.toggle_mark(web_err) == Marked(True, 2)
    assert model.toggle_mark(web_err) == Marked(False, 1)
    assert not str(web_err.label).endswith("[marked]")
    model.reveal(model.allocs[1], LOGS, expand=True)
    api = model.find(key(model, f"{LOGS}/api.stdout.0", 1))
    assert model.toggle_mark(api) == Marked(True, 2)

    outcome = model.merge(model.root)
    assert isinstance(outcome, OpenMerged) and outcome.label == "2 marked logs"
    assert outcome.fs is None  # two allocations
    rows = _rows(_opened(outcome))
    assert rows[:3] == [(f"{ALLOC_A[:8]}:web▸out", "2024-01-01T10:00:00Z web.stdout 0"),
                        (f"{ALLOC_B[:8]}:api▸out", "2024-01-01T10:00:00Z api 0"),
                        (f"{ALLOC_A[:8]}:web▸out", "2024-01-01T10:00:02Z web.stdout 2")]
    assert rows[-1] == (f"{ALLOC_A[:8]}:web▸out", "2024-01-01T10:00:09Z rotated 9")
    assert len(model.marks) == 0 and not str(web_out.label).endswith("[marked]")


def test_what_is_not_a_log_is_not_marked(alloc_root):
    model, _ = make_model(alloc_root)
    _reveal(model, "web/secrets")
    _reveal(model, LOGS)
    for rel in ("web", "web/secrets", f"{LOGS}/.web.stdout.fifo"):
        outcome = model.toggle_mark(model.find(key(model, rel)))
        assert isinstance(outcome, Refused), rel
    assert len(model.marks) == 0


def test_m_with_nothing_marked_merges_the_task_or_the_allocation_the_cursor_is_in(alloc_root):
    _stamped(alloc_root)
    model, _ = make_model(alloc_root)
    notes = _reveal(model, "web/local").children[-1]
    outcome = model.merge(notes)
    assert isinstance(outcome, OpenMerged) and outcome.label == f"{ALLOC_A}: web: stdout+stderr"
    assert {tag for tag, _ in _rows(_opened(outcome))} == {"web▸out", "web▸err"}
    outcome = model.merge(_reveal(model, LOGS))
    assert outcome.label == f"{ALLOC_A}: all logs"
    assert isinstance(model.merge(model.root), Refused)


def test_ten_thousand_marked_logs_merge_the_first_ones_with_a_notice(alloc_root):
    many = os.path.join(alloc_root, ALLOC_A, "alloc/data/many")
    os.makedirs(many)
    for i in range(10_000):
        with open(os.path.join(many, f"{i:05d}.log"), "w") as fh:
            fh.write(f"2024-01-01T10:00:00Z {i}\n")
    model, _ = make_model(alloc_root)
    directory = _reveal(model, "alloc/data/many")
    for node in directory.children:
        model.toggle_mark(node)
    assert len(model.marks) == 10_000
    session = _opened(model.merge())
    assert f"merging the first {MAX_SOURCES} of 10,000 logs" in session.frame.place.condition
    assert session.frame.rows[0].plain == "2024-01-01T10:00:00Z 0"
    session.close()
