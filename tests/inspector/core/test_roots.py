"""What PATH is: an alloc dir, a client alloc root, or an error."""

from __future__ import annotations

import os

import pytest

from inspector.core.roots import Root, RootError, check_openable

from ..conftest import ALLOC_A, ALLOC_B


def test_alloc_root_discovers_every_allocation(alloc_root):
    root = Root.open(alloc_root)
    assert not root.single
    found = root.discover()
    assert [a.alloc_id for a in found.allocs] == [ALLOC_A, ALLOC_B]
    assert sorted(found.allocs[0].task_dirs) == ["web"]
    assert found.errors == {}


def test_single_alloc_dir(alloc_root):
    root = Root.open(alloc_root / ALLOC_A)
    assert root.single
    assert [a.alloc_id for a in root.discover().allocs] == [ALLOC_A]


def test_empty_directory_is_an_empty_root(tmp_path):
    root = Root.open(tmp_path)
    assert not root.single
    assert root.discover().allocs == []


def test_root_ignores_stray_entries(alloc_root):
    (alloc_root / "README").write_text("not an allocation\n")
    (alloc_root / "lost+found").mkdir()
    assert [a.alloc_id for a in Root.open(alloc_root).discover().allocs] == [ALLOC_A, ALLOC_B]


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p / "missing", "no such file or directory"),
        (lambda p: (p / "f").write_text("x") and p / "f", "not a directory"),
        (lambda p: (p / "d").mkdir() or (p / "d" / "x").write_text("x") and p / "d",
         "not an alloc dir"),
    ],
)
def test_bad_paths(tmp_path, make, reason):
    with pytest.raises(RootError, match=reason):
        Root.open(make(tmp_path))


def test_locate_under_a_root(alloc_root):
    alloc, rel = Root.open(alloc_root).locate(f"{ALLOC_A}/web/local/notes.txt")
    assert alloc.alloc_id == ALLOC_A and rel == "web/local/notes.txt"
    with pytest.raises(RootError, match="no such allocation"):
        Root.open(alloc_root).locate("nope/web/local/notes.txt")


def test_locate_takes_absolute_paths_and_alloc_id_prefixes(alloc_root, tmp_path):
    root = Root.open(alloc_root)
    absolute = str(alloc_root / ALLOC_A / "web/local/notes.txt")
    alloc, rel = root.locate(absolute)
    assert alloc.alloc_id == ALLOC_A and rel == "web/local/notes.txt"
    alloc, rel = Root.open(alloc_root / ALLOC_A).locate(absolute)  # PATH is the alloc dir
    assert rel == "web/local/notes.txt"
    alloc, rel = root.locate("1111/alloc/logs/web.stdout.0")  # a unique prefix
    assert alloc.alloc_id == ALLOC_A and rel == "alloc/logs/web.stdout.0"
    with pytest.raises(RootError, match="not inside"):
        root.locate(str(tmp_path / "elsewhere.log"))
    with pytest.raises(RootError, match="no such allocation"):
        root.locate("7777/x")
    twin = alloc_root / ("1111" + ALLOC_B[4:])
    os.rename(alloc_root / ALLOC_B, twin)
    try:
        with pytest.raises(RootError, match="matches several allocations"):
            root.locate("1111/x")
    finally:
        os.rename(twin, alloc_root / ALLOC_B)  # so that the fixture destroys it


@pytest.mark.parametrize(
    "rel, reason",
    [
        ("web/local/missing.txt", "no such file"),
        ("web/secrets/token", "Reading secret file prohibited"),
        ("alloc/logs/.web.stdout.fifo", "is a FIFO"),
        ("alloc/tmp/consul_grpc.sock", "is a socket"),
        ("web/local", "is a directory"),
        ("../" + ALLOC_B + "/api/local/app.conf", "escapes"),
    ],
)
def test_check_openable_refuses(alloc_root, rel, reason):
    alloc, path = Root.open(alloc_root / ALLOC_A).locate(rel)
    with pytest.raises(RootError, match=reason):
        check_openable(alloc, path)


def test_check_openable_accepts_files_and_links(alloc_root):
    alloc, _ = Root.open(alloc_root / ALLOC_A).locate("")
    check_openable(alloc, "web/local/notes.txt")
    check_openable(alloc, "web/local/link")
    assert os.path.islink(alloc_root / ALLOC_A / "web/local/link")


def test_data_dir_is_opened_as_its_alloc_root(data_dir):
    from allocdir import PathKind

    root = Root.open(data_dir)
    assert (root.kind, root.path, root.given, root.single) == (
        PathKind.DATA_DIR, str(data_dir / "alloc"), str(data_dir), False)
    assert root.description == f"data_dir {data_dir} → client root {data_dir}/alloc"
    assert root.protected == (str(data_dir / "alloc"), str(data_dir))
    assert [a.alloc_id for a in root.discover().allocs] == [ALLOC_A, ALLOC_B]


def test_descriptions_and_protected_paths(alloc_root, tmp_path):
    root = Root.open(alloc_root)
    assert root.description == f"client root {alloc_root}" and root.protected == (str(alloc_root),)
    single = Root.open(alloc_root / ALLOC_A)
    assert single.description == f"alloc dir {alloc_root / ALLOC_A}" and single.protected == ()
    (tmp_path / "empty").mkdir()
    assert Root.open(tmp_path / "empty").description == f"client root {tmp_path / 'empty'} (empty)"


def test_a_dir_holding_a_bare_alloc_subdir_is_refused(tmp_path):
    """Like /tmp: some directory below holds an alloc/, nothing is an alloc dir."""
    (tmp_path / "tmp" / "session" / "alloc").mkdir(parents=True)
    (tmp_path / "tmp" / "x.sock").write_text("")
    with pytest.raises(RootError, match="not an alloc dir, a client alloc root nor a Nomad "
                                        "data_dir"):
        Root.open(tmp_path / "tmp")


def test_discovery_lists_only_alloc_dirs(alloc_root, tmp_path):
    (alloc_root / "not-an-alloc" / "alloc").mkdir(parents=True)  # an alloc/ alone is not enough
    (tmp_path / "elsewhere").mkdir()
    os.symlink(alloc_root / ALLOC_A, alloc_root / "link-to-a")  # never followed
    found = Root.open(alloc_root).discover()
    assert [a.alloc_id for a in found.allocs] == [ALLOC_A, ALLOC_B]
    assert found.errors == {}
