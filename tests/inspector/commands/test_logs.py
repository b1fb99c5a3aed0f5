"""``allocdir-inspector logs``: the real command, against ``tail -F`` on the
same writer. Bad input is one line on stderr and exit status 2; ``-f``
follows across rotation and truncation and ends with exit status 0 on
SIGINT and on a closed pipe."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

LOGS = "alloc/logs"
PROG = "allocdir-inspector logs: "


def run_logs(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "inspector", "logs", *args],
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def write(alloc, name: str, text: str, mode: str = "w") -> str:
    path = os.path.join(alloc.alloc_dir, LOGS, name)
    with open(path, mode) as fh:
        fh.write(text)
    return path


@pytest.fixture
def web(alloc):
    """An allocation whose task web wrote stdout on even seconds (two
    files of its set: .0 deleted, as Nomad does) and stderr on odd ones."""
    os.makedirs(os.path.join(alloc.alloc_dir, "web"), exist_ok=True)
    write(alloc, "web.stdout.1", "".join(f"2024-01-01T10:00:{i:02d}Z out {i}\n"
                                         for i in range(0, 10, 2)))
    write(alloc, "web.stdout.2", "2024-01-01T10:00:20Z out 20\n")
    write(alloc, "web.stderr.0", "".join(f"2024-01-01T10:00:{i:02d}Z err {i}\n"
                                         for i in range(1, 10, 2)) + "  at trace\n")
    return alloc


def lines(proc) -> list[str]:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().splitlines()


def test_a_task_is_its_stdout_across_the_files_of_its_set(web):
    assert [line.split()[-1] for line in lines(run_logs(web.alloc_dir, "web"))] == \
        ["0", "2", "4", "6", "8", "20"]


def test_merge_interleaves_in_time_order_with_tags_and_n_takes_the_last(web):
    got = lines(run_logs(web.alloc_dir, "web", "--all", "--merge"))
    assert got[:3] == ["web▸out 2024-01-01T10:00:00Z out 0",
                       "web▸err 2024-01-01T10:00:01Z err 1",
                       "web▸out 2024-01-01T10:00:02Z out 2"]
    assert got[-3:] == ["web▸err 2024-01-01T10:00:09Z err 9", "web▸err   at trace",
                        "web▸out 2024-01-01T10:00:20Z out 20"]
    assert lines(run_logs(web.alloc_dir, "web", "--all", "--merge", "-n", "3")) == got[-3:]


def test_all_without_merge_writes_each_log_after_a_header(web):
    got = lines(run_logs(web.alloc_dir, "web", "--all", "-n", "1"))
    assert got == ["==> web▸out <==", "2024-01-01T10:00:20Z out 20", "",
                   "==> web▸err <==", "  at trace"]


def test_since_and_a_set_name_and_an_id_prefix_under_root(web):
    got = lines(run_logs(web.alloc_dir, f"{LOGS}/web.stderr", "--since", "10:00:05Z"))
    assert got[0] == "2024-01-01T10:00:05Z err 5"
    root = os.path.dirname(web.alloc_dir)
    prefix = os.path.basename(web.alloc_dir)[:8]
    assert lines(run_logs(prefix, "web", "--stderr", "-n", "1", "--root", root)) == \
        ["  at trace"]


@pytest.mark.parametrize("args, needle", [
    (["nope"], "nope: no such task (tasks: web)"),
    (["web", "--since", "yesterday"], "--since"),
    (["web", "-n", "-3"], "-n"),
    (["web", "--all", "--stderr"], "not allowed"),
])
def test_bad_input_is_one_line_and_exit_2(web, args, needle):
    proc = run_logs(web.alloc_dir, *args)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.splitlines()) == 1 and needle in err, err
    assert "Traceback" not in err and proc.stdout == b""


def test_an_unknown_allocation_is_one_line_and_exit_2(tmp_path):
    proc = run_logs("5fc98185", "--root", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.decode().startswith(PROG)
    assert len(proc.stderr.splitlines()) == 1


def test_escapes_reach_a_pipe_as_they_are(web):
    write(web, "web.stderr.0", "\x1b]0;owned\x07\x1b[31mred\x1b[0m\n", "a")
    proc = run_logs(web.alloc_dir, "web", "--stderr", "-n", "1")
    assert proc.stdout == b"\x1b]0;owned\x07\x1b[31mred\x1b[0m\n"


def read_until(stream, want: bytes, timeout: float = 10.0) -> bytes:
    """Read ``stream`` until it holds ``want`` (an event: its bytes arriving)."""
    got = b""
    deadline = time.monotonic() + timeout
    while want not in got:
        left = deadline - time.monotonic()
        assert left > 0, f"{want!r} not seen; got {got!r}"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, f"ended before {want!r}; got {got!r}"
            got += chunk
    return got


def test_follow_writes_what_tail_F_writes_across_rotation_and_ends_0_on_sigint(web):
    last = os.path.join(web.alloc_dir, LOGS, "web.stdout.2")
    logs = subprocess.Popen([sys.executable, "-m", "inspector", "logs", web.alloc_dir, "web",
                             "-f", "-n", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    tail = subprocess.Popen(["tail", "-F", "-n", "0", last], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        waiting = {logs.stdout, tail.stdout}
        for attempt in range(100):  # until both watch the file and print what is added
            write(web, "web.stdout.2", f"ready {attempt}\n", "a")
            ready, _, _ = select.select(list(waiting), [], [], 0.2)
            for stream in ready:
                assert os.read(stream.fileno(), 65536).startswith(b"ready")
                waiting.discard(stream)
            if not waiting:
                break
        assert not waiting
        write(web, "web.stdout.2", "appended\n", "a")
        write(web, "web.stdout.3", "rotated into .3\n")
        got = read_until(logs.stdout, b"rotated into .3\n")
        assert got.endswith(b"appended\nrotated into .3\n") and b"appended\n" in \
            read_until(tail.stdout, b"appended\n")
        logs.send_signal(signal.SIGINT)
        assert logs.wait(10) == 0
        assert b"Traceback" not in logs.stderr.read()
    finally:
        for proc in (logs, tail):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_follow_into_a_closed_pipe_ends_0(web):
    logs = subprocess.Popen([sys.executable, "-m", "inspector", "logs", web.alloc_dir, "web",
                             "-f"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        read_until(logs.stdout, b"out 20\n")
        logs.stdout.close()
        write(web, "web.stdout.2", "more\n" * 1000, "a")
        assert logs.wait(10) == 0
        assert b"Traceback" not in logs.stderr.read()
    finally:
        if logs.poll() is None:
            logs.kill()
            logs.wait()
