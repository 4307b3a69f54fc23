"""Catch the signals that stop the runner, so that it can stop chef-client cleanly.

cron and systemd signal the runner, not chef-client: chef-client runs in its
own session so that an interrupted cron job does not hit it half-way through
a resource. The watcher records the signal and wakes up any wait of the
runner through a self-pipe, and the runner then passes the signal on to
chef-client's process tree (see child).

SIGUSR1, SIGUSR2 and SIGALRM would end the runner at once by default and
leave chef-client without its timeout, so they stop the run like SIGTERM.
chef-client's tree gets SIGTERM rather than the signal itself, because
chef-client reads SIGUSR1 as "converge now" and would not stop. The runner
then exits 128+N. SIGPIPE stays ignored, as
the Python interpreter sets it at startup, so a closed stderr cannot kill
the runner. SIGKILL cannot be caught, and chef-client's parent-death signal
(see child) covers it.
"""

from __future__ import annotations

import os
import select
import signal
import time
from types import FrameType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Signals passed on to chef-client's process tree as they are.
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Signals that stop the run: chef-client's tree gets SIGTERM instead.
STOPPING = (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM)
HANDLED = FORWARDED + STOPPING


def signal_for_chef(received: int) -> int:
    """Return the signal that chef-client's tree gets after the runner received ``received``."""
    return received if received in FORWARDED else signal.SIGTERM


class SignalWatcher:
    """Record the first signal in HANDLED and wake up ``wait``.

    Use it as a context manager, which restores the previous handlers on exit.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._previous: dict[int, Any] = {}
        self._previous_wakeup_fd = -1

    def __enter__(self) -> SignalWatcher:
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum in HANDLED:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        os.close(self._read_fd)
        os.close(self._write_fd)

    @property
    def wakeup_fd(self) -> int:
        """Descriptor that becomes readable when a signal arrives, for select."""
        return self._read_fd

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # The handler only records the signal. The runner's main loop scans
        # /proc and signals chef-client's tree, outside the handler.
        if self.received is None:
            self.received = signum

    def drain(self) -> None:
        """Empty the self-pipe after select reported it readable."""
        try:
            while os.read(self._read_fd, 512):
                pass
        except BlockingIOError:
            pass

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, and return True at once if a signal in HANDLED arrives."""
        deadline = time.monotonic() + seconds
        while self.received is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Other signals with a Python handler also wake select, hence the loop.
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if ready:
                self.drain()
        return True
