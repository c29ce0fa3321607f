"""Waiting on another process (a worker, beat, a restarted Redis): poll a condition until it holds or time runs out."""

import time


def wait_for(condition, timeout=30, *, interval=0.1):
    """True as soon as `condition()` is; False once `timeout` seconds pass without it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
