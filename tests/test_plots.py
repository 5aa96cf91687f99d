"""Saving the memo's charts: in a forked child beside the build, with the same files."""
import hashlib

import pytest

from models import plots


def _charts(n, bad=None):
    out = []
    for i in range(n):
        fig, ax = plots.new_figure(3, 2)
        ax.bar(["a", "b"], [i + 1, 2])
        name = f"c{i}" if i != bad else "missing_folder/c"  # a file the child cannot write
        out.append(plots.Chart("m", name, f"chart {i}", "m", fig, []))
    return out


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "charts").iterdir())}


def _saved_serially(tmp_path, monkeypatch):
    """The reference: four charts saved here, in this process, under ``tmp_path/serial``."""
    (tmp_path / "serial").mkdir()
    monkeypatch.setenv("EQR_SERIAL_CHARTS", "1")
    entries, finish = plots.start_writing_charts(_charts(4), tmp_path / "serial")
    finish()
    monkeypatch.delenv("EQR_SERIAL_CHARTS")
    return entries


def test_forked_saving_writes_the_same_files(tmp_path, monkeypatch):
    entries = _saved_serially(tmp_path, monkeypatch)
    (tmp_path / "forked").mkdir()
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    forked, finish = plots.start_writing_charts(_charts(4), tmp_path / "forked")
    finish()
    assert forked == entries
    assert len(_digests(tmp_path / "forked")) == 8  # SVG and PNG of each
    assert _digests(tmp_path / "forked") == _digests(tmp_path / "serial")


def test_an_error_in_the_child_reaches_the_parent(tmp_path, monkeypatch):
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    _, finish = plots.start_writing_charts(_charts(3, bad=0), tmp_path)  # child's share
    with pytest.raises(FileNotFoundError) as err:
        finish()
    assert "missing_folder" in str(err.value.filename)


def test_abort_stops_the_child(tmp_path, monkeypatch):
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    charts = _charts(3)
    _, finish = plots.start_writing_charts(charts, tmp_path)
    finish(abort=True)  # returns once the child is reaped; raises nothing
    assert not any(plots.plt.fignum_exists(c.figure.number) for c in charts)


def test_svg_first_hands_over_the_svgs_then_writes_the_same_files(tmp_path, monkeypatch):
    """With the PDF the child saves every chart, the SVGs first: finish(svg_only=True) returns
    once they are all on disk (what WeasyPrint reads), finish() once the PNGs are too."""
    entries = _saved_serially(tmp_path, monkeypatch)
    (tmp_path / "forked").mkdir()
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    forked, finish = plots.start_writing_charts(_charts(4), tmp_path / "forked", svg_first=True)
    finish(svg_only=True)
    svgs = {p.name for p in (tmp_path / "forked" / "charts").glob("*.svg")}
    assert svgs == {f"m_c{i}.svg" for i in range(4)}
    finish()
    finish()  # a second call (the build's error path) does nothing
    assert forked == entries
    assert _digests(tmp_path / "forked") == _digests(tmp_path / "serial")


def test_svg_first_reports_the_childs_error_while_waiting_for_the_svgs(tmp_path, monkeypatch):
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    _, finish = plots.start_writing_charts(_charts(2, bad=1), tmp_path, svg_first=True)
    with pytest.raises(FileNotFoundError) as err:
        finish(svg_only=True)
    assert "missing_folder" in str(err.value.filename)
    finish(abort=True)  # the build's except clause: nothing left to do, raises nothing
