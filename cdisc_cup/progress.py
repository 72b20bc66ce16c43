"""Progress for long steps: a bar on a terminal, plain lines in CI logs and pipes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click


def interactive() -> bool:
    """A live bar only where a person watches a terminal; CI logs get one line per step."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in {"1", "true", "yes"}


@dataclass
class Progress:
    """Reports steps of a run; `quiet` silences it for library use and tests."""

    quiet: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[None]:
        started = time.perf_counter()
        if not self.quiet and interactive():
            click.echo(f"  … {name} {detail}".rstrip(), err=True, nl=False)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.timings[name] = self.timings.get(name, 0.0) + elapsed
            if not self.quiet:
                prefix = "\r" if interactive() else ""
                click.echo(f"{prefix}  ✓ {name} {detail}".rstrip() + f" ({elapsed:.2f} s)", err=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            click.echo(f"    {text}", err=True)
