"""Real SMTP peers for tests: Postfix's smtp-source and smtp-sink, swaks, and a throwaway Postfix relay.

    result = swaks(LOOPBACK, port, recipient="pomoc@myhezo.pl", data=raw_bytes)
    smtp_source(LOOPBACK, port, messages=20, sessions=5)
    with SmtpSink(tmp_path) as sink: ...; sink.messages()
    with PostfixRelay(downstream_port=gateway_port) as relay: swaks(relay.host, relay.port, ...); relay.flush()

The relay is a second Postfix instance with its own config directory, queue and log: the system Postfix config is
never read or touched. Running one needs root (the Postfix master refuses anything else).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest

from tests.support.managed import ManagedServer
from tests.support.ports import LOOPBACK, free_tcp_port, wait_for_greeting, wait_until
from tests.support.system import (
    SystemCommandError,
    log_tail,
    process_alive,
    reachable_tempdir,
    require_binary,
    require_root,
    run_command,
    running_as_root,
)

_POSTFIX_PACKAGE = "the Debian package postfix provides it"
_STOP_TIMEOUT = 10.0

# -- smtp-source ----------------------------------------------------------------------------------------------------


def smtp_source(
    host: str,
    port: int,
    *,
    messages: int = 1,
    sessions: int = 1,
    payload_bytes: int | None = None,
    sender: str = "smtp-source@example.com",
    recipient: str = "pomoc@myhezo.pl",
    subject: str | None = None,
    message_file: Path | None = None,
    reuse_connection: bool = False,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """Send `messages` mails over `sessions` parallel sessions; raises SystemCommandError when one is refused.

    smtp-source opens a new connection per message unless `reuse_connection` (its -d); compare like with like.
    """
    binary = require_binary("smtp-source", _POSTFIX_PACKAGE)
    argv = [binary, "-m", str(messages), "-s", str(sessions), "-f", sender, "-t", recipient, "-M", "smtp-source.test"]
    if payload_bytes is not None:
        argv += ["-l", str(payload_bytes)]
    if subject is not None:
        argv += ["-S", subject]
    if message_file is not None:
        argv += ["-F", str(message_file)]
    if reuse_connection:
        argv.append("-d")
    argv.append(f"{host}:{port}")
    return run_command(argv, timeout=timeout)


# -- smtp-sink ------------------------------------------------------------------------------------------------------


class SmtpSink:
    """smtp-sink on a loopback port, dumping every transaction (envelope as X- headers, then the message) to a file.

    Read `messages()` once the sender has seen its 250: the dump of a transaction still in progress is partial.
    """

    def __init__(self, dump_dir: Path, *, port: int | None = None, hostname: str = "smtp-sink.test") -> None:
        self.binary = require_binary("smtp-sink", _POSTFIX_PACKAGE)
        self.host = LOOPBACK
        self.port = port if port is not None else free_tcp_port()
        self.dump_dir = dump_dir
        self.hostname = hostname
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.dump_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.binary, "-h", self.hostname]
        if running_as_root():
            # smtp-sink refuses to keep root; chrooting into the dump dir lets `nobody` write there even when the
            # dir sits in pytest's private temp tree.
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dump_dir, nobody.pw_uid, nobody.pw_gid)
            argv += ["-R", str(self.dump_dir), "-u", "nobody", "-d", "/message."]
        else:
            argv += ["-d", f"{self.dump_dir}/message."]
        argv += [f"{self.host}:{self.port}", "100"]
        self._process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_greeting(self.host, self.port, expect=b"220", still_starting=self._running)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=_STOP_TIMEOUT)
        self._process = None

    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def messages(self) -> list[bytes]:
        """Every dumped transaction, oldest first (by file modification time)."""
        dumps = sorted(self.dump_dir.glob("message.*"), key=lambda path: path.stat().st_mtime_ns)
        return [path.read_bytes() for path in dumps]

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


# -- swaks ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwaksResult:
    exit_code: int  # 0 when the whole transaction was accepted; swaks documents the others per failed step
    transcript: str  # the SMTP dialogue both ways, as swaks prints it

    @property
    def accepted(self) -> bool:
        return self.exit_code == 0


def swaks(
    host: str,
    port: int,
    *,
    sender: str = "swaks@example.com",
    recipient: str = "pomoc@myhezo.pl",
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    starttls: bool = False,
    extra_args: Sequence[str] = (),
    timeout: float = 30.0,
) -> SwaksResult:
    """One SMTP transaction with swaks; `data` is a raw message the server receives byte for byte (ending with a
    line break), otherwise swaks builds one from `headers` and `body`.

    Blocking: from async tests call it through `asyncio.to_thread`, or the server on the same loop never answers.
    """
    binary = require_binary("swaks", "the Debian package swaks provides it")
    argv = [binary, "--server", f"{host}:{port}", "--from", sender, "--to", recipient, "--timeout", "15"]
    argv += ["--helo", "swaks.test"]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    if body is not None:
        argv += ["--body", body]
    if data is not None:
        argv += ["--data", "-"]  # read the raw message from stdin
    if starttls:
        argv.append("--tls")
    argv += list(extra_args)
    completed = subprocess.run(
        argv,
        input=_without_last_line_break(data or b""),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        check=False,
    )
    return SwaksResult(exit_code=completed.returncode, transcript=completed.stdout.decode(errors="replace"))


def _without_last_line_break(data: bytes) -> bytes:
    """swaks always sends a line break before the final dot; dropping the message's own last one makes the server
    receive exactly the bytes given."""
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data.removesuffix(b"\n")


# -- a throwaway Postfix relay --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedMessage:
    queue_id: str
    queue_name: str  # "incoming", "active", "deferred", "hold" …
    sender: str
    recipients: tuple[str, ...]
    delay_reasons: tuple[str, ...]  # why delivery was deferred, e.g. "connect to …: Connection refused"


class PostfixRelay(ManagedServer):
    """A Postfix instance accepting mail on a loopback port and relaying `domains` to a downstream host:port.

    Retries are fast (1-2 s backoff) so a test can stop the downstream, send, start it again and see delivery;
    `flush()` asks for an immediate retry.
    """

    def __init__(
        self,
        downstream_port: int,
        *,
        downstream_host: str = LOOPBACK,
        domains: Sequence[str] = ("myhezo.pl",),
        extra_settings: Mapping[str, str] | None = None,
    ) -> None:
        require_root("a Postfix master only runs as root")
        self.postfix_binary = require_binary("postfix", _POSTFIX_PACKAGE)
        self.postqueue_binary = require_binary("postqueue", _POSTFIX_PACKAGE)
        self.host = LOOPBACK
        self.port = free_tcp_port()
        self.downstream = (downstream_host, downstream_port)
        self.domains = tuple(domains)
        self.directory = reachable_tempdir("hezo-postfix-")
        self.config_dir = self.directory / "config"
        self.queue_dir = self.directory / "queue"
        self.maillog_path = self.directory / "maillog"
        self._write_config(extra_settings or {})

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            # Postfix reports most start-up problems only in its log, so the error carries the log's tail.
            run_command([self.postfix_binary, "-c", str(self.config_dir), "start"])
            wait_for_greeting(self.host, self.port, expect=b"220")
        except (SystemCommandError, TimeoutError) as exc:
            self.stop()
            raise SystemCommandError(f"Postfix relay did not start: {exc}\n{log_tail(self.maillog_path)}") from exc

    def stop(self) -> None:
        master_pid = self._master_pid()
        if master_pid is None:
            return
        run_command([self.postfix_binary, "-c", str(self.config_dir), "stop"], check=False)
        try:
            wait_until(lambda: not process_alive(master_pid), timeout=_STOP_TIMEOUT, what="Postfix master to exit")
        except TimeoutError:
            # The master runs in its own session; its process group holds it and every daemon it started.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(master_pid, signal.SIGKILL)

    # -- queue -------------------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Retry every deferred message now (postqueue -f)."""
        run_command([self.postqueue_binary, "-c", str(self.config_dir), "-f"])

    def queue(self) -> list[QueuedMessage]:
        """The messages Postfix still holds (postqueue -j, one JSON object per message)."""
        listing = run_command([self.postqueue_binary, "-c", str(self.config_dir), "-j"]).stdout
        return [_queued_message(json.loads(line)) for line in listing.splitlines() if line.strip()]

    def wait_for_empty_queue(self, timeout: float = 15.0) -> None:
        wait_until(lambda: not self.queue(), timeout=timeout, what="the Postfix relay queue to drain")

    # -- configuration -----------------------------------------------------------------------------------------

    def _master_pid(self) -> int | None:
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _write_config(self, extra_settings: Mapping[str, str]) -> None:
        self.config_dir.mkdir()
        # Postfix insists on a root-owned queue directory that exists; `postfix start` creates what goes inside it
        # (owned by the postfix user and the postdrop group) on first start.
        self.queue_dir.mkdir()
        downstream_host, downstream_port = self.downstream
        routes = ", ".join(f"{domain}=smtp:[{downstream_host}]:{downstream_port}" for domain in self.domains)
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.directory / "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            # Log to a file (via the postlog service) instead of syslog, which a test machine may not run.
            "maillog_file": str(self.maillog_path),
            "maillog_file_prefixes": str(self.directory),
            # A hostname of its own: Postfix refuses to relay to a server greeting with its own name (mail loop).
            "myhostname": "relay.postfix.test",
            "mydomain": "postfix.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "local_transport": "error:5.1.1 no local delivery in the test relay",
            "default_transport": "error:5.7.1 the test relay only relays to its downstream",
            "inet_interfaces": LOOPBACK,
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "relay_domains": ", ".join(self.domains),
            "transport_maps": f"inline:{{ {routes} }}",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "biff": "no",
            # Retry deferred mail within seconds, not the production minutes.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtp_connect_timeout": "5s",
            **extra_settings,
        }
        main_cf = "".join(f"{name} = {value}\n" for name, value in settings.items())
        (self.config_dir / "main.cf").write_text(main_cf)
        (self.config_dir / "master.cf").write_text(_master_cf(self.host, self.port))


