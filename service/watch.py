"""Ingest on arrival: the scheduler process watches the inboxes and loads a file as soon as it is complete.

A file is complete when it is renamed into the inbox (the protocol every sender is asked to follow: write
`.name.tmp`, then rename) or closed after writing (inotify's IN_CLOSE_WRITE, for senders that write in
place). A file moved in from another folder arrives as a plain "created" event (inotify has no rename
pair for it), exactly like a file still being written in place: such a run first waits until every ready
file's size and time stay the same over `debounce_s`, so a half-written file is never read. Events within
`debounce_s` (250 ms) are coalesced
into one run, so a burst of 20 files makes one or two runs, not twenty. The run is the inbox job's own
(`service.jobs.run_inbox`), which holds one lock per inbox: a run started by the watcher and one started by
the polling tick never overlap, and whichever comes second finds only what is left. The polling tick stays
as the fallback (a network share without inotify, an event lost under load).

watchdog picks the platform's observer (inotify on Linux); `R57_WATCH=0` turns the watcher off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from ingest.runner import is_ready_name

log = logging.getLogger(__name__)


class _Handler(FileSystemEventHandler):
    def __init__(self, seen: Callable[[str, str], None]) -> None:
        self._seen = seen

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        if isinstance(event, FileMovedEvent):
            kind, path = "moved", event.dest_path
        elif isinstance(event, FileClosedEvent):
            kind, path = "closed", event.src_path
        elif isinstance(event, FileCreatedEvent):  # moved in from elsewhere, or opened to be written in place
            kind, path = "created", event.src_path
        elif isinstance(event, FileModifiedEvent):  # being written: wait for its close
            kind, path = "modified", event.src_path
        else:  # deleted, opened: nothing new to load
            return
        name = Path(str(path)).name
        if is_ready_name(name):
            self._seen(kind, name)


def _sizes(folder: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in folder.iterdir() if folder.exists() else ():
        if is_ready_name(p.name):
            try:
                st = p.stat()
            except FileNotFoundError:  # loaded (archived) meanwhile
                continue
            out[p.name] = (st.st_size, st.st_mtime_ns)
    return out


class InboxWatcher:
    """Watches `inboxes` (source -> folder) and calls `run(source)` once per burst of completed files."""

    def __init__(self, inboxes: Mapping[str, Path], run: Callable[[str], object], debounce_s: float = 0.25) -> None:
        self.inboxes = dict(inboxes)
        self.run = run
        self.debounce_s = debounce_s
        self._observer = Observer()
        self._lock = threading.Lock()
        self._timers: dict[str, threading.Timer] = {}
        self._settle: dict[str, bool] = {}  # a "created" event asked for a size check before the run
        self._writing: set[tuple[str, str]] = set()  # (source, name) written in place and not closed yet
        self.kicks = 0   # events that asked for a run (for tests, logs)
        self.runs = 0    # runs this watcher started

    def start(self) -> InboxWatcher:
        for source, folder in self.inboxes.items():
            folder.mkdir(parents=True, exist_ok=True)
            self._observer.schedule(_Handler(lambda kind, name, s=source: self._seen(s, kind, name)), str(folder),
                                    recursive=False)
        self._observer.daemon = True
        self._observer.start()
        log.info("watching %s for new files (debounce %.0f ms)", ", ".join(str(p) for p in self.inboxes.values()),
                 self.debounce_s * 1000)
        return self

    def stop(self) -> None:
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
        if self._observer.is_alive():
            self._observer.stop()
            self._observer.join(timeout=5)

    def _seen(self, source: str, kind: str, name: str) -> None:
        """A ready-named file event: renamed in or closed after writing -> a run; created -> a run unless the
        file turns out to be written in place (a 'modified' follows: then its close asks for the run)."""
        with self._lock:
            key = (source, name)
            if kind == "modified":
                self._writing.add(key)
                return
            if kind == "closed":
                self._writing.discard(key)
        self._kick(source, settle=kind == "created")

    def _kick(self, source: str, settle: bool = False) -> None:
        with self._lock:
            self.kicks += 1
            self._settle[source] = self._settle.get(source, False) or settle
            if source in self._timers:  # a run is already due within the window: this file joins it
                return
            self._arm(source)

    def _arm(self, source: str) -> None:
        timer = threading.Timer(self.debounce_s, self._fire, args=(source,))
        timer.name, timer.daemon = f"r57-watch-{source}", True
        self._timers[source] = timer
        timer.start()

    def _fire(self, source: str) -> None:
        folder = self.inboxes[source]
        with self._lock:
            settle = self._settle.pop(source, False)
        if settle:  # a "created" file: load only once nothing in the inbox is still being written
            before = _sizes(folder)
            threading.Event().wait(self.debounce_s)
            with self._lock:
                self._writing = {k for k in self._writing if (self.inboxes[k[0]] / k[1]).exists()}  # gone: forget
                writing = any(src == source for src, _ in self._writing)
                if writing:  # its close event asks for the run
                    self._timers.pop(source, None)
                    return
                if _sizes(folder) != before:
                    self._settle[source] = True
                    self._arm(source)
                    return
        with self._lock:
            self._timers.pop(source, None)  # events from now on ask for the next run
        self.runs += 1
        try:
            self.run(source)  # waits for a run in progress (the inbox lock), then loads what is left
        except Exception:  # the watcher must outlive any one run; the polling tick retries
            log.exception("ingest on arrival (%s) failed; the polling tick will retry", source)
