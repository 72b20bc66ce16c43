"""Load and validate the spec folder: every problem in every file is reported at once.

YAML is read with the safe loader (no object construction from tags), file names listed in
study.yaml are resolved inside the spec folder only, and each document is checked against
the cerberus schemas in `cdisc_cup.spec.schema`. A problem names the file, the key path
(`variables[3].length`) and what was expected.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from cerberus import Validator

from cdisc_cup import conditions
from cdisc_cup.constants import SAFE_YAML_LOADER
from cdisc_cup.errors import Problem, SpecErrors
from cdisc_cup.spec.model import (
    COMPARATORS,
    CONTINUATION_VARIABLES,
    AnalysisDatasetSpec,
    AnalysisResultSpec,
    DatasetSpec,
    DateOrder,
    Dictionary,
    FindingExplanation,
    GuideText,
    ProtocolTopic,
    RawColumnSpec,
    RawFileSpec,
    ReaderOptions,
    RecordBlock,
    ResultDisplaySpec,
    StudySpec,
    VariableSpec,
    where_checks,
)
from cdisc_cup.spec.schema import (
    BLOCK_KINDS,
    DATASET_SCHEMA,
    EXPLANATIONS_SCHEMA,
    GUIDES_SCHEMA,
    RESULTS_SCHEMA,
    SOURCE_KINDS,
    STUDY_SCHEMA,
    source_kind,
)

STUDY_FILE = "study.yaml"


def default_spec_dir() -> Path:
    """The specs shipped with the package (the repository's `specs/` folder)."""
    return Path(str(importlib.resources.files("cdisc_cup.bundled_specs")))


def read_yaml(path: Path, problems: list[Problem]) -> Any:
    """Parse one YAML file safely; a syntax error becomes a located problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(str(path), "spec file not found"))
        return None
    except (UnicodeDecodeError, OSError) as exc:
        problems.append(Problem(str(path), f"spec file cannot be read: {exc}"))
        return None
    try:
        return yaml.load(text, Loader=SAFE_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem(str(path), f"not valid YAML: {getattr(exc, 'problem', exc)}", line=line))
        return None


def _flatten_errors(errors: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Cerberus nests errors by key; turn them into (key path, message) pairs."""
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            child = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
            yield from _flatten_errors(value, child)
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, str):
                yield path, item
            else:
                yield from _flatten_errors(item, path)


def validate_document(document: Any, schema: Mapping[str, Any], path: Path) -> list[Problem]:
    """Problems of one YAML document against a cerberus schema, each with its key path."""
    if not isinstance(document, Mapping):
        return [
            Problem(
                str(path), "the spec must be a YAML mapping (key: value pairs)", expected="a mapping at the top level"
            )
        ]
    validator = Validator(dict(schema))
    if validator.validate(dict(document)):
        return []
    return [
        Problem(str(path), message, column=key_path or "(top level)")
        for key_path, message in _flatten_errors(validator.errors)
    ]


def _check_condition(condition: Mapping[str, Any] | None, key_path: str, path: Path) -> list[Problem]:
    """A `where`/`when` of a dataset spec: the shared condition language on raw columns (`column`,
    `file.COLUMN`) and the variables built so far (`variable`)."""
    return [] if condition is None else conditions.check(condition, key_path, path)


def _check_source(source: Mapping[str, Any] | None, key_path: str, path: Path) -> list[Problem]:
    if source is None:
        return []
    kind = source_kind(dict(source))
    problems = []
    if kind is None:
        kinds = [k for k in (*SOURCE_KINDS, "column") if k in source]
        problems.append(
            Problem(
                str(path),
                "a value source has exactly one kind",
                column=key_path,
                value=", ".join(kinds) or None,
                expected="one of column, " + ", ".join(SOURCE_KINDS),
            )
        )
    if kind == "map" and "column" not in source and "variable" not in source:
        problems.append(
            Problem(str(path), "a codelist mapping names the raw 'column' (or 'variable') it maps", column=key_path)
        )
    problems += _check_condition(source.get("when"), f"{key_path}.when", path)
    if isinstance(source.get("otherwise"), Mapping):
        problems += _check_source(source["otherwise"], f"{key_path}.otherwise", path)
    return problems


