"""Text for SAS XPORT v5, which holds printable ASCII only."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

GREEK_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "kappa", "lambda", "sigma")

# German letters first (ä -> ae is the convention a German reader expects, not a -> a);
# then Unicode decomposition drops accents of any other Latin letters.
GERMAN_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "µ": "u",
        "μ": "u",
        "€": "EUR",
        "°": " deg",
        "–": "-",
        "—": "-",
        "„": '"',
        "“": '"',
        "”": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        # Signs of clinical notes, written out as a SAS programmer would type them.
        "≥": ">=",
        "≤": "<=",
        "±": "+/-",
        "×": "x",
        "↑": "increased",
        "↓": "decreased",
        # Greek letters by name: light chains (κ, λ), IFN-α, β2-microglobulin, γ-GT.
        **{letter: name for letter, name in zip("αβγδεκλσ", GREEK_NAMES, strict=True)},
        **{letter.upper(): name.capitalize() for letter, name in zip("αβγδεκλσ", GREEK_NAMES, strict=True)},
    }
)


# Control characters: a line break or tab inside a quoted CSV field (a verbatim the site typed
# on two lines) is legal CSV but no printable ASCII; with the blanks around it, it becomes one space.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"
_CONTROL_RUN = re.compile(rf"\s*{CONTROL_CHARACTERS}+\s*")


def _to_ascii(text: str) -> str:
    """Accents are dropped (é -> e); a character with no ASCII form and no name here (Ж) is
    kept, so the conformance check refuses it with its location instead of losing it silently."""
    decomposed = unicodedata.normalize("NFKD", _CONTROL_RUN.sub(" ", text).translate(GERMAN_TRANSLITERATION))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def ascii_text(values: pd.Series) -> pd.Series:
    """Transliterate to printable ASCII; only the distinct values that need it are visited."""
    text = values.astype("string")
    unprintable = ~text.str.isascii().fillna(True) | text.str.contains(CONTROL_CHARACTERS).fillna(False)
    needs = text.notna() & unprintable
    if not needs.any():
        return text
    distinct = text[needs].unique()
    mapping = {value: _to_ascii(value) for value in distinct}
    return text.where(~needs, text[needs].map(mapping))


def number_text(values: pd.Series) -> pd.Series:
    """Numbers as SDTM result text: 80 not 80.0, 75.5 stays 75.5. Each distinct number is
    written once (pandas formats numbers as text one by one)."""
    numbers = pd.to_numeric(values, errors="coerce").astype("Float64")
    codes, distinct = pd.factorize(numbers)
    distinct = pd.Series(distinct, dtype="Float64")
    whole = (distinct % 1 == 0).fillna(False)
    text = distinct.astype("string").where(~whole, distinct.round().astype("Int64").astype("string"))
    return pd.Series(text.array.take(codes, allow_fill=True), index=values.index, dtype="string")
