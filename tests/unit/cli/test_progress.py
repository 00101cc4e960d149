"""Progress off a terminal: plain lines, one per phase and at most one per interval a step."""

from __future__ import annotations

import io

from rich.console import Console

from scalepredict.cli.progress import progress


def test_plain_lines_in_a_pipe_throttled_per_step_with_the_last_always():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    assert not console.is_terminal
    with progress(console, every=3600) as report:
        for i in range(1, 13):
            report("search", i, 12)
        report("comparing with the champion", 0, 0)
        report("fit", 1, 1)
    lines = out.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "hyperparameter search: 1/12",
        "hyperparameter search: 12/12",
        "comparing with the champion",
        "calibrate + test: 1/1",
    ]
    assert all(line.startswith("[") and " s] " in line for line in lines)
    assert "\x1b" not in out.getvalue()  # no escape codes in a log


def test_every_update_when_the_interval_is_zero():
    out = io.StringIO()
    with progress(Console(file=out, force_terminal=False), every=0) as report:
        for i in range(1, 4):
            report("search", i, 3)
    assert out.getvalue().count("hyperparameter search") == 3