def _check_block(block: Mapping[str, Any], key_path: str, path: Path) -> list[Problem]:
    """A record block names where its records come from once, and its sources are well formed."""
    problems = []
    kinds = [kind for kind in BLOCK_KINDS if kind in block]
    if len(kinds) != 1:
        problems.append(
            Problem(
                str(path),
                "a record block takes its records from exactly one place",
                column=key_path,
                value=", ".join(kinds) or None,
                expected="one of from (a raw file), from_datasets (SDTM datasets built before), rows (the spec) "
                "or continues (the text beyond 200 characters of a variable or QNAM)",
            )
        )
    if "rows" in block and "where" in block:
        problems.append(
            Problem(
                str(path),
                "spec-defined rows have no where: each row is one record",
                column=f"{key_path}.where",
                expected="rows without where, or a block from a raw file or from SDTM datasets",
            )
        )
    problems += _check_condition(block.get("where"), f"{key_path}.where", path)
    for name, source in (block.get("values") or {}).items():
        if isinstance(source, Mapping):
            problems += _check_source(source, f"{key_path}.values.{name}", path)
    for position, row in enumerate(block.get("rows") or []):
        for name, value in row.items() if isinstance(row, Mapping) else ():
            if isinstance(value, Mapping):
                problems += _check_source(value, f"{key_path}.rows[{position}].{name}", path)
    return problems


def _unknown_block_variables(block: Any, key_path: str, names: set[str], path: Path) -> list[Problem]:
    """A block's values and rows set variables of the dataset only (a misspelt name would
    otherwise be dropped without a word)."""
    if not isinstance(block, Mapping):
        return []
    set_by = [(f"{key_path}.values", block.get("values") or {})]
    set_by += [
        (f"{key_path}.rows[{i}]", row) for i, row in enumerate(block.get("rows") or []) if isinstance(row, Mapping)
    ]
    return [
        Problem(str(path), "the block sets a variable the dataset does not have", column=f"{where}.{name}", value=name)
        for where, values in set_by
        if isinstance(values, Mapping)
        for name in values
        if name not in names
    ]


def _row_source(value: Any) -> Mapping[str, Any]:
    """A value of a spec-defined row: a mapping is a value source, anything else a constant."""
    return value if isinstance(value, Mapping) else {"constant": value}


def _record_blocks(entry: Mapping[str, Any], key_path: str) -> list[RecordBlock]:
    """The blocks of one `records:` entry: one, or one per row of a `rows:` entry (its `values`
    are shared by the rows, a row's own value wins)."""
    shared = entry.get("values") or {}
    if "rows" in entry:
        return [
            RecordBlock(
                values={**shared, **{name: _row_source(value) for name, value in row.items()}},
                location=f"{key_path}.rows[{position}]",
            )
            for position, row in enumerate(entry["rows"])
        ]
    return [
        RecordBlock(
            source=entry.get("from"),
            where=entry.get("where"),
            values=shared,
            datasets=tuple(entry.get("from_datasets") or ()),
            distinct=tuple(entry.get("distinct") or ()),
            location=key_path,
            continues=entry.get("continues"),
        )
    ]


def _reader(options: Mapping[str, Any] | None, base: ReaderOptions | None = None) -> ReaderOptions:
    merged = dict(vars(base or ReaderOptions()))
    merged.update(options or {})
    return ReaderOptions(**merged)


def _resolve_inside(spec_dir: Path, relative: str, problems: list[Problem], study_path: Path, key: str) -> Path | None:
    """Spec paths must stay inside the spec folder (no `../../etc/passwd`)."""
    candidate = (spec_dir / relative).resolve()
    if not candidate.is_relative_to(spec_dir.resolve()):
        problems.append(Problem(str(study_path), "spec path leaves the spec folder", column=key, value=relative))
        return None
    return candidate


