from __future__ import annotations

import os
import signal
import time

import pytest

from chef_cron.signals import SignalWatcher


def test_wait_full_duration_without_signal() -> None:
    with SignalWatcher() as watcher:
        started = time.monotonic()
        interrupted = watcher.wait(0.2)
        elapsed = time.monotonic() - started
    assert not interrupted
    assert elapsed >= 0.2


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_wait_returns_early_on_signal(signum: int) -> None:
    with SignalWatcher() as watcher:
        # The handler only records the signal, so sending it to ourselves is harmless.
        os.kill(os.getpid(), signum)
        started = time.monotonic()
        interrupted = watcher.wait(10)
        elapsed = time.monotonic() - started
    assert interrupted
    assert elapsed < 1
    assert watcher.received == signum


def test_watcher_restores_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with SignalWatcher():
        pass
    assert signal.getsignal(signal.SIGTERM) is before
