"""The allocator choice and the release of freed memory between stages (issue #19)."""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cdisc_cup.memory import POOL_VARIABLE, release_freed_memory, use_system_allocator


@pytest.fixture
def default_pool() -> object:
    before = pa.default_memory_pool()
    yield
    pa.set_memory_pool(before)


def test_arrow_allocates_with_the_c_library_unless_the_user_chose(default_pool: object, monkeypatch) -> None:
    monkeypatch.delenv(POOL_VARIABLE, raising=False)
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    use_system_allocator()
    assert pa.default_memory_pool().backend_name == "system"
    monkeypatch.setenv(POOL_VARIABLE, "mimalloc")
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    use_system_allocator()
    assert pa.default_memory_pool().backend_name == "mimalloc"


def _resident_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not os.path.exists("/proc/self/status"), reason="glibc")
def test_freed_memory_goes_back_to_the_system() -> None:
    """Blocks below glibc's mmap threshold come from its heap; a few kept among them keep
    the heap from shrinking on free, as a stage's scattered survivors do. The release
    gives the free pages between them back."""
    blocks = [np.ones(8_000, dtype=np.float64) for _ in range(6_000)]  # 64 KB each: 375 MiB
    kept = blocks[::500]
    del blocks
    before = _resident_mib()
    release_freed_memory()
    after = _resident_mib()
    assert kept and before - after > 100, (before, after)


def test_a_large_dataset_held_only_by_a_reference_cycle_is_released() -> None:
    """A stage's frame that refers to itself (as pandas objects often do) is freed by the
    release, not at some later collection."""

    class Cycle:
        def __init__(self) -> None:
            numbers = pa.array(np.arange(40_000_000, dtype=np.int64))  # numpy's memory
            self.column = pc.multiply(numbers, 2)  # 305 MiB in Arrow's pool
            self.me = self

    gc.disable()
    try:
        Cycle()
        held = pa.total_allocated_bytes()
        release_freed_memory()
        assert held - pa.total_allocated_bytes() >= 300 * 2**20
    finally:
        gc.enable()


# Frees column-sized blocks from a thread, among small blocks that stay: the resident memory
# (MiB) before they were made, with them, and after they were freed.
_COLUMNS_FREED_IN_A_THREAD = """
import sys, threading
import numpy as np
from cdisc_cup.memory import use_system_allocator

def resident():
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

if sys.argv[1] == "tuned":
    use_system_allocator()
found = []

def stage():
    np.ones(2**21)  # a 16 MiB column freed: glibc would take it as its new threshold
    before = resident()
    columns, kept = [], []
    for _ in range(40):
        columns.append(np.ones(6 * 2**17))  # 6 MiB each
        kept.append(np.ones(1_000))
    held = resident()
    del columns
    found.extend([before, held, resident()])

thread = threading.Thread(target=stage)
thread.start()
thread.join()
print(*found)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not os.path.exists("/proc/self/status"), reason="glibc")
@pytest.mark.parametrize("allocator", ["tuned", "glibc's default"])
def test_freed_columns_go_back_to_the_system_at_once(allocator: str) -> None:
    """With the CLI's allocator settings, a stage's freed columns are no longer resident when
    it ends, without a release (glibc's default keeps the 240 MiB in the thread's heap)."""
    environment = {key: value for key, value in os.environ.items() if key != "MALLOC_MMAP_THRESHOLD_"}
    completed = subprocess.run(
        [sys.executable, "-c", _COLUMNS_FREED_IN_A_THREAD, allocator],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    before, held, after = map(float, completed.stdout.split())
    assert held - before > 200, (before, held, after)
    if allocator == "tuned":
        assert after - before < 20, (before, held, after)
    else:
        assert after - before > 200, (before, held, after)
