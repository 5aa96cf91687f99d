"""Saving the memo's charts: in a forked child beside the build, with the same files."""
import hashlib
import os

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
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    writer = plots.ChartWriter(_charts(4), tmp_path / "forked", here=here)
    writer.finish()
    assert writer.entries == entries
    assert len(_digests(tmp_path / "forked")) == 8  # SVG and PNG of each
    assert _digests(tmp_path / "forked") == _digests(tmp_path / "serial")


def test_an_error_in_the_child_reaches_the_parent(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    writer = plots.ChartWriter(_charts(3, bad=0), tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        writer.finish()
    assert "missing_folder" in str(err.value.filename)


def test_abort_stops_the_child(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    charts = _charts(3)
    writer = plots.ChartWriter(charts, tmp_path, svgs_first=True)
    writer.finish(abort=True)  # returns once the child is reaped; raises nothing
    assert not any(plots.plt.fignum_exists(c.figure.number) for c in charts)


@pytest.mark.parametrize("forked, here", [(True, 0), (True, 2), (False, 0)])
def test_svgs_first_has_every_svg_on_disk_when_wait_svgs_returns(tmp_path, monkeypatch,
                                                                 forked, here):
    """With the PDF the child saves only SVGs (all but the last ``here``: wait_svgs() saves
    those here) and wait_svgs() returns once all are on disk, a chart added here included;
    finish() saves every PNG here. Same files as the serial reference."""
    entries = _saved_serially(tmp_path, monkeypatch)
    folder = tmp_path / "with_pdf"
    folder.mkdir()
    if forked:
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    else:
        monkeypatch.setenv("EQR_SERIAL_CHARTS", "1")
    charts = _charts(4)
    writer = plots.ChartWriter(charts[:3], folder, svgs_first=True, here=here)
    writer.add_here(charts[3])  # drawn after the fork (the risk chart)
    writer.wait_svgs()
    assert sorted(p.name for p in (folder / "charts").iterdir()) == \
        [f"m_c{i}.svg" for i in range(4)]
    writer.finish()
    writer.finish()  # a second call (the build's error path) does nothing
    assert writer.entries == entries
    assert _digests(folder) == _digests(tmp_path / "serial")


def test_svgs_first_reports_the_childs_error_while_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    writer = plots.ChartWriter(_charts(2, bad=1), tmp_path, svgs_first=True)
    with pytest.raises(FileNotFoundError) as err:
        writer.wait_svgs()
    assert "missing_folder" in str(err.value.filename)
    writer.finish(abort=True)  # the build's except clause: nothing left to do, raises nothing


def test_a_forked_helper_hands_its_error_and_messages_over():
    """models.forked: messages both ways; the child's exception is raised by wait()."""
    from models import forked

    def work(channel):
        message = channel.receive()
        channel.tell(b"r")
        raise ValueError(f"bad {message.decode()}")
    child = forked.Child(work)
    child.send(b"page 3")
    assert child.hear() == b"r"
    with pytest.raises(ValueError, match="bad page 3"):
        child.wait()
    child.wait()  # a second call does nothing


def test_the_printer_prints_in_its_own_process_and_reports_errors(tmp_path, monkeypatch):
    """models.printer: the PDF is written by the printing process (WeasyPrint imported there
    before the HTML exists); a missing chart fails with the user-facing error; an aborted
    printer writes nothing."""
    import os
    from models.errors import EqrError
    from models.printer import Printer
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    (tmp_path / "run").mkdir()
    html = tmp_path / "run" / "memo.html"
    printer = Printer()
    html.write_text("<html><body><p>A note.</p></body></html>", encoding="utf-8")
    printer.print(html, tmp_path / "run" / "memo.pdf")
    printer.finish()
    assert (tmp_path / "run" / "memo.pdf").read_bytes().startswith(b"%PDF")
    bad = Printer()
    html.write_text('<html><body><img src="charts/missing.svg"></body></html>',
                    encoding="utf-8")
    bad.print(html, tmp_path / "run" / "bad.pdf")
    with pytest.raises(EqrError, match="missing file"):
        bad.finish()
    aborted = Printer()
    aborted.finish(abort=True)
    assert sorted(os.listdir(tmp_path / "run")) == ["memo.html", "memo.pdf"]
