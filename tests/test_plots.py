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


@pytest.mark.parametrize("late", [False, True])
def test_forked_saving_writes_the_same_files(tmp_path, monkeypatch, late):
    """The child and this process share the charts through the queue (this one takes its
    share in finish(); ``late``: only after the child had time to take them all); a chart
    added after the fork is saved here."""
    entries = _saved_serially(tmp_path, monkeypatch)
    (tmp_path / "forked").mkdir()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    charts = _charts(4)
    writer = plots.ChartWriter(charts[:3], tmp_path / "forked")
    writer.add_here(charts[3])
    if late:  # the child takes all three (this process saves its added chart only)
        import time
        deadline = time.monotonic() + 30
        while len(list((tmp_path / "forked" / "charts").glob("m_c[012].png"))) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    writer.finish()
    assert writer.entries == entries
    assert len(_digests(tmp_path / "forked")) == 8  # SVG and PNG of each
    assert _digests(tmp_path / "forked") == _digests(tmp_path / "serial")
    assert not any(plots.plt.fignum_exists(c.figure.number) for c in charts)


def test_the_queue_hands_each_chart_to_exactly_one_process():
    """plots._queue/_take: two processes taking from one queue get every number once."""
    from models import forked
    queue = plots._queue(500)

    def work(channel):
        channel.tell_data(",".join(map(str, plots._take(queue))).encode())
    child = forked.Child(work)
    mine = list(plots._take(queue))
    theirs = [int(n) for n in child.hear_data().decode().split(",") if n]
    child.wait()
    os.close(queue)
    assert sorted(mine + theirs) == list(range(500))
    assert mine == sorted(mine) and theirs == sorted(theirs)


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


@pytest.mark.parametrize("forked", [True, False])
def test_svgs_first_has_every_svg_on_disk_when_wait_svgs_returns(tmp_path, monkeypatch,
                                                                 forked):
    """With the PDF both processes save only SVGs and wait_svgs() returns once all are on
    disk, a chart added here included; finish() saves every PNG here. Same files as the
    serial reference."""
    entries = _saved_serially(tmp_path, monkeypatch)
    folder = tmp_path / "with_pdf"
    folder.mkdir()
    if forked:
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    else:
        monkeypatch.setenv("EQR_SERIAL_CHARTS", "1")
    charts = _charts(4)
    writer = plots.ChartWriter(charts[:3], folder, svgs_first=True)
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


def _painted(folder, monkeypatch, forked, result, outputs, risk, svgs_first=False):
    """Charts of ``result`` drawn and saved by a Painter (forked or here) into ``folder``."""
    from models.painter import Painter
    if forked:
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
        monkeypatch.delenv("EQR_SERIAL_CHARTS", raising=False)
    else:
        monkeypatch.setenv("EQR_SERIAL_CHARTS", "1")
    folder.mkdir()
    painter = Painter()
    painter.draw(result, outputs, folder, svgs_first=svgs_first)
    painter.draw_risk(risk, outputs)
    entries = painter.entries()
    if svgs_first:
        painter.wait_svgs()
        assert len(list((folder / "charts").glob("*.svg"))) == len(entries)
    painter.finish()
    return entries


@pytest.fixture(scope="module")
def evaluated():
    from models import risk as risk_model
    from models.assumptions import resolve
    from models.runs import prepare_run
    result = prepare_run(resolve())
    risk = risk_model.analyse(result)
    outputs = {**result.outputs, **risk_model.risk_outputs(risk)}
    return result, outputs, risk


def test_the_chart_process_draws_the_same_charts_as_this_one(tmp_path, monkeypatch, evaluated):
    """models.painter: the models' charts and the risk chart drawn and saved by the chart
    process (from what it is handed: ChartRun, the outputs) are the files drawn here; the
    entries the memo gets are the same too. With the PDF every SVG is there first."""
    result, outputs, risk = evaluated
    before = plots.plt.get_fignums()  # (another test's cached figures, if any)
    here = _painted(tmp_path / "here", monkeypatch, False, result, outputs, risk)
    there = _painted(tmp_path / "there", monkeypatch, True, result, outputs, risk)
    first = _painted(tmp_path / "svgs_first", monkeypatch, True, result, outputs, risk,
                     svgs_first=True)
    assert there == here == first
    assert "valuation.risk" in here and len(_digests(tmp_path / "here")) == 2 * len(here)
    assert _digests(tmp_path / "there") == _digests(tmp_path / "here") == \
        _digests(tmp_path / "svgs_first")
    assert plots.plt.get_fignums() == before


