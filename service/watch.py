"""Ingest on arrival: the scheduler process watches the inboxes and loads a file as soon as it is complete.

A file is complete when it is renamed into the inbox (the protocol every sender is asked to follow: write
`.name.tmp`, then rename) or closed after writing (inotify's IN_CLOSE_WRITE, for senders that write in
place); a created-but-still-open file is not touched. Events within `debounce_s` (250 ms) are coalesced
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

from watchdog.events import FileClosedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ingest.runner import is_ready_name

log = logging.getLogger(__name__)


class _Handler(FileSystemEventHandler):
    def __init__(self, kick: Callable[[], None]) -> None:
        self._kick = kick

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        if isinstance(event, FileMovedEvent):
            path = event.dest_path
        elif isinstance(event, FileClosedEvent):
            path = event.src_path
        else:  # created, modified: the sender may still be writing; wait for its close or rename
            return
        if is_ready_name(Path(str(path)).name):
            self._kick()


class InboxWatcher:
    """Watches `inboxes` (source -> folder) and calls `run(source)` once per burst of completed files."""

    def __init__(self, inboxes: Mapping[str, Path], run: Callable[[str], object], debounce_s: float = 0.25) -> None:
        self.inboxes = dict(inboxes)
        self.run = run
        self.debounce_s = debounce_s
        self._observer = Observer()
        self._lock = threading.Lock()
        self._timers: dict[str, threading.Timer] = {}
        self.kicks = 0   # events that asked for a run (for tests, logs)
        self.runs = 0    # runs this watcher started

    def start(self) -> InboxWatcher:
        for source, folder in self.inboxes.items():
            folder.mkdir(parents=True, exist_ok=True)
            self._observer.schedule(_Handler(lambda s=source: self._kick(s)), str(folder), recursive=False)
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

    def _kick(self, source: str) -> None:
        with self._lock:
            self.kicks += 1
            if source in self._timers:  # a run is already due within the window: this file joins it
                return
            timer = threading.Timer(self.debounce_s, self._fire, args=(source,))
            timer.name, timer.daemon = f"r57-watch-{source}", True
            self._timers[source] = timer
            timer.start()

    def _fire(self, source: str) -> None:
        with self._lock:
            self._timers.pop(source, None)  # events from now on ask for the next run
        self.runs += 1
        try:
            self.run(source)  # waits for a run in progress (the inbox lock), then loads what is left
        except Exception:  # the watcher must outlive any one run; the polling tick retries
            log.exception("ingest on arrival (%s) failed; the polling tick will retry", source)
