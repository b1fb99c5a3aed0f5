"""A rotation set holds a few descriptors whatever its size, lists its
directory only when it changed, and says what it could not read."""

from __future__ import annotations

import contextlib
import os
import resource

import pytest

from allocdir.testing import temp_alloc_dir
from inspector.core import rotation
from inspector.core.members import MAX_OPEN_MEMBERS
from inspector.core.pager import Pager
from inspector.core.rotation import LogSource

LOGS = "alloc/logs"


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextlib.contextmanager
def fd_limit(soft: int):
    """RLIMIT_NOFILE lowered to ``soft`` for the block (the usual 1024)."""
    old = resource.getrlimit(resource.RLIMIT_NOFILE)
    if _fds() > soft - 64:
        pytest.skip(f"this process already holds {_fds()} descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, old)


def _make_set(alloc, count: int, *, stem: str = "web.stdout") -> list[bytes]:
    """``count`` members: the first and the last with a line each, empty
    ones between (as a task can leave them). Returns what the set reads as."""
    logs = os.path.join(alloc.alloc_dir, LOGS)
    lines = []
    for n in range(count):
        data = b"first line of the set\n" if n == 0 else b""
        if n == count - 1:
            data = b"last line of the set\n"
        with open(os.path.join(logs, f"{stem}.{n}"), "wb") as f:
            f.write(data)
        if data:
            lines.append(data)
    return lines


class CountingFS:
    """An ``AllocDirFS`` that counts the directory listings asked of it."""

    def __init__(self, alloc) -> None:
        self._alloc = alloc
        self.alloc_dir = alloc.alloc_dir
        self.lists = 0

    def list(self, path):
        self.lists += 1
        return self._alloc.list(path)

    def __getattr__(self, name):
        return getattr(self._alloc, name)


@pytest.fixture
def alloc():
    with temp_alloc_dir() as built:
        yield built


def test_1100_members_under_1024_descriptors_all_read_and_few_held(alloc):
    lines = _make_set(alloc, 1100)
    before = _fds()
    with fd_limit(1024):
        source = LogSource(alloc, f"{LOGS}/web.stdout.0")
        try:
            assert len(source.segments()) == 1100  # none dropped
            assert source.read(0, 1 << 20) == b"".join(lines)
            pager = Pager(source, height=5)
            pager.tail()
            assert pager.screen()[-1].text.plain == "last line of the set"
            assert _fds() - before <= MAX_OPEN_MEMBERS + 1
            # Every member read one by one, front to back: still a few open.
            for seg in source.segments():
                source.read(seg.start, 1)
            assert _fds() - before <= MAX_OPEN_MEMBERS + 1
            with open(os.path.join(alloc.alloc_dir, LOGS, "web.stdout.0"), "rb") as other:
                assert other.read(5) == b"first"  # opening anything else still works
        finally:
            source.close()
    assert _fds() == before


def test_a_snapshot_duplicates_the_open_members_only(alloc):
    _make_set(alloc, 300)
    source = LogSource(alloc, f"{LOGS}/web.stdout.0")
    try:
        source.read(0, 1 << 20)
        before = _fds()
        copy = source.snapshot()
        assert _fds() - before <= MAX_OPEN_MEMBERS + 1
        assert copy.read(0, 1 << 20) == source.read(0, 1 << 20)
        assert len(copy.segments()) == 300
        copy.close()
        assert _fds() == before
    finally:
        source.close()


def test_the_directory_is_listed_again_only_when_it_changed(alloc, monkeypatch):
    monkeypatch.setattr(rotation, "SETTLE_NS", 0, raising=False)  # no tick to wait for in a test
    _make_set(alloc, 50)
    fs = CountingFS(alloc)
    source = LogSource(fs, f"{LOGS}/web.stdout.0")
    try:
        assert fs.lists == 1
        for _ in range(20):
            assert not source.refresh(force=True)
        assert fs.lists == 1  # nothing changed: no listing, whatever the size of the set
        logs = os.path.join(alloc.alloc_dir, LOGS)
        before = os.stat(logs)
        with open(os.path.join(logs, "web.stdout.50"), "wb") as f:
            f.write(b"newest line\n")
        # A task setting the directory's times back cannot hide the new member.
        os.utime(logs, ns=(before.st_atime_ns, before.st_mtime_ns))
        change = source.refresh(force=True)
        assert fs.lists == 2 and change.added == ["web.stdout.50"]
        assert source.read(0, 1 << 20).endswith(b"newest line\n")
    finally:
        source.close()


def test_a_member_replaced_after_it_was_read_is_said_and_not_misread(alloc, monkeypatch):
    monkeypatch.setattr(rotation, "SETTLE_NS", 0, raising=False)
    logs = os.path.join(alloc.alloc_dir, LOGS)
    for n in range(MAX_OPEN_MEMBERS + 4):
        with open(os.path.join(logs, f"web.stdout.{n}"), "wb") as f:
            f.write(b"member %02d\n" % n)
    source = LogSource(alloc, f"{LOGS}/web.stdout.0")
    try:
        assert source.read(0, 10) == b"member 00\n"
        for seg in source.segments()[1:]:  # web.stdout.0 is closed again
            source.read(seg.start, 10)
        replacement = os.path.join(logs, "new")
        with open(replacement, "wb") as f:
            f.write(b"another file, longer than the member was\n")
        os.rename(replacement, os.path.join(logs, "web.stdout.0"))
        assert source.read(0, 100) == b""  # not the new file's bytes at the old offsets
        change = source.refresh()
        assert any("web.stdout.0 was replaced" in n for n in change.notices)
        change = source.refresh(force=True)
        assert change.reshaped
        assert source.read(0, 100).startswith(b"another file")
    finally:
        source.close()


def test_a_member_gone_before_it_was_read_is_said_and_removed(alloc, monkeypatch):
    monkeypatch.setattr(rotation, "SETTLE_NS", 0, raising=False)
    logs = os.path.join(alloc.alloc_dir, LOGS)
    for n in range(3):
        with open(os.path.join(logs, f"web.stdout.{n}"), "wb") as f:
            f.write(b"member %d\n" % n)
    source = LogSource(alloc, f"{LOGS}/web.stdout.2")
    try:
        os.unlink(os.path.join(logs, "web.stdout.1"))  # never opened by the source
        assert source.read(0, 100) == b"member 0\n"  # stops where it cannot read
        change = source.refresh()
        assert any("web.stdout.1 is gone" in n for n in change.notices)
        change = source.refresh(force=True)
        assert change.removed == ["web.stdout.1"] and change.reshaped
        assert source.read(0, 100) == b"member 0\nmember 2\n"
    finally:
        source.close()


def test_a_member_that_is_not_a_regular_file_is_left_out_with_a_notice(alloc):
    logs = os.path.join(alloc.alloc_dir, LOGS)
    for n in (0, 2):
        with open(os.path.join(logs, f"web.stdout.{n}"), "wb") as f:
            f.write(b"member %d\n" % n)
    os.mkfifo(os.path.join(logs, "web.stdout.1"))
    source = LogSource(alloc, f"{LOGS}/web.stdout.0")
    try:
        assert [s.name for s in source.segments()] == ["web.stdout.0", "web.stdout.2"]
        change = source.refresh()
        assert any("web.stdout.1: not a regular file" in n for n in change.notices)
        assert source.read(0, 100) == b"member 0\nmember 2\n"
    finally:
        source.close()


def test_the_deleted_last_member_stays_readable_whatever_was_read(alloc, monkeypatch):
    monkeypatch.setattr(rotation, "SETTLE_NS", 0, raising=False)
    _make_set(alloc, 40)
    source = LogSource(alloc, f"{LOGS}/web.stdout.0")
    try:
        for seg in source.segments():
            source.read(seg.start, 1)
        os.unlink(os.path.join(alloc.alloc_dir, LOGS, "web.stdout.39"))
        change = source.refresh(force=True)
        assert "deleted: still reading the open file" in change.notices
        assert source.read(0, 1 << 20).endswith(b"last line of the set\n")
    finally:
        source.close()