def load_dataset_spec(path: Path, problems: list[Problem] | None = None) -> DatasetSpec | None:
    """Load one dataset spec; problems are appended (or raised when no list is given)."""
    own: list[Problem] = [] if problems is None else problems
    start = len(own)
    document = read_yaml(path, own)
    if document is None:
        if problems is None:
            raise SpecErrors(own)
        return None
    own += validate_document(document, DATASET_SCHEMA, path)
    for index, variable in enumerate(document.get("variables") or []):
        if isinstance(variable, Mapping):
            own += _check_source(variable.get("value"), f"variables[{index}].value", path)
    for index, block in enumerate(document.get("records") or []):
        if isinstance(block, Mapping):
            own += _check_block(block, f"records[{index}]", path)
    names = [v.get("name") for v in document.get("variables") or [] if isinstance(v, Mapping)]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        own.append(Problem(str(path), "variable declared twice", column="variables", value=dup))
    for index, block in enumerate(document.get("records") or []):
        own += _unknown_block_variables(block, f"records[{index}]", set(names), path)
    for key in document.get("keys") or []:
        if key not in names:
            own.append(
                Problem(str(path), "key variable is not among the dataset's variables", column="keys", value=key)
            )
    if len(own) > start:
        if problems is None:
            raise SpecErrors(own)
        return None
    return DatasetSpec(
        name=document["dataset"],
        label=document["label"],
        standard=document["standard"],
        dataset_class=document["class"],
        subclass=document.get("subclass"),
        structure=document["structure"],
        description=document.get("description", ""),
        keys=tuple(document["keys"]),
        parent=document.get("parent"),
        base=document.get("base"),
        derivations=tuple(document.get("derivations") or ()),
        records=tuple(
            block
            for index, entry in enumerate(document.get("records") or [])
            for block in _record_blocks(entry, f"records[{index}]")
        ),
        variables=tuple(
            VariableSpec(
                name=v["name"],
                label=v["label"],
                type=v["type"],
                length=v.get("length"),
                origin=v["origin"],
                core=v["core"],
                value=v.get("value"),
                codelist=v.get("codelist"),
                role=v.get("role"),
                format=v.get("format"),
                origin_source=v.get("origin_source"),
                method=v.get("method"),
                comment=v.get("comment"),
                data_type=v.get("data_type"),
                optional=v.get("optional", False),
                dictionary=v.get("dictionary"),
                continued_in=v.get("continued_in"),
            )
            for v in document["variables"]
        ),
        path=path,
    )


def _raw_files(raw: Mapping[str, Any], base: ReaderOptions) -> tuple[RawFileSpec, ...]:
    files = []
    for name, entry in raw["files"].items():
        files.append(
            RawFileSpec(
                name=name,
                file=entry["file"],
                form=entry.get("form", ""),
                description=entry.get("description", ""),
                key=tuple(entry["key"]),
                columns=tuple(
                    RawColumnSpec(
                        name=column,
                        type=info["type"],
                        required=info.get("required", False),
                        mandatory=info.get("mandatory", False),
                        values=tuple(info.get("values", ())),
                        pattern=info.get("pattern"),
                        min=info.get("min"),
                        max=info.get("max"),
                        description=info.get("description", ""),
                        header=info.get("header"),
                        date_format=info.get("date_format"),
                    )
                    for column, info in entry["columns"].items()
                ),
                references=entry.get("references", {}),
                date_order=tuple(DateOrder(**d) for d in entry.get("date_order", [])),
                reader=_reader(entry["reader"], base) if "reader" in entry else None,
            )
        )
    return tuple(files)


