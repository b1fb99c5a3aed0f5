"""``AllocDir.snapshot``: Nomad's TestAllocDir_Snapshot and the better-than-
Nomad cases (FIFO/device headers never opened, sockets skipped, vanishing and
changing files, error marker, constant memory)."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import textwrap
import threading

import pytest

from allocdir import SNAPSHOT_ERROR_TIME, AllocDirError, snapshot_error_filename

from tests.hostile import holey_file


def _members(buf: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    """Every member of a tar (stream-parsed, so a size mismatch breaks it)."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(buf), mode="r|") as tf:
        for m in tf:
            data = tf.extractfile(m).read() if m.isreg() else None
            if m.isreg():
                assert len(data) == m.size, m.name
            out[m.name.rstrip("/")] = (m, data)
    return out


def _snap(alloc, **kw) -> bytes:
    buf = io.BytesIO()
    alloc.snapshot(buf, **kw)
    return buf.getvalue()


def test_snapshot_nomad(alloc):
    """Nomad TestAllocDir_Snapshot: two files and two symlinks."""
    td1 = alloc.new_task_dir("web")
    td1.build(False, None)
    td2 = alloc.new_task_dir("web2")
    td2.build(False, None)
    data = os.path.join(alloc.shared_dir, "data")
    with open(os.path.join(data, "bar"), "wb") as f:
        f.write(b"foo")
    os.symlink("foo", os.path.join(data, "qux"))
    with open(os.path.join(td1.local_dir, "lol"), "wb") as f:
        f.write(b"bar")
    os.symlink("bar", os.path.join(td1.local_dir, "baz"))

    members = _members(_snap(alloc))
    files = sorted(n for n, (m, _) in members.items() if m.isreg())
    links = sorted(n for n, (m, _) in members.items() if m.issym())
    assert files == ["alloc/data/bar", "web/local/lol"]
    assert links == ["alloc/data/qux", "web/local/baz"]
    assert members["alloc/data/bar"][1] == b"foo"
    assert members["web/local/lol"][1] == b"bar"
    assert members["alloc/data/qux"][0].linkname == "foo"
    assert members["web/local/baz"][0].linkname == "bar"
    for d in ("alloc/data", "web/local", "web2/local"):
        assert members[d][0].isdir(), d


def test_snapshot_contents_only_data_and_local(alloc):
    td = alloc.new_task_dir("web")
    td.build(False, None)
    for rel in ("alloc/logs/web.stdout.0", "alloc/tmp/t", "web/tmp/t", "web/secrets/tok"):
        with open(os.path.join(alloc.alloc_dir, rel), "w") as f:
            f.write("no")
    os.makedirs(os.path.join(td.local_dir, "a", "b"))
    with open(os.path.join(td.local_dir, "a", "b", "deep"), "wb") as f:
        f.write(b"d" * 5000)
    os.chmod(os.path.join(td.local_dir, "a", "b", "deep"), 0o640)
    os.utime(os.path.join(td.local_dir, "a", "b", "deep"), (1_500_000_000, 1_500_000_000))
    members = _members(_snap(alloc))
    assert set(members) == {"alloc/data", "web/local", "web/local/a", "web/local/a/b",
                            "web/local/a/b/deep"}
    m, data = members["web/local/a/b/deep"]
    assert data == b"d" * 5000
    assert stat.S_IMODE(m.mode) == 0o640
    assert m.mtime == 1_500_000_000


