"""Watching the directories a user has open, to refresh their listings.

``allocdir`` watches files, not directories; a tree of allocations wants to
know when an open directory gains or loses an entry (a log rotated, a file
written). :class:`DirWatcher` runs one watchdog observer (inotify) for all
of them: :meth:`watch` a directory under a key, :meth:`unwatch` it when it
is closed, :meth:`close` at the end. Events are not passed on one by one:
the keys of the directories that changed collect in a set that the caller
takes with :meth:`take` (at the pace it chooses, e.g. four times a second).

A watch only reads (it never opens a file), on the real path of a
directory the caller has already listed through ``AllocDir.list`` (which
refuses escapes and secrets); :func:`real_dir` checks the path again
beneath the alloc dir, so a symlink swapped in afterwards cannot extend
what is watched outside it. The worst such a race can do is make the tree
list the directory again, through ``AllocDir.list`` and its checks.
"""

from __future__ import annotations

import os
import threading


def real_dir(alloc_dir: str, rel: str) -> str | None:
    """The real path of ``rel`` if it is a directory inside ``alloc_dir``, else None."""
    top = os.path.realpath(alloc_dir)
    path = os.path.realpath(os.path.join(top, rel)) if rel else top
    if path != top and not path.startswith(top + os.sep):
        return None
    if not os.path.isdir(path):
        return None
    return path


class DirWatcher:
    """Directory watches by key; changed keys collect until taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observer = None
        self._watches: dict[object, object] = {}
        self._paths: dict[object, str] = {}
        self._changed: set[object] = set()
        self._closed = False

    def _ensure_observer(self):
        if self._observer is None:
            from watchdog.observers import Observer

            observer = Observer()
            observer.daemon = True
            observer.start()
            self._observer = observer
        return self._observer

    def watch(self, key, path: str) -> bool:
        """Watch ``path`` (a directory, not recursively) under ``key``; False
        if it cannot be watched (gone, no inotify watches left…)."""
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return  # reading is not a change
                with watcher._lock:
                    if key in watcher._watches:
                        watcher._changed.add(key)

        with self._lock:
            if self._closed:
                return False
            if self._paths.get(key) == path:
                return True
        self.unwatch(key)
        try:
            observer = self._ensure_observer()
            handle = observer.schedule(Handler(), path, recursive=False)
        except (OSError, ValueError):
            return False
        with self._lock:
            if self._closed:
                observer.unschedule(handle)
                return False
            self._watches[key] = handle
            self._paths[key] = path
        return True

    def unwatch(self, key) -> None:
        """Stop watching ``key`` (nothing if it is not watched)."""
        with self._lock:
            handle = self._watches.pop(key, None)
            self._paths.pop(key, None)
            self._changed.discard(key)
        if handle is not None and self._observer is not None:
            try:
                self._observer.unschedule(handle)
            except (KeyError, OSError):
                pass

    def watched(self) -> set:
        """The keys being watched."""
        with self._lock:
            return set(self._watches)

    def take(self) -> set:
        """The keys whose directory changed since the last call."""
        with self._lock:
            changed, self._changed = self._changed, set()
        return changed

    def close(self) -> None:
        """Remove every watch and stop the observer thread."""
        with self._lock:
            self._closed = True
            self._watches.clear()
            self._paths.clear()
            self._changed.clear()
            observer, self._observer = self._observer, None
        if observer is not None:
            try:
                observer.unschedule_all()
            except OSError:
                pass
            observer.stop()
            observer.join(timeout=5)