# The daemons a relay needs, none chrooted (a chroot would need copies of /etc files inside the queue directory).
_MASTER_CF_DAEMONS = """\
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def _master_cf(host: str, port: int) -> str:
    return f"{host}:{port} inet n - n - - smtpd\n" + _MASTER_CF_DAEMONS


def _queued_message(entry: dict[str, object]) -> QueuedMessage:
    recipients = entry.get("recipients")
    recipient_entries = [item for item in recipients if isinstance(item, dict)] if isinstance(recipients, list) else []
    return QueuedMessage(
        queue_id=str(entry["queue_id"]),
        queue_name=str(entry["queue_name"]),
        sender=str(entry["sender"]),
        recipients=tuple(str(item.get("address")) for item in recipient_entries),
        delay_reasons=tuple(str(item["delay_reason"]) for item in recipient_entries if "delay_reason" in item),
    )


# -- pytest fixtures (import them into a conftest) --------------------------------------------------------------


@pytest.fixture
def make_postfix_relay() -> Iterator[Callable[[int], PostfixRelay]]:
    """Start Postfix relays towards a downstream port; all are stopped and removed after the test."""
    relays: list[PostfixRelay] = []

    def start_relay(downstream_port: int) -> PostfixRelay:
        relay = PostfixRelay(downstream_port)
        relays.append(relay)
        relay.start()
        return relay

    yield start_relay
    for relay in relays:
        relay.close()
