"""Progress of long commands: one line per unit of work and a summary.

On a terminal, a status line shows what is running (`[3/7] compiling src/orders.proc`), every
finished unit gets a line with its duration, and the summary gives the total time. When the
output is not a terminal (CI logs, pipes, tests) the output is plain: no status line, no
colours, no durations, so that the same build prints the same text.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Optional, TextIO

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1"}


def format_duration(seconds: float) -> str:
    if seconds < 1.0:
        return f"{max(0, int(round(seconds * 1000)))} ms"
    if seconds < 60.0:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


class Progress:
    """Reports the units of a command. `mode` is "auto" (a terminal gets the live form),
    "tty" or "plain"."""

    def __init__(
        self,
        stream: Optional[TextIO] = None,
        mode: str = "auto",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        if mode == "auto":
            isatty = getattr(self.stream, "isatty", None)
            self.live = bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
        else:
            self.live = mode == "tty"
        self.colour = self.live and "NO_COLOR" not in os.environ
        self.clock = clock
        self.started = clock()
        self._status = False
        self._total = 0
        self._index = 0

    # -- building blocks ---------------------------------------------------------------------
    def paint(self, text: str, colour: str) -> str:
        if not self.colour:
            return text
        return f"\033[{_COLOURS[colour]}m{text}\033[0m"

    def clear(self) -> None:
        """Removes the status line (before something else writes to the terminal)."""
        self._clear_status()
        self.stream.flush()

    def _clear_status(self) -> None:
        if self._status:
            self.stream.write("\r\033[K")
            self._status = False

    def line(self, text: str) -> None:
        self._clear_status()
        self.stream.write(text + "\n")
        self.stream.flush()

    # -- units of work -------------------------------------------------------------------------
    def begin(self, total: int) -> None:
        self._total = total
        self._index = 0

    def unit_started(self, verb: str, label: str) -> float:
        """Shows what runs now (on a terminal) and returns the start time for `unit_done`."""
        self._index += 1
        if self.live:
            self._clear_status()
            width = len(str(self._total))
            self.stream.write(
                self.paint(f"[{self._index:>{width}}/{self._total}]", "dim") + f" {verb} {label}"
            )
            self.stream.flush()
            self._status = True
        return self.clock()

    def status(self, text: str) -> float:
        """Shows `text` as the status line on a terminal (a plain line otherwise); returns the
        start time for `unit_done`."""
        if self.live:
            self._clear_status()
            self.stream.write(text)
            self.stream.flush()
            self._status = True
        else:
            self.line(text)
        return self.clock()

    def unit_done(
        self, outcome: str, label: str, started: float, detail: str = "", colour: str = "green"
    ) -> None:
        """One finished unit: `compiled src/orders.schema  12 ms  (2 files)`."""
        text = f"{self.paint(f'{outcome:<10}', colour)} {label}"
        if self.live:
            text += "  " + self.paint(format_duration(self.clock() - started), "dim")
        if detail:
            text += f"  ({detail})"
        self.line(text)

    def summary(self, text: str, ok: bool = True) -> None:
        if self.live:
            text += f" in {format_duration(self.clock() - self.started)}"
        self.line(self.paint(text, "bold" if ok else "red"))

    def finish(self) -> None:
        self._clear_status()
        self.stream.flush()
