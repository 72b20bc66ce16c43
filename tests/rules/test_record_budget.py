"""Rule runs side by side stay within a budget of records (the conversion's memory peak)."""

from __future__ import annotations

import threading

from cdisc_cup.rules.engine import _RecordBudget


def _start_in_thread(budget: _RecordBudget, records: int, release: threading.Event) -> threading.Event:
    started = threading.Event()

    def run() -> None:
        with budget.held(records):
            started.set()
            release.wait(10)

    threading.Thread(target=run, daemon=True).start()
    return started


def test_runs_within_the_budget_run_side_by_side() -> None:
    budget, release = _RecordBudget(10), threading.Event()
    with budget.held(6):
        assert _start_in_thread(budget, 4, release).wait(10)
    release.set()


def test_a_run_that_would_go_over_the_budget_waits_for_the_others() -> None:
    budget, release = _RecordBudget(10), threading.Event()
    with budget.held(6):
        waiting = _start_in_thread(budget, 5, release)
        assert not waiting.wait(0.3)
    assert waiting.wait(10)  # started once the first run let go
    release.set()


def test_a_dataset_larger_than_the_budget_runs_alone() -> None:
    budget, release = _RecordBudget(10), threading.Event()
    alone = _start_in_thread(budget, 1_000, release)
    assert alone.wait(10)
    assert not _start_in_thread(budget, 1, release).wait(0.3)
    release.set()
