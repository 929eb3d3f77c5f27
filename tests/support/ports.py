"""Loopback ports for throwaway servers, and waiting until a server answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"
_POLL_INTERVAL = 0.05


def free_tcp_port(host: str = LOOPBACK) -> int:
    """A port that was free a moment ago, for servers that cannot be handed a bound socket (Dovecot, Postfix)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def read_greeting(host: str, port: int, timeout: float = 2.0) -> bytes:
    """Connect and return the server's first line; raises OSError when nothing listens yet."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        greeting = b""
        while not greeting.endswith(b"\n"):
            chunk = connection.recv(4096)
            if not chunk:
                break
            greeting += chunk
        return greeting


def wait_for_greeting(
    host: str,
    port: int,
    *,
    expect: bytes,
    timeout: float = 15.0,
    still_starting: Callable[[], bool] = lambda: True,
) -> bytes:
    """Poll until the server greets with `expect`; give up at the deadline or when `still_starting()` turns false.

    Polling with a deadline instead of sleeping a fixed time keeps fast starts fast and slow machines green.
    """
    deadline = time.monotonic() + timeout
    last_problem = "no attempt made"
    while time.monotonic() < deadline:
        if not still_starting():
            raise RuntimeError(f"server for {host}:{port} exited while starting ({last_problem})")
        try:
            greeting = read_greeting(host, port)
        except OSError as exc:
            last_problem = repr(exc)
        else:
            if greeting.startswith(expect):
                return greeting
            last_problem = f"unexpected greeting {greeting!r}"
        time.sleep(_POLL_INTERVAL)
    raise TimeoutError(f"{host}:{port} did not greet with {expect!r} within {timeout} s ({last_problem})")


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `condition` until it holds; raise TimeoutError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(_POLL_INTERVAL)
