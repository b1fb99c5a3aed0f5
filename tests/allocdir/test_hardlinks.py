"""A hard link carrying a file of ``private/`` (or a plain ``secrets/``) out
into ``local/`` is refused, at a bounded cost whatever a task puts in its
dirs: a scan that would look at too much gives up and refuses (fail
closed), and a scan is reused until a directory it looked in changes."""

from __future__ import annotations

import os
import time

import pytest

from allocdir import SecretReadError, hardlinks
from allocdir.hardlinks import MAX_DEPTH

from tests.hostile import at_every_step, make_many


def _file(path: str, content: str = "x\n") -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)
    return path


@pytest.fixture
def web(alloc_with_task):
    return alloc_with_task.task_dirs["web"]


def test_a_link_into_private_is_refused_and_a_link_within_local_is_not(alloc_with_task, web):
    private = os.path.join(web.dir, "private")
    os.link(_file(f"{private}/nested/token", "s.secret\n"), f"{web.local_dir}/tok")
    os.link(_file(f"{web.local_dir}/plain"), f"{web.local_dir}/plain2")
    with pytest.raises(SecretReadError, match="hard-linked to a file in a secrets dir"):
        alloc_with_task.read_at("web/local/tok", 0)
    assert alloc_with_task.stat("web/local/tok").content_type == "application/octet-stream"
    with alloc_with_task.read_at("web/local/plain2", 0) as f:
        assert f.read() == b"x\n"


def test_a_private_dir_too_big_to_check_refuses_hard_links_only(alloc_with_task, web,
                                                               open_watch, monkeypatch):
    """More entries than a scan looks at (a smaller bound than the real
    one, for speed): a hard-linked file is refused, saying why; a file with
    one name is read; asking again does not list the big directory again."""
    monkeypatch.setattr(hardlinks, "SCAN_ENTRIES", 300)
    private = os.path.join(web.dir, "private")
    make_many(private, 301)
    os.link(_file(f"{web.local_dir}/f"), f"{web.local_dir}/f2")
    _file(f"{web.local_dir}/single")
    open_watch.add(private)
    with pytest.raises(SecretReadError) as refused:
        alloc_with_task.read_at("web/local/f", 0)
    assert "more than 300 entries" in str(refused.value)
    assert "web/private" in str(refused.value)
    assert open_watch.opened()  # the scan looked
    for _ in range(3):
        with pytest.raises(SecretReadError):
            alloc_with_task.read_at("web/local/f", 0)
        assert alloc_with_task.stat("web/local/f2").content_type == "application/octet-stream"
    assert open_watch.opened() == []  # and only once
    with alloc_with_task.read_at("web/local/single", 0) as f:
        assert f.read() == b"x\n"


def test_a_private_tree_deeper_than_a_scan_goes_refuses_hard_links(alloc_with_task, web):
    deep = os.path.join(web.dir, "private", *(["d"] * (MAX_DEPTH + 2)))
    os.link(_file(f"{deep}/token"), f"{web.local_dir}/tok")
    with pytest.raises(SecretReadError, match=f"more than {MAX_DEPTH} levels"):
        alloc_with_task.read_at("web/local/tok", 0)


def test_a_link_made_after_a_clean_answer_is_refused(alloc_with_task, web, open_watch,
                                                     monkeypatch):
    """The scan kept from a clean answer is reused (private/ is not listed
    again) until the task links the file into private/: then it is not."""
    monkeypatch.setattr(hardlinks, "SETTLED_SECONDS", 0.05)
    private = os.path.join(web.dir, "private")
    _file(f"{private}/other")
    os.link(_file(f"{web.local_dir}/f"), f"{web.local_dir}/f2")
    # A scan is kept only once its directories have not changed for a while
    # (a change within one clock tick would not show): let that while pass.
    time.sleep(0.1)
    open_watch.add(private)
    listed = []
    for _ in range(3):
        with alloc_with_task.read_at("web/local/f", 0) as f:
            assert f.read() == b"x\n"
        listed.append(bool(open_watch.opened()))
    assert listed == [True, False, False]
    os.link(f"{web.local_dir}/f", f"{private}/now-a-secret")
    with pytest.raises(SecretReadError):
        alloc_with_task.read_at("web/local/f", 0)


def test_a_link_moved_during_the_scan_is_never_missed(alloc_with_task, web):
    """At every step of the check in turn, the task moves the directory
    holding the link from one part of private/ to another, where the scan
    may already have looked: every answer is still a refusal."""
    private = os.path.join(web.dir, "private")
    for part in ("one", "two", "three"):
        make_many(f"{private}/{part}", 20)
    os.makedirs(f"{private}/one/sub")
    os.link(_file(f"{web.local_dir}/f"), f"{private}/one/sub/link")
    here, there = f"{private}/one/sub", f"{private}/three/sub"

    def read() -> object:
        with alloc_with_task.read_at("web/local/f", 0) as f:
            return f.read()

    outcomes = at_every_step(read, lambda: os.rename(here, there),
                             lambda: os.rename(there, here))
    assert len(outcomes) > 50
    assert [o for o in outcomes if not isinstance(o, SecretReadError)] == []

