"""CDISC controlled terminology shipped as package data (see `terminology`)."""

from cdisc_cup.ct.terminology import (
    DEFAULT_PACKAGES,
    Codelist,
    Term,
    Terminology,
    available_packages,
    chosen_package,
    codelist,
    codelist_by_code,
    codelist_for_variable,
    codelists_for_variable,
    load_codelists,
    merge_codelists,
    packages,
    terminology,
)

__all__ = [
    "DEFAULT_PACKAGES",
    "Codelist",
    "Term",
    "Terminology",
    "available_packages",
    "chosen_package",
    "codelist",
    "codelist_by_code",
    "codelist_for_variable",
    "codelists_for_variable",
    "load_codelists",
    "merge_codelists",
    "packages",
    "terminology",
]
