"""One exception tree for input the tool cannot use.

Every problem carries its location (file, line, column, value, expected) so the CLI can tell
the user what to fix without a traceback. Problems are collected and raised together
(`InputErrors`), because a user fixing an export wants the whole list in one run.
Conformance findings on datasets are *not* exceptions: see `cdisc_cup.findings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Exit codes, documented in the README ("Exit codes") and in every command's --help.
EXIT_FINDINGS = 1  # validate: findings at or above --fail-on
EXIT_INPUT = 2
EXIT_SPEC = 3
EXIT_OUTPUT = 4
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT (128 + 2)


# The most records one check of one file (or one variable of one dataset) is reported with;
# past it a count stands for the rest. Enough to fix a wholesale mistake by its examples, few
# enough that a broken million-record export is reported in seconds. The terminal shows the
# first problems of all (cli.SHOWN_PROBLEMS); the file beside the output holds them all.
MAX_LOCATED = 1000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as it can be.

    `line` is 1-based with the header as line 1, as a user sees the file in an editor.
    """

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value {self.value!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


class CdiscCupError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code = EXIT_INPUT
    noun = "input"

    def __init__(self, problems: Iterable[Problem], *, source: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        self.source = source or self.noun
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def title(self) -> str:
        n = len(self.problems)
        return f"The {self.source} has {n} problem{'s' if n != 1 else ''}"


class InputErrors(CdiscCupError):
    """Input that cannot be used: unreadable files, bad values, broken keys and references.

    `source` names the input as the user knows it: "raw export", "dataset folder",
    "ADaM folder".
    """

    exit_code = EXIT_INPUT
    noun = "raw export"


class SpecErrors(CdiscCupError):
    """Mapping-spec or rule-file problems; `column` holds the key path inside the YAML."""

    exit_code = EXIT_SPEC
    noun = "specs"

    @property
    def title(self) -> str:
        n = len(self.problems)
        return f"The specs have {n} problem{'s' if n != 1 else ''}"


class ConformanceErrors(CdiscCupError):
    """A dataset does not fit its spec (name, label, length, type, codelist) before writing.

    Raised instead of writing a silently truncated or non-conformant XPT file.
    """

    exit_code = EXIT_INPUT

    @property
    def title(self) -> str:
        n = len(self.problems)
        return f"{n} problem{'s' if n != 1 else ''} with datasets that do not fit their specs"


class OutputError(CdiscCupError):
    """The output folder cannot, or must not, be written."""

    exit_code = EXIT_OUTPUT

    @property
    def title(self) -> str:
        return "The output cannot be written"


def first_problems(problems: Sequence[Problem], limit: int, *, what: str = "problems") -> list[Problem]:
    """The first `limit` problems, then one line with the count of the rest: enough to act on,
    never a flood (every list of problems shown to a user is cut here)."""
    if len(problems) <= limit:
        return list(problems)
    rest = len(problems) - limit
    return [*problems[:limit], Problem(problems[limit].file, f"… and {rest} more {what}")]


def display_path(path: Path | str) -> str:
    """The path as the user gave it, without resolving symlinks or home folders."""
    return str(path)
