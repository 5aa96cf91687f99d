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
    writer = plots.ChartWriter(_charts(4), tmp_path / "serial")
    writer.finish()
    monkeypatch.delenv("EQR_SERIAL_CHARTS")
    return writer.entries


@pytest.mark.parametrize("here", [0, 1])
def test_forked_saving_writes_the_same_files(tmp_path, monkeypatch, here):
    """The child saves all but the last ``here`` charts; finish() saves those here."""
    entries = _saved_serially(tmp_path, monkeypatch)
    (tmp_path / "forked").mkdir()
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    writer = plots.ChartWriter(_charts(4), tmp_path / "forked", here=here)
    writer.finish()
    assert writer.entries == entries
    assert len(_digests(tmp_path / "forked")) == 8  # SVG and PNG of each
    assert _digests(tmp_path / "forked") == _digests(tmp_path / "serial")


def test_an_error_in_the_child_reaches_the_parent(tmp_path, monkeypatch):
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    writer = plots.ChartWriter(_charts(3, bad=0), tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        writer.finish()
    assert "missing_folder" in str(err.value.filename)


def test_abort_stops_the_child(tmp_path, monkeypatch):
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    charts = _charts(3)
    writer = plots.ChartWriter(charts, tmp_path, pdf=(lambda: None, lambda: None))
    writer.finish(abort=True)  # returns once the child is reaped; raises nothing
    assert not any(plots.plt.fignum_exists(c.figure.number) for c in charts)


def _pdf_job(folder):
    """A stand-in for WeasyPrint: records which SVGs exist when it runs (and in which process)."""
    import os

    def prepare():
        (folder / "prepared").write_text(str(os.getpid()))

    def job():
        svgs = sorted(p.name for p in (folder / "charts").glob("*.svg"))
        (folder / "laid_out").write_text(f"{os.getpid()} {' '.join(svgs)}")
    return prepare, job


@pytest.mark.parametrize("forked, here", [(True, 0), (True, 2), (False, 0)])
def test_with_the_pdf_the_note_is_laid_out_after_go_with_every_svg(tmp_path, monkeypatch,
                                                                   forked, here):
    """With the PDF the child saves every SVG, prepares, and lays the note out only once the
    caller says go (the memo's HTML is written); a chart added here is saved before that. The
    PNGs (saved here) are the same files as the serial reference. ``here``: go() saves the
    last SVGs here first."""
    import os
    entries = _saved_serially(tmp_path, monkeypatch)
    folder = tmp_path / "with_pdf"
    folder.mkdir()
    if forked:
        monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    else:
        monkeypatch.setenv("EQR_SERIAL_CHARTS", "1")
    charts = _charts(4)
    writer = plots.ChartWriter(charts[:3], folder, pdf=_pdf_job(folder), here=here)
    writer.add_here(charts[3])  # drawn after the fork (the risk chart)
    assert not (folder / "laid_out").exists()
    writer.go()
    writer.finish()
    writer.finish()  # a second call (the build's error path) does nothing
    pid, *svgs = (folder / "laid_out").read_text().split()
    assert svgs == [f"m_c{i}.svg" for i in range(4)]
    assert (int(pid) != os.getpid()) is forked
    assert (folder / "prepared").read_text() == pid
    assert writer.entries == entries
    assert _digests(folder) == _digests(tmp_path / "serial")


def test_an_error_in_the_pdf_job_reaches_the_parent(tmp_path, monkeypatch):
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)

    def job():
        raise ValueError("the layout failed")
    writer = plots.ChartWriter(_charts(2), tmp_path, pdf=(lambda: None, job))
    writer.go()
    with pytest.raises(ValueError, match="the layout failed"):
        writer.finish()
    writer.finish(abort=True)  # the build's except clause: nothing left to do, raises nothing


def test_without_go_the_child_never_lays_the_note_out(tmp_path, monkeypatch):
    """The caller failed before the memo's HTML was written: finish(abort=True) ends the child
    and no PDF job runs."""
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
    writer = plots.ChartWriter(_charts(2), tmp_path, pdf=_pdf_job(tmp_path))
    writer.finish(abort=True)
    assert not (tmp_path / "laid_out").exists()
