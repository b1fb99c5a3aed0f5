"""Escapes: generated paths and symlink layouts never let a read leave the
alloc dir or enter a secrets dir, whatever the call.

The oracle is the safety rule itself, not a prediction of each outcome:
outside and secret files hold a PNG header, inside files text, so any byte
of them that leaks shows up in ``read_at``'s content or ``stat``'s sniffed
content type; the outside directory holds a marker name that ``list`` must
never return (names inside a secrets dir may be listed, as Nomad does: only
contents are secret); and ``change_events``/``block_until_exists`` may only watch what
``read_at`` may read.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocdir import AllocDir, AllocDirError, PathEscapesError

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
OUTSIDE_MARKER = "outside-only-marker"

# Names that stress the checks: case games on secrets, dot-dot look-alikes,
# a 255-byte name, a name that is not UTF-8.
NAMES = ["web", "alloc", "local", "data", "secrets", "Secrets", "SECRETS", "private",
         "PRIVATE", "token", "file", "sub", "..data", "...", "..", ".", "x" * 255,
         os.fsdecode(b"caf\xe9"), "l1", "l2", "l3"]
LINK_DIRS = ["", "web", "web/local", "web/local/sub", "alloc/data", "alloc/logs"]
LINK_NAMES = ["l1", "l2", "l3", "Secrets", "..data", os.fsdecode(b"caf\xe9")]


def _layout(root: str) -> tuple[str, str]:
    alloc_dir = os.path.join(root, "client", "alloc1")
    outside = os.path.join(root, "outside")
    inside_files = ["alloc/data/file", "alloc/data/sub/file", "alloc/logs/web.stdout.0",
                    "web/local/file", "web/local/sub/file", "web/local/..data",
                    "web/local/" + "x" * 255, "web/local/" + os.fsdecode(b"caf\xe9")]
    for rel in inside_files:
        _write(os.path.join(alloc_dir, rel), b"INSIDE:" + os.fsencode(rel))
    for rel in ("web/secrets/token", "web/secrets/sub/file", "web/private/token"):
        _write(os.path.join(alloc_dir, rel), PNG)
    for rel in ("file", "token", "sub/file", OUTSIDE_MARKER):
        _write(os.path.join(outside, rel), PNG)
    return alloc_dir, outside


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


components = st.sampled_from(NAMES)
targets = st.one_of(
    st.lists(components, min_size=1, max_size=6).map("/".join),                 # relative
    st.tuples(st.integers(0, 6), st.sampled_from(["web/secrets/token", "web/local", "alloc",
                                                  "outside/file", "outside", "client"]))
    .map(lambda t: "/".join([".."] * t[0] + [t[1]])),                          # climbing
    st.sampled_from(["ABS_OUTSIDE", "ABS_SECRETS", "ABS_ROOT", "/"]),            # absolute
)
links = st.lists(st.tuples(st.sampled_from(LINK_DIRS), st.sampled_from(LINK_NAMES), targets),
                 max_size=8)
KNOWN = ["web/secrets/token", "web/SECRETS/token", "web/private/token", "web/secrets/sub",
         "web/local/file", "web/local/sub/file", "alloc/data/file", "alloc/logs/web.stdout.0",
         "web/local", "alloc/data", "web", ""]
LINKS = [f"{d}/{n}".lstrip("/") for d in LINK_DIRS for n in LINK_NAMES]
query_paths = st.one_of(
    st.lists(components, max_size=7),
    st.tuples(st.sampled_from(KNOWN + LINKS), st.lists(components, max_size=3))
    .map(lambda t: t[0].split("/") + t[1]),
)
queries = st.lists(st.tuples(st.booleans(), query_paths), min_size=4, max_size=8)


class Counter:
    """Cases tried and safety violations found, across examples."""

    cases = 0
    violations: list[str] = []


def _absolute(target: str, alloc_dir: str, outside: str) -> str:
    return {"ABS_OUTSIDE": os.path.join(outside, "file"),
            "ABS_SECRETS": os.path.join(alloc_dir, "web", "secrets", "token"),
            "ABS_ROOT": alloc_dir}.get(target, target)


def _outcome(call):
    try:
        return call()
    except (AllocDirError, OSError, ValueError) as e:
        return e


def _read(alloc: AllocDir, path: str):
    def call():
        with alloc.read_at(path, 0) as f:
            return f.read()
    return _outcome(call)


def check_query(alloc: AllocDir, path: str) -> list[str]:
    """Every safety violation of one query, as text."""
    problems = []
    content = _read(alloc, path)
    readable = isinstance(content, bytes)
    if readable and not content.startswith(b"INSIDE:"):
        problems.append(f"read_at({path!r}) read {content[:16]!r}")
    info = _outcome(lambda: alloc.stat(path))
    if getattr(info, "content_type", "") == "image/png":
        problems.append(f"stat({path!r}) sniffed an outside or secret file")
    listing = _outcome(lambda: alloc.list(path))
    if isinstance(listing, list) and any(e.name == OUTSIDE_MARKER for e in listing):
        problems.append(f"list({path!r}) listed an outside directory")
    changes = _outcome(lambda: alloc.change_events(path, 0))
    if not isinstance(changes, BaseException):
        changes.close()
        if not readable:
            problems.append(f"change_events({path!r}) watches what read_at refuses: {content!r}")
    future = _outcome(lambda: alloc.block_until_exists(path))
    if not isinstance(future, BaseException):
        future.cancel()
        if isinstance(content, PathEscapesError):
            problems.append(f"block_until_exists({path!r}) accepted an escaping path")
    return problems


def _examples(soak: bool) -> int:
    return 1200 if soak else 150


def run_property(soak: bool) -> None:
    @settings(max_examples=_examples(soak), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(links=links, queries=queries)
    def prop(links, queries):
        root = tempfile.mkdtemp(prefix="allocdir-escape-")
        try:
            alloc_dir, outside = _layout(root)
            made = []
            for where, name, target in links:
                link = os.path.join(alloc_dir, where, name)
                if os.path.isdir(os.path.dirname(link)) and not os.path.lexists(link):
                    os.symlink(_absolute(target, alloc_dir, outside), link)
                    made.append(f"{where}/{name}".lstrip("/"))
            alloc = AllocDir(alloc_dir)
            alloc.new_task_dir("web")
            # Every link made is also asked for, itself and as a directory.
            through_links = [(False, [rel, tail]) for rel in made for tail in ("", "file")]
            for leading, comps in list(queries) + through_links:
                path = ("/" if leading else "") + "/".join(comps)
                Counter.cases += 1
                Counter.violations.extend(check_query(alloc, path))
        finally:
            shutil.rmtree(root, ignore_errors=True)

    prop()


def test_generated_paths_never_read_outside_or_secrets(soak, figures):
    Counter.cases, Counter.violations = 0, []
    run_property(soak)
    figures.update(attempts=Counter.cases, failures=len(Counter.violations),
                   calls_per_case=5)
    assert not Counter.violations, Counter.violations[:10]
    assert Counter.cases >= (10_000 if soak else 500)
