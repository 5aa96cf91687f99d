import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from models.assumptions import ASSUMPTIONS_DIR, resolve

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Hypothesis profiles. "ci": derandomized (the same inputs on every run and machine, so a
# submission is never refused by chance), no example database (CI starts clean anyway) and
# a reproduction blob printed with any failure. "dev" (default on a workstation): random
# draws with the local example database, for finding new failures; EQR_FUZZ_SCALE=10 soaks.
# HYPOTHESIS_PROFILE=ci (or dev) chooses explicitly.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))


def pytest_collection_modifyitems(items):
    """Each fuzz file's count test asserts what its fuzz test saw, so it runs after every
    other test whatever order pytest (or a plugin such as pytest-randomly) chose."""
    counts = [i for i in items if _is_fuzz_count(i)]
    items[:] = [i for i in items if not _is_fuzz_count(i)] + counts


def _is_fuzz_count(item) -> bool:
    return item.fspath.basename.startswith("test_fuzz_") and item.name.endswith("_count")


@pytest.fixture(scope="session")
def base():
    return resolve()


@pytest.fixture
def sheets(tmp_path):
    """A writable copy of the bundled assumptions folder."""
    target = tmp_path / "assumptions"
    shutil.copytree(ASSUMPTIONS_DIR, target)
    return target


def require_tool(name: str, found: bool):
    """Skip locally when a system tool is missing; fail in CI, where it must be installed."""
    if not found:
        if IN_CI:
            pytest.fail(f"{name} is required in CI but is not installed (.ci/run installs it)")
        pytest.skip(f"{name} not installed")


def pytest_terminal_summary(terminalreporter):
    """After the run: how many generated bad inputs the fuzz tests (tests/test_fuzz_*.py) fed
    the CLI, and what came of them (tests/fuzz_support.py counts)."""
    import sys
    support = sys.modules.get("fuzz_support")
    if support is not None and support.STATS:
        terminalreporter.write_sep("-", "fuzz summary (issue 9)")
        terminalreporter.write_line(support.summary())


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """One default build (no PDF) shared by the tests that only read a run folder; a test
    that changes files copies it first."""
    from models.cli import main
    out = tmp_path_factory.mktemp("default") / "run"
    assert main(["build", "--no-pdf", "--out", str(out)]) == 0
    return out
