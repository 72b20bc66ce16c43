"""CDISC controlled terminology shipped as package data (see `terminology`)."""

from cdisc_cup.ct.terminology import (
    Codelist,
    Term,
    codelist,
    codelist_by_code,
    codelist_for_variable,
    codelists_for_variable,
    load_codelists,
    merge_codelists,
    packages,
)

__all__ = [
    "Codelist",
    "Term",
    "codelist",
    "codelist_by_code",
    "codelist_for_variable",
    "codelists_for_variable",
    "load_codelists",
    "merge_codelists",
    "packages",
]
