"""Cerberus schemas of the spec documents (study.yaml and one YAML file per dataset).

They live in the package, not in the specs folder, so a study's specs cannot loosen them.
Value sources are checked here only for shape; the mapping engine checks that a named
derivation exists in its catalogue (`cdisc_cup.mapping.engine.check_sources`).
"""

from __future__ import annotations

from typing import Any

NAME = {"type": "string", "regex": r"^[A-Za-z][A-Za-z0-9_]*$"}
SAS_NAME = {"type": "string", "regex": r"^[A-Z][A-Z0-9_]{0,7}$"}

# A `where`/`when` condition: its structure (subjects, tests, all/any/not) is checked by
# cdisc_cup.conditions.check, the one checker of the conditions of specs and rules.
CONDITION: dict[str, Any] = {"type": "dict"}

# A value source is a mapping with one "kind" key plus its parameters. `column` is a kind of
# its own (`{column: AGE}`) and also the parameter of a map or derivation that reads a column.
SOURCE_KINDS = ("constant", "map", "derivation", "predecessor")


def source_kind(source: dict[str, Any]) -> str | None:
    """The kind of a value source, or None when it has none or several."""
    kinds = [k for k in SOURCE_KINDS if k in source]
    if len(kinds) == 1:
        return kinds[0]
    if not kinds and "column" in source:
        return "column"
    return None


# Define-XML 2.1 ItemDef DataType values a variable (or a value-level item) may declare.
DATA_TYPES = [
    "text",
    "integer",
    "float",
    "date",
    "datetime",
    "time",
    "partialDate",
    "incompleteDatetime",
    "durationDatetime",
]

VALUE_SOURCE: dict[str, Any] = {
    "type": "dict",
    "allow_unknown": True,
    "schema": {
        "column": {"type": "string"},
        "constant": {"type": ["string", "number"], "nullable": True},
        "map": {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": {"type": "string"}},
        "derivation": {"type": "string", "regex": r"^[a-z][a-z0-9_]*$"},
        "predecessor": {"type": "string", "regex": r"^[A-Z][A-Z0-9]*\.[A-Z][A-Z0-9_]*$"},
        "when": CONDITION,
        # In a record block: the value-level codelist and DataType of the block's records
        # (define.xml def:ValueListDef; DSDECOD is PROTMLST for consent, TSVAL a date for SSTDTC).
        "codelist": {"type": "string", "regex": r"^[A-Z0-9_]+$"},
        "data_type": {"type": "string", "allowed": DATA_TYPES},
        # Of a map: the value source of a code the map does not list (checked for shape by
        # the loader, like every source).
        "otherwise": {"type": "dict", "dependencies": "map"},
    },
}

# A value of a spec-defined row (`rows:`): a constant written as it is, or a value source.
ROW_VALUE: dict[str, Any] = {"nullable": True, "anyof": [{"type": ["string", "number"]}, VALUE_SOURCE]}

# Where a block's records come from is one of `from` (a raw file), `from_datasets` (SDTM
# datasets built before), `rows` (the spec itself) or `continues` (the text beyond 200
# characters of a variable or qualifier, SUPP-- only); the loader checks that exactly one is
# given (`BLOCK_KINDS`), with one message instead of cerberus' four.
BLOCK_KINDS = ("from", "from_datasets", "rows", "continues")
RECORD_BLOCK: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "from": {"type": "string"},
        "from_datasets": {"type": "list", "minlength": 1, "schema": SAS_NAME},
        "distinct": {"type": "list", "minlength": 1, "schema": SAS_NAME, "dependencies": "from_datasets"},
        "rows": {
            "type": "list",
            "minlength": 1,
            "schema": {"type": "dict", "keysrules": SAS_NAME, "valuesrules": ROW_VALUE},
        },
        "where": CONDITION,
        "values": {"type": "dict", "keysrules": SAS_NAME, "valuesrules": VALUE_SOURCE},
        # The records of the text it continues: those records' raw records, no selection of
        # its own (the loader checks what it names, `cdisc_cup.spec.loader`).
        "continues": {**SAS_NAME, "excludes": ["where", "distinct"]},
    },
}

