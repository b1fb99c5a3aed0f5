"""The one table of what an ``ls`` mode letter says an entry is."""

from __future__ import annotations

import os
import stat

import pytest

from allocdir import kinds


@pytest.mark.parametrize("mode, word, tag, mark, special, phrase", [
    (stat.S_IFREG | 0o644, "file", "file", "", False, "a regular file"),
    (stat.S_IFDIR | 0o755, "dir", "dir", "/", False, "a directory"),
    (stat.S_IFLNK | 0o777, "symlink", "symlink", "@", False, "a symbolic link"),
    (stat.S_IFIFO | 0o644, "FIFO", "fifo", "|", True, "a FIFO"),
    (stat.S_IFSOCK | 0o755, "socket", "socket", "=", True, "a socket"),
    (stat.S_IFCHR | 0o666, "char device", "char device", "", True, "a character device"),
    (stat.S_IFBLK | 0o660, "block device", "block device", "", True, "a block device"),
])
def test_every_kind_of_entry_and_its_words(mode, word, tag, mark, special, phrase):
    file_mode = stat.filemode(mode)
    kind = kinds.file_kind(file_mode)
    assert (kind.word, kind.tag, kind.mark, kind.special, kind.phrase) == \
        (word, tag, mark, special, phrase)
    assert kinds.kind_of(file_mode) == word and kinds.is_special(file_mode) is special


def test_an_unknown_letter_is_never_opened():
    assert kinds.file_kind("?rw-r--r--") is kinds.OTHER and kinds.is_special("?---------")


def test_the_table_is_the_one_the_project_reads():
    """No other module keeps a table of mode letters (the tree's tags, the
    viewer's refusals, the reprs all read this one)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    offenders = []
    for top in ("allocdir", "inspector"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                path = os.path.join(dirpath, name)
                if not name.endswith(".py") or path.endswith(os.path.join("allocdir", "kinds.py")):
                    continue
                with open(path) as f:
                    text = f.read()
                if '"p": ' in text and '"s": ' in text:
                    offenders.append(os.path.relpath(path, root))
    assert offenders == []
