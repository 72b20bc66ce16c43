"""The ADaM engine: an ADaM dataset spec's `derivations:` list run as admiral's chain of verbs.

A study's ADaM programme is data, like admiral's templates `ad_adsl.R` and `ad_adae.R` are
a list of `derive_*` calls whose arguments carry every study choice (which records are a
dose, the treatment-emergent window, the age groups, the imputation rules). Each step of a
spec names one verb of `derivations.CATALOGUE` and gives its options as YAML:

    - {derivation: derive_vars_merged, dataset_add: EX, by_vars: [USUBJID],
       new_vars: {TRTSDT: EXSTDT}, filter_add: {variable: EXDOSE, greater_than: 0},
       order: [EXSTDT, EXSEQ], mode: first}

`dataset:` names the working dataset a step changes (the dataset being built by default, or
an SDTM dataset given working columns, as admiral's `ex_ext`), `into:` keeps the result under
another name. Working datasets are shared by the study's ADaM specs in their build order, so
ADAE may use ADSL and the EX view ADSL's steps derived. The options are resolved before the
call: a dataset name (`dataset_add`, `supp`, an event's `dataset`) becomes that dataset, a
condition (`filter_add`, `filter`, `condition`) the shared condition language of
`cdisc_cup.conditions` on the verb's own records, `{parameter: name}` the study parameter,
`{desc: X}` a descending order item, `codes: {codelist: TRTN}` the codelist's decodes and codes;
an event marked `optional` is left out when its dataset is not there (LB of a study without
a laboratory form).
What a study does not name does not run: the CUP's cycles and dose intensity are steps of the
CUP's specs only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

import pandas as pd

from cdisc_cup import conditions
from cdisc_cup.adam import derivations as d
from cdisc_cup.adam.spec import predecessors, shape_to_spec
from cdisc_cup.errors import InputErrors, Problem, SpecErrors, display_path
from cdisc_cup.spec.model import DatasetSpec, StudySpec

CONDITION_OPTIONS = ("filter_add", "filter", "condition")
DATASET_OPTIONS = ("dataset_add", "supp")
STEP_KEYS = ("derivation", "dataset", "into")
# The records SUPP-- has no rows for still get their QNAM columns (all null).
SUPP_COLUMNS = ("USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL")


class AdamInputError(InputErrors):
    """An ADaM step cannot run on the SDTM datasets given: a dataset or variable it reads is
    not there (someone else's SDTM folder, an export without a form)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems, source="SDTM folder")


def check_steps(study: StudySpec) -> None:
    """Every ADaM spec names its base dataset, and every step a known verb with options it
    takes and study parameters the study has: a misspelt option is a spec error before any
    step runs, not a TypeError half-way through a run."""
    problems = []
    for spec in study.adam:
        where = display_path(spec.path) if spec.path else spec.name
        if spec.base is None:
            problems.append(
                Problem(where, "an ADaM spec names the dataset its records start from", column="base", expected="DM")
            )
        for number, step in enumerate(spec.derivations):
            key = f"derivations[{number}]"
            verb = d.CATALOGUE.get(str(step.get("derivation")))
            if verb is None:
                problems.append(
                    Problem(
                        where,
                        "unknown derivation",
                        column=f"{key}.derivation",
                        value=str(step.get("derivation")),
                        expected="one of " + ", ".join(sorted(d.CATALOGUE)),
                    )
                )
                continue
            options = set(inspect.signature(verb).parameters) - {"dataset"}
            unknown = sorted(set(step) - set(STEP_KEYS) - options)
            problems += [
                Problem(where, f"{step['derivation']} has no option {name}", column=f"{key}.{name}", value=name)
                for name in unknown
            ]
            problems += [
                Problem(
                    where,
                    "unknown study parameter",
                    column=f"{key}.{option}",
                    value=name,
                    expected="one of the study's parameters: " + ", ".join(sorted(study.parameters)),
                )
                for option, value in step.items()
                for name in _parameters_named(value)
                if name not in study.parameters
            ]
    if problems:
        raise SpecErrors(problems)


def _parameters_named(value: Any) -> list[str]:
    """The study parameters an option names (`{parameter: name}`, at any depth)."""
    if isinstance(value, Mapping):
        if set(value) == {"parameter"}:
            return [str(value["parameter"])]
        return [name for v in value.values() for name in _parameters_named(v)]
    if isinstance(value, list):
        return [name for v in value for name in _parameters_named(v)]
    return []


def derive_adam(study: StudySpec, sdtm: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every ADaM dataset of the study, in spec order, each with its spec's variables in spec
    order (`shape_to_spec`), sorted by its keys (ADaMIG: the define.xml key sequence)."""
    check_steps(study)
    working: dict[str, pd.DataFrame] = dict(sdtm)
    built = {}
    for spec in study.adam:
        frame = run_steps(study, spec, working)
        keys = [k for k in spec.keys if k in frame.columns]
        built[spec.name] = shape_to_spec(frame.sort_values(keys, kind="stable") if keys else frame, spec)
        working[spec.name] = built[spec.name]  # later datasets read it as submitted
    return built


def run_steps(study: StudySpec, spec: DatasetSpec, working: MutableMapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The spec's dataset after its steps, all columns (working ones too); `working` gets the
    datasets the steps made or changed."""
    assert spec.base is not None  # check_steps
    if spec.base not in working:
        raise AdamInputError([_missing_dataset(spec, spec.base, "base")])
    working[spec.name] = working[spec.base].copy()
    for number, step in enumerate(spec.derivations):
        target = str(step.get("dataset", spec.name))
        if target not in working:
            raise AdamInputError([_missing_dataset(spec, target, f"derivations[{number}].dataset")])
        verb = d.CATALOGUE[str(step["derivation"])]
        options = {k: v for k, v in step.items() if k not in STEP_KEYS}
        try:
            arguments = _resolve_options(study, spec, number, options, working)
            if verb is d.derive_vars_predecessor:
                arguments = _predecessor_arguments(spec, working, arguments)
            result = verb(working[target], **arguments)
        except (d.DerivationInputError, KeyError) as error:
            raise AdamInputError([_step_problem(spec, number, step, target, error)]) from error
        working[str(step.get("into", target))] = result
    return working[spec.name]


def _resolve_options(
    study: StudySpec, spec: DatasetSpec, number: int, options: Mapping[str, Any], working: Mapping[str, pd.DataFrame]
) -> dict[str, Any]:
    """The step's options as the verb takes them (see the module docstring)."""
    resolved: dict[str, Any] = {}
    for option, value in options.items():
        value = _parameters(study, value)
        if option in DATASET_OPTIONS:
            resolved[option] = _dataset(spec, number, option, str(value), working)
        elif option in CONDITION_OPTIONS:
            resolved[option] = _condition(value)
        elif option == "order":
            resolved[option] = [d.desc(item["desc"]) if isinstance(item, Mapping) else item for item in value]
        elif option == "codes" and isinstance(value, Mapping) and "codelist" in value:
            codelist = study.terminology.codelist(str(value["codelist"]))
            resolved[option] = {term.decode: int(term.value) for term in codelist.terms}
        elif option == "cases":
            resolved[option] = [{**case, "condition": _condition(case.get("condition"))} for case in value]
        elif option == "events":  # an optional event of a dataset not submitted is no event
            resolved[option] = [
                _event(spec, number, i, event, working)
                for i, event in enumerate(value)
                if not event.get("optional") or str(event["dataset"]) in working
            ]
        else:
            resolved[option] = value
    return resolved


def _parameters(study: StudySpec, value: Any) -> Any:
    """`{parameter: name}` anywhere in an option: the study parameter's value."""
    if isinstance(value, Mapping):
        if set(value) == {"parameter"}:
            return study.parameters[str(value["parameter"])]  # checked by check_steps
        return {k: _parameters(study, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_parameters(study, v) for v in value]
    return value


def _dataset(
    spec: DatasetSpec, number: int, option: str, name: str, working: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    if name in working:
        return working[name]
    if name.startswith("SUPP"):  # no supplemental qualifiers submitted: none to merge
        return pd.DataFrame(columns=list(SUPP_COLUMNS))
    raise AdamInputError([_missing_dataset(spec, name, f"derivations[{number}].{option}")])


def _condition(condition: Any) -> Callable[[pd.DataFrame], pd.Series] | None:
    """A spec condition as the verbs take it: a function of the records it selects from."""
    if condition is None:
        return None

    def mask(frame: pd.DataFrame) -> pd.Series:
        def read(_: str, name: str) -> pd.Series:
            if name not in frame.columns:
                raise d.DerivationInputError(f"a condition reads variable {name}, which the dataset does not have")
            return frame[name]

        return conditions.evaluate(condition, conditions.Subjects(read=read, index=frame.index))

    return mask


def _event(
    spec: DatasetSpec, number: int, index: int, event: Mapping[str, Any], working: Mapping[str, pd.DataFrame]
) -> d.Event:
    """An event of `derive_vars_extreme_event`. A `set_values_to` value `{dtc: X, ...}` is
    admiral's `convert_dtc_to_dt(X, ...)`: the date (with `date_imputation` as in
    `derive_vars_dt`), and a record without one is no candidate."""
    option = f"derivations[{number}].events[{index}]"
    records = _dataset(spec, number, f"events[{index}].dataset", str(event["dataset"]), working)
    keep = _condition(event.get("condition"))
    set_values_to = {}
    dated = []
    for new, source in event["set_values_to"].items():
        if isinstance(source, Mapping):
            column = f"__{new}__"
            try:
                records = d.derive_vars_dt(records, new_var=column, **source)
            except d.DerivationInputError as error:
                raise d.DerivationInputError(f"{option}: {error}") from error
            set_values_to[new] = column
            dated.append(column)
        else:
            set_values_to[new] = str(source)
    selected = pd.Series(True, index=records.index) if keep is None else keep(records)
    for column in dated:
        selected &= records[column].notna()
    return d.Event(
        dataset=records, condition=selected, set_values_to=set_values_to, constants=dict(event.get("constants") or {})
    )


def _predecessor_arguments(
    spec: DatasetSpec, working: Mapping[str, pd.DataFrame], arguments: Mapping[str, Any]
) -> dict[str, Any]:
    """`derive_vars_predecessor` without options copies every Predecessor variable of the
    spec: from the dataset being built when its base (or a SUPP-- merged onto it) is the
    source, else from the named dataset joined by subject (ADSL onto ADAE)."""
    wanted = predecessors(spec)
    own = {spec.base} | {source.split(".")[0] for source in wanted.values() if source.startswith("SUPP")}
    sources = {}
    for name in dict.fromkeys(source.split(".")[0] for source in wanted.values()):
        if name in own:
            sources[name] = working[spec.name]
        elif name in working:
            sources[name] = working[name]
        else:
            raise AdamInputError([_missing_dataset(spec, name, "predecessor")])
    return {"predecessors": wanted, "sources": sources, **arguments}


def _missing_dataset(spec: DatasetSpec, name: str, key: str) -> Problem:
    readers = sorted(v.name for v in spec.variables if (v.value or {}).get("predecessor", "").startswith(f"{name}."))
    needed = f" (for {', '.join(readers)})" if readers else ""
    return Problem(
        f"{name.lower()}.xpt",
        f"dataset {name} is needed to derive {spec.name}{needed} but is not among the SDTM datasets",
        column=key,
        expected=f"the SDTM dataset {name}",
    )


def _step_problem(spec: DatasetSpec, number: int, step: Mapping[str, Any], target: str, error: Exception) -> Problem:
    """A step that cannot run on these datasets, with the datasets it reads named: the verb
    says which option's column is missing, this says of which dataset."""
    text = str(error.args[0] if error.args else error)
    reads = [f"dataset {target}"]
    for option in DATASET_OPTIONS:
        if option in step:
            reads.append(f"{option} {step[option]}")
            text = text.replace(f"({option})", f" ({option} = dataset {step[option]})")
    return Problem(
        display_path(spec.path) if spec.path else spec.name,
        f"{spec.name}: {step['derivation']} on {', '.join(reads)} cannot run: {text}",
        column=f"derivations[{number}]",
    )
