"""``eqr new model NAME`` (issue 14): a working model with no edit anywhere else, a clear error
for a bad name, and never a file overwritten or half a model written."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models import registry, scaffold
from models.cli import main
from models.errors import EqrError

ROOT = Path(__file__).resolve().parent.parent
FILES = ["assumptions/demo_co.yaml", "models/demo_co.py", "models/plots/demo_co.py",
         "templates/sections/demo_co.md.j2", "templates/sections/demo_co.html.j2",
         "tests/test_demo_co.py"]


def project_copy(target: Path) -> Path:
    """The project's code, sheets and templates (and the test fixtures) under ``target``."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("models", "assumptions", "templates"):
        shutil.copytree(ROOT / folder, target / folder, ignore=skip)
    (target / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", target / "tests")
    return target


def empty_project(target: Path) -> Path:
    for folder in ("models/plots", "assumptions", "templates/sections", "tests"):
        (target / folder).mkdir(parents=True)
    return target


def run_in(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "CI": "true"}
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)


def test_a_new_model_is_built_and_its_test_passes(tmp_path):
    """The scaffold's files are all a build needs: the registry finds the module, the engine
    runs it from its sheet, the memo shows its section and chart, and its own test passes."""
    root = project_copy(tmp_path / "project")
    assert main(["new", "model", "demo_co", "--root", str(root)]) == 0
    assert all((root / f).is_file() for f in FILES)
    assert registry.discovered(root / "models") == ("demo_co",)
    assert registry.discovered() == ()  # the bundled project itself is unchanged

    check = run_in(root, "-m", "models", "check", "--no-compare")
    assert check.returncode == 0, check.stderr
    assert "checks pass" in check.stdout and "failing" not in check.stdout
    shown = run_in(root, "-c", "from models import registry, memo; "
                               "print(registry.MODELS[-1], memo.sections(registry.MODELS))")
    assert shown.stdout.split()[0] == "demo_co" and "'demo_co'" in shown.stdout, shown.stderr
    test = run_in(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_demo_co.py")
    assert test.returncode == 0, test.stdout + test.stderr
    assert "1 passed" in test.stdout


@pytest.mark.parametrize("name, expected", [
    ("DemoCo", "lower-case Python identifier"),
    ("2demo", "lower-case Python identifier"),
    ("demo-co", "lower-case Python identifier"),
    ("class", "lower-case Python identifier"),
    ("x" * 32, "at most 31 characters"),
    ("inputs", "not taken by the workbook"),
    ("china", "no module has"),
    ("lineitems", "no module has"),
    ("plots", "not taken"),
])
def test_a_bad_name_is_refused_before_anything_is_written(tmp_path, name, expected):
    root = project_copy(tmp_path / "project")
    before = sorted(p for p in root.rglob("*"))
    with pytest.raises(EqrError, match=expected):
        scaffold.new_model(name, root)
    assert sorted(p for p in root.rglob("*")) == before


def test_the_command_reports_a_bad_name_with_exit_2(tmp_path, capsys):
    assert main(["new", "model", "Demo", "--root", str(empty_project(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "bad model name" in err and "Demo" in err


def test_an_existing_file_is_never_overwritten(tmp_path):
    """A section template of that name exists already: nothing is written, the file is kept."""
    root = empty_project(tmp_path)
    kept = root / "templates/sections/demo_co.md.j2"
    kept.write_text("mine", encoding="utf-8")
    with pytest.raises(EqrError, match="exist already"):
        scaffold.new_model("demo_co", root)
    assert kept.read_text(encoding="utf-8") == "mine"
    assert [p for p in root.rglob("*") if p.is_file()] == [kept]


def test_a_failed_write_leaves_no_half_model(tmp_path, monkeypatch):
    """The third file cannot be written: the two written before it are removed again."""
    root = empty_project(tmp_path)
    real = scaffold.write_new
    calls = []

    def flaky(path, text, what="file"):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(path, text, what)

    monkeypatch.setattr(scaffold, "write_new", flaky)
    with pytest.raises(OSError):
        scaffold.new_model("demo_co", root)
    assert len(calls) == 3
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_not_a_project_folder(tmp_path):
    with pytest.raises(EqrError, match="not a project folder"):
        scaffold.new_model("demo_co", tmp_path)


def test_discovery_reads_the_protocol_without_importing(tmp_path):
    """A module with TITLE, DESCRIPTION and define is a model; a helper module is not, nor is
    one that does not parse (importing it shows the error)."""
    (tmp_path / "good.py").write_text('TITLE = "t"\nDESCRIPTION = "d"\n\n\ndef define(m):\n'
                                      '    pass\n', encoding="utf-8")
    (tmp_path / "helper.py").write_text("def define(m):\n    pass\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("TITLE = (\ndef define(m):\n", encoding="utf-8")
    (tmp_path / "china.py").write_text((tmp_path / "good.py").read_text(), encoding="utf-8")
    assert registry.discovered(tmp_path) == ("good",)  # china is bundled, listed in order
