"""The size limits the architecture promises (README "How it is built"): a module that grows
past them is a module doing two things."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "flask_pco"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = lines
    assert long == {}


def test_tests_mirror_the_package_folders() -> None:
    tests = PACKAGE.parent / "tests"
    folders = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("__init__.py")]
    missing = [
        str(folder.parent)
        for folder in folders
        if folder.parent != Path(".") and not (tests / folder.parent).is_dir()
    ]
    assert missing == []
