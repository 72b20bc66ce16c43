"""Progress lines tell the truth: ✓ only for a step that succeeded (issue #13)."""

from __future__ import annotations

import threading
import time

import pytest

from cdisc_cup.progress import Progress, Verbosity


def steps(capsys: pytest.CaptureFixture[str], error: BaseException | None) -> str:
    progress = Progress(Verbosity.NORMAL)
    try:
        with progress.step("read raw export", "export/"):
            if error is not None:
                raise error
    except BaseException:
        pass
    return capsys.readouterr().err


def test_a_step_that_succeeded_is_ticked(capsys: pytest.CaptureFixture[str]) -> None:
    line = steps(capsys, None).strip()
    assert line.startswith("✓ read raw export export/ (") and line.endswith(" s)")


def test_a_step_that_failed_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    line = steps(capsys, ValueError("broken")).strip()
    assert line.startswith("✗ read raw export export/: failed after ") and "✓" not in line


def test_a_step_stopped_by_ctrl_c_says_interrupted(capsys: pytest.CaptureFixture[str]) -> None:
    line = steps(capsys, KeyboardInterrupt()).strip()
    assert line.startswith("✗ read raw export export/: interrupted after ")


def test_quiet_prints_no_steps(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(Verbosity.QUIET)
    with progress.step("map SDTM"):
        pass
    assert capsys.readouterr().err == "" and "map SDTM" in progress.timings


def test_a_step_beside_others_reports_its_own_time_when_they_are_done(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(Verbosity.NORMAL)
    written: list[str] = []
    with progress.beside("write audit trail", lambda: written.append("trace.csv")), progress.step("derive ADaM"):
        pass
    lines = capsys.readouterr().err.strip().splitlines()
    assert written == ["trace.csv"] and len(lines) == 2
    assert lines[0].strip().startswith("✓ derive ADaM (")
    assert lines[1].strip().startswith("✓ write audit trail (") and " s beside the steps above, " in lines[1]
    assert lines[1].endswith(" s more)") and "write audit trail" in progress.timings


def test_a_step_beside_others_that_failed_says_so_and_raises(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(Verbosity.NORMAL)

    def broken() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), progress.beside("write audit trail", broken):
        pass
    line = capsys.readouterr().err.strip()
    assert line.startswith("✗ write audit trail: failed after ") and "✓" not in line


def test_the_steps_beside_a_step_end_only_once_it_has_ended(capsys: pytest.CaptureFixture[str]) -> None:
    """A block that raised still waits for the work beside it, so nothing is written into a
    staging folder after it has been removed."""
    progress = Progress(Verbosity.NORMAL)
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    with pytest.raises(KeyboardInterrupt), progress.beside("write audit trail", slow):
        raise KeyboardInterrupt
    assert finished.is_set()
