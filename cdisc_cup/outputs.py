"""Output folders the tool writes as a whole, without ever touching what the user put there.

A command that writes a folder (`convert --out`, `validate --report-dir`) names the entries it
writes at the top of that folder (`m5`, `reports`, `tables`, `index.html`; or the four
findings files). Before any work, `OutputFolder.check` decides whether the folder may be
written:

- it does not exist, or is empty: it is made (with the user's umask) and written;
- it holds the manifest `.cdisc-cup-manifest.json` of an earlier run: the entries that run
  wrote are replaced, provided nothing the manifest does not list lies inside them;
  anything else at the top (the user's `notes.sas`) is left alone;
- otherwise (a non-empty folder the tool did not make, an existing file) it is refused with
  exit code 4 and what to do; `--force` writes a non-empty folder anyway, replacing only the
  entries the command writes. An existing file is never replaced.

Everything is written into a staging folder inside the output folder, and swapped into place
only when the whole run succeeded (SIGINT held off during the few renames), so a failed,
interrupted or killed run leaves the previous output as it was. The staging folder of a
killed run is removed by the next run; the output folder itself is never renamed, so
`--out .` works and the user's shell stays where it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cdisc_cup.errors import OutputError, Problem, display_path, first_problems

MANIFEST = ".cdisc-cup-manifest.json"
STAGING_PREFIX = ".cdisc-cup-staging-"
PREVIOUS_PREFIX = ".cdisc-cup-previous-"
TOOL = "cdisc-cup"


@dataclass(frozen=True)
class Manifest:
    """What an earlier run wrote: enough to tell the tool's files from the user's."""

    tool: str
    version: str
    created: str
    command: str
    entries: tuple[str, ...]  # top-level names written
    files: frozenset[str]  # every file written, relative, with "/" separators
    # What the run read that its files describe and a later command rewriting them must know
    # (`adam`: the SDTM folder, which the output does not hold), as the command recorded it.
    inputs: Mapping[str, object] = field(default_factory=dict)

    @staticmethod
    def read(folder: Path) -> Manifest | None:
        """The manifest of `folder`, or None when there is none (or it is not ours)."""
        path = folder / MANIFEST
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("tool") != TOOL:
            return None
        return Manifest(
            tool=TOOL,
            version=str(document.get("version", "")),
            created=str(document.get("created", "")),
            command=str(document.get("command", "")),
            entries=tuple(str(e) for e in document.get("entries", [])),
            files=frozenset(str(f) for f in document.get("files", [])),
            inputs=inputs if isinstance(inputs := document.get("inputs", {}), dict) else {},
        )


def _ours(name: str) -> bool:
    return name == MANIFEST or name.startswith((STAGING_PREFIX, PREVIOUS_PREFIX))


def _files_under(folder: Path, entry: str) -> list[str]:
    """Relative paths ("m5/datasets/...") of every file or link at or below `folder/entry`."""
    top = folder / entry
    if not top.is_dir() or top.is_symlink():
        return [entry] if top.exists() or top.is_symlink() else []
    return sorted(path.relative_to(folder).as_posix() for path in top.rglob("*") if not path.is_dir())


@dataclass(frozen=True)
class OutputFolder:
    """One output folder of one command run (`entries`: the top-level names it writes)."""

    path: Path
    entries: tuple[str, ...]
    command: str
    force: bool = False

    @property
    def where(self) -> str:
        return display_path(self.path)

    def check(self) -> None:
        """Refuse, before any work, an output the tool must not write (OutputError, exit 4)."""
        path = self.path
        if path.exists() and not path.is_dir():
            raise OutputError(
                [
                    Problem(
                        self.where,
                        "is a file, and cdisc-cup never replaces a file it did not make",
                        expected="a new or empty folder (choose another --out)",
                    )
                ]
            )
        if not path.exists():
            self._check_creatable()
            return
        manifest = Manifest.read(path)
        present = sorted(p.name for p in path.iterdir() if not _ours(p.name))
        if manifest is None:
            if present and not self.force:
                shown = ", ".join(present[:5]) + (f" and {len(present) - 5} more" if len(present) > 5 else "")
                raise OutputError(
                    [
                        Problem(
                            self.where,
                            f"is not empty and was not made by cdisc-cup (it holds {shown})",
                            expected="a new or empty folder, or --force to write into it anyway "
                            f"(cdisc-cup then replaces only {self._entry_list()} there)",
                        )
                    ]
                )
            return
        foreign = self._foreign_files(manifest)
        if foreign and not self.force:
            listed = first_problems(
                [Problem(display_path(path / name), "was not written by cdisc-cup") for name in foreign], 10
            )
            raise OutputError(
                [
                    Problem(
                        self.where,
                        f"holds {len(foreign)} file(s) that cdisc-cup did not write inside what it would "
                        "replace; move them out of the way, or use --force to replace them too",
                    ),
                    *listed,
                ]
            )

    def _check_creatable(self) -> None:
        ancestor = self.path.absolute().parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
            raise OutputError(
                [Problem(self.where, f"cannot be created: {display_path(ancestor)} is not a writable folder")]
            )

    def _entry_list(self) -> str:
        return ", ".join(self.entries)

    def _foreign_files(self, manifest: Manifest) -> list[str]:
        """Files inside what would be replaced that the earlier run did not write."""
        replaced = sorted(set(manifest.entries) | set(self.entries))
        return [f for entry in replaced for f in _files_under(self.path, entry) if f not in manifest.files]

    @contextmanager
    def staged(self, version: str, created: str, inputs: Mapping[str, object] | None = None) -> Iterator[Path]:
        """A staging folder to write everything into; swapped into place when the block
        ends without an error, removed (and a folder made by this run too) when it does not.
        `inputs` goes into the manifest (`Manifest.inputs`)."""
        self.check()
        made_root = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            remove_stale(self.path)
            staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.path))
        except OSError as error:
            raise OutputError([Problem(self.where, f"cannot be written: {error.strerror}")]) from error
        try:
            yield staging
            self._write_manifest(staging, version, created, inputs or {})
            with _sigint_held():
                self._swap_in(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if made_root:
                _remove_if_empty(self.path)
            raise

    def _write_manifest(self, staging: Path, version: str, created: str, inputs: Mapping[str, object]) -> None:
        written = sorted(p.name for p in staging.iterdir())
        unexpected = [name for name in written if name not in self.entries]
        if unexpected:  # a programming error: every command declares what it writes
            raise RuntimeError(f"{self.command} wrote undeclared entries: {unexpected}")
        files = [f for name in written for f in _files_under(staging, name)]
        document = {
            "tool": TOOL,
            "version": version,
            "created": created,
            "command": self.command,
            "entries": written,
            "files": files,
            **({"inputs": dict(inputs)} if inputs else {}),
        }
        (staging / MANIFEST).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")

    def _swap_in(self, staging: Path) -> None:
        """Old entries aside, new ones in, old ones deleted; undone if a rename fails."""
        manifest = Manifest.read(self.path)
        old = set(manifest.entries) if manifest is not None else set()
        replaced = [n for n in sorted(old | set(self.entries) | {MANIFEST}) if (self.path / n).exists()]
        previous = Path(tempfile.mkdtemp(prefix=f"{PREVIOUS_PREFIX}{os.getpid()}-", dir=self.path))
        moved_aside: list[str] = []
        moved_in: list[str] = []
        try:
            for name in replaced:
                (self.path / name).rename(previous / name)
                moved_aside.append(name)
            for entry in sorted(p.name for p in staging.iterdir()):
                (staging / entry).rename(self.path / entry)
                moved_in.append(entry)
        except OSError as error:
            for name in moved_in:
                (self.path / name).rename(staging / name)
            for name in moved_aside:
                (previous / name).rename(self.path / name)
            previous.rmdir()
            raise OutputError([Problem(self.where, f"the new output cannot be put in place: {error}")]) from error
        staging.rmdir()
        shutil.rmtree(previous, ignore_errors=True)


def remove_stale(folder: Path) -> None:
    """Staging folders of runs whose process is gone are deleted; an old output set aside by a
    run killed during its last renames is put back when nothing replaced it."""
    for candidate in sorted(folder.glob(".cdisc-cup-*")):
        for prefix in (STAGING_PREFIX, PREVIOUS_PREFIX):
            if not candidate.name.startswith(prefix) or not candidate.is_dir():
                continue
            pid = candidate.name.removeprefix(prefix).split("-")[0]
            if not pid.isdigit() or _alive(int(pid)):
                continue
            if prefix == PREVIOUS_PREFIX and not (folder / MANIFEST).exists():
                for entry in candidate.iterdir():
                    if not (folder / entry.name).exists():
                        entry.rename(folder / entry.name)
            shutil.rmtree(candidate, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Ctrl-C during the final renames would leave half the new output in place: it waits."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to hold off
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def problems_file(output: Path) -> Path:
    """Where the full list of input problems goes: beside the output folder, never into it
    (`out` -> `out-problems.txt`; `--out .` -> `../<name>-problems.txt`)."""
    absolute = output.absolute()
    return absolute.parent / f"{absolute.name}-problems.txt"


PROBLEMS_HEADER = "# cdisc-cup: problems of the input"


def write_problems_file(path: Path, title: str, problems: Sequence[Problem]) -> bool:
    """Write the complete list; a file of that name the tool did not write is left alone."""
    if path.exists() and not _is_problems_file(path):
        return False
    text = "\n".join([PROBLEMS_HEADER, f"# {title}", *(str(p) for p in problems)]) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError:
        return False
    return True


def remove_problems_file(path: Path) -> None:
    """A successful run removes the list an earlier failed run left (only one the tool wrote)."""
    if path.is_file() and _is_problems_file(path):
        path.unlink()


def _is_problems_file(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().rstrip("\n") == PROBLEMS_HEADER
    except (OSError, UnicodeDecodeError):
        return False
