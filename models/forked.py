"""A forked helper process for the parts of a build that need nothing else it produces (issue
18): saving the charts (:class:`models.plots.ChartWriter`) and printing the note's PDF
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


class Channel:
    """The child's end: what the parent sends, and what the child tells it."""

    def __init__(self, inbox: int, outbox: int):
        self._inbox, self._outbox = inbox, outbox

    def receive(self) -> bytes:
        """The parent's next message (b"" once the parent closed its end: give up)."""
        size = _read_exactly(self._inbox, 8)
        if len(size) < 8:
            return b""
        return _read_exactly(self._inbox, int.from_bytes(size, "little"))

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
        pid = os.fork()
        if pid == 0:
            for fd in (error_read, self._inbox, self._outbox):
                os.close(fd)
            _run_child(work, Channel(inbox_read, outbox_write), error_write)  # never returns
        for fd in (error_write, inbox_read, outbox_write):
            os.close(fd)
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
        first)."""
        size = _read_exactly(self._outbox, 8)
        if len(size) < 8:
            return b""
        return _read_exactly(self._outbox, int.from_bytes(size, "little"))

    def wait(self, kill: bool = False) -> None:
        """Reap the child (killed first with ``kill``) and re-raise its error, if any (none
        after a kill). A second call does nothing."""
        if self._reaped:
            return
        if kill:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        for fd in (self._inbox, self._outbox):
            try:
                os.close(fd)  # a child waiting for a message reads end-of-file
            except OSError:
                pass
        with os.fdopen(self._errors, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self._reaped = True
        if kill or status == 0:
            return
        if data:
            raise pickle.loads(data)
        raise RuntimeError(f"a helper process of the build ended with status {status}")


def _run_child(work: Callable[[Channel], None], channel: Channel, error_pipe: int) -> None:
    code = 1
    try:
        _child_setup()
        work(channel)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - handed to the parent
        try:
            data = pickle.dumps(exc)
            pickle.loads(data)
        except Exception:  # an exception that does not survive pickling
            data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        try:
            os.write(error_pipe, data)
        except OSError:
            pass
    finally:
        os._exit(code)


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


def _read_exactly(fd: int, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)
