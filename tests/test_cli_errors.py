"""The CLI's error contract end to end: user errors are one line and exit 2; internal errors
(bugs) are one line and exit 1 with the traceback only on request; nothing is half-written.
Includes subprocess runs proving no traceback reaches stderr."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest

from conftest import ROOT
from models import engine
from models.cli import main


def python_m(*args, env=None, input_bytes=None):
    return subprocess.run([sys.executable, "-m", "models", *args], cwd=ROOT, env=env,
                          capture_output=True, timeout=180)


# --------------------------------------------------------------------------- subprocess
@pytest.mark.parametrize("setup, args, fragment", [
    ("binary", [], "not UTF-8 text"),
    ("bomb", [], "too large once its aliases are expanded"),
    ("deep", [], "nested too deeply"),
    ("tag", [], "YAML tag !!python/object/apply:os.system is not allowed"),
    (None, ["--set", "china.levy_rate=25"], "percentage given as a whole number"),
    (None, ["--set", "china.asp_usd=.nan"], "not a finite number"),
    (None, ["--scenario", "../../etc/passwd"], "bad scenario name"),
    (None, ["--set", "china.asp_usd=\udcff"], "wrong type of value"),  # undecodable argv byte
    (None, ["--assumptions", "/nonexistent/folder"], "assumptions folder not found"),
    (None, ["--bogus"], "unrecognized arguments"),
])
def test_subprocess_user_errors_have_no_traceback(tmp_path, sheets, setup, args, fragment):
    sheet = sheets / "china.yaml"
    if setup == "binary":
        sheet.write_bytes(b"\x00\xff\xfe" * 100)
    elif setup == "bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
            f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
        sheet.write_text("\n".join(lines) + "\n" + sheet.read_text())
    elif setup == "deep":
        sheet.write_text("model: " + "[" * 100_000 + "]" * 100_000 + "\n")
    elif setup == "tag":
        sheet.write_text(sheet.read_text().replace("value: 40000",
                                                   "value: !!python/object/apply:os.system [id]"))
    reports = tmp_path / "reports"
    argv = ["build", "--no-pdf", "--reports", str(reports), *args]
    if "--assumptions" not in args:
        argv += ["--assumptions", str(sheets)]
    proc = python_m(*[os.fsencode(a) for a in argv])
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    assert b"Traceback" not in proc.stderr and err.startswith("eqr: error: ")
    assert err.count("\n") == 1 and fragment in err, err
    assert not reports.exists() or list(reports.iterdir()) == []


def test_subprocess_internal_error_is_one_line_unless_debug(tmp_path):
    """A bug (here: injected into the workbook writer) is not the user's fault: exit 1, a short
    message asking for a report; --debug / EQR_DEBUG=1 show the traceback; nothing written."""
    code = ("import sys, models.workbook as w\n"
            "def broken(*a, **k): raise ZeroDivisionError('injected bug')\n"
            "w.write_workbook = broken\n"
            "from models.cli import main\n"
            "raise SystemExit(main(sys.argv[1:]))\n")
    reports = tmp_path / "reports"
    for extra, env_debug in ([], None), (["--debug"], None), ([], "1"):
        env = dict(os.environ)
        env.pop("EQR_DEBUG", None)
        if env_debug:
            env["EQR_DEBUG"] = env_debug
        proc = subprocess.run([sys.executable, "-c", code, "build", "--no-pdf", "--reports",
                               str(reports), *extra], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=180)
        assert proc.returncode == 1
        assert "eqr: internal error: ZeroDivisionError: injected bug" in proc.stderr
        assert "bug in eqr" in proc.stderr
        debug = bool(extra or env_debug)
        assert ("Traceback" in proc.stderr) == debug, proc.stderr
        assert not reports.exists() or list(reports.iterdir()) == []


def test_broken_pipe_is_quiet(monkeypatch, capsys):
    """``eqr assumptions | head``: the reader went away; stop without a traceback."""
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["assumptions"]) == 0
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- in-process
def test_internal_error_in_process(capsys, tmp_path, monkeypatch):
    from models import workbook
    monkeypatch.setattr(workbook, "write_workbook", lambda *a, **k: {}["missing"])
    reports = tmp_path / "reports"
    assert main(["build", "--no-pdf", "--reports", str(reports)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("eqr: internal error: KeyError") and "Traceback" not in err
    assert list(reports.iterdir()) == []


@pytest.fixture
def nan_model(monkeypatch, sheets):
    """A model whose row divides by an input that is 0: inf/NaN without safe_div."""
    module = types.SimpleNamespace(
        TITLE="Broken", DESCRIPTION="divides by zero",
        define=lambda m: m.row("ratio", "Ratio", "x", m.input("a") / m.input("b")))
    (sheets / "nanmodel.yaml").write_text(
        "model: nanmodel\nperiods: [P1]\nassumptions:\n"
        "  a: {unit: count, value: 1, source: s}\n  b: {unit: count, value: 0, source: s}\n")
    real = engine.model_module
    monkeypatch.setattr(engine, "MODEL_MODULES", engine.MODEL_MODULES + ("nanmodel",))
    patched = lambda name: module if name == "nanmodel" else real(name)  # noqa: E731
    monkeypatch.setattr(engine, "model_module", patched)
    # registered as a real model is: optional attributes (HEADLINES, read when an overlay's
    # `expects` is checked) come through the registry
    from models import registry
    monkeypatch.setattr(registry, "model_module", patched)
    return sheets


def test_a_model_producing_nan_or_inf_is_a_clear_error(capsys, tmp_path, nan_model):
    reports = tmp_path / "reports"
    for command in (["check"], ["build", "--no-pdf", "--reports", str(reports)]):
        assert main([*command, "--assumptions", str(nan_model)]) == 2
        err = capsys.readouterr().err
        assert "nanmodel.ratio: the models produced a value that is not a finite number" in err
        assert "Traceback" not in err
    assert not reports.exists() or list(reports.iterdir()) == []
    assert main(["check", "--assumptions", str(nan_model), "--set", "nanmodel.b=2"]) == 0


def test_template_errors_name_file_and_line(capsys, tmp_path):
    import shutil
    from models.memo import TEMPLATES_DIR
    cases = {
        "syntax": ("{% if %}", "template syntax error"),
        "runtime": ("{{ 1 / 0 }}", "ZeroDivisionError"),
        "undefined": ("{{ o['no.such.output'] }}", "uses a name the run does not have"),
        "filter": ("{{ 'text' | usd_m }}", "a memo figure must be a number"),
    }
    for name, (snippet, fragment) in cases.items():
        folder = tmp_path / name
        shutil.copytree(TEMPLATES_DIR, folder)
        md = folder / "memo.md.j2"
        md.write_text(md.read_text() + "\n" + snippet + "\n")
        line = md.read_text().count("\n")
        reports = tmp_path / f"r-{name}"
        # `check` renders the memo as a build does; one real build proves nothing is left
        command = ["build", "--no-pdf", "--reports", str(reports)] if name == "runtime" else ["check"]
        assert main([*command, "--templates", str(folder)]) == 2
        err = capsys.readouterr().err
        assert fragment in err and "Traceback" not in err, err
        assert f"memo.md.j2:{line}:" in err, err
        assert not reports.exists() or list(reports.iterdir()) == []


def test_assumptions_command_errors(capsys, sheets):
    assert main(["assumptions", "--model", "chna"]) == 2
    err = capsys.readouterr().err
    assert "unknown model" in err and "did you mean 'china'?" in err
    for sheet in sheets.glob("*.yaml"):
        sheet.unlink()
    assert main(["assumptions", "--assumptions", str(sheets)]) == 2
    assert "no assumption sheets" in capsys.readouterr().err


def test_missing_assumption_names_the_sheet(capsys, sheets):
    sheet = sheets / "china.yaml"
    sheet.write_text(sheet.read_text().replace("  tax_rate:", "  tax_rat:"))
    assert main(["check", "--assumptions", str(sheets)]) == 2
    err = capsys.readouterr().err
    assert "china.yaml: china.tax_rate: model 'china' needs assumption 'tax_rate'" in err


def test_model_states_its_units(capsys, sheets):
    sheet = sheets / "china.yaml"
    text = sheet.read_text()
    sheet.write_text(text.replace("unit: fraction\n    value: 0.25", "unit: USD m\n    value: 25"))
    assert main(["check", "--assumptions", str(sheets)]) == 2
    err = capsys.readouterr().err
    assert "china.levy_rate: the china model reads this assumption in another unit" in err
    assert "expected unit 'fraction'; found 'USD m'" in err
    sheet.write_text(text.replace(
        "value: {CY2025: 0, CY2026: 1000000, CY2027: 1000000, CY2028: 500000}", "value: 5"))
    assert main(["check", "--assumptions", str(sheets)]) == 2
    assert "needs a value for each period" in capsys.readouterr().err


def test_check_renders_what_build_renders(capsys, tmp_path):
    from models import risk
    from models.assumptions import resolve
    from models.runs import prepare_run
    from models.workbook import cell_map
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(out)]) == 0
    result = prepare_run(resolve())
    sheets = [risk.sheet_writer(risk.analyse(result))]  # a build adds the Risk sheet
    assert cell_map(result, sheets) == json.loads((out / "cells.json").read_text())
    capsys.readouterr()
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_a_key_set_twice_is_an_error(capsys):
    """Issue 17, case 8: ``--set k=1 --set k=2`` silently kept the last value."""
    assert main(["check", "--quick", "--set", "china.levy_rate=0.2",
                 "--set", "china.levy_rate=0.3"]) == 2
    err = capsys.readouterr().err
    assert "set twice" in err and "china.levy_rate" in err


def test_a_command_restores_the_garbage_collectors_thresholds(tmp_path, capsys):
    """main() collects less often while a command runs (issue 18) and puts the caller's
    thresholds back, also when the command fails."""
    import gc
    from models.cli import GC_THRESHOLDS, main
    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    assert main(["build", "--assumptions", str(tmp_path / "missing"), "--out",
                 str(tmp_path / "out")]) == 2
    assert "assumptions folder not found" in capsys.readouterr().err
    assert gc.get_threshold() == before