def test_snapshot_includes_the_logs_when_asked(alloc_with_task, outside, blocking, open_watch):
    """``include_logs`` adds ``alloc/logs`` (Nomad's snapshot leaves it out),
    walked as the rest: a link is archived as a link, never followed, and
    logmon's FIFO is a header, never opened; the estimate counts them."""
    logs = os.path.join(alloc_with_task.shared_dir, "logs")
    with open(os.path.join(logs, "web.stdout.0"), "wb") as f:
        f.write(b"started\n" * 100)
    fifo = os.path.join(logs, ".web.stdout.fifo")
    os.mkfifo(fifo)
    blocking.watch_fifo(fifo)
    open_watch.add(fifo)
    os.symlink(str(outside / "OUTSIDE_MARKER"), os.path.join(logs, "web.stderr.0"))
    without = _members(_snap(alloc_with_task))
    assert not any(n.startswith("alloc/logs") for n in without)
    buf = io.BytesIO()
    blocking.run(alloc_with_task.snapshot, buf, timeout=10, include_logs=True)
    members = _members(buf.getvalue())
    assert members["alloc/logs"][0].isdir()
    assert members["alloc/logs/web.stdout.0"][1] == b"started\n" * 100
    assert members["alloc/logs/.web.stdout.fifo"][0].isfifo()
    assert members["alloc/logs/web.stderr.0"][0].issym()
    assert b"must never be read" not in buf.getvalue()
    assert open_watch.opened() == []
    assert "web/local" in members and "alloc/data" in members
    estimate = alloc_with_task.snapshot_estimate(include_logs=True)
    assert estimate.content_bytes == alloc_with_task.snapshot_estimate().content_bytes + 800


def test_snapshot_never_follows_symlinks(alloc_with_task, outside):
    td = alloc_with_task.task_dirs["web"]
    os.symlink(str(outside), os.path.join(td.local_dir, "outdir"))
    os.symlink(str(outside / "OUTSIDE_MARKER"), os.path.join(td.local_dir, "outfile"))
    os.symlink("../secrets", os.path.join(td.local_dir, "sec"))
    buf = _snap(alloc_with_task)
    members = _members(buf)
    assert members["web/local/outdir"][0].issym()
    assert members["web/local/outfile"][0].issym()
    assert members["web/local/sec"][0].issym()
    assert not any(n.startswith("web/local/outdir/") for n in members)
    assert b"must never be read" not in buf


def test_snapshot_fifo_header_only_and_not_opened(alloc_with_task, blocking, open_watch):
    td = alloc_with_task.task_dirs["web"]
    fifo = os.path.join(td.local_dir, "pipe")
    os.mkfifo(fifo)
    blocking.watch_fifo(fifo)
    open_watch.add(fifo)
    buf = io.BytesIO()
    blocking.run(alloc_with_task.snapshot, buf, timeout=10)
    members = _members(buf.getvalue())
    assert members["web/local/pipe"][0].isfifo()
    assert open_watch.opened() == []


@pytest.mark.root
def test_snapshot_device_header_only_and_not_opened(alloc_with_task, blocking, open_watch):
    td = alloc_with_task.task_dirs["web"]
    dev = os.path.join(td.local_dir, "zero")
    os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    open_watch.add(dev)
    buf = io.BytesIO()
    blocking.run(alloc_with_task.snapshot, buf, timeout=10)
    m = _members(buf.getvalue())["web/local/zero"][0]
    assert m.ischr() and (m.devmajor, m.devminor) == (1, 5)
    assert open_watch.opened() == []


def test_snapshot_skips_sockets(alloc_with_task, unix_socket):
    td = alloc_with_task.task_dirs["web"]
    unix_socket(os.path.join(td.local_dir, "api.sock"))
    members = _members(_snap(alloc_with_task))
    assert "web/local/api.sock" not in members
    assert "web/local" in members