def _check_study_references(study: StudySpec, study_path: Path) -> list[Problem]:
    """Cross-file consistency that no single-document schema can see."""
    problems = []
    raw_names = {r.name for r in study.raw_files}
    for raw in study.raw_files:
        declared = {c.name for c in raw.columns}
        for key in raw.key:
            if key not in declared:
                problems.append(
                    Problem(
                        str(study_path), "key column is not declared", column=f"raw.files.{raw.name}.key", value=key
                    )
                )
        for column, target in raw.references.items():
            other = target.split(".")[0]
            if other not in raw_names:
                problems.append(
                    Problem(
                        str(study_path),
                        "reference to an unknown raw file",
                        column=f"raw.files.{raw.name}.references.{column}",
                        value=target,
                    )
                )
    for spec in (*study.sdtm, *study.adam):
        for block in spec.records:
            if block.kind == "raw" and block.source not in raw_names:
                problems.append(
                    Problem(
                        str(spec.path),
                        "records come from an unknown raw file",
                        column=f"{block.location}.from",
                        value=block.source,
                        expected="one of " + ", ".join(sorted(raw_names)),
                    )
                )
    built_before: list[str] = []
    for spec in study.sdtm:
        for block in spec.records:
            problems += [
                Problem(
                    str(spec.path),
                    "records come from a dataset not built before this one (study.yaml sdtm order)",
                    column=f"{block.location}.from_datasets",
                    value=name,
                    expected="one of " + (", ".join(built_before) or "the SDTM datasets listed before it"),
                )
                for name in block.datasets
                if name not in built_before
            ]
        built_before.append(spec.name)
    for spec in (*study.sdtm, *study.adam):
        for index, variable in enumerate(spec.variables):
            if variable.dictionary is not None and variable.dictionary not in study.dictionaries:
                problems.append(
                    Problem(
                        str(spec.path),
                        "the variable names a dictionary study.yaml does not declare",
                        column=f"variables[{index}].dictionary",
                        value=variable.dictionary,
                        expected="one of " + (", ".join(sorted(study.dictionaries)) or "study.dictionaries (none)"),
                    )
                )
    names = [s.name for s in (*study.sdtm, *study.adam)]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(str(study_path), "dataset specified twice", value=dup))
    return problems + _continuation_problems(study)


def _continuation_problems(study: StudySpec) -> list[Problem]:
    """Text over 200 characters (SDTMIG 3.4 section 4.5.3.2) is declared on both sides: the
    variable says which SUPP-- dataset it is `continued_in`, and that dataset has a block that
    `continues` it. Both must agree, and the continuation QNAMs must be free."""
    by_name = {spec.name: spec for spec in study.sdtm}
    problems = []
    for spec in study.sdtm:
        for index, variable in enumerate(spec.variables):
            mismatch = _continued_in_mismatch(spec, variable, by_name)
            if mismatch is not None:
                message, expected = mismatch
                problems.append(
                    Problem(
                        str(spec.path),
                        message,
                        column=f"variables[{index}].continued_in",
                        value=variable.continued_in,
                        expected=expected,
                    )
                )
        problems += [
            problem
            for block in spec.records
            if block.kind == "continuation"
            for problem in _continuation_block_problems(study, spec, block, by_name)
        ]
    return problems


def _continued_in_mismatch(
    spec: DatasetSpec, variable: VariableSpec, by_name: Mapping[str, DatasetSpec]
) -> tuple[str, str] | None:
    """(message, expected) when the dataset a variable is `continued_in` does not take its text."""
    if variable.continued_in is None:
        return None
    target = by_name.get(variable.continued_in)
    if target is None:
        return "the text continues in a dataset the study does not build", "an SDTM dataset of study.yaml sdtm"
    if target.parent != spec.name:
        return f"the text continues in {target.name}, whose parent is not {spec.name}", f"parent: {spec.name}"
    if not any(block.continues == variable.name for block in target.records):
        return (
            f"{target.name} has no record block that continues {variable.name}",
            f"a block `continues: {variable.name}` in {target.name}'s records",
        )
    return None


