"""Progress bars for an ingest run (files, pages, chunks, each with a rate and an ETA), on stderr.

A thin wrapper over ``rich.progress`` so the ingest loop only reports counts; with
``enabled=False`` every call is a no-op (JSON output, tests, pipes).
"""
from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class IngestProgress:
    def __init__(self, files: int, enabled: bool):
        self.enabled = enabled and files > 0
        self._progress: Progress | None = None
        self._files = files

    def __enter__(self) -> IngestProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description:<7}"), BarColumn(), MofNCompleteColumn(),
                TaskProgressColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._progress.start()
            self._file_task = self._progress.add_task("files", total=self._files)
            self._page_task = self._progress.add_task("pages", total=None)
            self._chunk_task = self._progress.add_task("chunks", total=0)
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def file_done(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._file_task)

    def pages_parsed(self, pages: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._page_task, pages)

    def add_chunks(self, count: int) -> None:
        if self._progress is not None:
            task = self._progress.tasks[self._chunk_task]
            self._progress.update(self._chunk_task, total=(task.total or 0) + count)

    def chunks_embedded(self, count: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._chunk_task, count)