def test_snapshot_size_and_progress(alloc_with_task):
    td = alloc_with_task.task_dirs["web"]
    sizes = [0, 1, 511, 512, 513, 70_000, 1_000_000]
    for i, n in enumerate(sizes):
        with open(os.path.join(td.local_dir, f"f{i}"), "wb") as f:
            f.write(os.urandom(n))
    with open(os.path.join(alloc_with_task.shared_dir, "data", "d"), "wb") as f:
        f.write(b"x" * 1234)
    os.symlink("f1", os.path.join(td.local_dir, "link"))
    expected = sum(sizes) + 1234
    assert alloc_with_task.snapshot_size() == expected
    seen = []
    caller = threading.get_ident()
    threads = set()

    def progress(n):
        threads.add(threading.get_ident())
        seen.append(n)

    members = _members(_snap(alloc_with_task, progress=progress))
    assert seen and all(isinstance(n, int) for n in seen)
    assert seen == sorted(seen)
    assert seen[-1] == expected
    assert threads == {caller}
    for i, n in enumerate(sizes):
        assert len(members[f"web/local/f{i}"][1]) == n


def _error_marker_as_nobody(workdir: str) -> dict:
    from allocdir import AllocDir as AD

    d = AD(os.path.join(workdir, "client", "erralloc"))
    os.makedirs(os.path.dirname(d.alloc_dir))
    d.build()
    td = d.new_task_dir("web")
    td.build(False, None)
    with open(os.path.join(td.local_dir, "a-ok"), "wb") as f:
        f.write(b"readable")
    locked = os.path.join(td.local_dir, "locked")
    with open(locked, "wb") as f:
        f.write(b"unreadable")
    os.chmod(locked, 0)
    out = os.path.join(workdir, "snap.tar")
    err = None
    with open(out, "wb") as f:
        try:
            d.snapshot(f)
        except Exception as e:  # noqa: BLE001 - reported to the parent
            err = f"{type(e).__name__}: {e}"
    return {"error": err, "tar": out, "alloc_id": d.alloc_id}


@pytest.mark.root
def test_snapshot_error_appends_marker_and_raises(nobody):
    """A file the snapshot cannot read (as nobody): the tar stays valid and ends
    with NOMAD-<alloc id>-ERROR.log, and the call raises."""
    r = nobody.run(_error_marker_as_nobody, nobody.workdir)
    assert r["error"], "snapshot did not raise"
    with open(r["tar"], "rb") as f:
        members = _members(f.read())
    name = snapshot_error_filename(r["alloc_id"])
    assert name in members, sorted(members)
    m, data = members[name]
    assert data.startswith(b"Error snapshotting: ")
    assert len(data) > len(b"Error snapshotting: ")
    assert stat.S_IMODE(m.mode) == 0o666
    assert m.mtime == int(SNAPSHOT_ERROR_TIME.timestamp())
    assert list(members)[-1] == name


