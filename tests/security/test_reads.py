"""Reading what a task controls: a lease that would stall every open for
45 s (case 11 of the hostile-task issue), a hard link carrying a secret out
when not root (case 13), and the watcher and stat cases found beside them."""

from __future__ import annotations

import fcntl
import io
import os
import select
import signal
import tarfile
import threading
import time

import pytest

from allocdir import (
    AllocDirError, AllocFileInfo, ChangeEvent, PathEscapesError, SecretReadError,
)
from allocdir.layout import snapshot_error_filename

from tests.hostile import (
    NOBODY, alloc_with_a_secret, at_every_step, exchange, nobody_dir, run_as_nobody,
)

F_SETLEASE = 1024


class LeaseHolder:
    """A task (a child running as nobody) holding a write lease on its own
    file, as ``fcntl(fd, F_SETLEASE, F_WRLCK)`` lets a file's owner do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> "LeaseHolder":
        ready_r, ready_w = os.pipe()
        self._stop_r, self._stop_w = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            code = 0
            try:
                os.close(ready_r)
                os.close(self._stop_w)
                signal.signal(signal.SIGIO, signal.SIG_IGN)  # the lease-break notice
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                fd = os.open(self.path, os.O_RDONLY)
                fcntl.fcntl(fd, F_SETLEASE, fcntl.F_WRLCK)
                os.write(ready_w, b"ok")
                select.select([self._stop_r], [], [], 120)
            except BaseException as e:
                os.write(ready_w, repr(e).encode())
                code = 1
            os._exit(code)
        os.close(ready_w)
        os.close(self._stop_r)
        answer = os.read(ready_r, 200)
        os.close(ready_r)
        assert answer == b"ok", answer
        return self

    def __exit__(self, *exc) -> None:
        os.close(self._stop_w)
        os.waitpid(self._pid, 0)


def bounded(call, seconds: float = 5.0):
    """Run ``call()`` and return ``(result or exception, seconds taken)``;
    fail the test if it does not return within ``seconds``."""
    outcome = []

    def run():
        started = time.monotonic()
        try:
            value = call()
        except BaseException as e:  # handed to the test
            value = e
        outcome.append((value, time.monotonic() - started))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"blocked for more than {seconds} s")
    return outcome[0]


def test_a_lease_held_by_the_task_blocks_nothing(alloc):
    web = alloc.task_dirs["web"]
    held = os.path.join(web.local_dir, "held.log")
    with open(held, "wb") as f:
        f.write(b"the task holds a lease on this\n")
    with open(os.path.join(web.local_dir, "free.txt"), "wb") as f:
        f.write(b"readable\n")
    os.chown(held, NOBODY, NOBODY)
    rel = "web/local/held.log"
    with LeaseHolder(held):
        error, took = bounded(lambda: alloc.read_at(rel, 0))
        assert isinstance(error, BlockingIOError) and took < 2
        assert rel in str(error) and "lease" in str(error) and "/proc/self" not in str(error)
        info, took = bounded(lambda: alloc.stat(rel))
        assert info.content_type == "application/octet-stream" and info.size > 0 and took < 2
        error, took = bounded(lambda: alloc.change_events(rel, 0))
        assert isinstance(error, BlockingIOError) and took < 2
        buf = io.BytesIO()
        result, took = bounded(lambda: alloc.snapshot(buf))
        assert not isinstance(result, BaseException), result
        assert took < 2
        assert [name for name, _ in result.skipped] == [rel]
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            names = tar.getnames()
        assert "web/local/free.txt" in names and rel not in names


def test_nonroot_hard_link_to_a_secret_is_refused(base):
    """Case 13: without root, secrets/ is a plain directory; a hard link from
    it into local/ must not carry the secret out."""
    work = nobody_dir(base)

    def scenario():
        a, web = alloc_with_a_secret(work)
        os.makedirs(os.path.join(web.secrets_dir, "nested"))
        with open(os.path.join(web.secrets_dir, "nested", "key"), "w") as f:
            f.write("s.nested\n")
        os.link(os.path.join(web.secrets_dir, "token"), os.path.join(web.local_dir, "tok"))
        os.link(os.path.join(web.secrets_dir, "nested", "key"),
                os.path.join(web.local_dir, "key"))
        outcomes = {}
        for rel in ("web/local/tok", "web/local/key"):
            try:
                with a.read_at(rel, 0) as f:
                    outcomes[rel] = f.read()
            except SecretReadError:
                outcomes[rel] = "refused"
            outcomes[rel + " type"] = a.stat(rel).content_type
        with open(os.path.join(web.local_dir, "plain"), "w") as f:
            f.write("plain\n")
        os.link(os.path.join(web.local_dir, "plain"), os.path.join(web.local_dir, "plain2"))
        with a.read_at("web/local/plain2", 0) as f:
            outcomes["plain2"] = f.read()
        return outcomes

    assert run_as_nobody(scenario) == {
        "web/local/tok": "refused", "web/local/tok type": "application/octet-stream",
        "web/local/key": "refused", "web/local/key type": "application/octet-stream",
        "plain2": b"plain\n",
    }


def test_unreadable_files_stat_as_octet_stream_and_errors_name_the_path(alloc, base):
    """As Nomad: stat of a file the process cannot open still answers.
    Errors name the path inside the alloc dir, never /proc/self/fd/N."""
    web = alloc.task_dirs["web"]
    locked = os.path.join(web.local_dir, "root-only.txt")
    with open(locked, "w") as f:
        f.write("for root\n")
    os.chmod(locked, 0o600)
    os.chmod(base, 0o755)

    def scenario():
        found = {}
        info = alloc.stat("web/local/root-only.txt")
        found["type"] = info.content_type
        found["size"] = info.size
        try:
            alloc.read_at("web/local/root-only.txt", 0)
        except PermissionError as e:
            found["read_at"] = str(e)
        buf = io.BytesIO()
        try:
            alloc.snapshot(buf)
        except AllocDirError as e:
            found["snapshot"] = str(e)
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            member = tar.getmember(snapshot_error_filename(alloc.alloc_id))
            found["error_log"] = tar.extractfile(member).read().decode()
        return found

    found = run_as_nobody(scenario)
    assert found["type"] == "application/octet-stream" and found["size"] == 9
    for key in ("read_at", "snapshot", "error_log"):
        assert "web/local/root-only.txt" in found[key], found[key]
        assert "/proc/self/fd" not in found[key], found[key]


def test_change_events_through_a_symlink_see_it_removed_or_repointed(alloc):
    local = alloc.task_dirs["web"].local_dir
    for name in ("app.log", "other.log"):
        with open(os.path.join(local, name), "w") as f:
            f.write("line\n")
    link = os.path.join(local, "current")
    os.symlink("app.log", link)
    with alloc.change_events("web/local/current", 5) as changes:
        os.unlink(link)
        assert changes.next_event(2.0) is ChangeEvent.DELETED
    os.symlink("app.log", link)
    with alloc.change_events("web/local/current", 5) as changes:
        os.symlink("other.log", link + ".new")
        os.rename(link + ".new", link)
        assert changes.next_event(2.0) is ChangeEvent.DELETED


def test_a_file_already_shorter_than_the_offset_is_truncated_even_if_it_grows(alloc):
    path = os.path.join(alloc.shared_dir, "logs", "web.stdout.0")
    with open(path, "wb") as f:
        f.write(b"x" * 100)
    with alloc.change_events("alloc/logs/web.stdout.0", 200) as changes:
        with open(path, "ab") as f:
            f.write(b"y" * 300)  # past the reader's offset before the first look
        assert changes.next_event(2.0) is ChangeEvent.TRUNCATED


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56


@pytest.mark.parametrize("target", ["dir", "file"])
def test_stat_with_the_file_swapped_for_a_link_to_the_host_at_any_step(alloc, canary, target):
    """A task exchanges ``local/f`` (a PNG) with a link to a host dir or a
    host text file at every point of ``stat`` in turn, and back at once or a
    few steps later. Every answer describes ``f`` itself (a regular file,
    its size, its content type) or refuses the escape: never the host entry,
    never the host file's size with ``f``'s type."""
    before = canary.state()
    local = alloc.task_dirs["web"].local_dir
    real, link = os.path.join(local, "f"), os.path.join(local, "evil")
    with open(real, "wb") as f:
        f.write(PNG)
    os.symlink(canary.root if target == "dir" else canary.root / "data.txt", link)

    def swap() -> None:
        exchange(real, link)

    outcomes = [outcome for hold in (None, 1, 2, 4, 8, 16)
                for outcome in at_every_step(lambda: alloc.stat("web/local/f"), swap, swap,
                                             hold=hold)]
    assert len(outcomes) > 5
    wrong = [o for o in outcomes if not isinstance(o, PathEscapesError) and not (
        isinstance(o, AllocFileInfo)
        and (o.is_regular, o.size, o.content_type) == (True, len(PNG), "image/png"))]
    assert wrong == [], f"{len(wrong)} of {len(outcomes)} answers were not f's"
    assert canary.state() == before
