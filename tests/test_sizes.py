"""Sizes the structure issue set: no product module over 500 lines, no function over 80.

Migrations aside. A module or function that grows past them is a sign that it
holds more than one concern: split it by what it holds.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "billers",
    "partners",
    "payments",
    "invoicefiles",
    "icintegrations",
    "portal",
    "onboarding",
)
MODULE_MAX_LINES = 500
FUNCTION_MAX_LINES = 80


def product_modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def test_no_product_module_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in product_modules()
        if (lines := len(path.read_text().splitlines())) > MODULE_MAX_LINES
    }
    assert long == {}


def test_no_function_is_over_80_lines():
    long = {}
    for path in product_modules():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_MAX_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_the_size_check_sees_every_package(package):
    assert (ROOT / package / "__init__.py").exists()
