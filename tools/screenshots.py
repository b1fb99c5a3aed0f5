"""Regenerate the README screenshots from a demo root.

    python -m tools.screenshots [--notebook] [OUTDIR]   (default: ./screenshots)

Each view is driven with keys in a headless 120x36 terminal and saved as SVG.
The demo's alloc ids are fixed, so the images change only when the app does.
Then the notebook tour (tests/notebooks/tour.ipynb) is executed and rendered
to notebook-tour.png with headless Chromium, where it is installed
(``--notebook``: only the tour).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from allocdir import AllocDir

from inspector.tui.app import InspectorApp
from inspector.demo import ALLOCS, DemoRoot
from inspector.core.roots import Root
from inspector.tui.snapshot_screen import SnapshotScreen

SIZE = (120, 36)
WEB, BATCH, WEB2 = list(ALLOCS)

Scene = Callable[[Pilot, InspectorApp], Awaitable[None]]


async def _settle(pilot: Pilot, seconds: float = 0.6) -> None:
    await pilot.pause(seconds)


async def _until(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the screen did not reach the expected state")
        await pilot.pause(0.05)


async def _open(pilot: Pilot, app: InspectorApp, alloc_id: str, rel: str, **kw) -> None:
    alloc = next(a for a in app.alloc_tree.allocs if a.alloc_id == alloc_id)
    app.open_file(alloc, rel, **kw)
    app.alloc_tree.reveal(alloc, rel)
    await _until(pilot, lambda: app.viewer.mode in ("text", "hex"))
    await _settle(pilot)


async def tree_and_file(pilot: Pilot, app: InspectorApp) -> None:
    """The tree expanded down to a config file shown in the viewer."""
    await _open(pilot, app, WEB, "web/local/nginx.conf")


async def first_screen(pilot: Pilot, app: InspectorApp) -> None:
    """Nothing open yet: the summary of the allocation under the cursor."""
    tree = app.alloc_tree
    await _until(pilot, lambda: tree.root.children)
    tree.move_cursor(next(n for n in tree.root.children if n.alloc.alloc_id == WEB))
    await _until(pilot, lambda: f"allocation {WEB}" in app.first_screen.text)
    await _settle(pilot)


async def small_terminal(pilot: Pilot, app: InspectorApp) -> None:
    """At 80x24: short ids with task names, a rotation set's files each
    with its index, the position on the status line."""
    await _open(pilot, app, WEB, "alloc/logs/web.stdout.0")
    await _settle(pilot)


async def follow(pilot: Pilot, app: InspectorApp) -> None:
    """Following a web task's stdout while the writer appends and rotates it."""
    await _open(pilot, app, WEB, "alloc/logs/web.stdout.2", follow=True)
    await _settle(pilot, 1.5)


async def rotation_set(pilot: Pilot, app: InspectorApp) -> None:
    """A rotation set read as one log: the set's node in the tree, the viewer
    on its second file with line numbers, the status naming the file."""
    await _open(pilot, app, WEB, "alloc/logs/redis.stdout.0")
    app.viewer.focus()
    await pilot.press("number_sign", "right_square_bracket")
    await _until(pilot, lambda: app.viewer.status is not None
                 and app.viewer.status.member == 2 and app.viewer.status.lines is not None)
    await _settle(pilot)


async def filter_and_levels(pilot: Pilot, app: InspectorApp) -> None:
    """Only the warnings and errors of a log (`&`), levels coloured, a search
    highlighted with its current match apart."""
    await _open(pilot, app, WEB, "alloc/logs/redis.stdout.0")
    viewer = app.viewer
    viewer.focus()
    for key in ["ampersand", *"WARN|ERROR", "enter"]:
        await pilot.press(key)
    await _until(pilot, lambda: viewer.status is not None and viewer.status.matches
                 and not viewer.status.counting)
    for key in ["slash", *"queued", "enter"]:
        await pilot.press(key)
    await _until(pilot, lambda: viewer.status.notice.startswith("/queued"))
    await _settle(pilot)


async def hex_view(pilot: Pilot, app: InspectorApp) -> None:
    """A binary file as a hex dump."""
    await _open(pilot, app, WEB, "redis/local/dump.rdb")


