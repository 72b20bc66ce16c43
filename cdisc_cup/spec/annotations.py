"""Which SDTM variables each eCRF field feeds: the content of the annotated CRF, from the specs.

The raw contract (`study.yaml` `raw.files`) is the eCRF: each raw file is one form, each of
its columns one field. The dataset specs say which variables read which fields (a `column:`
source, a column named by a derivation's parameters, a `when:` or a block's `where:`), so the
annotations are read off the specs and the aCRF cannot drift from the mapping. Nothing here
lays out a page; `cdisc_cup.writers.acrf` draws these forms and tells on which pages each
annotation landed.

Conventions of the usual aCRF (CDISC Metadata Submission Guidelines, "aCRF"; FDA Study Data
TCG section 4.1.4.5): one domain box per dataset a form feeds, `VARIABLE` or
`VARIABLE when TESTCD = X` next to the field (for SUPP--: `QVAL when QNAM = X`), and
"NOT SUBMITTED" for a field no submitted variable reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cdisc_cup.conditions import Condition, names_read
from cdisc_cup.spec.model import DatasetSpec, RawColumnSpec, RawFileSpec, StudySpec, ValueSource

NOT_SUBMITTED = "NOT SUBMITTED"
# Keys of a value source whose values are not column names: the derivation's name, a map of
# raw codes, a constant, a value-level codelist.
NOT_COLUMNS = frozenset({"derivation", "map", "constant", "codelist", "predecessor"})


@dataclass(frozen=True)
class Annotation:
    """One variable a field feeds, in one record block of its dataset."""

    dataset: str  # AE, SUPPAE
    variable: str  # AETERM, QVAL; "" for a field that only selects records (DS: DISCONT)
    origin: str  # the variable's define.xml origin: Collected, Derived, Assigned ...
    # Topic variables the block sets to a constant (VSTESTCD = WEIGHT, QNAM = AERELPOM): they
    # say which records the annotation is about.
    qualifiers: tuple[tuple[str, str], ...] = ()
    # Every constant of the block, to find the block a value-level item of define.xml describes.
    constants: tuple[tuple[str, str], ...] = ()
    selection: str = ""  # the condition on the field that selects the records (no variable)

    @property
    def text(self) -> str:
        """`VSORRES when VSTESTCD = WEIGHT`; a selecting field: `DSTERM = COMPLETED if DISCONT = N`."""
        qualifier = " and ".join(f"{name} = {value}" for name, value in self.qualifiers)
        if self.selection:
            subject = qualifier or f"{self.dataset} record"
            return f"{subject} if {self.selection}"
        return f"{self.variable} when {qualifier}" if qualifier else self.variable

    @property
    def collected(self) -> bool:
        return self.origin == "Collected"

    def describes(self, dataset: str, variable: str, where: tuple[str, str] | None = None) -> bool:
        """Whether this annotation shows the variable (in the records `where` selects)."""
        if self.dataset != dataset or self.variable != variable:
            return False
        return where is None or where in self.constants


@dataclass(frozen=True)
class CrfField:
    """One field of a form: a raw column with its label and what it feeds."""

    name: str
    label: str
    column: RawColumnSpec
    annotations: tuple[Annotation, ...]

    @property
    def submitted(self) -> bool:
        return bool(self.annotations)

    @property
    def boxes(self) -> list[Annotation]:
        """The annotations drawn beside the field: collected variables and record selections,
        one per dataset and text (the blocks of one dataset often read a field alike)."""
        shown = {(a.dataset, a.text): a for a in self.annotations if a.collected or a.selection}
        return list(shown.values())

    @property
    def derived_uses(self) -> list[str]:
        """`DM.RFSTDTC`: the variables derived or assigned from the field, which the CRF does
        not collect as such; listed under the boxes so every use of a field is seen."""
        uses = (f"{a.dataset}.{a.variable}" for a in self.annotations if not a.collected and a.variable)
        return list(dict.fromkeys(uses))


@dataclass(frozen=True)
class CrfForm:
    """One eCRF form: a raw file of the export, its fields in contract order."""

    name: str  # the raw file's logical name (adverse_events)
    file: str  # adverse_events.csv
    title: str
    fields: tuple[CrfField, ...]
    description: str = ""

    @property
    def datasets(self) -> list[str]:
        """The datasets annotated on the form, in field order: its domain boxes (a dataset only
        derived from a field is named in grey beside it, not boxed)."""
        return list(dict.fromkeys(a.dataset for f in self.fields for a in f.boxes))


def _constants(values: Mapping[str, ValueSource]) -> dict[str, str]:
    return {
        name: str(source["constant"])
        for name, source in values.items()
        if "constant" in source and source["constant"] is not None and "when" not in source
    }


def _named(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _named(item)


class _Resolver:
    """Turns the names a value source mentions into (raw file, column) pairs of the contract."""

    def __init__(self, study: StudySpec) -> None:
        self.files = {raw.name: raw for raw in study.raw_files}

    def column(self, name: str, default: RawFileSpec) -> tuple[str, str] | None:
        file_name, _, column = name.rpartition(".")
        raw = self.files.get(file_name) if file_name else default
        if raw is not None and raw.column(column) is not None:
            return raw.name, column
        return None

    def source_columns(self, source: ValueSource, block_file: RawFileSpec) -> list[tuple[str, str]]:
        """Columns a value source reads: `column`, a derivation's parameters naming columns
        (of `from:`'s file when it names one), and its `when:` condition."""
        default = self.files.get(source["from"], block_file) if isinstance(source.get("from"), str) else block_file
        names = [n for key, value in source.items() if key not in NOT_COLUMNS | {"when", "from"} for n in _named(value)]
        names += names_read(source.get("when"), "column")
        found = (self.column(name, default) for name in names)
        return list(dict.fromkeys(pair for pair in found if pair is not None))


def condition_text(condition: Condition) -> str:
    """A condition as a reviewer reads it on the CRF: `DISCONT = N`, `DEATHDAT is empty`."""
    if "all" in condition or "any" in condition:
        joiner = " and " if "all" in condition else " or "
        return joiner.join(condition_text(c) for c in condition.get("all") or condition.get("any") or [])
    if "not" in condition:
        return f"not ({condition_text(condition['not'])})"
    subject = condition.get("column") or condition.get("variable") or ""
    if "equals" in condition:
        return f"{subject} = {condition['equals']}"
    if "not_equals" in condition:
        return f"{subject} is not {condition['not_equals']}"
    if "in" in condition or "not_in" in condition:
        negation = "not " if "not_in" in condition else ""
        return f"{subject} {negation}in ({', '.join(map(str, condition.get('in') or condition.get('not_in')))})"
    present = condition.get("present", condition.get("not_null"))
    if present is not None:
        return f"{subject} is {'entered' if present else 'empty'}"
    if condition.get("is_null") is not None:
        return f"{subject} is {'empty' if condition['is_null'] else 'entered'}"
    for key, symbol in (("greater_than", ">"), ("less_than", "<")):  # an analysis's where clause
        if key in condition:
            return f"{subject} {symbol} {condition[key]}"
    tests = ", ".join(f"{key} {value}" for key, value in condition.items() if key not in ("column", "variable"))
    return f"{subject} {tests}"


def _dataset_annotations(
    spec: DatasetSpec, study: StudySpec, resolver: _Resolver
) -> Iterator[tuple[tuple[str, str], Annotation]]:
    """(raw file, column) and the annotation, for every field a dataset's blocks read."""
    defaults = {v.name: v.value for v in spec.variables if v.value is not None}
    topics = {v.name for v in spec.variables if v.role == "Topic" or v.name == "QNAM"}
    groupings = {v.name for v in spec.variables if v.role == "Grouping Qualifier"}
    for block in spec.records:
        if block.source is None:  # records of the spec or of other datasets: no CRF field
            continue
        raw = study.raw_file(block.source)
        values = {**defaults, **block.values}
        constants = _constants(values)
        qualifiers = tuple((name, value) for name, value in constants.items() if name in topics) or tuple(
            (name, value) for name, value in constants.items() if name in groupings
        )
        feeding: set[tuple[str, str]] = set()
        for variable in spec.variables:
            source = values.get(variable.name)
            if source is None:
                continue
            for pair in resolver.source_columns(source, raw):
                feeding.add(pair)
                # A derivation over other forms (the last contact of any form) derives the
                # value: the field is not where the variable is collected.
                derived = "derivation" in source and pair[0] != raw.name
                origin = "Derived" if derived else variable.origin
                yield pair, Annotation(spec.name, variable.name, origin, qualifiers, tuple(constants.items()))
        if block.where is None:
            continue
        for column in names_read(block.where, "column"):
            pair = resolver.column(column, raw)
            if pair is not None and pair not in feeding:
                selection = condition_text(block.where)
                yield pair, Annotation(spec.name, "", "", qualifiers, tuple(constants.items()), selection)


def annotated_crf(study: StudySpec) -> tuple[CrfForm, ...]:
    """Every form of the raw contract with its fields and the SDTM variables each one feeds.

    Built from the study as converted (`study_for_export`), so a variable the export could not
    fill (not submitted) leaves its field NOT SUBMITTED."""
    resolver = _Resolver(study)
    fed: dict[tuple[str, str], list[Annotation]] = {}
    for spec in study.sdtm:
        for pair, annotation in _dataset_annotations(spec, study, resolver):
            found = fed.setdefault(pair, [])
            if annotation not in found:
                found.append(annotation)
    return tuple(
        CrfForm(
            name=raw.name,
            file=raw.file,
            title=raw.form or raw.name.replace("_", " ").capitalize(),
            description=raw.description,
            fields=tuple(
                CrfField(
                    column.name, column.description or column.name, column, tuple(fed.get((raw.name, column.name), ()))
                )
                for column in raw.columns
            ),
        )
        for raw in study.raw_files
    )
