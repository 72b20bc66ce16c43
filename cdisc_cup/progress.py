"""Progress for long steps: a live line on a terminal, plain lines in CI logs and pipes.

A step shows ✓ only when it succeeded; a step that raised shows ✗ with "failed", one
stopped by Ctrl-C "interrupted", so the last line on the screen never claims work that was
not done.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum

import click


class Verbosity(IntEnum):
    QUIET = 0  # only the summary and errors
    NORMAL = 1  # one line per step
    VERBOSE = 2  # also notes and every problem


def interactive() -> bool:
    """A live line only where a person watches a terminal; CI logs get one line per step."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in {"1", "true", "yes"}


@dataclass
class Progress:
    """Reports steps of a run; QUIET silences it for library use and tests."""

    verbosity: Verbosity = Verbosity.NORMAL
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def silent(cls) -> Progress:
        return cls(Verbosity.QUIET)

    @property
    def shows_steps(self) -> bool:
        return self.verbosity >= Verbosity.NORMAL

    @contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[None]:
        started = time.perf_counter()
        label = f"{name} {detail}".rstrip()
        live = self.shows_steps and interactive()
        if live:
            click.echo(f"  … {label}", err=True, nl=False)
        try:
            yield
        except KeyboardInterrupt:
            self._finish(name, "✗", label, started, live, "interrupted")
            raise
        except BaseException:
            self._finish(name, "✗", label, started, live, "failed")
            raise
        self._finish(name, "✓", label, started, live)

    @contextmanager
    def beside(self, name: str, work: Callable[[], object]) -> Iterator[None]:
        """`work` as a step on a thread of its own while the block runs its steps: one that
        spends its time in C without Python's lock (the audit trail, written by Arrow) beside
        ones that need it (ADaM derivations), on a machine of two cores. Its line comes when
        the block ends: its own time, and how much longer the block then waited for it. The
        block never ends before `work` does, even when it raised, so that nothing is written
        into a folder that is being removed."""
        started = time.perf_counter()
        ended: list[float] = []

        def timed() -> object:
            try:
                return work()
            finally:
                ended.append(time.perf_counter())

        with ThreadPoolExecutor(1, thread_name_prefix="beside") as pool:
            future = pool.submit(timed)
            try:
                yield
            finally:
                waited_from = time.perf_counter()
                _wait_through_interrupts(future)
        error = future.exception()
        if error is not None:
            self._finish(name, "✗", name, started, False, "failed")
            raise error
        elapsed = ended[0] - started
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        if self.shows_steps:
            waited = max(time.perf_counter() - waited_from, 0.0)
            click.echo(f"  ✓ {name} ({elapsed:.2f} s beside the steps above, {waited:.2f} s more)", err=True)

    def _finish(self, name: str, mark: str, label: str, started: float, live: bool, outcome: str = "") -> None:
        elapsed = time.perf_counter() - started
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        if not self.shows_steps:
            return
        prefix = "\r" if live else ""
        suffix = f": {outcome} after {elapsed:.2f} s" if outcome else f" ({elapsed:.2f} s)"
        click.echo(f"{prefix}  {mark} {label}{suffix}", err=True)

    def note(self, text: str) -> None:
        if self.shows_steps:
            click.echo(f"    {text}", err=True)

    def detail(self, text: str) -> None:
        """Only with --verbose."""
        if self.verbosity >= Verbosity.VERBOSE:
            click.echo(f"    {text}", err=True)


def _wait_through_interrupts(future: Future[object]) -> None:
    """Until `future` is done, even through Ctrl-C, which is raised again afterwards."""
    interrupted: KeyboardInterrupt | None = None
    while not future.done():
        try:
            wait([future])
        except KeyboardInterrupt as error:
            interrupted = error
    if interrupted is not None:
        raise interrupted
