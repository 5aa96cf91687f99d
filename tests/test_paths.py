"""Folders are resolved when used, not when eqr is imported (issue 14): a program that
changes its working directory after ``import models`` gets the new directory's folders."""
from __future__ import annotations

import shutil

import pytest

from models import assumptions, memo, paths, runs
from models.errors import EqrError
from models.reproduce import find_run


def test_changing_the_working_directory_after_import_is_honoured(tmp_path, monkeypatch):
    bundled = paths.PROJECT_ROOT / "assumptions"
    (tmp_path / "assumptions").mkdir()
    shutil.copy(bundled / "export_control.yaml", tmp_path / "assumptions")
    for name in ("templates", "reports"):
        (tmp_path / name).mkdir()
    (tmp_path / "reports" / "run_a").mkdir()

    monkeypatch.chdir(tmp_path)  # after every module above was imported
    assert assumptions.ASSUMPTIONS_DIR == tmp_path / "assumptions"
    assert memo.TEMPLATES_DIR == tmp_path / "templates"
    assert runs.REPORTS_DIR == tmp_path / "reports"
    assert set(assumptions.load_base().sheets) == {"export_control"}  # only the copied sheet
    assert assumptions.available_scenarios() == []
    assert find_run("run_a") == tmp_path / "reports" / "run_a"


def test_without_folders_in_the_working_directory_the_bundled_ones_are_used(tmp_path,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert paths.assumptions_dir() == paths.PROJECT_ROOT / "assumptions"
    assert memo.TEMPLATES_DIR == paths.PROJECT_ROOT / "templates"
    assert "export_control" in assumptions.load_base().sheets
    with pytest.raises(EqrError, match="no such run"):
        find_run("run_a", tmp_path / "reports")


def test_an_unknown_module_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError):
        assumptions.NO_SUCH_THING  # noqa: B018
