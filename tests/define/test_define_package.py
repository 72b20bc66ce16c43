"""cdisc_cup.define sits below the stages: the writer, the rules and Dataset-JSON use it, it uses none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import cdisc_cup

PACKAGE = Path(cdisc_cup.__file__).parent
# What the define package may build on (issue #14): the shared formats and the specs, not the stages.
ALLOWED = ("cdisc_cup.constants", "cdisc_cup.errors", "cdisc_cup.spec", "cdisc_cup.ct", "cdisc_cup.provenance")
ALLOWED += ("cdisc_cup.xpt", "cdisc_cup.define")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every `from module import names` and `import module` in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


def test_the_define_package_imports_no_stage() -> None:
    offenders = [
        f"{path.name}: {module}"
        for path in sorted((PACKAGE / "define").glob("*.py"))
        for module, _ in _imports(path)
        if module.startswith("cdisc_cup") and not module.startswith(ALLOWED)
    ]
    assert offenders == []


def test_no_private_name_is_imported_from_another_module() -> None:
    files = [*(PACKAGE / "define").glob("*.py"), *(PACKAGE / "writers").glob("*.py"), PACKAGE / "rules" / "define.py"]
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}.{name}"
        for path in sorted(files)
        for module, names in _imports(path)
        for name in names
        if name.startswith("_") and name != "__future__" and module != "__future__"
    ]
    assert offenders == []