# The date layouts a raw file may use (cdisc_cup.readers.raw.DATE_LAYOUTS); MON is an English
# month abbreviation (JAN, Feb, ...).
DATE_FORMATS = ["DD.MM.YYYY", "YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "MM-DD-YYYY", "DD-MON-YYYY"]

READER: dict[str, Any] = {
    "format": {"type": "string", "allowed": ["csv", "sas7bdat", "xpt"]},
    "encoding": {"type": "string"},
    "delimiter": {"type": "string", "minlength": 1, "maxlength": 1},
    "quote": {"type": "string", "minlength": 1, "maxlength": 1},
    "decimal": {"type": "string", "allowed": [",", "."]},
    "thousands": {"type": "string", "nullable": True, "maxlength": 1},
    "date_format": {"type": "string", "allowed": DATE_FORMATS},
    "unknown_date_part": {"type": "string", "minlength": 1},
}

RAW_COLUMN: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "type": {
            "type": "string",
            "required": True,
            "allowed": ["text", "integer", "decimal", "date", "partial_date", "code", "flag"],
        },
        "required": {"type": "boolean"},
        "mandatory": {"type": "boolean"},
        "values": {"type": "list", "schema": {"type": "string"}},
        "pattern": {"type": "string"},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "description": {"type": "string"},
        "header": {"type": "string", "minlength": 1},
        "date_format": {"type": "string", "allowed": DATE_FORMATS},
    },
}

RAW_FILE: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "file": {"type": "string", "required": True, "regex": r"^[^/\\]+$"},
        "form": {"type": "string"},  # the eCRF form's title: a section of the aCRF
        "description": {"type": "string"},
        # The columns that identify a record; [] for a form whose records have no key of
        # their own (vital signs rows of one visit that differ only by which tests they hold).
        "key": {"type": "list", "required": True, "schema": {"type": "string"}},
        "columns": {"type": "dict", "required": True, "keysrules": NAME, "valuesrules": RAW_COLUMN},
        "references": {
            "type": "dict",
            "keysrules": {"type": "string"},
            "valuesrules": {"type": "string", "regex": r"^[a-z_]+\.[A-Za-z0-9_]+$"},
        },
        "date_order": {
            "type": "list",
            "schema": {
                "type": "dict",
                "schema": {
                    "earlier": {"type": "string", "required": True},
                    "later": {"type": "string", "required": True},
                },
            },
        },
        "reader": {"type": "dict", "schema": READER},
    },
}

STUDY_SCHEMA: dict[str, Any] = {
    "study": {
        "type": "dict",
        "required": True,
        "schema": {
            "studyid": {"type": "string", "required": True, "regex": r"^[A-Za-z0-9_-]{1,40}$"},
            "name": {"type": "string", "required": True},
            "description": {"type": "string"},
            "protocol": {"type": "string"},
            "country": {"type": "string", "regex": r"^[A-Z]{3}$"},
            "standards": {"type": "dict", "valuesrules": {"type": "string"}},
            "parameters": {"type": "dict"},
            # External dictionaries a variable may name (`dictionary:`): define.xml gives them
            # as def:ExternalCodeList (Define-XML 2.1 section 5.3.7).
            "dictionaries": {
                "type": "dict",
                "valuesrules": {
                    "type": "dict",
                    "schema": {
                        "name": {"type": "string", "required": True},
                        "version": {"type": "string", "required": True},
                        "href": {"type": "string"},
                    },
                },
            },
        },
    },
    # Optional: a study whose ADaM is derived from SDTM datasets it did not convert (`cdisc-cup
    # adam`) has no raw export to describe.
    "raw": {
        "type": "dict",
        "schema": {
            "reader": {"type": "dict", "schema": READER},
            "subject_key": {"type": "string", "required": True},
            "files": {
                "type": "dict",
                "required": True,
                "keysrules": {"type": "string", "regex": r"^[a-z_]+$"},
                "valuesrules": RAW_FILE,
            },
        },
    },
    "sdtm": {"type": "list", "schema": {"type": "string", "regex": r"^[a-z0-9_/]+\.yaml$"}},
    "adam": {"type": "list", "schema": {"type": "string", "regex": r"^[a-z0-9_/]+\.yaml$"}},
}

