"""A forked helper process for the parts of a build that need nothing else it produces (issue
18): drawing and saving the charts (:class:`models.painter.Painter`, whose process shares the
saving with one of its own, :class:`models.plots.ChartWriter`) and printing the note's PDF
(:class:`models.printer.Printer`) run beside the build on the second core.

The child runs ``work(channel)``; an exception there is pickled back and re-raised by
:meth:`Child.wait`. Messages go both ways through pipes (the parent's :meth:`Child.send` /
the child's :meth:`Channel.receive`; the child's :meth:`Channel.tell` / the parent's
:meth:`Child.hear`). The child dies with the parent (Linux) and takes default signal handling:
cleaning up the run folder is the parent's job. Without ``os.fork``, with
``EQR_SERIAL_CHARTS=1`` or on one core, :func:`can_fork` is False and callers do the work
themselves, in the same order.
"""
from __future__ import annotations

import os
import pickle
import signal
from typing import Callable


def can_fork() -> bool:
    return (hasattr(os, "fork") and not os.environ.get("EQR_SERIAL_CHARTS")
            and (os.cpu_count() or 1) >= 2)


def start(work: Callable[[Channel], None]) -> Child | None:
    """A :class:`Child` running ``work``, or None where there is none to be had
    (:func:`can_fork`, or the fork failed): the caller then does the work itself."""
    if not can_fork():
        return None
    try:
        return Child(work)
    except OSError:
        return None


class Channel:
    """The child's end: what the parent sends, and what the child tells it."""

    def __init__(self, inbox: int, outbox: int):
        self._inbox, self._outbox = inbox, outbox

    def receive(self) -> bytes:
        """The parent's next message (b"" once the parent closed its end: give up)."""
        return _read_message(self._inbox)

    def close(self) -> None:
        """Stop talking to the parent (which then reads end-of-file and turns to the child's
        error)."""
        _close(self._inbox, self._outbox)

    def tell(self, byte: bytes) -> None:
        """Tell the parent (nothing if it no longer listens)."""
        try:
            _write_all(self._outbox, byte)
        except OSError:
            pass

    def tell_data(self, data: bytes) -> None:
        """Hand the parent a message of any length (:meth:`Child.hear_data`)."""
        self.tell(len(data).to_bytes(8, "little") + data)


class Child:
    """A forked process running ``work(channel)``."""

    def __init__(self, work: Callable[[Channel], None]):
        error_read, error_write = os.pipe()
        inbox_read, self._inbox = os.pipe()
        _widen(self._inbox)
        self._outbox, outbox_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to be had (EAGAIN, ENOMEM): the caller works alone
            _close(error_read, error_write, inbox_read, self._inbox, self._outbox, outbox_write)
            raise
        if pid == 0:
            _close(error_read, self._inbox, self._outbox)
            _run_child(work, Channel(inbox_read, outbox_write), error_write)  # never returns
        _close(error_write, inbox_read, outbox_write)
        self.pid = pid
        self._errors = error_read
        self._reaped = False

    def send(self, data: bytes) -> None:
        """A message for the child; if it has ended already, :meth:`wait` says why."""
        try:
            _write_all(self._inbox, len(data).to_bytes(8, "little") + data)
        except OSError:
            pass

    def hear(self) -> bytes:
        """One byte the child tells (b"" if it ended without telling)."""
        return os.read(self._outbox, 1)

    def hear_data(self) -> bytes:
        """A message the child handed over with :meth:`Channel.tell_data` (b"" if it ended
        first, even in the middle of one)."""
        return _read_message(self._outbox)

    def wait(self, kill: bool = False) -> None:
        """Reap the child (killed first with ``kill``) and re-raise its error, if any (none
        after a kill). A second call does nothing. Interrupted while waiting (Ctrl-C, SIGTERM),
        it kills and reaps the child before the interrupt goes on."""
        if self._reaped:
            return
        self._reaped = True
        try:
            if kill:
                _kill(self.pid)
            _close(self._inbox, self._outbox)  # a child waiting for a message reads end-of-file
            with os.fdopen(self._errors, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(self.pid, 0)
        except BaseException:
            _kill(self.pid)
            try:
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            raise
        if kill or status == 0:
            return
        if data:
            raise pickle.loads(data)
        raise RuntimeError(f"a helper process of the build ended with status {status}")


    def raise_error(self, what: str) -> None:
        """The child ended without the message the caller waited for: reap it and re-raise its
        error, or say ``what`` went wrong if it left none."""
        self.wait()
        raise RuntimeError(what)


def _close(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _run_child(work: Callable[[Channel], None], channel: Channel, error_pipe: int) -> None:
    code = 1
    try:
        _child_setup()
        work(channel)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - handed to the parent
        channel.close()  # a parent waiting for a message goes on to read the error
        _note_traceback(exc)
        try:
            data = pickle.dumps(exc)
            pickle.loads(data)
        except Exception:  # an exception that does not survive pickling
            data = b""
        if not data or len(data) > MAX_ERROR_BYTES:
            data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {str(exc)[:2000]}"))
        try:
            _write_all(error_pipe, data)
        except OSError:
            pass
    finally:
        os._exit(code)


#: the largest pickled error handed back whole (a larger one is cut to its type and the start
#: of its text; a pipe holds 64 KiB, read by the parent once the child ended)
MAX_ERROR_BYTES = 60_000


def _note_traceback(exc: BaseException) -> None:
    """Keep where the error happened in the child: ``eqr --debug`` shows it with the traceback
    of the re-raise in the parent (exception notes, Python 3.11+)."""
    import traceback
    add_note = getattr(exc, "add_note", None)
    if add_note is not None:
        add_note("in a helper process of the build:\n"
                 + "".join(traceback.format_exception(exc))[-4000:])


def _child_setup() -> None:
    """Default signal handling (the parent's handlers turn SIGTERM into cleanup of the run
    folder, the parent's job) and, on Linux, die with the parent so a killed build leaves no
    process writing."""
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def _widen(fd: int) -> None:
    """Let a pipe hold a megabyte (Linux; 64 KiB by default), so that handing a child a run's
    outputs does not wait for the child to be ready to read them."""
    try:
        import fcntl
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_message(fd: int) -> bytes:
    """One length-prefixed message, or b"" at end-of-file (also in the middle of one)."""
    size = _read_exactly(fd, 8)
    if len(size) < 8:
        return b""
    n = int.from_bytes(size, "little")
    data = _read_exactly(fd, n)
    return data if len(data) == n else b""


def _read_exactly(fd: int, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)