async def snapshot_progress(pilot: Pilot, app: InspectorApp) -> None:
    """The snapshot dialog half-way through (the snapshot is paused there)."""
    alloc = next(a for a in app.alloc_tree.allocs if a.alloc_id == BATCH)
    release = threading.Event()
    real = AllocDir.snapshot

    def paused(self, w, *, progress=None, **_options):  # room, include_logs
        size = self.snapshot_size()
        if progress is not None:
            progress(size * 2 // 5)
        release.wait(30)
        raise OSError("stopped for the screenshot")

    AllocDir.snapshot = paused
    cwd = os.getcwd()
    scratch = tempfile.mkdtemp(prefix="inspector-shot-")
    os.chdir(scratch)  # the default output `<alloc id>.tar` lands there
    try:
        app.alloc_tree.reveal(alloc, "")
        await _settle(pilot)
        await pilot.press("s")
        await _until(pilot, lambda: isinstance(app.screen, SnapshotScreen)
                     and bool(app.screen.query("#path"))
                     and bool(app.screen.query_one("#path").value))
        await _settle(pilot, 0.6)  # Enter confirms once the dialog has been seen
        await pilot.press("enter")
        await _until(pilot, lambda: "archived" in str(app.screen.query_one("#message").content)
                     and "0 Bytes of" not in str(app.screen.query_one("#message").content))
        await _settle(pilot, 0.3)
    finally:
        AllocDir.snapshot = real
        release.set()
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)


async def destroy_dialog(pilot: Pilot, app: InspectorApp) -> None:
    """The destroy dialog with the id half typed: Destroy stays disabled."""
    alloc = next(a for a in app.alloc_tree.allocs if a.alloc_id == WEB2)
    app.alloc_tree.reveal(alloc, "")
    await _settle(pilot)
    await pilot.press("D")
    await _settle(pilot, 0.3)
    await pilot.press(*WEB2[:8])  # the id field has the focus
    await _settle(pilot, 0.3)


async def help_screen(pilot: Pilot, app: InspectorApp) -> None:
    """The key help."""
    await pilot.press("f1")
    await _settle(pilot, 0.4)


SCENES: dict[str, Scene] = {
    "first-screen": first_screen,
    "small-terminal": small_terminal,
    "tree-and-file": tree_and_file,
    "follow": follow,
    "rotation-set": rotation_set,
    "filter-and-levels": filter_and_levels,
    "hex-view": hex_view,
    "snapshot-progress": snapshot_progress,
    "destroy-dialog": destroy_dialog,
    "help": help_screen,
}
"""Screenshot name (without .svg) -> the scene that sets it up."""

SCENE_SIZES = {"small-terminal": (80, 24)}
"""Scenes shot at another size than :data:`SIZE`."""


async def shoot(root: Root, name: str, scene: Scene, outdir: str) -> str:
    """Run one scene on `root` and save `<outdir>/<name>.svg`."""
    app = InspectorApp(root)
    async with app.run_test(size=SCENE_SIZES.get(name, SIZE)) as pilot:
        await _until(pilot, lambda: len(app.alloc_tree.allocs) == len(ALLOCS))
        await scene(pilot, app)
        path = app.save_screenshot(f"{name}.svg", path=outdir)
        await pilot.press("escape")
    return path


