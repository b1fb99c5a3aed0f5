"""The line the destroy and move dialogs show when an allocation looks live
(processes use it, mounts inside, a recent write), looked for in a worker
as soon as the dialog opens. The dialogs accept the typed id or destination
only once the look is done, so the warning is always said first."""

from __future__ import annotations

from textual import work
from textual.widgets import Static

from ..core.text import plain, printable
from ..core.usage.liveness import Liveness, check_liveness


class LivenessNote(Static):
    """Empty while looking and when the allocation does not look live;
    otherwise the warning, in the error colour. ``known`` once looked."""

    DEFAULT_CSS = """
    LivenessNote { color: $warning; text-style: bold; height: auto; margin-top: 1; }
    LivenessNote.-quiet { display: none; }
    """

    def __init__(self, alloc_dir: str, **kwargs) -> None:
        super().__init__("looking for processes, mounts and recent writes…", markup=False,
                         **kwargs)
        self.alloc_dir = alloc_dir
        self.liveness: Liveness | None = None
        self.known = False

    def on_mount(self) -> None:
        """Start looking."""
        self._look()

    @work(thread=True, exclusive=True, group="liveness")
    def _look(self) -> None:
        try:
            found: Liveness | str = check_liveness(self.alloc_dir)
        except Exception as exc:  # shown, never a crash of the dialog
            found = f"could not tell whether it is in use: {printable(exc)}"
        try:
            self.app.call_from_thread(self._show, found)
        except RuntimeError:
            pass  # the app is gone

    def _show(self, found: Liveness | str) -> None:
        self.known = True
        if isinstance(found, str):
            self.update(plain(found))
            return
        self.liveness = found
        warning = found.warning()
        self.update(plain(warning))
        self.set_class(not warning, "-quiet")

    @property
    def warning(self) -> str:
        """The warning shown ("" when none)."""
        return self.liveness.warning() if self.liveness is not None else ""
