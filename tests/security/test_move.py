"""Moving what a task left: symlinked sources, refused whether they were
there before or swapped in while the move runs (cases 7 and 8 of the
hostile-task issue, and item 12 of the next round), planted journals and
staging (case 9), a racing task, and trees deeper than Python's recursion
limit (case 12)."""

from __future__ import annotations

import json
import os

import pytest

from allocdir import AllocDir, AllocDirError
from allocdir.move import JOURNAL_PREFIX, STAGING_PREFIX

from tests.hostile import Racer, depth_of, exchange, make_deep, run_as_nobody, tree_state


def remove_tree(path: str) -> None:
    """Remove a directory tree a test filled (no mounts below it)."""
    import shutil

    shutil.rmtree(path)


def _alloc(root, name: str, *tasks: str) -> AllocDir:
    a = AllocDir(os.path.join(root, name))
    a.build()
    for task in tasks:
        a.new_task_dir(task).build()
    return a


def _fill(a: AllocDir) -> None:
    for top in (os.path.join(a.shared_dir, "data"), a.task_dirs["web"].local_dir):
        os.makedirs(os.path.join(top, "sub"), exist_ok=True)
        for rel in ("a.txt", "sub/b.txt"):
            with open(os.path.join(top, rel), "w") as f:
                f.write(f"{a.alloc_id} {rel}\n")


@pytest.mark.parametrize("across", [True, False], ids=["across-fs", "same-fs"])
@pytest.mark.parametrize("which", ["local", "data"])
def test_a_symlinked_source_is_refused_and_nothing_moves(client_root, other_fs, canary,
                                                         across, which):
    """The source's task replaced its local/ (or alloc/data) with a link to a
    host dir: moving the link would make the new allocation's local/ lead
    there, and everything the client later writes in it, as root, would
    land on the host. Only real directories move: the move is refused
    before anything of it moves, and the link stays where it was."""
    before = canary.state()
    src = _alloc(other_fs if across else client_root, "src", "web")
    _fill(src)
    dst = _alloc(client_root, "dst")
    path = (src.task_dirs["web"].local_dir if which == "local"
            else os.path.join(src.shared_dir, "data"))
    remove_tree(path)
    os.symlink(canary.root, path)
    want = tree_state(src.alloc_dir)
    with pytest.raises(AllocDirError, match=f"{path} is a symbolic link .*only real directories "
                                            "move.*nothing was moved"):
        dst.move(src, ["web"])
    assert tree_state(src.alloc_dir) == want  # the other one did not move either
    for moved in (os.path.join(dst.alloc_dir, "web", "local"),
                  os.path.join(dst.shared_dir, "data")):
        assert not os.path.islink(moved)
    assert canary.state() == before
    src.destroy(), dst.destroy()


def test_a_task_swapping_local_for_a_link_never_gets_the_link_moved(client_root, canary):
    """Same file system, raced: the task swaps its local/ with a link to the
    host (renameat2 RENAME_EXCHANGE) while root moves it. Whatever the
    timing, the new allocation's web/local is never a link, and what the
    task had is in the source or the target."""
    before = canary.state()
    carried = moved = refused = swaps = 0
    rounds = 60
    for i in range(rounds):
        src = _alloc(client_root, f"src-{i}", "web")
        web = src.task_dirs["web"]
        with open(os.path.join(web.local_dir, "state"), "w") as f:
            f.write("the task's state\n")
        link = os.path.join(web.dir, "to-host")
        os.symlink(canary.root, link)
        for p in (web.local_dir, os.path.join(web.local_dir, "state"), link):
            os.lchown(p, 65534, 65534)
        dst = _alloc(client_root, f"dst-{i}")

        def swap(a=web.local_dir, b=link):
            exchange(a, b)

        with Racer(swap) as racer:
            try:
                dst.move(src, ["web"])
                moved += 1
            except AllocDirError:
                refused += 1
        swaps += racer.done
        target = os.path.join(dst.alloc_dir, "web", "local")
        carried += os.path.islink(target)
        states = [tree_state(top) for top in (web.dir, os.path.join(dst.alloc_dir, "web"))
                  if os.path.isdir(top)]
        assert any(entry[3] for state in states for entry in state.values()), \
            f"round {i}: the task's state file is gone"
        src.destroy(), dst.destroy()
    assert carried == 0, f"{carried} of {rounds} moves carried the link into the new allocation"
    assert moved + refused == rounds and swaps > rounds * 10, "the task never got to race"
    assert canary.state() == before


