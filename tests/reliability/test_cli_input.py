"""Bad input to the command line: every bad PATH and --open gets one clear
line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

import inspector.tui.app  # noqa: F401  (imported before privileges are dropped)
from allocdir import AllocDir
from inspector.tui import cli

NOBODY = 65534


def _run(args: list[str]) -> tuple[int, str]:
    result = subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    return result.returncode, result.stderr


def _run_as_nobody(args: list[str]) -> tuple[int, str]:
    """cli.main in a forked child that has dropped to nobody (Python itself
    lives under /root, which nobody may not read, so it cannot be exec'd)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        os.dup2(write_end, 2)
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # not pytest's capture
        code = 70
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = cli.main(args)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException as e:  # a traceback would be the failure we look for
            os.write(2, f"Traceback: {e!r}\n".encode())
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as f:
        stderr = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), stderr


@pytest.fixture
def fixtures(tmp_path):
    alloc = AllocDir(tmp_path / "root" / "0b5e1d2c-1111-4222-8333-444455556666")
    alloc.build()
    task = alloc.new_task_dir("web")
    task.build()
    os.mkfifo(os.path.join(alloc.shared_dir, "logs", ".web.stdout.fifo"))
    with open(os.path.join(task.secrets_dir, "token"), "w") as f:
        f.write("s3cret")
    sock = socket.socket(socket.AF_UNIX)
    dir_fd = os.open(os.path.join(alloc.shared_dir, "tmp"), os.O_PATH)
    sock.bind(f"/proc/self/fd/{dir_fd}/s.sock")  # sun_path is too short for tmp_path
    os.close(dir_fd)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("not an allocation")
    (tmp_path / "file.txt").write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)  # root's: nobody may not read it
    yield {"alloc": alloc.alloc_dir, "root": str(tmp_path / "root"), "plain": str(plain),
           "file": str(tmp_path / "file.txt"), "missing": str(tmp_path / "nope"),
           "locked": str(locked), "id": alloc.alloc_id}
    sock.close()
    alloc.unmount_all()


def test_bad_input_gets_one_line_and_status_2(fixtures, figures):
    f = fixtures
    cases = {
        "missing PATH": [f["missing"]],
        "non-directory PATH": [f["file"]],
        "non-alloc PATH": [f["plain"]],
        "--open of a FIFO": [f["alloc"], "--open", "alloc/logs/.web.stdout.fifo"],
        "--open of a socket": [f["alloc"], "--open", "alloc/tmp/s.sock"],
        "--open of a secret": [f["alloc"], "--open", "web/secrets/token"],
        "--open of a directory": [f["alloc"], "--open", "alloc/logs"],
        "--open escaping": [f["alloc"], "--open", "../../etc/passwd"],
        "--open of a missing file": [f["alloc"], "--open", "alloc/logs/none.stdout.0"],
        "--open of an unknown alloc under a root": [f["root"], "--open", "nope/alloc/x"],
        "--follow without --open": [f["alloc"], "--follow"],
        "unknown option": [f["alloc"], "--frobnicate"],
    }
    results = {name: _run(args) for name, args in cases.items()}
    if os.geteuid() == 0:
        results["unreadable PATH"] = _run_as_nobody([f["locked"]])
    failures = {}
    for name, (code, stderr) in results.items():
        lines = stderr.strip().splitlines()
        if code != 2 or len(lines) != 1 or "Traceback" in stderr:
            failures[name] = (code, stderr[-300:])
    figures.update(attempts=len(results), failures=len(failures))
    assert not failures, failures
    assert "Reading secret file prohibited" in results["--open of a secret"][1]
    assert "permission denied" in results.get("unreadable PATH", (2, "permission denied"))[1]
