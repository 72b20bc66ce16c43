"""Text for SAS XPORT v5, which holds printable ASCII only."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pyarrow.compute as pc

from cdisc_cup.columns import arrow_text, extract_parts

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


def split_between_words(values: pd.Series, limit: int, max_parts: int) -> list[pd.Series]:
    """Text in parts of at most `limit` characters, as SDTMIG 3.4 section 4.5.3.2 stores text
    longer than a variable holds: "the text should be split between words to improve
    readability". Part 0 is every value (shortened where it is longer); part n holds, for the
    values that reach it, the text after part n-1, null for the others. After `max_parts`
    parts the last holds all the rest, longer than `limit`, for the caller to report.

    A part ends at the last blank that keeps it within `limit` and the blanks there are left
    out (XPT drops a part's trailing blanks, and FDA business rule FDAB015 refuses leading
    ones), so the parts joined with one blank give the text back; only a word longer than
    `limit` is cut inside, and only the trailing blanks of a long value are lost. One Arrow
    pass per part (a handful), over the values still too long, never a loop over records.
    """
    text = values.astype("string")
    at_word = rf"(?s)^(?P<head>.{{0,{limit - 1}}}\S)\s+(?P<tail>\S.*)$"
    inside_word = rf"(?s)^(?P<head>.{{{limit}}})\s*(?P<tail>.+)$"
    parts: list[pd.Series] = []
    rest = text
    while len(parts) < max_parts - 1:
        too_long = _longer_than(rest, limit)
        if not too_long.any():
            break
        long_text = rest[too_long].str.rstrip()
        split = extract_parts(long_text, at_word).astype("string")
        no_blank = split["head"].isna().to_numpy()
        if no_blank.any():  # no blank within the limit: a word longer than the variable
            split[no_blank] = extract_parts(long_text[no_blank], inside_word).astype("string")
        fits = ~_longer_than(long_text, limit)  # too long only by its trailing blanks
        split.loc[fits, "head"], split.loc[fits, "tail"] = long_text[fits], pd.NA
        parts.append(rest.mask(too_long, split["head"]).reindex(text.index))
        rest = split["tail"].dropna()
    parts.append(rest.reindex(text.index))
    return parts


def _longer_than(values: pd.Series, limit: int) -> pd.Series:
    """Whether each value has more than `limit` characters (missing: no), by Arrow."""
    lengths = pc.fill_null(pc.utf8_length(arrow_text(values)), 0).to_numpy(zero_copy_only=False)
    return pd.Series(lengths > limit, index=values.index)