VARIABLE: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "name": {**SAS_NAME, "required": True},
        "label": {"type": "string", "required": True, "maxlength": 40},
        "type": {"type": "string", "required": True, "allowed": ["Char", "Num"]},
        "length": {"type": "integer", "min": 1, "max": 200},
        "origin": {
            "type": "string",
            "required": True,
            "allowed": ["Collected", "Derived", "Assigned", "Predecessor", "Protocol", "Not Available"],
        },
        "origin_source": {"type": "string", "allowed": ["Investigator", "Sponsor", "Subject", "Vendor"]},
        "core": {"type": "string", "required": True, "allowed": ["Req", "Exp", "Perm", "Cond"]},
        "role": {"type": "string"},
        "codelist": {"type": "string", "regex": r"^[A-Z0-9_]+$"},
        "format": {"type": "string", "regex": r"^\$?[A-Z0-9]*\d*\.\d*$"},
        "data_type": {"type": "string", "allowed": DATA_TYPES},
        "value": VALUE_SOURCE,
        "method": {"type": "string"},
        "comment": {"type": "string"},
        # Left out of the dataset when the export lacks every raw column it reads (an older
        # export format); the dataset's define.xml comment then says so.
        "optional": {"type": "boolean"},
        # An external dictionary (study.yaml `dictionaries`) instead of a CDISC codelist.
        "dictionary": {"type": "string"},
        # The SUPP-- dataset the text beyond the variable's length continues in (SDTMIG 3.4
        # section 4.5.3.2); only text can continue. The loader checks that dataset.
        "continued_in": {**SAS_NAME, "regex": r"^SUPP[A-Z0-9]{1,4}$", "dependencies": {"type": ["Char"]}},
    },
}

DATASET_SCHEMA: dict[str, Any] = {
    "dataset": {**SAS_NAME, "required": True},
    "label": {"type": "string", "required": True, "maxlength": 40},
    "standard": {"type": "string", "required": True, "allowed": ["SDTMIG 3.4", "ADaMIG 1.3"]},
    "class": {"type": "string", "required": True},
    "subclass": {"type": "string"},
    "structure": {"type": "string", "required": True},
    "description": {"type": "string"},
    "parent": {**SAS_NAME},
    "keys": {"type": "list", "required": True, "minlength": 1, "schema": SAS_NAME},
    "records": {"type": "list", "schema": RECORD_BLOCK},
    "variables": {"type": "list", "required": True, "minlength": 1, "schema": VARIABLE},
    # ADaM: the dataset its records start from (ADSL: DM, ADAE: AE) and the chain of verbs
    # that derives it (cdisc_cup.adam.engine checks each step's verb and options).
    "base": {**SAS_NAME},
    "derivations": {
        "type": "list",
        "schema": {
            "type": "dict",
            "schema": {"derivation": {"type": "string", "required": True}},
            "allow_unknown": True,
        },
    },
}


# analysis/results.yaml: the Analysis Results Metadata of the displays (ARM 1.0).
ANALYSIS_DATASET: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "dataset": {**SAS_NAME, "required": True},
        "where": CONDITION,
        "variables": {"type": "list", "required": True, "minlength": 1, "schema": SAS_NAME},
    },
}
ANALYSIS_RESULT: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "id": {"type": "string", "required": True, "regex": r"^[A-Za-z][A-Za-z0-9._-]*$"},
        "description": {"type": "string", "required": True},
        "datasets": {"type": "list", "required": True, "minlength": 1, "schema": ANALYSIS_DATASET},
        "reason": {"type": "string"},
        "purpose": {"type": "string"},
        "documentation": {"type": "string"},
        "code": {"type": "string", "regex": r"^[A-Za-z_][A-Za-z0-9_.]*$"},
        "context": {"type": "string"},
    },
}
RESULTS_SCHEMA: dict[str, Any] = {
    "reason": {"type": "string"},
    "purpose": {"type": "string"},
    "context": {"type": "string"},
    "displays": {
        "type": "list",
        "required": True,
        "schema": {
            "type": "dict",
            "schema": {
                "id": {"type": "string", "required": True, "regex": r"^[A-Za-z][A-Za-z0-9._-]*$"},
                "name": {"type": "string", "required": True},
                "output": {"type": "string", "required": True},
                "title": {"type": "string", "required": True},
                "results": {"type": "list", "required": True, "minlength": 1, "schema": ANALYSIS_RESULT},
            },
        },
    },
}

# explanations.yaml: the sponsor's explanations of findings left in the data.
EXPLANATIONS_SCHEMA: dict[str, Any] = {
    "findings": {
        "type": "list",
        "required": True,
        "schema": {
            "type": "dict",
            "schema": {
                "rule": {"type": "string", "required": True},
                "dataset": SAS_NAME,
                "variable": SAS_NAME,
                "explanation": {"type": "string", "required": True},
            },
        },
    },
}

# guides.yaml: the protocol description and acronyms of the reviewer's guides.
GUIDES_SCHEMA: dict[str, Any] = {
    "reference": {"type": "string", "required": True},
    "cite": {"type": "string", "required": True},
    "title": {"type": "string", "required": True},
    "design": {
        "type": "list",
        "schema": {
            "type": "dict",
            "schema": {
                "topic": {"type": "string", "required": True},
                "text": {"type": "string", "required": True},
                "source": {"type": "string", "required": True},
            },
        },
    },
    "acronyms": {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": {"type": "string"}},
}
