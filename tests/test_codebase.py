"""Checks on the code itself: packaging complete, no loops over records on the hot path."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_packaged() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "cdisc_cup").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(found - listed)}"


def test_no_row_loops_in_the_package() -> None:
    """Records are processed with column operations, never one by one (issue #9); ISO 8601
    text comes from numpy (`iso_dates`), not from `dt.strftime`, which formats value by value."""
    pattern = re.compile(r"\.iterrows\(|\.itertuples\(|\.apply\([^)]*axis\s*=\s*1|\.dt\.strftime\(")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in (REPO / "cdisc_cup").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


# The layering the README's architecture section draws: a module imports only from its own
# folder or from a lower layer; the stages never import each other; nothing imports a private
# name (a leading underscore) of another module.
LAYERS: dict[str, int] = {
    **dict.fromkeys(
        [
            "__init__",
            "constants",
            "errors",
            "findings",
            "comparison",
            "columns",
            "progress",
            "memory",
            "conditions",
            "provenance",
        ],
        0,
    ),
    **dict.fromkeys(["outputs", "spec", "ct", "derivations"], 0),
    **dict.fromkeys(["xpt", "define"], 1),  # the shared formats
    **dict.fromkeys(
        ["readers", "mapping", "adam", "rules", "writers", "reports", "tables", "compare"], 2
    ),  # the stages
    "pipeline": 3,
    "cli": 4,
}


def _imports() -> list[tuple[str, str, str, list[str]]]:
    """(importing file, its top-level part, imported module, imported names) of the package."""
    import ast

    found = []
    for path in sorted((REPO / "cdisc_cup").rglob("*.py")):
        parts = path.relative_to(REPO / "cdisc_cup").with_suffix("").parts
        top = parts[0]  # the folder (rules), or the module itself at the top (pipeline)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cdisc_cup":
                found.append((str(path.relative_to(REPO)), top, node.module, [a.name for a in node.names]))
    return found


def test_modules_import_only_downwards_and_stages_never_each_other() -> None:
    wrong = []
    for where, top, module, names in _imports():
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else "__init__"
        if target == "__init__" and names:  # `from cdisc_cup import ct` names a module of the package
            targets = names if all(n in LAYERS for n in names) else ["__init__"]
        else:
            targets = [target]
        for target in targets:
            if target == top:
                continue
            assert top in LAYERS and target in LAYERS, f"add {top} or {target} to LAYERS (and the README)"
            if LAYERS[target] >= LAYERS[top] and not (LAYERS[top] == 0 and LAYERS[target] == 0):
                wrong.append(f"{where} imports {module} ({target}, layer {LAYERS[target]} >= {LAYERS[top]})")
    assert wrong == []


def test_the_cli_calls_the_pipeline_and_nothing_else() -> None:
    """cli.py wires options to pipeline.py (README, Architecture): besides the pipeline it may
    import only foundation modules (errors, progress, CT, the output folder), the IG
    versions its --standard choices list and the word --rules takes for our own catalogue
    (rules.core.model, standard library only), never a stage."""
    foundation = {name for name, layer in LAYERS.items() if layer == 0}
    stages = []
    for _, top, module, names in _imports():
        if top != "cli":
            continue
        target = module.removeprefix("cdisc_cup.") if module != "cdisc_cup" else ""
        if target in ("pipeline", "rules.igmeta", "rules.core.model") or target.split(".")[0] in foundation:
            continue
        if not target and all(name in foundation or name.startswith("__") for name in names):
            continue  # from cdisc_cup import __version__, ct
        stages.append(module)
    assert stages == []


def test_foundation_modules_form_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for _, top, module, _ in _imports():
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else "__init__"
        if target != top and LAYERS.get(top) == 0 and LAYERS.get(target) == 0:
            graph.setdefault(top, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    assert [name for name in graph if reaches(name, name, set())] == []


def test_no_module_imports_a_private_name_of_another() -> None:
    private = [
        f"{where}: {module}.{name}"
        for where, _, module, names in _imports()
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []
