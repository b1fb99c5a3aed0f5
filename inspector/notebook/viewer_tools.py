"""The notebook viewer's structured logs and evidence: marks, the field view,
columns, context lines, the filter on and off, and ``export``.

A mixin of :class:`~inspector.notebook.viewer.Viewer`: each method is the
terminal viewer's key of the same name (``m``, ``'``, ``x``, ``c``, ``C``,
``\\``, ``W``), done by the reader session; the export runs in a worker and
returns an :class:`~inspector.notebook.actions.ActionJob` at once (its
progress bar shows in the cell).
"""

from __future__ import annotations

import os

from ..core import export as core_export
from allocdir.plaintext import size_words

from ..core.actions import Refused
from ..core.session.records import run_export
from ..core.text import printable


class ViewerTools:
    """Marks, fields, columns, context, the filter toggle and export of a viewer."""

    field_view = None
    """The last :class:`~inspector.core.structured.view.FieldView` asked for
    with :meth:`fields` (None before)."""

    def mark(self, letter: str) -> None:
        """Mark the top line with ``letter`` (``m`` in the terminal)."""
        self.session.marks.set(letter)

    def jump(self, letter: str) -> None:
        """Go to the line marked ``letter``; ``"'"``: back to where the last
        jump left (``'`` in the terminal)."""
        self.session.marks.jump(letter)

    def set_columns(self, text: str) -> None:
        """Show fields of JSON and logfmt lines as columns
        (``"level,status:5,trace_id"``, a width after a colon); "" shows the
        lines as written."""
        self.session.set_columns(text)

    def set_context(self, lines: int) -> None:
        """Show ``lines`` lines of context around each match of the filter
        (dimmed, as ``grep -C``)."""
        self.session.set_context(max(0, int(lines)))

    def toggle_filter(self) -> None:
        """Switch the filter off, or back on, keeping the top line in place."""
        self.session.toggle_filter()

    def fields(self) -> None:
        """Read the fields of the current line (the current match's, else the
        top line's): once read, :attr:`field_view` holds them and the
        viewer shows them under its lines. Returns at once."""
        def shown(view) -> None:
            from .html import name_html

            self.field_view = view
            body = "\n".join(name_html(line) for line in view.lines)
            self.fields_box.value = (f"<div><b>{name_html(view.title)}</b> "
                                     f"<span style='opacity:.6'>{name_html(view.where)}</span>"
                                     f"<pre style='margin:0'>{body}</pre></div>")
        self.session.records.field_view(shown)

    def export(self, path: str | os.PathLike[str], what: str = "view", *, fmt: str = "plain",
               marks: str = "", since: str = "", until: str = "",
               overwrite: bool = False):
        """Write lines of the log to the file ``path``: ``what`` is "view"
        (the lines the filter shows, with their context), "marks" (the lines
        between the two marks named in ``marks``, e.g. ``"ab"``), "all" (the
        whole log, set or stream) or "time" (from ``since`` to ``until``);
        ``fmt`` is "plain", "escaped" or "raw". The file is mode 0600,
        written beside its place and renamed into it once whole; marks are
        carried into it. Refused (``ActionRefused``) inside an allocation
        or a client alloc root, and for a file that exists unless
        ``overwrite``. Returns an ``ActionJob`` at once."""
        from .actions import ActionFailed, ActionJob, ActionRefused

        plan = self.session.records.plan(what, fmt, marks=marks, since=since, until=until)
        if isinstance(plan, str):
            raise ActionRefused(plan)
        typed, cwd = os.fspath(path), os.getcwd()
        roots = core_export.avoided_roots(self.session.fs, getattr(self, "root", None))
        job = ActionJob(f"Export of {self.label} to {typed}", cancellable=True)

        def work(job):
            job._say("checking the destination…")
            target = core_export.export_target(typed, cwd, roots)
            if isinstance(target, Refused):
                raise ActionRefused(target.reason)
            if target.exists and not overwrite:
                raise ActionRefused(f"{printable(target.path)} exists: pass overwrite=True "
                                    "to replace it (once the export is complete)")
            lines = self.session.records.document_lines()
            if lines is None:
                raise ActionRefused("the viewer shows no log to export")
            outcome = run_export(lines, plan, target, roots, job.cancel_event,
                                 progress=lambda done, total: job._progress(
                                     done * 1000 // max(1, total),
                                     f"read {size_words(done)} of {size_words(total)}"))
            job.message = outcome.message()
            if not outcome.written:
                raise ActionFailed(job.message)
            return outcome

        return job._run(work)
