"""`cdisc-cup adam SDTM_DIR`: ADaM from someone else's SDTM (pharmaverse's CDISC pilot, derived
with the pilot's specs and compared with admiral's ADaM of the same SDTM) and from our own
(the CUP's SDTM output gives the ADaM `convert` gives); bad SDTM folders get one clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from cdisc_cup.cli import main
from cdisc_cup.errors import InputErrors, display_path
from cdisc_cup.outputs import MANIFEST
from cdisc_cup.pipeline import ConversionResult, derive_from_sdtm, regenerate_defines
from cdisc_cup.xpt.read import read_xpt_dataset
from tests.conftest import REPO, SHARED

PILOT_SPECS = REPO / "examples" / "cdiscpilot01" / "specs"
PHARMAVERSE = SHARED / "pharmaverse"
ADAM_FOLDER = Path("m5/datasets/cdiscpilot01/analysis/adam/datasets")
# The variables of admiral's templates our pilot specs derive (not copy), by dataset and key.
DERIVED = {
    ("ADSL", ("USUBJID",)): [
        "TRTSDT", "TRTEDT", "TRTDURD", "SAFFL", "AGEGR1", "RACEGR1", "REGION1", "EOSSTT", "EOSDT", "SCRFDT",
        "FRVDT", "RANDDT", "DTHDT", "DTHADY", "LDDTHELD", "LDDTHGR1", "DTH30FL", "DTHB30FL", "DTHCAUS",
        "DTHDOM", "DTHCGR1", "LSTALVDT",
    ],
    ("ADAE", ("USUBJID", "AESEQ")): [
        "ASTDT", "ASTDTF", "AENDT", "AENDTF", "ASTDY", "AENDY", "ADURN", "TRTEMFL", "AOCCIFL", "ASEV", "ASEVN",
        "AREL", "TRTSDT", "TRTEDT", "SAFFL", "AGEGR1",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def pilot_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The command as a user types it, on pharmaverse's SDTM folder; (output folder, messages)."""
    out = tmp_path_factory.mktemp("pilot") / "out"
    result = CliRunner().invoke(
        main, ["adam", str(PHARMAVERSE / "sdtm"), "--specs", str(PILOT_SPECS), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def _values(frame: pd.DataFrame, variable: str) -> pd.Series:
    values = frame[variable]
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip()
    return text.mask(text == "")


@pytest.mark.parametrize(("dataset", "keys"), list(DERIVED))
def test_pilot_adam_agrees_with_admirals_by_key(pilot_run: tuple[Path, str], dataset: str, keys: tuple) -> None:
    out, _ = pilot_run
    ours = read_xpt_dataset(out / ADAM_FOLDER / f"{dataset.lower()}.xpt").frame
    theirs = read_xpt_dataset(PHARMAVERSE / "adam" / f"{dataset.lower()}.xpt").frame
    merged = ours.merge(theirs, on=list(keys), suffixes=("", "_theirs"), validate="1:1")
    assert len(merged) == len(theirs) == len(ours)
    for variable in DERIVED[(dataset, keys)]:
        mine, other = _values(merged, variable), _values(merged, f"{variable}_theirs")
        agree = (mine.isna() & other.isna()) | (mine.astype("string") == other.astype("string")).fillna(False)
        assert agree.mean() >= 0.99, f"{dataset}.{variable}: {agree.mean():.2%} agree"


def test_pilot_run_writes_define_and_validation_and_reports_non_ascii_text(pilot_run: tuple[Path, str]) -> None:
    out, messages = pilot_run
    folder = out / ADAM_FOLDER
    assert {"adsl.xpt", "adae.xpt", "define.xml", "define.html"} <= {p.name for p in folder.iterdir()}
    assert (out / "reports" / "validation" / "findings.html").is_file()
    assert (out / "index.html").is_file()
    # pharmaverse's ts.xpt holds a Windows-1252 curly quote: reported, copied, not fatal
    assert "ts.xpt: TSVAL" in messages and "outside ASCII" in messages


def test_the_adrg_names_the_sdtm_folder_it_read(
    pilot_run: tuple[Path, str], converted_sample: ConversionResult
) -> None:
    """The ADRG's source data (section 1.4) is the folder `adam` read, not "this submission",
    whose package holds no SDTM; `convert`'s ADRG names its own tabulations."""
    out, _ = pilot_run
    guide = (out / ADAM_FOLDER / "adrg.html").read_text(encoding="utf-8")
    assert f"read from {PHARMAVERSE / 'sdtm'}" in guide
    assert "(AE, DM, DS, EX, LB, MH, SUPPAE, SUPPDM, SV, TS, VS; without a define.xml)" in guide
    assert "of this submission" not in guide
    own = (converted_sample.adam_dir / "adrg.html").read_text(encoding="utf-8")
    assert "derived from the SDTM datasets of this submission only" in own


GUIDE_AND_DEFINE = ("adrg.html", "adrg.pdf", "define.xml", "define.html")


def _guide_and_define(adam: Path) -> dict[str, bytes]:
    return {name: (adam / name).read_bytes() for name in GUIDE_AND_DEFINE}


def test_define_on_an_adam_output_writes_the_adrg_and_define_adam_wrote(
    pilot_run: tuple[Path, str], converted_sample: ConversionResult, tmp_path: Path
) -> None:
    """`cdisc-cup define` on the folder `adam` wrote gives the same ADRG (naming the SDTM folder
    read, which the manifest keeps) and the same define.xml, byte for byte: for pharmaverse's
    SDTM (whose ADaM keeps the optional copies ADAE.AESPID and ADSL.BRTHDTC: the ADaM files,
    not the SDTM specs, say which were left out) and for the CUP's own SDTM output."""
    pilot = tmp_path / "pilot"
    shutil.copytree(pilot_run[0], pilot)
    sample = derive_from_sdtm(converted_sample.sdtm_dir, tmp_path / "sample")
    for out, specs, adam, folder in (
        (pilot, PILOT_SPECS, pilot / ADAM_FOLDER, PHARMAVERSE / "sdtm"),
        (tmp_path / "sample", None, sample.adam_dir, converted_sample.sdtm_dir),
    ):
        before = _guide_and_define(adam)
        result = CliRunner().invoke(main, ["define", str(out), *(["--specs", str(specs)] if specs else [])])
        assert result.exit_code == 0, result.output
        assert _guide_and_define(adam) == before, out
        assert f"read from {display_path(folder)}".encode() in before["adrg.html"]


def test_define_on_an_adam_output_without_the_sdtm_folder_recorded_is_refused(
    pilot_run: tuple[Path, str], tmp_path: Path
) -> None:
    """An output whose manifest does not say which SDTM folder `adam` read (an older version's)
    gets one message and keeps its files, rather than an ADRG that names no source."""
    out = tmp_path / "out"
    shutil.copytree(pilot_run[0], out)
    manifest = out / MANIFEST
    document = json.loads(manifest.read_text(encoding="utf-8"))
    del document["inputs"]
    manifest.write_text(json.dumps(document), encoding="utf-8")
    guide = (out / ADAM_FOLDER / "adrg.html").read_bytes()
    with pytest.raises(InputErrors) as raised:
        regenerate_defines(out, PILOT_SPECS)
    assert len(raised.value.problems) == 1
    assert "does not say which SDTM folder cdisc-cup adam read" in str(raised.value.problems[0])
    assert (out / ADAM_FOLDER / "adrg.html").read_bytes() == guide


def test_adam_of_our_own_sdtm_output_is_the_adam_of_convert(converted_sample: ConversionResult, tmp_path: Path) -> None:
    again = derive_from_sdtm(converted_sample.sdtm_dir, tmp_path / "out")
    for name in ("ADSL", "ADAE"):
        written = read_xpt_dataset(converted_sample.adam_dir / f"{name.lower()}.xpt").frame
        derived = read_xpt_dataset(again.adam_dir / f"{name.lower()}.xpt").frame
        pd.testing.assert_frame_equal(derived, written)


@pytest.fixture
def pilot_sdtm_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "sdtm"
    shutil.copytree(PHARMAVERSE / "sdtm", folder)
    return folder


def _rewrite(folder: Path, name: str, drop: str) -> None:
    frame, _ = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
    pyreadstat.write_xport(frame.drop(columns=[drop]), str(folder / f"{name}.xpt"), table_name=name.upper())


def _problems(folder: Path, out: Path) -> str:
    with pytest.raises(InputErrors) as raised:
        derive_from_sdtm(folder, out, PILOT_SPECS)
    assert not out.exists(), "nothing is written when the input cannot be used"
    assert len(raised.value.problems) == 1, "one root cause, one message"
    return str(raised.value.problems[0])


def test_a_missing_dm_is_named(pilot_sdtm_copy: Path, tmp_path: Path) -> None:
    (pilot_sdtm_copy / "dm.xpt").unlink()
    message = _problems(pilot_sdtm_copy, tmp_path / "out")
    assert message.startswith("dm.xpt") and "dataset DM is needed to derive ADSL" in message


def test_a_missing_predecessor_variable_is_named(pilot_sdtm_copy: Path, tmp_path: Path) -> None:
    _rewrite(pilot_sdtm_copy, "dm", "COUNTRY")
    message = _problems(pilot_sdtm_copy, tmp_path / "out")
    assert "ADSL.COUNTRY is a copy of DM.COUNTRY" in message


def test_a_missing_variable_a_derivation_reads_is_named_with_its_dataset(pilot_sdtm_copy: Path, tmp_path: Path) -> None:
    _rewrite(pilot_sdtm_copy, "ex", "EXSEQ")
    message = _problems(pilot_sdtm_copy, tmp_path / "out")
    assert "dataset_add = dataset EX" in message and "EXSEQ" in message and "derive_vars_merged" in message


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["adam", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "cdisc-cup adam ../shared/pharmaverse/sdtm" in result.output


def test_specs_without_a_raw_export_derive_adam_but_do_not_convert(tmp_path: Path) -> None:
    """A study whose SDTM came from elsewhere describes no raw export: `adam` needs none, and
    `convert` says there is nothing to convert instead of failing half-way."""
    specs = tmp_path / "specs"
    shutil.copytree(PILOT_SPECS / "adam", specs / "adam")
    (specs / "study.yaml").write_text(
        "study: {studyid: CDISCPILOT01, name: CDISC pilot, parameters: {teae_window_days: 30}}\n"
        "adam: [adam/adsl.yaml, adam/adae.yaml]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["convert", str(REPO / "sample_data"), "--specs", str(specs), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 3
    assert "no raw: section" in result.output and "cdisc-cup adam" in result.output
    assert not (tmp_path / "out").exists()