def test_snapshot_writer_failure_raises(alloc_with_task):
    td = alloc_with_task.task_dirs["web"]
    with open(os.path.join(td.local_dir, "f"), "wb") as f:
        f.write(b"x" * 100_000)

    class Broken(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            raise OSError(28, "No space left on device")

    with pytest.raises(AllocDirError):
        alloc_with_task.snapshot(Broken())


def _big_file(path: str, size: int) -> bytes:
    pattern = bytes(range(251)) * (size // 251 + 1)
    data = pattern[:size]
    with open(path, "wb") as f:
        f.write(data)
    return data


@pytest.mark.parametrize("change", ["shrink", "grow", "truncate_to_zero"])
def test_file_changing_mid_read_never_corrupts_tar(alloc, change):
    td1 = alloc.new_task_dir("web")
    td1.build(False, None)
    td2 = alloc.new_task_dir("web2")
    td2.build(False, None)
    size = 8 << 20
    big = os.path.join(td1.local_dir, "big")
    original = _big_file(big, size)
    # Files archived before and after the changing one must survive intact.
    for td in (td1, td2):
        for name in ("a-before", "z-after"):
            with open(os.path.join(td.local_dir, name), "wb") as f:
                f.write(name.encode() * 1000)
    with open(os.path.join(alloc.shared_dir, "data", "d"), "wb") as f:
        f.write(b"data" * 1000)
    others = 4000 + 2 * (8000 + 7000)
    state = {"done": False, "at": None}

    def progress(n):
        # Past every other file's bytes and short of big's end: big is being read.
        if state["done"] or not (others < n < size):
            return
        state["done"], state["at"] = True, n
        if change == "shrink":
            os.truncate(big, 1000)
        elif change == "grow":
            with open(big, "ab") as f:
                f.write(b"G" * (3 << 20))
        else:
            os.truncate(big, 0)

    members = _members(_snap(alloc, progress=progress))
    assert state["done"], "progress was never called while reading"
    m, data = members["web/local/big"]
    assert m.size == len(data)
    if change == "grow":
        assert data == original  # cut to the header's size
    else:
        keep = 1000 if change == "shrink" else 0
        assert data[:keep] == original[:keep]
        assert len(data) == size  # padded to the header's size
    for td in ("web", "web2"):
        for name in ("a-before", "z-after"):
            assert members[f"{td}/local/{name}"][1] == name.encode() * 1000
    assert members["alloc/data/d"][1] == b"data" * 1000


@pytest.mark.slow
def test_concurrent_writers_never_corrupt_tar(alloc):
    td = alloc.new_task_dir("web")
    td.build(False, None)
    paths = [os.path.join(td.local_dir, f"churn{i}") for i in range(6)]
    for p in paths:
        _big_file(p, 300_000)
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            p = paths[i % len(paths)]
            i += 1
            op = i % 4
            try:
                if op == 0:
                    os.truncate(p, i % 1000)
                elif op == 1:
                    with open(p, "ab") as f:
                        f.write(os.urandom(50_000))
                elif op == 2:
                    os.unlink(p)
                else:
                    _big_file(p, 200_000 + i % 7000)
            except FileNotFoundError:
                _big_file(p, 1000)

    threads = [threading.Thread(target=churn, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(25):
            members = _members(_snap(alloc))
            assert snapshot_error_filename(alloc.alloc_id) not in members
            assert "web/local" in members
    finally:
        stop.set()
        for t in threads:
            t.join(5)


def test_vanishing_files_are_skipped(alloc):
    td = alloc.new_task_dir("web")
    td.build(False, None)
    big = os.path.join(alloc.shared_dir, "data", "big")
    _big_file(big, 4 << 20)
    victims = []
    for i in range(30):
        p = os.path.join(td.local_dir, f"v{i:02d}")
        with open(p, "wb") as f:
            f.write(b"v" * 100)
        victims.append(p)
    os.makedirs(os.path.join(td.local_dir, "vdir", "sub"))
    with open(os.path.join(td.local_dir, "vdir", "sub", "f"), "wb") as f:
        f.write(b"f")

    def progress(n):
        for p in victims:
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(os.path.join(td.local_dir, "vdir"), ignore_errors=True)

    members = _members(_snap(alloc, progress=progress))
    assert snapshot_error_filename(alloc.alloc_id) not in members
    assert len(members["alloc/data/big"][1]) == 4 << 20


SNAPSHOT_MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, os, resource, sys, tracemalloc
    from allocdir import AllocDir

    root = sys.argv[1]
    d = AllocDir(os.path.join(root, "memalloc"))
    d.build()
    td = d.new_task_dir("web")
    td.build(False, None)
    # 256 MiB of data (a file with holes would be archived as its data only)
    # plus many small files.
    block = os.urandom(1 << 20)
    with open(os.path.join(td.local_dir, "huge.bin"), "wb") as f:
        for _ in range(256):
            f.write(block)
    for i in range(2000):
        with open(os.path.join(d.shared_dir, "data", f"small{i:04d}"), "wb") as f:
            f.write(b"s" * 1500)

    class Sink:
        n = 0
        def write(self, b):
            self.n += len(b)
            return len(b)
        def flush(self):
            pass

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    sink = Sink()
    d.snapshot(sink)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump({"tracemalloc_peak": peak, "maxrss_before_kib": before,
               "maxrss_after_kib": after, "bytes_written": sink.n}, sys.stdout)
    d.destroy()
    """
)


@pytest.mark.slow
def test_snapshot_memory_is_constant(tmp_path, measured):
    root = tmp_path / "mem"
    root.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", SNAPSHOT_MEMORY_SCRIPT, str(root)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    growth_mib = (r["maxrss_after_kib"] - r["maxrss_before_kib"]) / 1024
    peak_mib = r["tracemalloc_peak"] / (1 << 20)
    measured["snapshot_tracemalloc_peak_mib"] = round(peak_mib, 2)
    measured["snapshot_maxrss_growth_mib"] = round(growth_mib, 2)
    print(f"snapshot of 256 MiB + 2000 files: tracemalloc peak {peak_mib:.2f} MiB, "
          f"max RSS growth {growth_mib:.2f} MiB")
    assert r["bytes_written"] > 256 << 20
    assert peak_mib < 16
    assert growth_mib < 48


# --------------------------------------------------------------------------
# files with holes, and the room hook (issue 16 item 9)


def test_a_file_with_holes_is_archived_as_its_data(alloc_with_task, tmp_path):
    """A task truncates a file to 1 TiB: the tar holds its data regions only
    (GNU tar's PAX sparse format 1.0), and Python's tarfile and GNU tar
    both read it back whole, holes restored."""
    local = alloc_with_task.task_dirs["web"].local_dir
    pieces = {0: b"head", 1 << 30: b"middle", (1 << 40) - 3: b"end"}
    holey_file(os.path.join(local, "huge.bin"), 1 << 40, pieces)
    holey_file(os.path.join(local, "only-hole"), 5 << 30, {})
    out = tmp_path / "out.tar"
    with open(out, "wb") as f:
        result = alloc_with_task.snapshot(f)
    assert out.stat().st_size < 1 << 20
    assert result.content_bytes == (1 << 40) + (5 << 30)
    with tarfile.open(out) as tar:
        huge = tar.getmember("web/local/huge.bin")
        assert huge.size == 1 << 40 and tar.getmember("web/local/only-hole").size == 5 << 30
        f = tar.extractfile(huge)
        for offset, data in pieces.items():
            f.seek(offset)
            assert f.read(len(data)) == data
        f.seek(1 << 20)
        assert f.read(4096) == bytes(4096)
        assert tar.extractfile("web/local/only-hole").read(1 << 16) == bytes(1 << 16)
    listing = subprocess.run(["tar", "-tvf", out], capture_output=True, text=True, check=True)
    assert "1099511627776" in listing.stdout and "web/local/huge.bin" in listing.stdout
    assert "GNUSparseFile" not in listing.stdout
    into = tmp_path / "x"
    into.mkdir()
    subprocess.run(["tar", "-xf", out, "-C", into], check=True)
    restored = into / "web/local/huge.bin"
    st = restored.stat()
    assert st.st_size == 1 << 40 and st.st_blocks * 512 < 1 << 20  # holes, not zeros
    with open(restored, "rb") as f:
        for offset, data in pieces.items():
            f.seek(offset)
            assert f.read(len(data)) == data
    assert (into / "web/local/only-hole").stat().st_size == 5 << 30


def test_a_file_with_holes_keeps_its_data_and_long_names(alloc_with_task):
    """Every byte of a file with many data regions comes back, under a name
    too long (and not ASCII) for a plain header."""
    local = alloc_with_task.task_dirs["web"].local_dir
    name = "ü" * 80 + ".db"
    pieces = {n * (1 << 20): os.urandom(5000) for n in range(40)}
    holey_file(os.path.join(local, name), 41 << 20, pieces)
    members = _members(_snap(alloc_with_task))
    member, data = members[f"web/local/{name}"]
    assert member.sparse and member.size == 41 << 20
    with open(os.path.join(local, name), "rb") as f:
        assert data == f.read()


def test_the_room_hook_stops_before_a_file_it_cannot_take(alloc_with_task):
    """The hook is asked before an entry's bytes are written: what it
    refuses is never started, the tar ends with the error marker, and the
    error names the file."""
    local = alloc_with_task.task_dirs["web"].local_dir
    with open(os.path.join(local, "a-small"), "wb") as f:
        f.write(b"s" * 1000)
    with open(os.path.join(local, "b-big"), "wb") as f:
        f.write(os.urandom(3 << 20))
    asked = []

    def room(name: str, needed: int) -> int:
        asked.append((name, needed))
        if needed > 1 << 20:
            raise AllocDirError(f"{name}: no room for {needed} bytes")
        return 64 << 10

    buf = io.BytesIO()
    with pytest.raises(AllocDirError, match="web/local/b-big: no room for 3146240 bytes"):
        alloc_with_task.snapshot(buf, room=room)
    assert asked[-1] == ("web/local/b-big", 512 + (3 << 20))
    assert asked[0][0] == "alloc/data"  # the first entry asks; small ones then use the grant
    assert len(asked) == 2
    members = _members(buf.getvalue())
    assert "web/local/a-small" in members and "web/local/b-big" not in members
    assert list(members)[-1] == snapshot_error_filename(alloc_with_task.alloc_id)
    assert len(buf.getvalue()) < 1 << 20


@pytest.mark.root
def test_room_check_stops_a_snapshot_before_the_reserve(alloc_with_task, tmp_path, mounts):
    """RoomCheck on a small file system: a file that does not fit is never
    started, so the destination keeps its reserve and no write fails."""
    from allocdir.room import NoRoomError, RoomCheck, room_at

    dest = tmp_path / "small"
    mounts.tmpfs(dest, "2m")
    local = alloc_with_task.task_dirs["web"].local_dir
    with open(os.path.join(local, "big"), "wb") as f:
        f.write(os.urandom(3 << 20))
    fd = os.open(dest / "out.tar", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with open(fd, "wb", closefd=False) as out, pytest.raises(AllocDirError) as raised:
            alloc_with_task.snapshot(out, room=RoomCheck(fd, str(dest)))
        room = room_at(fd)
    finally:
        os.close(fd)
    assert isinstance(raised.value.__cause__, NoRoomError)
    assert str(raised.value.__cause__).startswith("web/local/big needs 3.0 MiB, more than there is "
                                                  f"room for: 2.0 MiB free on {dest}")
    assert room.free > room.reserve  # still above the reserve after the marker
    with tarfile.open(dest / "out.tar") as tar:
        assert tar.getnames()[-1] == snapshot_error_filename(alloc_with_task.alloc_id)


def test_a_failed_write_is_reported_as_itself(alloc_with_task, caplog):
    """A writer that fails while it still holds a view of the buffer it was
    given (as a traceback keeps one alive): the snapshot's error is the
    write's, not a BufferError from reusing that buffer, and the error
    marker is still appended after it."""
    td = alloc_with_task.task_dirs["web"]
    with open(os.path.join(td.local_dir, "f"), "wb") as f:
        f.write(os.urandom(2 << 20))

    class Holding:
        def __init__(self):
            self.views, self.fail = [], True

        def write(self, data):
            self.views.append(memoryview(data))
            if self.fail:
                self.fail = False
                raise OSError(5, "Input/output error")
            return len(data)

        def flush(self):
            pass

    writer = Holding()
    with pytest.raises(AllocDirError, match="Input/output error"):
        alloc_with_task.snapshot(writer)
    assert "exports" not in caplog.text and "could not append" not in caplog.text
    written = b"".join(bytes(v) for v in writer.views[1:])
    assert snapshot_error_filename(alloc_with_task.alloc_id).encode() in written
    assert b"Error snapshotting: [Errno 5] Input/output error" in written
