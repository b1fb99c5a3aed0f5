"""``allocdir.destination``: reaching the directory a snapshot or a move
writes into without a name on the way leading elsewhere, as root and as
an unprivileged operator."""

from __future__ import annotations

import os
import stat

import pytest

from allocdir import UnsafePathError
from allocdir.destination import (
    UnsafeDestinationError, create_partial_at, open_dir_nofollow, open_owned_dir,
    trusted_realpath,
)

from tests.hostile import NOBODY, run_as_nobody, work_dir


def _same(fd: int, path) -> bool:
    a, b = os.fstat(fd), os.stat(path)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def test_open_dir_nofollow_refuses_a_link_at_any_level(tmp_path):
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    fd = open_dir_nofollow(str(tmp_path / "real" / "sub"))
    try:
        assert _same(fd, tmp_path / "real" / "sub")
    finally:
        os.close(fd)
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        open_dir_nofollow(str(tmp_path / "link" / "sub"))


def test_open_owned_dir_makes_what_is_missing_and_refuses_what_others_can_change(tmp_path):
    fd = open_owned_dir(str(tmp_path / "a" / "b"), create=True)
    try:
        assert _same(fd, tmp_path / "a" / "b")
    finally:
        os.close(fd)
    for made in (tmp_path / "a", tmp_path / "a" / "b"):
        st = os.stat(made)
        assert st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o755
    os.chmod(tmp_path / "a", 0o777)
    with pytest.raises(UnsafeDestinationError, match=f"^{tmp_path / 'a'} can be written by "
                                                     "other users"):
        open_owned_dir(str(tmp_path / "a" / "b"))
    os.chmod(tmp_path / "a", 0o1777)  # sticky: no one else can rename b
    os.close(open_owned_dir(str(tmp_path / "a" / "b")))
    (tmp_path / "to-b").symlink_to(tmp_path / "a" / "b")
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        open_owned_dir(str(tmp_path / "to-b"))


@pytest.mark.root
def test_a_directory_someone_else_made_is_refused_even_when_asked_to_create_it(tmp_path):
    """A component another user made (say, between the check and the
    build) is refused like any other: create does not take it over."""
    os.chmod(tmp_path, 0o1777)
    (tmp_path / "theirs").mkdir()
    os.chown(tmp_path / "theirs", NOBODY, NOBODY)
    with pytest.raises(UnsafeDestinationError, match="belongs to uid 65534"):
        open_owned_dir(str(tmp_path / "theirs" / "new"), create=True)
    assert not (tmp_path / "theirs" / "new").exists()


def test_trusted_realpath_follows_only_links_the_operator_controls(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "mine").symlink_to("real")
    assert trusted_realpath(str(tmp_path / "mine" / "new" / "x")) == str(
        tmp_path / "real" / "new" / "x")
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "link").symlink_to(tmp_path / "real")
    os.chmod(tmp_path / "open", 0o777)
    with pytest.raises(UnsafeDestinationError, match="a directory other users can change"):
        trusted_realpath(str(tmp_path / "open" / "link" / "x"))


@pytest.mark.root
def test_an_unprivileged_operator_owns_its_own_directories():
    """As nobody: its own directories are the operator's, root's are too,
    and what anyone else can write is not."""
    with work_dir() as base:
        _unprivileged(base / "work")


def _unprivileged(work) -> None:
    work.mkdir()
    os.chown(work, NOBODY, NOBODY)

    def scenario():
        outcomes = {}
        fd = open_owned_dir(str(work / "new" / "alloc"), create=True)
        partial_fd, partial = create_partial_at(fd, "snap.tar")
        outcomes["partial"] = (partial.startswith(".snap.tar."), partial.endswith(".partial"),
                               stat.S_IMODE(os.fstat(partial_fd).st_mode))
        os.close(partial_fd)
        os.close(fd)
        os.chmod(work / "new", 0o777)
        try:
            open_owned_dir(str(work / "new" / "alloc"))
        except UnsafeDestinationError as exc:
            outcomes["open"] = str(exc)
        return outcomes

    found = run_as_nobody(scenario)
    assert found["partial"] == (True, True, 0o600)
    assert found["open"].startswith(f"{work / 'new'} can be written by other users")
