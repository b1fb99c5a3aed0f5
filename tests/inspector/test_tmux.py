"""Drive the real command in a detached tmux session: open, page, follow, quit."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import ALLOC_A

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def command() -> list[str]:
    script = shutil.which("allocdir-inspector")
    return [script] if script else [sys.executable, "-m", "inspector"]


class Tmux:
    """A private tmux server (own socket) running one command at a fixed size.

    ``config`` lines (e.g. "set -g set-clipboard on") are the server's whole
    configuration, read before the command starts.
    """

    def __init__(self, tmp: Path, config: list[str] | None = None) -> None:
        self.socket = f"inspector-test-{uuid.uuid4().hex[:8]}"
        self.status = tmp / "exit-status"
        self.config = tmp / "tmux.conf"
        self.config.write_text("".join(f"{line}\n" for line in config or []))

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *args], capture_output=True,
            text=True, check=True, timeout=30,
        ).stdout

    def start(self, argv: list[str], size: tuple[int, int] = (120, 36), *,
              hold: bool = False) -> None:
        """Run ``argv``; with ``hold`` the pane stays open after it exits."""
        shell = f"{shlex.join(argv)}; echo $? > {shlex.quote(str(self.status))}"
        if hold:
            shell += "; sleep 60"
        self.tmux("new-session", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]), shell)

    def pane_title(self) -> str:
        """The pane's title, which OSC 0 / OSC 2 would change."""
        return self.tmux("display-message", "-p", "-t", "t", "#{pane_title}").rstrip("\n")

    def buffers(self) -> str:
        """The paste buffers (with set-clipboard on, an OSC 52 adds one)."""
        return self.tmux("list-buffers")

    def screen_with_attributes(self) -> str:
        """The pane with its colours and attributes as escape sequences."""
        return self.tmux("capture-pane", "-p", "-e", "-t", "t")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "t", key)
            time.sleep(0.15)

    def screen(self) -> str:
        """The pane's text."""
        return self.tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, predicate, timeout: float = 20.0, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = self.screen()
            except subprocess.CalledProcessError:
                text = ""
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{text}")
            time.sleep(0.1)

    def exit_status(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.status.exists() or not self.status.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not exit:\n{self.screen()}")
            time.sleep(0.1)
        return int(self.status.read_text())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux(tmp_path):
    session = Tmux(tmp_path)
    yield session
    session.close()


def test_open_page_follow_and_quit(alloc_root, tmux):
    log = alloc_root / ALLOC_A / "alloc/logs/web.stdout.0"
    tmux.start([*command(), str(alloc_root), "--open", f"{ALLOC_A}/alloc/logs/web.stdout.0"])
    tmux.wait_for(lambda s: "line 0001 of the web task" in s, what="the file")
    tmux.keys("Space")
    tmux.wait_for(lambda s: "line 0001" not in s and "line 0040" in s, what="next page")
    tmux.keys("G")
    tmux.wait_for(lambda s: "line 0300" in s, what="the tail")
    tmux.keys("f")
    time.sleep(0.5)  # the follower starts in a worker
    with open(log, "a") as out:
        out.write("appended from the tmux test\n")
    tmux.wait_for(lambda s: "appended from the tmux test" in s, timeout=10, what="the append")
    tmux.keys("q")
    assert tmux.exit_status() == 0


def test_demo_runs_and_is_removed_on_quit(tmux):
    tmux.start([*command(), "--demo"])
    text = tmux.wait_for(lambda s: "5f0c3b2e-8d1a-4c7e-9b6a-2e4f1d7c9a01" in s, what="demo")
    match = re.search(r"(/\S*allocdir-demo-[^/\s]+)/alloc", text)
    assert match, text
    demo_dir = match.group(1)
    assert os.path.isdir(demo_dir)
    # open the first allocation's web task config with the keyboard
    tmux.keys("Down", "Enter")
    tmux.wait_for(lambda s: "web/" in s, what="allocation expanded")
    tmux.keys("q")
    assert tmux.exit_status() == 0
    assert not os.path.exists(demo_dir)


def test_demo_is_removed_when_the_terminal_goes_away(tmux):
    """Closing the terminal (SIGHUP) must not leave the demo root, and its
    secrets tmpfs mounts, behind."""
    tmux.start([*command(), "--demo"])
    text = tmux.wait_for(lambda s: "5f0c3b2e-8d1a-4c7e-9b6a-2e4f1d7c9a01" in s, what="demo")
    match = re.search(r"(/\S*allocdir-demo-[^/\s]+)/alloc", text)
    assert match, text
    demo_dir = match.group(1)
    tmux.close()  # the pane's terminal is gone: the app gets SIGHUP
    deadline = time.monotonic() + 20
    while os.path.exists(demo_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(demo_dir)
