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
    # 1 GiB sparse file plus many small files: read cost without disk cost.
    with open(os.path.join(td.local_dir, "huge.bin"), "wb") as f:
        f.truncate(1 << 30)
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
    print(f"snapshot of 1 GiB + 2000 files: tracemalloc peak {peak_mib:.2f} MiB, "
          f"max RSS growth {growth_mib:.2f} MiB")
    assert r["bytes_written"] > 1 << 30
    assert peak_mib < 16
    assert growth_mib < 48
