"""Tests mirror the package: every module of cnncalc/ has a test file of its own at the same place
(cnncalc/spec/expand.py → tests/spec/test_expand.py, cnncalc/graph.py → tests/test_graph.py);
`__init__.py` and `__main__.py` hold nothing to test apart."""
from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "cnncalc"  # the source tree beside the tests, whichever copy is installed


def own_test(module: Path) -> Path:
    relative = module.relative_to(PACKAGE)
    return TESTS / relative.with_name(f"test_{relative.name}")


def test_every_module_has_a_test_file_of_its_own():
    modules = [path for path in PACKAGE.rglob("*.py") if path.name not in ("__init__.py", "__main__.py")]
    assert len(modules) > 50  # the package, not an empty folder
    missing = sorted(str(module.relative_to(PACKAGE.parent)) for module in modules if not own_test(module).is_file())
    assert not missing, f"no tests/<package>/test_<module>.py for: {', '.join(missing)}"


def test_a_test_folder_is_a_package_so_that_names_may_repeat():
    # tests/figures/test_fit.py and tests/verify/test_fit.py are two modules only as figures.test_fit and
    # verify.test_fit: a folder without __init__.py would make pytest import both as test_fit
    folders = {path.parent for path in TESTS.rglob("test_*.py")} - {TESTS}
    assert folders and all((folder / "__init__.py").is_file() for folder in folders)


def test_every_package_is_installed():
    # pyproject names the packages `pip install .` copies: one left out is missing from every install,
    # though the tests, which import the checkout, pass (cnncalc.importing was, until 2026-12)
    tomllib = pytest.importorskip("tomllib")  # Python 3.11

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(PACKAGE.parent).parts) for path in PACKAGE.rglob("__init__.py")}
    assert found <= listed, f"not in pyproject's packages: {', '.join(sorted(found - listed))}"
