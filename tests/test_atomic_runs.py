"""Atomic output: a run folder appears complete or not at all; ``reports/latest`` moves only to a
complete run; builds killed mid-write leave no run folder, and their temporary folders are
removed by the next build once their process is gone (never a live build's)."""
from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from fuzz_support import assert_complete_run
from models import runs
from models.cli import main
from models.runs import TMP_PREFIX, clean_incomplete, is_stale, list_runs

FAST = ["--no-pdf", "--no-compare"]  # the writing that matters here without the slow parts


def build_process(reports: Path, pause: float | None = None, *extra: str,
                  resume: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if pause is not None:
        env["EQR_TEST_PAUSE_BEFORE_RENAME"] = str(pause)
    if resume is not None:
        env["EQR_TEST_RESUME_FILE"] = str(resume)
    return subprocess.Popen([sys.executable, "-m", "models", "build", "--reports", str(reports),
                             *(extra or FAST)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until_paused(proc: subprocess.Popen) -> Path:
    """Read the build's stderr until it says it paused; return its complete temporary folder."""
    line = proc.stderr.readline()
    assert line.startswith("eqr-test: paused before rename: "), (line, proc.stderr.read())
    return Path(line.split(": ", 2)[2].strip())


def temp_folders(reports: Path) -> list[Path]:
    return sorted(reports.glob(TMP_PREFIX + "*"))


def test_sigkill_mid_write_leaves_no_run_folder_and_the_next_build_cleans_up(tmp_path):
    reports = tmp_path / "reports"
    proc = build_process(reports, 60, "--pdf")  # a full default build, PDF and comparison
    tmp = wait_until_paused(proc)
    # the build is mid-write: every file is written, the folder is not yet renamed
    assert {"model.xlsx", "outputs.json", "manifest.json", "memo.html"} <= \
        {p.name for p in tmp.iterdir()}
    proc.kill()  # SIGKILL: no handler runs, no cleanup
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    assert list_runs(reports) == []
    assert not (reports / "latest").exists()
    assert temp_folders(reports) == [tmp]  # left behind, but not a run
    assert is_stale(tmp)

    assert main(["build", *FAST, "--reports", str(reports)]) == 0
    assert temp_folders(reports) == []  # removed: its owner is gone
    [run] = list_runs(reports)
    assert_complete_run(run)
    assert (reports / "latest").resolve() == run.resolve()


def test_sigterm_mid_write_removes_its_own_temporary_folder(tmp_path):
    reports = tmp_path / "reports"
    proc = build_process(reports, pause=60)
    tmp = wait_until_paused(proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "terminated; no run folder was written" in err and "Traceback" not in err
    assert not tmp.exists()
    assert list(reports.iterdir()) == []


def test_killing_at_random_moments_never_leaves_a_partial_run(tmp_path):
    """Kill builds at random times (before, during and after writing): every folder that looks
    like a run is complete, ``latest`` points at a complete run or nowhere."""
    reports = tmp_path / "reports"
    started = time.monotonic()
    proc = build_process(reports)
    assert proc.wait(timeout=120) == 0
    proc.stdout.close()
    proc.stderr.close()
    duration = time.monotonic() - started
    rng = random.Random(9)
    outcomes = {"killed": 0, "finished": 0}
    for _ in range(4):
        proc = build_process(reports)
        time.sleep(rng.uniform(0.2, 1.2) * duration)
        proc.kill()
        code = proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        outcomes["finished" if code == 0 else "killed"] += 1
        for run in list_runs(reports):
            assert_complete_run(run)
        visible = [p for p in reports.iterdir() if not p.name.startswith(".")]
        assert all(p.name == "latest" or (p / "manifest.json").is_file() for p in visible)
        if (reports / "latest").exists():
            assert_complete_run((reports / "latest").resolve())
    print(f"\nrandom kills: {outcomes}, build takes {duration:.1f}s")
    assert main(["build", *FAST, "--reports", str(reports)]) == 0
    assert temp_folders(reports) == [] and not list(reports.glob(".latest-*"))
    assert all(not p.name.startswith(".") for p in reports.iterdir())


def test_a_concurrent_builds_temporary_folder_is_never_removed(tmp_path):
    reports = tmp_path / "reports"
    resume = tmp_path / "resume"
    proc = build_process(reports, pause=600, resume=resume)
    tmp = wait_until_paused(proc)
    assert not is_stale(tmp)  # its owner is alive
    assert main(["build", *FAST, "--reports", str(reports)]) == 0  # cleans stale folders only
    assert tmp.exists()
    resume.touch()  # let the paused build finish
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    runs_made = list_runs(reports)
    assert len(runs_made) == 2  # same inputs, same id: the second one is "<id>-2"
    assert {r.name for r in runs_made} == {runs_made[0].name, runs_made[0].name + "-2"} or \
        {r.name for r in runs_made} == {runs_made[1].name, runs_made[1].name + "-2"}
    for run in runs_made:
        assert_complete_run(run)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_detection(tmp_path):
    host, me = runs._HOST, os.getpid()
    start = runs._start_token(me)
    dead = _dead_pid()
    names = {
        f"{TMP_PREFIX}{host}-{dead}-{start}-x-abc": True,  # owner gone
        f"{TMP_PREFIX}{host}-{me}-{start}-x-abc": False,  # this process: alive
        f"{TMP_PREFIX}{host}-{me}-999999999-x-abc": True,  # pid reused by another process
        f"{TMP_PREFIX}00000000-{dead}-0-x-abc": False,  # another host: cannot tell
        f"{TMP_PREFIX}legacy-young": False,  # no owner recorded, recent
        "2026-01-01_base_12345678": False,  # a run
        ".hidden": False,
    }
    for name in names:
        (tmp_path / name).mkdir()
    (tmp_path / f"{runs.LATEST_TMP_PREFIX}{host}-{dead}-0").symlink_to("nowhere")
    old = tmp_path / f"{TMP_PREFIX}legacy-old"
    old.mkdir()
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    removed = {p.name for p in clean_incomplete(tmp_path)}
    expected = {n for n, stale in names.items() if stale}
    expected |= {f"{runs.LATEST_TMP_PREFIX}{host}-{dead}-0", old.name}
    assert removed == expected
    assert (tmp_path / "2026-01-01_base_12345678").is_dir()


def test_temporary_folders_are_never_listed_as_runs(tmp_path):
    reports = tmp_path / "reports"
    assert main(["build", *FAST, "--reports", str(reports)]) == 0
    fake = reports / f"{TMP_PREFIX}{runs._HOST}-{os.getpid()}-0-x-y"
    fake.mkdir()
    (fake / "manifest.json").write_text("{}")
    listed = list_runs(reports)
    assert len(listed) == 1 and not listed[0].name.startswith(".")
    assert (reports / "latest").resolve() == listed[0].resolve()


# --------------------------------------------------------------------------- failures
def _latest(reports: Path) -> Path:
    return (reports / "latest").resolve()


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """A reports folder holding one complete run and ``latest``."""
    reports = tmp_path_factory.mktemp("one_run") / "reports"
    assert main(["build", *FAST, "--reports", str(reports)]) == 0
    return reports


@pytest.mark.parametrize("failure", ["disk full", "permission", "bad template value",
                                     "keyboard interrupt"])
def test_a_failed_build_leaves_nothing_and_does_not_move_latest(tmp_path, monkeypatch, capsys,
                                                                 failure, one_run):
    import shutil
    reports = tmp_path / "reports"
    shutil.copytree(one_run, reports, symlinks=True)
    first = _latest(reports)
    before = sorted(p.name for p in reports.iterdir())
    from models import memo

    def fail(*args, **kwargs):
        if failure == "disk full":
            raise OSError(errno.ENOSPC, "No space left on device")
        if failure == "permission":
            raise PermissionError(errno.EACCES, "Permission denied")
        if failure == "keyboard interrupt":
            raise KeyboardInterrupt
        raise memo.EqrError("a memo figure must be a number", found="n/a")

    from models import workbook
    monkeypatch.setattr(memo, "render_all", fail)
    if failure != "bad template value":  # fail early in the writing (quicker)
        monkeypatch.setattr(workbook, "write_workbook", fail)
    capsys.readouterr()
    code = main(["build", *FAST, "--reports", str(reports), "--set", "china.levy_rate=0.2"])
    err = capsys.readouterr().err
    assert code == (130 if failure == "keyboard interrupt" else 2)
    assert "Traceback" not in err and err.count("\n") == 1, err
    if failure == "disk full":
        assert "No space left on device" in err and "free some space" in err
    if failure == "permission":
        assert "Permission denied" in err and "permissions" in err
    assert sorted(p.name for p in reports.iterdir()) == before
    assert _latest(reports) == first


def test_disk_full_for_real_file_size_limit(tmp_path):
    """A real write failure: the build runs with a 6 kB file-size limit (RLIMIT_FSIZE), so
    writing model.xlsx fails with EFBIG inside XlsxWriter."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))

    reports = tmp_path / "reports"
    reports.mkdir()
    proc = subprocess.run([sys.executable, "-m", "models", "build", *FAST, "--reports",
                           str(reports)], cwd=ROOT, preexec_fn=limit, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "cannot write the run: File too large" in proc.stderr
    assert list(reports.iterdir()) == []


def test_out_folder_cases(tmp_path, capsys):
    file = tmp_path / "a-file"
    file.write_text("x")
    link = tmp_path / "link"
    (tmp_path / "target").mkdir()
    link.symlink_to(tmp_path / "target")
    cases = {
        str(file): "output folder is a file",
        str(file / "below"): "part of the path is a file",
        str(link): "symbolic link",
        str(tmp_path / "a\x00b"): "NUL byte",
        str(tmp_path / ("x" * 300)): "File name too long",
    }
    for out, fragment in cases.items():
        code = main(["build", *FAST, "--out", out])
        err = capsys.readouterr().err
        assert code == 2 and fragment in err and "Traceback" not in err, (out, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "link", "target"]
    assert list((tmp_path / "target").iterdir()) == []
    nested = tmp_path / "new" / "deeper" / "run"
    assert main(["build", *FAST, "--out", str(nested)]) == 0
    assert_complete_run(nested)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["build", *FAST, "--out", str(empty)]) == 0
    assert_complete_run(empty)
    assert not list(tmp_path.glob(".incomplete-*")) and not list(
        (tmp_path / "new" / "deeper").glob(".incomplete-*"))


def test_manifest_lists_exactly_the_files_written(tmp_path):
    out = tmp_path / "run"
    assert main(["build", *FAST, "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir())


def test_real_permission_error(tmp_path, capsys):
    """A reports folder nobody may write to (made immutable with chattr, which binds root
    too): a clear error naming the folder, nothing written."""
    import shutil
    reports = tmp_path / "reports"
    reports.mkdir()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(reports)],
                                        capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this filesystem")
    try:
        code = main(["build", *FAST, "--reports", str(reports)])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
        assert "Operation not permitted" in err and "permissions" in err and str(reports) in err
        assert list(reports.iterdir()) == []
    finally:
        subprocess.run([chattr, "-i", str(reports)], check=True)
