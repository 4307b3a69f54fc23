from __future__ import annotations

import os
import signal

import pytest

from chef_cron.signals import SignalWatcher, signal_for_chef


def test_wait_full_duration_without_signal() -> None:
    with SignalWatcher() as watcher:
        interrupted = watcher.wait(0.2)
    assert not interrupted
    assert watcher.received is None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                                    signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM])
def test_wait_returns_early_on_signal(signum: int) -> None:
    with SignalWatcher() as watcher:
        # The handler only records the signal, so sending it to ourselves is harmless.
        os.kill(os.getpid(), signum)
        interrupted = watcher.wait(10)
    assert interrupted
    assert watcher.received == signum


def test_watcher_restores_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with SignalWatcher():
        pass
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(("received", "expected"), [
    (signal.SIGTERM, signal.SIGTERM),
    (signal.SIGINT, signal.SIGINT),
    (signal.SIGHUP, signal.SIGHUP),
    (signal.SIGUSR1, signal.SIGTERM),
    (signal.SIGUSR2, signal.SIGTERM),
    (signal.SIGALRM, signal.SIGTERM),
])
def test_signal_for_chef_table(received: int, expected: int) -> None:
    assert signal_for_chef(received) == expected