@pytest.mark.parametrize("forked", [True, False])
def test_a_chart_that_cannot_be_drawn_is_the_users_error_from_either_process(
        tmp_path, monkeypatch, evaluated, forked):
    from models.errors import EqrError
    from models.painter import Painter
    result, outputs, risk = evaluated
    if forked:
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    else:
        monkeypatch.setenv("EQR_SERIAL_CHARTS", "1")
    missing = {k: v for k, v in outputs.items() if not k.startswith("china.")}
    before = plots.plt.get_fignums()
    painter = Painter()
    with pytest.raises(EqrError, match="the china chart uses an output the run does not have"):
        painter.draw(result, missing, tmp_path, svgs_first=False)
        painter.draw_risk(risk, missing)
        painter.entries()
    painter.finish(abort=True)
    assert plots.plt.get_fignums() == before


def test_an_aborted_chart_process_writes_nothing(tmp_path, monkeypatch, evaluated):
    """The build failed before handing the run over (a bad sheet), or after: the process is
    stopped and, before the run was handed over, nothing was written."""
    from models.painter import Painter
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    Painter().finish(abort=True)
    assert list(tmp_path.iterdir()) == []
    result, outputs, risk = evaluated
    painter = Painter()
    painter.draw(result, outputs, tmp_path, svgs_first=False)
    painter.finish(abort=True)
    painter.finish()  # a second call does nothing


def test_the_build_process_never_imports_matplotlib(tmp_path):
    """The charts are drawn by the chart process (models.painter), which imports matplotlib
    while the build reads the sheets; the build itself does not need it."""
    import subprocess
    import sys
    script = ("import sys\nfrom models.cli import main\n"
              f"code = main(['build', '--no-pdf', '--out', {str(tmp_path / 'run')!r}])\n"
              "print(code, 'matplotlib' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[1])}
    env.pop("EQR_SERIAL_CHARTS", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.stdout.split()[-2:] == ["0", "False"], out.stderr
    assert len(list((tmp_path / "run" / "charts").glob("*.png"))) == 8


def _within(seconds):
    """Fail (instead of hanging the suite) if the block takes longer than ``seconds``."""
    import contextlib
    import signal

    @contextlib.contextmanager
    def guard():
        def timeout(signum, frame):
            raise AssertionError(f"still waiting after {seconds} s: a hang")
        old = signal.signal(signal.SIGALRM, timeout)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    return guard()


def test_a_huge_error_in_a_helper_does_not_hang_the_build():
    """A child whose pickled error is larger than a pipe holds: the parent waiting for a
    message still gets end-of-file and then the error (cut to its type and first 2,000
    characters), with where it happened noted for --debug."""
    from models import forked

    def failing_here(channel):
        raise ValueError("x" * 200_000)
    child = forked.Child(failing_here)
    with _within(60):
        assert child.hear_data() == b""
        with pytest.raises(RuntimeError, match=r"^ValueError: x{2000}$"):
            child.wait()

    def small(channel):
        raise ValueError("bad input")
    child = forked.Child(small)
    with _within(60):
        assert child.hear_data() == b""
        with pytest.raises(ValueError, match="bad input") as err:
            child.wait()
    assert "in a helper process of the build" in err.value.__notes__[0]
    assert "in small" in err.value.__notes__[0]


def test_a_message_cut_short_is_no_message():
    from models import forked

    def cut(channel):
        channel.tell((100).to_bytes(8, "little") + b"only ten b")
    child = forked.Child(cut)
    with _within(60):
        assert child.hear_data() == b""
        child.wait()


def test_an_interrupt_while_waiting_for_a_helper_stops_it():
    """Ctrl-C or SIGTERM (an exception in the CLI) while the build waits for a helper: the
    helper is killed and reaped before the interrupt goes on, so it writes nothing more."""
    import signal
    import time
    from models import forked

    def forever(channel):
        while True:
            time.sleep(1)

    class Interrupted(Exception):
        pass

    def interrupt(signum, frame):
        raise Interrupted
    child = forked.Child(forever)
    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(Interrupted):
            child.wait()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)  # reaped already
    child.wait(kill=True)  # the build's abort afterwards: nothing to do


def test_without_a_process_to_be_had_the_caller_works_alone(tmp_path, monkeypatch):
    """os.fork failing (EAGAIN: too many processes) is no reason to fail a build: the chart
    writer saves everything itself, the same files (forked.start returns None)."""
    import errno
    from models import forked
    entries = _saved_serially(tmp_path, monkeypatch)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)

    def no_fork():
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
    monkeypatch.setattr(os, "fork", no_fork)
    assert forked.start(lambda channel: None) is None
    (tmp_path / "alone").mkdir()
    writer = plots.ChartWriter(_charts(4), tmp_path / "alone")
    writer.finish()
    assert writer.entries == entries
    assert _digests(tmp_path / "alone") == _digests(tmp_path / "serial")
