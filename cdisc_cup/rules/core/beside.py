"""CORE's rules in a second process, beside ours, on large data.

Our rules and CORE's read the same datasets and neither needs the other's findings, but a
process works on one core (pandas and Python work one at a time). On a study of 100,000
patients (5.6 million records) ours take about 9 s of the run and CORE's 40 s, so a validate
with both uses the second core: a child forked after reading (sharing the datasets with the
parent, copy on write, instead of reading or sending them again) starts on CORE's rules, and
the parent takes CORE's rule groups too once ours are done, each process the next group not
taken (`Turns`). Small studies run in-process: a fork costs more than it saves there.
"""

from __future__ import annotations

import multiprocessing
import sys
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# From how many records CORE's rules run in their own process (the sample conversion and the
# CDISC pilot have a few thousand; a 10,000-patient study has about 560,000).
BESIDE_FROM_RECORDS = 250_000


def can_fork() -> bool:
    """Whether this platform forks (Linux does; Windows cannot, and macOS forks unsafely)."""
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


class Turns:
    """The numbers 0, 1, 2 ... each handed out once, across the processes forked after it is
    made (the next rule group to run, whichever process asks first)."""

    def __init__(self) -> None:
        self._next = multiprocessing.get_context("fork").Value("l", 0)

    def __iter__(self) -> Iterator[int]:
        while True:
            with self._next.get_lock():
                turn = self._next.value
                self._next.value += 1
            yield turn


class Beside(Generic[T]):
    """`work()` in a forked child process while the caller goes on; `result()` waits for it."""

    def __init__(self, work: Callable[[], T]) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        # forked: the child inherits `work` and the datasets it reads; nothing is pickled but the result
        self._process = context.Process(target=_run_child, args=(work, send), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> T:
        """The child's result; its error (or its end without one) raised here."""
        try:
            outcome, payload = self._receive.recv()
        except EOFError:
            self._process.join()
            raise RuntimeError(
                f"the process running the CORE rules ended without results (exit code {self._process.exitcode})"
            ) from None
        finally:
            self._receive.close()
        self._process.join()
        if outcome == "error":
            raise RuntimeError(f"the CORE rules failed in their process:\n{payload}")
        return payload

    def stop(self) -> None:
        """End the child if it still runs (the caller failed or was interrupted)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _run_child(work: Callable[[], Any], send: Connection) -> None:
    try:
        reply: tuple[str, Any] = ("result", work())
    except BaseException as error:  # reported by the parent, which has the user's terminal
        reply = ("error", "".join(traceback.format_exception(error)))
    send.send(reply)
    send.close()