def test_a_task_cannot_plant_journal_or_staging(client_root):
    """Case 9: they live in the destination alloc dir, where no task writes."""
    dst = _alloc(client_root, "dst", "web")

    def plant():
        outcomes = []
        for name in (JOURNAL_PREFIX + "web.local", STAGING_PREFIX + "web.local",
                     JOURNAL_PREFIX + "web.local.partial"):
            try:
                os.symlink("/etc/passwd", os.path.join(dst.alloc_dir, name))
                outcomes.append("planted")
            except PermissionError:
                outcomes.append("refused")
        return outcomes

    assert run_as_nobody(plant) == ["refused"] * 3


def test_old_style_journals_in_task_dirs_are_ignored(client_root, other_fs, canary):
    """Case 9: the journal and .partial names the old layout used beside the
    target, where the new allocation's task writes, mean nothing."""
    src = _alloc(other_fs, "src", "web")
    _fill(src)
    want = tree_state(src.task_dirs["web"].local_dir)
    dst = _alloc(client_root, "dst", "web")
    web = os.path.join(dst.alloc_dir, "web")
    with open(os.path.join(web, ".allocdir-moved-local"), "w") as f:
        f.write(src.task_dirs["web"].local_dir)  # "the copy is done, delete the source"
    os.symlink(canary.root / "data.txt", os.path.join(web, ".allocdir-moved-local.partial"))
    os.symlink(canary.root, os.path.join(web, ".allocdir-moving-local"))
    os.rmdir(os.path.join(web, "local"))
    before = canary.state()
    dst.move(src, ["web"])
    assert tree_state(os.path.join(web, "local")) == want
    assert canary.state() == before


def test_a_journal_not_written_by_the_library_is_refused(client_root, other_fs):
    src = _alloc(other_fs, "src", "web")
    _fill(src)
    dst = _alloc(client_root, "dst")
    want = tree_state(src.alloc_dir)
    journal = os.path.join(dst.alloc_dir, JOURNAL_PREFIX + "alloc.data")
    record = {"source": os.path.join(src.shared_dir, "data"),
              "target": os.path.join(dst.shared_dir, "data"), "identity": [0, 0]}
    with open(journal, "w") as f:
        json.dump(record, f)
    os.chmod(journal, 0o666)  # anyone could have written this one
    with pytest.raises(AllocDirError, match="not a journal this library wrote"):
        dst.move(src, ["web"])
    assert tree_state(src.alloc_dir) == want
    os.chmod(journal, 0o600)  # ours, but it names another source directory
    with pytest.raises(AllocDirError, match="replaced during the move"):
        dst.move(src, ["web"])
    assert tree_state(src.alloc_dir) == want
    os.rmdir(os.path.join(dst.shared_dir, "data"))  # and claims a copy that is not there
    with pytest.raises(AllocDirError, match="neither the staged copy nor"):
        dst.move(src, ["web"])
    assert tree_state(src.alloc_dir) == want