def main(argv: list[str] | None = None) -> int:
    """Write every screenshot into OUTDIR (default ./screenshots): the
    terminal app's SVGs, then the notebook tour's PNG (``--notebook``: only
    that one)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    notebook_only = "--notebook" in argv
    argv = [arg for arg in argv if arg != "--notebook"]
    outdir = os.path.abspath(argv[0] if argv else "screenshots")
    os.makedirs(outdir, exist_ok=True)
    if not notebook_only:
        with DemoRoot(large_size=8 * 1024 * 1024) as demo:
            root = Root.open(demo.path)
            for name, scene in SCENES.items():
                print(asyncio.run(shoot(root, name, scene, outdir)))
    try:
        import nbclient  # noqa: F401  (the notebook and test extras)
    except ImportError:
        print("nbclient is not installed (pip install -e '.[notebook,test]'): the notebook "
              "tour was not rendered", file=sys.stderr)
        return 0 if not notebook_only else 1
    print(notebook_tour(outdir))
    return 0



# ------------------------------------------------------------ the notebook tour
#
# `python -m tools.screenshots` also executes tests/notebooks/tour.ipynb
# on a real kernel, renders it to HTML with nbconvert and, where Chromium is
# installed, to screenshots/notebook-tour.png. Widgets need JavaScript from a
# CDN to draw themselves in exported HTML; the picture must not depend on the
# network, so each widget output is replaced by a static rendering of the
# widget's saved state (the same state JupyterLab restores) before export.

TOUR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "tests", "notebooks", "tour.ipynb")
"""The example notebook (in the repository, beside the tests that run it)."""
TOUR_PNG = "notebook-tour.png"
PAGE_WIDTH = 1200
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def execute_tour(workdir: str, *, timeout: int = 180, path: str = TOUR):
    """Execute the tour notebook (or the notebook at ``path``) in ``workdir``
    on a fresh kernel of this Python (a kernelspec made there, so nothing
    needs to be installed first) and return the executed notebook.
    Temporary files the notebook makes go to ``workdir`` too."""
    import json

    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    spec_dir = os.path.join(workdir, "kernels", "inspector-tour")
    os.makedirs(spec_dir, exist_ok=True)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"],
                   "display_name": "inspector tour", "language": "python"}, f)
    notebook = nbformat.read(path, as_version=4)
    manager = AsyncKernelManager(
        kernel_name="inspector-tour",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[os.path.dirname(spec_dir)]))
    client = NotebookClient(notebook, km=manager, timeout=timeout,
                            resources={"metadata": {"path": workdir}})
    client.execute(env={**os.environ, "TMPDIR": workdir})
    return notebook


def static_widget(state: dict, model_id: str) -> str:
    """HTML drawing of a widget from its saved state (no JavaScript).

    ``HTML`` widgets carry HTML already (the inspector escaped what a task
    controls when it made it); every other value is escaped here.
    """
    import html as html_module

    esc = html_module.escape
    model = state.get(model_id)
    if model is None:
        return ""
    name, st = model["model_name"], model["state"]
    layout = _model_state(state, st.get("layout"))
    if layout.get("display") == "none":
        return ""
    css = ";".join(f"{key.replace('_', '-')}:{layout[key]}" for key in
                   ("width", "max_height", "min_width", "overflow", "border", "margin")
                   if layout.get(key))
    if name in ("VBoxModel", "HBoxModel", "BoxModel"):
        row = name == "HBoxModel"
        inner = "".join(static_widget(state, ref[len("IPY_MODEL_"):])
                        for ref in st.get("children", []))
        flow = ("flex-direction:row;flex-wrap:wrap;align-items:center;gap:4px" if row
                else "flex-direction:column;gap:3px")
        return f'<div style="display:flex;{flow};{css}">{inner}</div>'
    if name == "HTMLModel":
        return f'<div style="{css}">{st.get("value", "")}</div>'
    if name in ("ButtonModel", "ToggleButtonModel"):
        icons = {"search-plus": "find ▶", "search-minus": "◀ find"}
        label = st.get("description") or icons.get(st.get("icon", ""), "")
        pressed = name == "ToggleButtonModel" and st.get("value")
        colours = {"warning": "#ff9800", "danger": "#f44336", "success": "#4caf50",
                   "info": "#00bcd4", "primary": "#2196f3"}
        background = colours.get(st.get("button_style", ""), "#eee")
        if pressed:
            background = "#bdbdbd"
        faded = "opacity:0.5;" if st.get("disabled") else ""
        return (f'<span style="display:inline-block;padding:3px 10px;font:13px sans-serif;'
                f'background:{background};border-radius:2px;{faded}">{esc(label)}</span>')
    if name == "ToggleButtonsModel":
        chosen = st.get("index")
        return "".join(
            f'<span style="display:inline-block;padding:3px 10px;font:13px sans-serif;'
            f'background:{"#bdbdbd" if i == chosen else "#eee"}">{esc(label)}</span>'
            for i, label in enumerate(st.get("_options_labels", [])))
    if name == "TextModel":
        shown = st.get("value") or st.get("placeholder", "")
        colour = "#000" if st.get("value") else "#999"
        return (f'<span style="display:inline-block;width:14em;padding:2px 4px;'
                f'border:1px solid #ccc;font:12px sans-serif;color:{colour};overflow:hidden;'
                f'white-space:nowrap">{esc(shown)}</span>')
    if name == "IntProgressModel":
        span = max(1, st.get("max", 100) - st.get("min", 0))
        percent = 100 * (st.get("value", 0) - st.get("min", 0)) / span
        colours = {"success": "#4caf50", "danger": "#f44336", "warning": "#ff9800",
                   "info": "#00bcd4"}
        colour = colours.get(st.get("bar_style", ""), "#2196f3")
        return (f'<div style="display:inline-block;width:24em;height:14px;background:#eee">'
                f'<div style="width:{percent:.0f}%;height:100%;background:{colour}"></div>'
                f"</div>")
    if name == "SelectModel":
        labels = st.get("_options_labels", [])
        rows = "".join(f'<div style="white-space:pre">{esc(label)}</div>' for label in labels)
        return (f'<div style="font:12px monospace;border:1px solid #ccc;padding:3px;'
                f'overflow:hidden;{css}">{rows}</div>')
    return ""


def _model_state(state: dict, ref) -> dict:
    if not isinstance(ref, str) or not ref.startswith("IPY_MODEL_"):
        return {}
    return state.get(ref[len("IPY_MODEL_"):], {}).get("state", {})


def tour_html(notebook) -> str:
    """The executed tour as one HTML page, widgets drawn from their saved state."""
    import copy

    from nbconvert import HTMLExporter

    notebook = copy.deepcopy(notebook)
    state = notebook.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(_WIDGET_VIEW)
            if view is not None:
                drawn = static_widget(state, view.get("model_id", ""))
                output["data"] = {"text/html": drawn,
                                  "text/plain": output["data"].get("text/plain", "")}
    notebook.metadata.pop("widgets", None)
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(notebook)
    return body


def chromium() -> str | None:
    """The Chromium executable, if one is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


