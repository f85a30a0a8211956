"""A deterministic measure of the work a call does, for tests that guard against quadratic parsing.

`work(fn, *args)` counts the interpreter's checkpoints while `fn` runs: CPython stops at one on each
Python function call, loop iteration and call into C, and the regular-expression engine stops at one
every 4,096 steps of its own (`_sre` checks for signals that often). A clock would measure the
machine; this counts what the code does, so the same call gives the same figure on a loaded machine
or an idle one, and a regex that backtracks quadratically shows up as clearly as a Python loop that
rescans its input.

How it counts: a signal (SIGUSR1) is kept pending for the whole call, so every checkpoint runs its
handler. The handler is C (`PyErr_SetInterruptEx`, called through ctypes), which marks the signal
pending again and, as CPython does for every signal it is given, writes one byte to the wakeup file
descriptor: the file's size at the end is the count. Work done inside C functions (copying a string,
`str.split`) is not counted, only the calls to them. Main thread only (signals are handled there).
The call is made once before it is counted: CPython 3.11 specialises code as it runs, and some
specialised calls skip the checkpoint, so fresh code would count more than warmed code.
"""
from __future__ import annotations

import ctypes
import gc
import os
import signal
import tempfile
import threading
from collections.abc import Callable
from typing import Any

_SIGNAL = signal.SIGUSR1
_mark_pending = ctypes.pythonapi.PyErr_SetInterruptEx
# Called as a signal handler, with (signum, frame): the frame is passed and ignored.
_mark_pending.argtypes = [ctypes.c_int, ctypes.py_object]
_mark_pending.restype = ctypes.c_int


def _drain(signum: int, frame: object) -> None:
    """The last handler: runs once for the signal still pending, and does not mark it again."""


def work(fn: Callable[..., Any], *args: Any) -> int:
    """The checkpoints `fn(*args)` passes, once warmed (see the module's docstring); the same figure
    each time for a given call."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("work() counts signal checkpoints, which only the main thread handles")
    fn(*args)
    with tempfile.TemporaryFile() as counter:
        os.set_blocking(counter.fileno(), False)  # set_wakeup_fd wants a non-blocking descriptor
        previous_handler = signal.getsignal(_SIGNAL)
        gc.collect()
        gc_was_enabled = gc.isenabled()
        gc.disable()  # a collection (and what it finalises) would count too
        previous_fd = signal.set_wakeup_fd(counter.fileno(), warn_on_full_buffer=False)
        try:
            signal.signal(_SIGNAL, _mark_pending)
            _mark_pending(_SIGNAL, None)
            fn(*args)
        finally:
            # The signal stays pending until a handler that does not mark it again has run: _drain.
            signal.signal(_SIGNAL, _drain)
            _settle()
            signal.set_wakeup_fd(previous_fd)
            signal.signal(_SIGNAL, previous_handler if previous_handler is not None else signal.SIG_DFL)
            if gc_was_enabled:
                gc.enable()
        return os.fstat(counter.fileno()).st_size


def _settle() -> None:
    """A checkpoint (a Python call), where the pending signal meets `_drain`."""
