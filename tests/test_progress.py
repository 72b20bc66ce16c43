"""Progress lines tell the truth: ✓ only for a step that succeeded (issue #13)."""

from __future__ import annotations

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