def _continuation_block_problems(
    study: StudySpec, spec: DatasetSpec, block: RecordBlock, by_name: Mapping[str, DatasetSpec]
) -> list[Problem]:
    """A continuation block lives in a SUPP-- dataset and names a parent variable that says it
    continues here, or a QNAM of this dataset with a constant QLABEL; its QNAMs are no other
    block's, and the engine alone sets QNAM, QLABEL and QVAL."""
    key_path, name = f"{block.location}.continues", block.continues or ""

    def problem(message: str, expected: str, column: str = key_path, value: str | None = name) -> Problem:
        return Problem(str(spec.path), message, column=column, value=value, expected=expected)

    parent = by_name.get(spec.parent or "")
    if parent is None:
        return [problem("only a SUPP-- dataset continues text", "a dataset with parent: (its parent domain)")]
    missing = [v for v in CONTINUATION_VARIABLES if v not in spec.variable_names]
    if missing:
        return [problem(f"a continuation block needs {', '.join(missing)}", "the variables of a SUPP-- dataset")]
    problems = [
        problem(
            "the engine sets QNAM, QLABEL and QVAL of a continuation block",
            "no value for it",
            f"{block.location}.values.{v}",
            v,
        )
        for v in CONTINUATION_VARIABLES
        if v in block.values
    ]
    if name in parent.variable_names:
        if parent.variable(name).continued_in != spec.name:
            problems.append(
                problem(
                    f"{parent.name}.{name} does not say that its text continues here",
                    f"continued_in: {spec.name} on {parent.name}.{name}",
                )
            )
    elif spec.qnam_block(name) is None:
        return [
            *problems,
            problem(
                f"names neither a variable of {parent.name} nor the QNAM of a block of {spec.name}",
                f"a variable of {parent.name} with continued_in: {spec.name}, or a QNAM given as a constant",
            ),
        ]
    elif spec.qnam_block(name).constant("QLABEL") is None:
        problems.append(
            problem(f"the block of QNAM {name} gives QLABEL no constant", "a constant QLABEL, the continuations' label")
        )
    if sum(other.continues == name for other in spec.records) > 1:
        problems.append(problem("two blocks continue the same text", "one block per continued text"))
    continuation_qnams = set(study.continued_text(spec, block).qnams)
    taken = sorted({q for other in spec.records if (q := other.constant("QNAM")) in continuation_qnams})
    problems += [
        problem(f"QNAM {qnam} of another block is a QNAM the continuations of {name} take", "another QNAM", value=qnam)
        for qnam in taken
    ]
    return problems


def load_study(spec_dir: Path | None = None) -> StudySpec:
    """Load study.yaml and every dataset spec it lists; raise SpecErrors with all problems."""
    spec_dir = Path(spec_dir) if spec_dir is not None else default_spec_dir()
    study_path = spec_dir / STUDY_FILE
    problems: list[Problem] = []
    if not spec_dir.is_dir():
        raise SpecErrors([Problem(str(spec_dir), "spec folder not found", expected=f"a folder with {STUDY_FILE}")])
    document = read_yaml(study_path, problems)
    if document is None:
        raise SpecErrors(problems)
    problems += validate_document(document, STUDY_SCHEMA, study_path)
    if problems:
        raise SpecErrors(problems)

    def datasets(section: str) -> tuple[DatasetSpec, ...]:
        loaded = []
        for index, relative in enumerate(document.get(section) or []):
            resolved = _resolve_inside(spec_dir, relative, problems, study_path, f"{section}[{index}]")
            if resolved is not None:
                spec = load_dataset_spec(resolved, problems)
                if spec is not None:
                    loaded.append(spec)
        return tuple(loaded)

    sdtm = datasets("sdtm")
    adam = datasets("adam")
    if problems:
        raise SpecErrors(problems)
    study_section = document["study"]
    raw = document.get("raw") or {}
    reader = _reader(raw.get("reader"))
    study = StudySpec(
        studyid=study_section["studyid"],
        name=study_section["name"],
        description=study_section.get("description", ""),
        protocol=study_section.get("protocol", study_section["studyid"]),
        country=study_section.get("country", ""),
        standards=study_section.get("standards", {}),
        dictionaries={
            key: Dictionary(entry["name"], str(entry["version"]), entry.get("href"))
            for key, entry in (study_section.get("dictionaries") or {}).items()
        },
        parameters=study_section.get("parameters", {}),
        reader=reader,
        subject_key=raw.get("subject_key", ""),
        raw_files=_raw_files(raw, reader) if raw else (),
        sdtm=sdtm,
        adam=adam,
        spec_dir=spec_dir,
    )
    problems += _check_study_references(study, study_path)
    results_path = spec_dir / RESULTS_FILE
    if results_path.is_file():
        study = replace(study, result_displays=_result_displays(results_path, study, problems))
    explanations_path = spec_dir / EXPLANATIONS_FILE
    if explanations_path.is_file():
        study = replace(study, explanations=_explanations(explanations_path, problems))
    guides_path = spec_dir / GUIDES_FILE
    if guides_path.is_file():
        study = replace(study, guide_text=_guide_text(guides_path, problems))
    if problems:
        raise SpecErrors(problems)
    return study


# The sponsor's explanations of findings left in the data, for the reviewer's guides.
EXPLANATIONS_FILE = Path("explanations.yaml")


