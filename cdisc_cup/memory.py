"""Memory between pipeline stages: what a 100,000-patient conversion holds at its peak.

The datasets live in Arrow buffers. Arrow's default allocator (mimalloc) keeps the pages
of freed buffers for reuse and fills fresh ones slowly; at 5.6 million SDTM records that
cost a conversion seconds and kept the raw export's memory after it was let go (issue
#19: 2.8 GB peak). The C library's allocator, told at the end of a stage to give back
what is free, does neither.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from functools import cache

import pyarrow as pa

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"  # Arrow's own setting: a user's choice wins
# Datasets in Arrow memory from which a release also runs the cycle collector (a 10,000-patient
# study holds about 120 MB, where seven collections would cost more than the memory is worth).
COLLECT_FROM_BYTES = 256 * 2**20


# glibc's mallopt(3) parameter M_MMAP_THRESHOLD (malloc.h), and its own environment variable.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_VARIABLE = "MALLOC_MMAP_THRESHOLD_"
# Blocks of at least this size get pages of their own, which go back to the system when freed.
OWN_PAGES_FROM_BYTES = 4 * 2**20


def use_system_allocator() -> None:
    """Arrow allocates with the C library (`malloc`) unless the user chose a pool, and a
    column-sized block (4 MiB or more) has pages of its own, unless the user set glibc's
    threshold.

    glibc raises that threshold each time such a block is freed, up to 32 MiB, so that
    columns come from its heaps instead; with threads (datasets mapped and rules run side by
    side) each thread has a heap of its own, and the freed columns scattered among the kept
    ones stayed resident: 2.5 GB instead of 2.34 GB at 100,000 patients. A fixed threshold
    costs the page faults of fresh pages (0.5 s there), where 1 MiB cost 3 s."""
    if not os.environ.get(POOL_VARIABLE):
        pa.set_memory_pool(pa.system_memory_pool())
    library = _c_library()
    if library is not None and hasattr(library, "mallopt") and not os.environ.get(MMAP_THRESHOLD_VARIABLE):
        library.mallopt(M_MMAP_THRESHOLD, OWN_PAGES_FROM_BYTES)


@cache
def _c_library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        library = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return library if library is not None and hasattr(library, "malloc_trim") else None


def release_freed_memory() -> None:
    """Give the memory of the datasets a stage has let go back to the system, so the next
    stage's peak does not sit on top of it.

    A frame a stage drops is often still held by a reference cycle (pandas objects refer to
    each other), which only Python's cycle collector frees: at 100,000 patients 350 MB were
    still held so when validation began. A full collection costs some 35 ms, so it runs only
    when the datasets are large enough for their memory to matter. Then glibc's `malloc_trim`
    returns the freed pages (nothing where the C library has no such call: macOS, musl,
    Windows)."""
    if pa.total_allocated_bytes() >= COLLECT_FROM_BYTES:
        gc.collect()
    library = _c_library()
    if library is not None:
        library.malloc_trim(0)
