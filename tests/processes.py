"""Stopping a process a test started, also when the test failed: SIGTERM, time to finish what it is doing,
then SIGKILL. Used by the Redis fixture, the service and workers the end-to-end tests run, and the
installed package's `fundbot serve`."""
from __future__ import annotations

import os
import signal
import subprocess


def stop(process: subprocess.Popen, grace: float, *, group: bool = False) -> None:
    """SIGTERM, up to `grace` seconds to exit, then SIGKILL (to its whole process group when `group`:
    a process started in its own session, with children of its own)."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