def _checked_document(path: Path, schema: Mapping[str, Any], problems: list[Problem]) -> Any:
    """An optional spec file's document when it reads and fits its schema, else None with its
    problems added: the study loads without it, and every problem of every file is reported."""
    document = read_yaml(path, problems)
    if document is None:
        return None
    found = validate_document(document, schema, path)
    problems += found
    return None if found else document


def _explanations(path: Path, problems: list[Problem]) -> tuple[FindingExplanation, ...]:
    document = _checked_document(path, EXPLANATIONS_SCHEMA, problems)
    if document is None:
        return ()
    return tuple(
        FindingExplanation(entry["rule"], entry["explanation"].strip(), entry.get("dataset"), entry.get("variable"))
        for entry in document["findings"]
    )


# The protocol description and acronyms of the reviewer's guides.
GUIDES_FILE = Path("guides.yaml")


def _guide_text(path: Path, problems: list[Problem]) -> GuideText:
    document = _checked_document(path, GUIDES_SCHEMA, problems)
    if document is None:
        return GuideText()
    return GuideText(
        title=document["title"].strip(),
        reference=document["reference"].strip(),
        cite=document["cite"],
        design=tuple(
            ProtocolTopic(entry["topic"], entry["text"].strip(), entry["source"])
            for entry in document.get("design") or []
        ),
        acronyms=dict(document.get("acronyms") or {}),
    )


# Analysis Results Metadata of the displays, when the study has them (Define-XML ARM 1.0).
RESULTS_FILE = Path("analysis") / "results.yaml"


def _where_problems(condition: Mapping[str, Any] | None, path: Path, key: str) -> list[Problem]:
    if condition is None:
        return []
    if "all" in condition and isinstance(condition["all"], list):
        return [p for i, part in enumerate(condition["all"]) for p in _where_problems(part, path, f"{key}.all[{i}]")]
    tests = [k for k in condition if k != "variable"]
    if "variable" in condition and len(tests) == 1 and tests[0] in COMPARATORS:
        return []
    return [
        Problem(
            str(path),
            "a where clause of an analysis compares one variable, or is all: of such comparisons",
            column=key,
            expected="{variable: NAME, " + "|".join(COMPARATORS) + ": value}",
        )
    ]


def _result_displays(path: Path, study: StudySpec, problems: list[Problem]) -> tuple[ResultDisplaySpec, ...]:
    """The displays of analysis/results.yaml, their datasets and variables checked against the ADaM specs."""
    document = _checked_document(path, RESULTS_SCHEMA, problems)
    if document is None:
        return ()
    adam = {spec.name: spec for spec in study.adam}
    displays = []
    for d, display in enumerate(document["displays"]):
        results = []
        for r, result in enumerate(display["results"]):
            datasets = []
            for a, entry in enumerate(result["datasets"]):
                key = f"displays[{d}].results[{r}].datasets[{a}]"
                spec = adam.get(entry["dataset"])
                where = entry.get("where")
                named = [*entry["variables"], *(variable for variable, _, _ in _safe_checks(where))]
                if spec is None:
                    problems.append(
                        Problem(str(path), "not an ADaM dataset of the study", column=key, value=entry["dataset"])
                    )
                else:
                    problems += [
                        Problem(str(path), f"{spec.name} has no such variable", column=key, value=name)
                        for name in named
                        if name not in spec.variable_names
                    ]
                problems += _where_problems(where, path, f"{key}.where")
                datasets.append(AnalysisDatasetSpec(entry["dataset"], tuple(entry["variables"]), where))
            results.append(
                AnalysisResultSpec(
                    id=result["id"],
                    description=result["description"],
                    datasets=tuple(datasets),
                    reason=result.get("reason", document.get("reason", "")),
                    purpose=result.get("purpose", document.get("purpose", "")),
                    documentation=result.get("documentation", ""),
                    code=result.get("code", ""),
                    context=result.get("context", document.get("context", "")),
                )
            )
        displays.append(
            ResultDisplaySpec(display["id"], display["name"], display["output"], display["title"], tuple(results))
        )
    return tuple(displays)


def _safe_checks(condition: Mapping[str, Any] | None) -> list[tuple[str, str, tuple[str, ...]]]:
    """`where_checks` of a clause that may be malformed (its problem is reported separately)."""
    try:
        return where_checks(condition)
    except (KeyError, StopIteration, TypeError):
        return []