def test_a_journal_whose_copy_differs_never_deletes_the_source(client_root, other_fs):
    """The journal alone is not trusted: the copy it vouches for is checked
    against the source before anything of the source is removed."""
    src = _alloc(other_fs, "src", "web")
    _fill(src)
    dst = _alloc(client_root, "dst")
    want = tree_state(src.alloc_dir)
    os.rmdir(os.path.join(dst.shared_dir, "data"))
    os.makedirs(os.path.join(dst.shared_dir, "data"))  # an empty "copy"
    source = os.path.join(src.shared_dir, "data")
    st = os.lstat(source)
    journal = os.path.join(dst.alloc_dir, JOURNAL_PREFIX + "alloc.data")
    with open(os.open(journal, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump({"source": source, "target": os.path.join(dst.shared_dir, "data"),
                   "identity": [st.st_dev, st.st_ino]}, f)
    with pytest.raises(AllocDirError, match="differs"):
        dst.move(src, ["web"])
    assert tree_state(src.alloc_dir) == want


def test_move_racing_a_task_in_the_destination(client_root, other_fs, canary):
    """Case 9, raced: while the copy runs, the destination's task keeps
    planting links where the copy goes (its local/, alloc/data, old-style
    .partial names); the host is untouched and the move either completes
    whole or leaves the source whole."""
    before = canary.state()
    completed = 0
    for i in range(6):
        src = _alloc(other_fs, f"src-{i}", "web")
        _fill(src)
        for n in range(200):
            with open(os.path.join(src.task_dirs["web"].local_dir, f"f{n}"), "wb") as f:
                f.write(os.urandom(2048))
        want = tree_state(src.task_dirs["web"].local_dir)
        dst = _alloc(client_root, f"dst-{i}", "web")
        web = os.path.join(dst.alloc_dir, "web")
        os.rmdir(os.path.join(web, "local"))
        plants = [os.path.join(web, "local"), os.path.join(dst.shared_dir, "evil"),
                  os.path.join(web, ".allocdir-moving-local"),
                  os.path.join(web, ".allocdir-moved-local.partial")]

        def plant(plants=plants, target=str(canary.root)):
            for path in plants:
                try:
                    os.symlink(target, path)
                except FileExistsError:
                    pass
            exchange(os.path.join(os.path.dirname(plants[1]), "data"), plants[1])

        with Racer(plant):
            try:
                dst.move(src, ["web"])
                moved = True
            except AllocDirError:
                moved = False
        local = os.path.join(web, "local")
        if moved and os.path.isdir(local) and not os.path.islink(local):
            assert tree_state(local) == want
            completed += 1
        else:
            assert tree_state(src.task_dirs["web"].local_dir) == want
        src.destroy(), dst.destroy()
    assert canary.state() == before


def test_move_of_a_task_without_local_makes_no_task_dir(client_root, other_fs):
    src = _alloc(other_fs, "src", "web")
    os.rmdir(src.task_dirs["web"].local_dir)
    dst = _alloc(client_root, "dst")
    dst.move(src, ["web"])
    assert not os.path.exists(os.path.join(dst.alloc_dir, "web"))


def test_move_across_fs_of_a_tree_deeper_than_the_recursion_limit(client_root, other_fs,
                                                                   python_recursion_limit):
    """Case 12: 1,500 levels, copied, verified and removed without recursion."""
    src = _alloc(other_fs, "src", "web")
    make_deep(src.task_dirs["web"].local_dir, 1500)
    assert src.snapshot_size() == len(b"the bottom\n")
    dst = _alloc(client_root, "dst")
    dst.move(src, ["web"])
    assert depth_of(os.path.join(dst.alloc_dir, "web", "local")) == 1500
    assert not os.path.lexists(src.task_dirs["web"].local_dir)
    assert not [n for n in os.listdir(dst.alloc_dir) if n.startswith(".allocdir-")]


def test_a_source_swapped_mid_move_loses_nothing(client_root, other_fs):
    """The source's task swaps its local/ with another directory of its own
    while the copy runs: whatever the move does, every file of both is
    still somewhere, in the source or in the target."""
    for i in range(5):
        src = _alloc(other_fs, f"src-{i}", "web")
        web = src.task_dirs["web"]
        other = os.path.join(web.dir, "local2")
        os.makedirs(other)
        for top, tag in ((web.local_dir, b"L"), (other, b"O")):
            for n in range(150):
                with open(os.path.join(top, f"f{n}"), "wb") as f:
                    f.write(tag + os.urandom(4096))
        for path in (web.local_dir, other):
            os.chown(path, 65534, 65534)
        contents = {tree_state(web.local_dir)[f"f{n}"][3] for n in range(150)} | {
            tree_state(other)[f"f{n}"][3] for n in range(150)}
        dst = _alloc(client_root, f"dst-{i}")

        def swap(a=web.local_dir, b=other):
            exchange(a, b)

        with Racer(swap):
            try:
                dst.move(src, ["web"])
            except AllocDirError:
                pass
        found = set()
        for top in (web.dir, os.path.join(dst.alloc_dir, "web")):
            if os.path.isdir(top):
                found |= {entry[3] for entry in tree_state(top).values() if entry[3]}
        assert contents <= found, f"round {i}: {len(contents - found)} files lost"
        src.destroy(), dst.destroy()
