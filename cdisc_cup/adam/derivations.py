"""Named ADaM derivations, admiral style: one small vectorised function per derived variable.

The contract (pharmaverse admiral, in Python): the dataset comes first, options are
keyword-only and default to the ADaM names, the columns a derivation needs are checked up
front (the error names the option that points to the missing column), and a new frame is
returned; nothing is sorted in place and nothing is read or written. The `derivation:` names
in `specs/adam/*.yaml` are the names of these functions (`CATALOGUE`), so the define.xml
method text and the code that implements it cannot drift apart unnoticed (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from cdisc_cup.adam.dates import as_text, complete_date, impute_date, relative_day

FLAG_Y = "Y"


class DerivationInputError(ValueError):
    """A derivation was called on a dataset that lacks a column it needs."""


def _require(dataset: pd.DataFrame, name: str, **columns: str | Sequence[str]) -> None:
    """Fail early, naming the option (`start_date='ASTDT'`) whose column is missing."""
    missing = []
    for option, value in columns.items():
        for column in [value] if isinstance(value, str) else value:
            if column not in dataset.columns:
                missing.append(f"{option}={column!r}")
    if missing:
        raise DerivationInputError(f"{name}: the dataset has no column for " + ", ".join(missing))


def _flag(condition: pd.Series, *, no: str | None = None) -> pd.Series:
    """ADaM flag from a boolean condition: Y where true, `no` (null by default) elsewhere."""
    values = pd.Series(pd.NA, index=condition.index, dtype="string")
    values[condition.fillna(False).astype(bool)] = FLAG_Y
    if no is not None:
        values[~condition.fillna(False).astype(bool)] = no
    return values


def _per_subject(dataset: pd.DataFrame, values: pd.DataFrame, *, by: Sequence[str] = ("USUBJID",)) -> pd.DataFrame:
    """Left-join subject-level values (one row per `by` group) without changing row order."""
    overlap = [c for c in values.columns if c in dataset.columns and c not in by]
    merged = dataset.drop(columns=overlap).merge(values, on=list(by), how="left", validate="m:1")
    merged.index = dataset.index
    return merged


def _dosed(ex: pd.DataFrame, treatment: str | None) -> pd.DataFrame:
    """EX records of administrations that actually happened (EXDOSE > 0), of one drug or all."""
    _require(ex, "EX", usubjid="USUBJID", dose="EXDOSE", start="EXSTDTC", treatment="EXTRT")
    given = pd.to_numeric(ex["EXDOSE"], errors="coerce") > 0
    if treatment is not None:
        given &= as_text(ex["EXTRT"]).str.upper() == treatment.upper()
    return ex[given.fillna(False)]


# --- predecessors and supplemental qualifiers -----------------------------------------------


def derive_vars_predecessor(
    dataset: pd.DataFrame,
    *,
    predecessors: Mapping[str, str],
    sources: Mapping[str, pd.DataFrame],
    by: Sequence[str] = ("USUBJID",),
) -> pd.DataFrame:
    """Copy variables from their predecessor (`{"TRTA": "ADSL.TRT01A"}`, ADaMIG 1.3 3.1.1).

    A source that is not the dataset's own base (listed in `sources`) is joined on `by`;
    sources are one record per `by` group, as ADSL is per subject.
    """
    result = dataset.copy()
    for source_name, source in sources.items():
        wanted = {new: ref.split(".", 1)[1] for new, ref in predecessors.items() if ref.split(".", 1)[0] == source_name}
        if not wanted:
            continue
        _require(source, f"derive_vars_predecessor({source_name})", predecessors=list(wanted.values()))
        keys = [k for k in by if k in result.columns]
        if source is dataset or not keys:
            for new, old in wanted.items():
                result[new] = source[old].to_numpy()
            continue
        values = pd.DataFrame({new: source[old] for new, old in wanted.items()})
        values[keys] = source[keys]
        result = _per_subject(result, values.drop_duplicates(keys), by=keys)
    return result


def derive_vars_suppqual(
    dataset: pd.DataFrame, supp: pd.DataFrame, *, qnams: Sequence[str], idvar: str = "AESEQ"
) -> pd.DataFrame:
    """Merge supplemental qualifiers back onto their parent records, one column per QNAM.

    ADaMIG 1.3 section 3.1.1: a SUPP-- qualifier used in analysis keeps its QNAM as the
    variable name. Parent and SUPP-- records are matched on USUBJID and IDVAR/IDVARVAL.
    Every QNAM in `qnams` becomes a column, null where no SUPP-- record exists.
    """
    _require(dataset, "derive_vars_suppqual", idvar=idvar)
    _require(supp, "derive_vars_suppqual(SUPP)", supp=["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"])
    rows = supp[as_text(supp["IDVAR"]) == idvar]
    wide = (
        pd.DataFrame(
            {
                "USUBJID": rows["USUBJID"].to_numpy(),
                idvar: pd.to_numeric(rows["IDVARVAL"], errors="coerce").to_numpy(),
                "QNAM": as_text(rows["QNAM"]).to_numpy(),
                "QVAL": as_text(rows["QVAL"]).to_numpy(),
            }
        )
        .drop_duplicates(["USUBJID", idvar, "QNAM"])
        .pivot(index=["USUBJID", idvar], columns="QNAM", values="QVAL")
        .reindex(columns=list(qnams))
        .reset_index()
    )
    wide.columns.name = None
    keyed = dataset.assign(**{idvar: pd.to_numeric(dataset[idvar], errors="coerce")})
    return _per_subject(keyed, wide, by=["USUBJID", idvar])


# --- ADSL -------------------------------------------------------------------------------------


AGE_GROUPS = (("<65", 1), ("65-74", 2), (">=75", 3))


def derive_var_agegr1(dataset: pd.DataFrame, *, age: str = "AGE") -> pd.DataFrame:
    """AGEGR1/AGEGR1N: the paper's age groups <65, 65-74, >=75 (the dexamethasone dose
    halves from 75 years)."""
    _require(dataset, "derive_var_agegr1", age=age)
    years = pd.to_numeric(dataset[age], errors="coerce")
    groups = [years < 65, (years >= 65) & (years < 75), years >= 75]
    code = pd.Series(np.select(groups, [n for _, n in AGE_GROUPS], default=0), index=dataset.index)
    code = code.where(years.notna()).astype("Int64").replace(0, pd.NA)
    label = code.map({n: text for text, n in AGE_GROUPS}).astype("string")
    return dataset.assign(AGEGR1=label, AGEGR1N=code)


def derive_var_trtsdt(
    dataset: pd.DataFrame, ex: pd.DataFrame, *, treatment: str, new_var: str = "TRTSDT"
) -> pd.DataFrame:
    """First administration date of `treatment` (the CUP's investigational drug)."""
    given = _dosed(ex, treatment)
    first = (
        given.assign(_date=complete_date(given["EXSTDTC"]))
        .groupby("USUBJID", as_index=False)["_date"]
        .min()
        .rename(columns={"_date": new_var})
    )
    return _per_subject(dataset, first)


def derive_var_trtedt(
    dataset: pd.DataFrame, *, last_exposure: str = "RFXENDTC", new_var: str = "TRTEDT"
) -> pd.DataFrame:
    """Last exposure to any study drug, as DM.RFXENDTC already defines it (a pomalidomide
    cycle running past the last infusion counts), so the TEAE window matches SDTM's."""
    _require(dataset, "derive_var_trtedt", last_exposure=last_exposure)
    return dataset.assign(**{new_var: complete_date(dataset[last_exposure])})


def derive_var_trtdurd(
    dataset: pd.DataFrame, *, start: str = "TRTSDT", end: str = "TRTEDT", new_var: str = "TRTDURD"
) -> pd.DataFrame:
    """Treatment duration in days, both ends included."""
    _require(dataset, "derive_var_trtdurd", start=start, end=end)
    days = (dataset[end] - dataset[start]).dt.days + 1
    return dataset.assign(**{new_var: days.astype("Int64")})


def derive_var_saffl(dataset: pd.DataFrame, ex: pd.DataFrame, *, new_var: str = "SAFFL") -> pd.DataFrame:
    """Safety population: at least one dose of any study drug (EXDOSE > 0)."""
    _require(dataset, "derive_var_saffl", usubjid="USUBJID")
    dosed = dataset["USUBJID"].isin(_dosed(ex, None)["USUBJID"])
    return dataset.assign(**{new_var: _flag(dosed, no="N")})


def derive_var_baseline(
    dataset: pd.DataFrame, findings: pd.DataFrame, *, domain: str, testcd: str, new_var: str
) -> pd.DataFrame:
    """Baseline value of a findings test: --STRESN of the record flagged --LOBXFL = Y."""
    columns = [f"{domain}TESTCD", f"{domain}STRESN", f"{domain}LOBXFL"]
    _require(findings, f"derive_var_baseline({domain})", findings=columns)
    test, result, baseline = columns
    chosen = findings[(as_text(findings[test]) == testcd) & (as_text(findings[baseline]) == FLAG_Y)]
    values = pd.DataFrame(
        {
            "USUBJID": chosen["USUBJID"].to_numpy(),
            new_var: pd.to_numeric(chosen[result], errors="coerce").to_numpy(),
        }
    ).drop_duplicates("USUBJID", keep="last")
    return _per_subject(dataset, values)


def derive_var_diagdt(
    dataset: pd.DataFrame,
    mh: pd.DataFrame,
    *,
    category: str = "PRIMARY DIAGNOSIS",
    new_var: str = "DIAGDT",
    flag_var: str = "DIAGDTF",
) -> pd.DataFrame:
    """Initial diagnosis date from MH, a partial date imputed to the earliest day it allows."""
    _require(mh, "derive_var_diagdt(MH)", mh=["USUBJID", "MHCAT", "MHSTDTC"])
    rows = mh[as_text(mh["MHCAT"]) == category]
    date, flag = impute_date(rows["MHSTDTC"], to="first")
    values = (
        pd.DataFrame(
            {
                "USUBJID": rows["USUBJID"].to_numpy(),
                new_var: date.to_numpy(),
                flag_var: flag.to_numpy(),
            }
        )
        .sort_values(new_var)
        .drop_duplicates("USUBJID")
    )
    return _per_subject(dataset, values)


def derive_var_diagyrs(
    dataset: pd.DataFrame,
    *,
    diagnosis: str = "DIAGDT",
    registration: str = "RFICDTC",
    new_var: str = "DIAGYRS",
) -> pd.DataFrame:
    """Completed years from diagnosis to registration: floor(days / 365.25)."""
    _require(dataset, "derive_var_diagyrs", diagnosis=diagnosis, registration=registration)
    days = (complete_date(dataset[registration]) - dataset[diagnosis]).dt.days
    return dataset.assign(**{new_var: np.floor(days / 365.25).astype("Int64")})


def derive_var_sc_result(
    dataset: pd.DataFrame, sc: pd.DataFrame, *, testcd: str, new_var: str, numeric: bool = False
) -> pd.DataFrame:
    """One subject characteristic (SCTESTCD) as a subject-level variable: SCSTRESN when
    `numeric`, else SCSTRESC (the Y/N prior-therapy and baseline flags)."""
    _require(sc, "derive_var_sc_result(SC)", sc=["USUBJID", "SCTESTCD", "SCSTRESC", "SCSTRESN"])
    rows = sc[as_text(sc["SCTESTCD"]) == testcd]
    result = pd.to_numeric(rows["SCSTRESN"], errors="coerce") if numeric else as_text(rows["SCSTRESC"])
    values = pd.DataFrame({"USUBJID": rows["USUBJID"].to_numpy(), new_var: result.to_numpy()})
    return _per_subject(dataset, values.drop_duplicates("USUBJID", keep="last"))


def derive_var_cycles_received(
    dataset: pd.DataFrame, ex: pd.DataFrame, *, treatment: str, new_var: str = "ISACYCN"
) -> pd.DataFrame:
    """Number of distinct treatment cycles with at least one administration of `treatment`;
    the cycle is VISITNUM // 100 (VISITNUM = 100 x cycle + day)."""
    given = _dosed(ex, treatment)
    _require(given, "derive_var_cycles_received(EX)", visitnum="VISITNUM")
    cycles = (
        given.assign(_cycle=pd.to_numeric(given["VISITNUM"], errors="coerce") // 100)
        .groupby("USUBJID", as_index=False)["_cycle"]
        .nunique()
        .rename(columns={"_cycle": new_var})
    )
    merged = _per_subject(dataset, cycles)
    return merged.assign(**{new_var: merged[new_var].fillna(0).astype("Int64")})


def derive_vars_disposition(
    dataset: pd.DataFrame,
    ds: pd.DataFrame,
    *,
    category: str = "DISPOSITION EVENT",
    subcategory: str = "END OF TREATMENT",
    completed: str = "COMPLETED",
) -> pd.DataFrame:
    """EOTSTT/EOTDT/DCTREAS (and EOSSTT/DCSREAS, the same in a CUP whose end of treatment is
    the end of participation) from the end-of-treatment disposition record."""
    _require(ds, "derive_vars_disposition(DS)", ds=["USUBJID", "DSCAT", "DSSCAT", "DSDECOD", "DSSTDTC"])
    rows = ds[(as_text(ds["DSCAT"]) == category) & (as_text(ds["DSSCAT"]) == subcategory)]
    decod = as_text(rows["DSDECOD"])
    status = pd.Series(np.where(decod == completed, completed, "DISCONTINUED"), index=rows.index)
    reason = decod.where(decod != completed)
    values = (
        pd.DataFrame(
            {
                "USUBJID": rows["USUBJID"].to_numpy(),
                "EOTSTT": status.to_numpy(),
                "EOTDT": complete_date(rows["DSSTDTC"]).to_numpy(),
                "DCTREAS": reason.to_numpy(),
            }
        )
        .sort_values("EOTDT")
        .drop_duplicates("USUBJID", keep="last")
    )
    merged = _per_subject(dataset, values)
    status_all = merged["EOTSTT"].astype("string").fillna("ONGOING")
    reason_all = merged["DCTREAS"].astype("string")
    return merged.assign(EOTSTT=status_all, DCTREAS=reason_all, EOSSTT=status_all, DCSREAS=reason_all)


def derive_var_dthdt(dataset: pd.DataFrame, *, death: str = "DTHDTC", new_var: str = "DTHDT") -> pd.DataFrame:
    """Date of death as a numeric date (complete dates only)."""
    _require(dataset, "derive_var_dthdt", death=death)
    return dataset.assign(**{new_var: complete_date(dataset[death])})


def derive_var_eopdt(
    dataset: pd.DataFrame,
    *,
    cutoff: str,
    status: str = "EOTSTT",
    end: str = "EOTDT",
    start: str = "TRTSDT",
    new_var: str = "EOPDT",
) -> pd.DataFrame:
    """End of the participation bar of Figure 1: the end of treatment for a premature
    discontinuation, the figure's data cut-off for patients treated to the regular end."""
    _require(dataset, "derive_var_eopdt", status=status, end=end, start=start)
    cut = pd.Timestamp(cutoff)
    eop = dataset[end].where(dataset[status] == "DISCONTINUED", cut)
    return dataset.assign(**{new_var: eop.where(dataset[start].notna()).astype("datetime64[s]")})


# --- ADAE -------------------------------------------------------------------------------------


def derive_vars_astdt(
    dataset: pd.DataFrame,
    *,
    dtc: str = "AESTDTC",
    end_dtc: str = "AEENDTC",
    first_dose: str = "RFXSTDT",
    new_var: str = "ASTDT",
    flag_var: str = "ASTDTF",
) -> pd.DataFrame:
    """Analysis start date: a partial onset is imputed to the earliest day it allows, or to
    the first dose when the first dose lies in the period it allows (CUP export convention,
    FORMAT.md "Conventions"; admiral `impute_dtc_dt(highest_imputation = "M", min_dates =
    TRTSDT)`), so an onset that cannot be ruled out as treatment-emergent is counted as such.
    An imputed onset never lies after a complete end date (admiral's `max_dates` on the start
    side): an event that ended before the first dose started before it too."""
    _require(dataset, "derive_vars_astdt", dtc=dtc, end_dtc=end_dtc, first_dose=first_dose)
    end = complete_date(dataset[end_dtc])
    date, flag = impute_date(dataset[dtc], to="first", min_dates=[dataset[first_dose]], not_after=[end])
    return dataset.assign(**{new_var: date, flag_var: flag})


def derive_vars_aendt(
    dataset: pd.DataFrame,
    *,
    dtc: str = "AEENDTC",
    caps: Sequence[str] = ("DTHDT", "RFPENDT"),
    new_var: str = "AENDT",
    flag_var: str = "AENDTF",
) -> pd.DataFrame:
    """Analysis end date: a partial end is imputed to the last day it allows, but not past
    a death or the end of participation inside that period (admiral `max_dates`)."""
    _require(dataset, "derive_vars_aendt", dtc=dtc, caps=caps)
    date, flag = impute_date(dataset[dtc], to="last", max_dates=[dataset[c] for c in caps])
    return dataset.assign(**{new_var: date, flag_var: flag})


def derive_var_relative_day(
    dataset: pd.DataFrame, *, date: str, new_var: str, reference: str = "TRTSDT"
) -> pd.DataFrame:
    """Analysis relative day (ASTDY/AENDY) from TRTSDT; no day 0."""
    _require(dataset, "derive_var_relative_day", date=date, reference=reference)
    return dataset.assign(**{new_var: relative_day(dataset[date], dataset[reference])})


def derive_var_trtemfl(
    dataset: pd.DataFrame,
    *,
    start_date: str = "ASTDT",
    end_date: str = "AENDT",
    first_dose: str = "RFXSTDT",
    last_dose: str = "TRTEDT",
    window_days: int = 30,
    new_var: str = "TRTEMFL",
) -> pd.DataFrame:
    """Treatment-emergent flag (FORMAT.md "Conventions"), first match wins:

    1. patient never dosed -> null;
    2. start missing -> Y, unless the event ended before the first dose (emergence cannot be
       ruled out otherwise);
    3. first dose <= start <= last dose + `window_days` -> Y (a missing last dose leaves the
       window open);
    4. otherwise null.
    """
    _require(
        dataset,
        "derive_var_trtemfl",
        start_date=start_date,
        end_date=end_date,
        first_dose=first_dose,
        last_dose=last_dose,
    )
    start, first = dataset[start_date], dataset[first_dose]
    window_end = dataset[last_dose] + pd.Timedelta(days=window_days)
    unknown_start = start.isna() & ~(dataset[end_date] < first)
    in_window = (start >= first) & ((start <= window_end) | window_end.isna())
    emergent = first.notna() & (unknown_start | in_window)
    return dataset.assign(**{new_var: _flag(emergent)})


def derive_var_prefl(
    dataset: pd.DataFrame,
    *,
    start_date: str = "ASTDT",
    first_dose: str = "RFXSTDT",
    new_var: str = "PREFL",
) -> pd.DataFrame:
    """Pre-treatment flag: onset before the first dose, or a patient never dosed."""
    _require(dataset, "derive_var_prefl", start_date=start_date, first_dose=first_dose)
    start, first = dataset[start_date], dataset[first_dose]
    before = (start < first) | (first.isna() & start.notna())
    return dataset.assign(**{new_var: _flag(before)})


def derive_vars_cycle(
    dataset: pd.DataFrame,
    ex: pd.DataFrame,
    *,
    treatment: str,
    start_date: str = "ASTDT",
    new_var: str = "ACYCLEN",
    label_var: str = "ACYCLE",
) -> pd.DataFrame:
    """Cycle of onset: the latest `treatment` cycle whose first administration (day 1 when
    given) is on or before the onset. An as-of join per subject, no row loop."""
    _require(dataset, "derive_vars_cycle", start_date=start_date)
    given = _dosed(ex, treatment)
    _require(given, "derive_vars_cycle(EX)", visitnum="VISITNUM")
    starts = (
        given.assign(
            _cycle=(pd.to_numeric(given["VISITNUM"], errors="coerce") // 100).astype("Int64"),
            _start=complete_date(given["EXSTDTC"]),
        )
        .dropna(subset=["_cycle", "_start"])
        .groupby(["USUBJID", "_cycle"], as_index=False)["_start"]
        .min()
        .sort_values("_start")
    )
    events = dataset[[start_date, "USUBJID"]].dropna(subset=[start_date])
    events = events.assign(_row=events.index, _onset=events[start_date].astype("datetime64[s]"))
    key_types = {"USUBJID": "string"}
    matched = pd.merge_asof(
        events.astype(key_types).sort_values("_onset"),
        starts.astype({**key_types, "_start": "datetime64[s]"}),
        left_on="_onset",
        right_on="_start",
        by="USUBJID",
        direction="backward",
    ).set_index("_row")
    cycle = matched["_cycle"].reindex(dataset.index).astype("Int64")
    label = ("CYCLE " + cycle.astype("string")).astype("string")
    return dataset.assign(**{new_var: cycle, label_var: label})


def derive_vars_atoxgr(dataset: pd.DataFrame, *, grade: str = "AETOXGR") -> pd.DataFrame:
    """ATOXGR/ATOXGRN: the collected NCI CTCAE grade, character and numeric."""
    _require(dataset, "derive_vars_atoxgr", grade=grade)
    text = as_text(dataset[grade])
    return dataset.assign(ATOXGR=text, ATOXGRN=pd.to_numeric(text, errors="coerce").astype("Int64"))


def derive_var_arel(dataset: pd.DataFrame, *, causality: str = "AEREL", new_var: str = "AREL") -> pd.DataFrame:
    """Relationship to isatuximab for analysis; a missing causality counts as RELATED
    (worst case, so a related event is never under-reported)."""
    _require(dataset, "derive_var_arel", causality=causality)
    return dataset.assign(**{new_var: as_text(dataset[causality]).fillna("RELATED")})


def derive_var_suppae_flag(dataset: pd.DataFrame, *, qnam: str = "AESI", new_var: str = "AESIFL") -> pd.DataFrame:
    """A Y/N supplemental qualifier (already merged as its QNAM) as an ADaM flag."""
    _require(dataset, "derive_var_suppae_flag", qnam=qnam)
    return dataset.assign(**{new_var: as_text(dataset[qnam])})


def derive_var_discontinuation_flag(
    dataset: pd.DataFrame,
    *,
    action: str = "AEACN",
    withdrawn: str = "DRUG WITHDRAWN",
    new_var: str = "AEDISFL",
) -> pd.DataFrame:
    """Y when the event led to permanent discontinuation of isatuximab (AEACN)."""
    _require(dataset, "derive_var_discontinuation_flag", action=action)
    return dataset.assign(**{new_var: _flag(as_text(dataset[action]) == withdrawn)})


def derive_var_occurrence_flag(
    dataset: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    new_var: str,
    order: Sequence[str] = ("ASTDT", "AESEQ"),
    filter_flag: str = "TRTEMFL",
) -> pd.DataFrame:
    """First occurrence within subject and `by_vars` among records flagged `filter_flag`
    (admiral `derive_var_extreme_flag(mode = "first")`)."""
    keys = ["USUBJID", *by_vars]
    _require(dataset, "derive_var_occurrence_flag", by_vars=keys, order=order, filter_flag=filter_flag)
    eligible = dataset[as_text(dataset[filter_flag]) == FLAG_Y]
    ordered = eligible.sort_values([*keys, *order], na_position="last", kind="stable")
    first = ~ordered.duplicated(keys)
    return dataset.assign(**{new_var: _flag(first.reindex(dataset.index, fill_value=False))})


CATALOGUE: dict[str, Callable[..., pd.DataFrame]] = {
    function.__name__: function
    for function in (
        derive_var_agegr1,
        derive_var_trtsdt,
        derive_var_trtedt,
        derive_var_trtdurd,
        derive_var_saffl,
        derive_var_baseline,
        derive_var_diagdt,
        derive_var_diagyrs,
        derive_var_sc_result,
        derive_var_cycles_received,
        derive_vars_disposition,
        derive_var_dthdt,
        derive_var_eopdt,
        derive_vars_astdt,
        derive_vars_aendt,
        derive_var_relative_day,
        derive_var_trtemfl,
        derive_var_prefl,
        derive_vars_cycle,
        derive_vars_atoxgr,
        derive_var_arel,
        derive_var_suppae_flag,
        derive_var_discontinuation_flag,
        derive_var_occurrence_flag,
        derive_vars_predecessor,
        derive_vars_suppqual,
    )
}
