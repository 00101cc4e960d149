"""Progress of long commands on stderr: a live bar in a terminal; plain lines where the output
is a pipe or a file (`make run`, CI logs), where a bar would print nothing until the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

Report = Callable[[str, int, int], None]
LABELS = {"search": "hyperparameter search", "fit": "calibrate + test"}


def _plain(console: Console, every: float) -> Report:
    """One line per step, at most one every `every` seconds within a step (its last always)."""
    start = time.monotonic()
    last: dict[str, float] = {}

    def report(step: str, i: int, n: int) -> None:
        now = time.monotonic()
        if n == 0:
            console.print(f"[{now - start:5.0f} s] {step}", highlight=False, soft_wrap=True)
            return
        if i < n and now - last.get(step, -every) < every:
            return
        last[step] = now
        console.print(
            f"[{now - start:5.0f} s] {LABELS.get(step, step)}: {i}/{n}",
            highlight=False,
            soft_wrap=True,
        )

    return report


@contextmanager
def progress(console: Console, every: float = 5.0) -> Iterator[Report]:
    """A `(step, done, total)` reporter; total 0 prints `step` as a message."""
    if not console.is_terminal:
        yield _plain(console, every)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, object] = {}

        def report(step: str, i: int, n: int) -> None:
            if n == 0:
                console.print(step)
                return
            if step not in tasks:
                tasks[step] = bar.add_task(LABELS.get(step, step), total=n)
            bar.update(tasks[step], completed=i)  # type: ignore[arg-type]

        yield report
