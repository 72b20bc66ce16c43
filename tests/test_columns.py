"""Column kernels shared by the stages (cdisc_cup.columns), on the values that decide them."""

from __future__ import annotations

import pandas as pd

from cdisc_cup.columns import byte_lengths


def test_byte_lengths_count_utf8_bytes_with_or_without_trailing_blanks() -> None:
    values = pd.Series(["ab  ", "é", None, "", " x"], dtype="str")
    assert byte_lengths(values).tolist() == [4, 2, 0, 0, 2]
    assert byte_lengths(values, trailing_blanks=False).tolist() == [2, 2, 0, 0, 2]  # leading blanks count
    read_from_xpt = pd.Series(["ab", "é", None], dtype="str")  # no trailing blanks: nothing to trim
    assert byte_lengths(read_from_xpt, trailing_blanks=False).tolist() == [2, 2, 0]
    assert byte_lengths(pd.Series([None, None], dtype="str"), trailing_blanks=False).tolist() == [0, 0]