def render_png(html_path: str, png_path: str, *, width: int = PAGE_WIDTH,
               timeout: float = 60.0) -> None:
    """Screenshot the whole page ``html_path`` into ``png_path`` with headless
    Chromium, driven through its DevTools pipe (fds 3 and 4) so that the
    picture is as tall as the page, not the window."""
    import base64
    import json
    import subprocess
    import time

    browser = chromium()
    if browser is None:
        raise RuntimeError("Chromium is not installed")
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="inspector-chromium-")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "about:blank"]
    # The pipe must be fds 3 (commands) and 4 (replies) in Chromium; a small
    # Python launcher puts them there (sh's redirections stop at fd 9).
    launcher = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                "os.execvp(sys.argv[3], sys.argv[3:])")
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, str(to_chrome_r), str(from_chrome_w), browser, *flags],
        pass_fds=(to_chrome_r, from_chrome_w), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    replies = os.fdopen(from_chrome_r, "rb")
    commands = os.fdopen(to_chrome_w, "wb")
    buffered = b""
    counter = [0]
    deadline = time.monotonic() + timeout

    def receive() -> dict:
        nonlocal buffered
        while b"\0" not in buffered:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(replies.fileno(), 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            buffered += chunk
        message, _, buffered = buffered.partition(b"\0")
        return json.loads(message)

    def call(method: str, params: dict | None = None, session: str | None = None,
             until_event: str | None = None) -> dict:
        counter[0] += 1
        message = {"id": counter[0], "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        commands.write(json.dumps(message).encode() + b"\0")
        commands.flush()
        result = None
        seen_event = until_event is None
        while result is None or not seen_event:
            reply = receive()
            if reply.get("id") == counter[0]:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result = reply.get("result", {})
            elif until_event and reply.get("method") == until_event:
                seen_event = True
        return result

    try:
        target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        call("Page.enable", session=session)
        call("Emulation.setDeviceMetricsOverride",
             {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
             session=session)
        call("Page.navigate", {"url": "file://" + os.path.abspath(html_path)},
             session=session, until_event="Page.loadEventFired")
        size = call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        height = int(size["height"]) + 1
        shot = call("Page.captureScreenshot",
                    {"format": "png", "captureBeyondViewport": True,
                     "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}},
                    session=session)
        with open(png_path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        try:
            call("Browser.close")
        except (RuntimeError, OSError):
            pass  # closing: the pipe may end before the reply
    finally:
        commands.close()
        replies.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def notebook_tour(outdir: str) -> str:
    """Execute the tour, render it to HTML and, with Chromium, to
    ``<outdir>/notebook-tour.png``. Returns what was written (the PNG, or
    the HTML when Chromium is missing)."""
    work = tempfile.mkdtemp(prefix="inspector-tour-")
    html_path = os.path.join(work, "notebook-tour.html")
    try:
        executed = execute_tour(work)
        with open(html_path, "w", encoding="utf-8") as out:
            out.write(tour_html(executed))
        if chromium() is None:
            print("Chromium is not installed: notebook-tour.png not rendered "
                  f"(the HTML is kept at {html_path})", file=sys.stderr)
            work = ""  # keep it
            return html_path
        png = os.path.join(outdir, TOUR_PNG)
        render_png(html_path, png)
        return png
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
