"""A throwaway Dovecot IMAP server for tests, with its own config, users and Maildirs under a temp directory.

    with DovecotServer(tls=True) as server:
        uid = server.append("pomoc@myhezo.pl", raw_bytes)
        with server.connect("pomoc@myhezo.pl") as imap: ...

The system Dovecot config is never read or touched. Stopping takes ~2.5 s (the master waits for its children), so
tests share one server per session through the `dovecot` fixture and clean mailboxes with `dovecot_mailbox`.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import signal
import ssl
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
import trustme
from imapclient import IMAPClient

from tests.support.managed import ManagedServer
from tests.support.ports import LOOPBACK, free_tcp_port, wait_for_greeting
from tests.support.system import SystemCommandError, log_tail, reachable_tempdir, require_binary

DEFAULT_USERS: Mapping[str, str] = {
    "pomoc@myhezo.pl": "pomoc-test-password",
    "escalation@myhezo.pl": "escalation-test-password",
}
# The folders the IMAP door works with; Dovecot creates them for every user on first login.
GATEWAY_FOLDERS = ("INBOX", "Processed", "Quarantine")

_DH_PARAMETERS = Path("/usr/share/dovecot/dh.pem")
_STOP_TIMEOUT = 15.0
_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")


class DovecotServer(ManagedServer):
    """One Dovecot instance: plain IMAP on `port`, IMAPS on `imaps_port` when `tls` is set."""

    def __init__(self, users: Mapping[str, str] = DEFAULT_USERS, *, tls: bool = False) -> None:
        self.dovecot_binary = require_binary("dovecot", "the Debian package dovecot-imapd provides the IMAP server")
        self.users: dict[str, str] = dict(users)
        self.host = LOOPBACK
        # Ports are fixed for the instance's lifetime so that clients reconnect to the same address after restart().
        self.port = free_tcp_port()
        self.imaps_port: int | None = free_tcp_port() if tls else None
        self.certificate_authority: trustme.CA | None = trustme.CA() if tls else None
        self.directory = reachable_tempdir("hezo-dovecot-")
        self.config_path = self.directory / "dovecot.conf"
        self.log_path = self.directory / "dovecot.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.is_running():
            return
        with (self.directory / "stdout.log").open("ab") as console:
            # Never PIPE: nobody would read it, the pipe fills, and Dovecot blocks.
            self._process = subprocess.Popen(
                [self.dovecot_binary, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so teardown can kill every child at once
            )
        try:
            wait_for_greeting(self.host, self.port, expect=b"* OK", still_starting=self.is_running)
        except (TimeoutError, RuntimeError) as exc:
            self.kill()
            raise SystemCommandError(f"Dovecot did not start: {exc}\n{self.log_excerpt()}") from exc

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the server; `graceful=False` kills it outright, like a crash (Maildir keeps what was committed)."""
        process = self._process
        if process is None:
            return
        if graceful and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_STOP_TIMEOUT)
        self.kill()

    def kill(self) -> None:
        """Kill the whole process group (master and any imap/auth children it left) and reap the master."""
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=_STOP_TIMEOUT)
        self._process = None

    def restart(self, *, graceful: bool = True) -> None:
        self.stop(graceful=graceful)
        self.start()

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_excerpt(self) -> str:
        return log_tail(self.log_path) + "\n" + log_tail(self.directory / "stdout.log")

    # -- client helpers ----------------------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting this server's test CA (IMAPS or STARTTLS)."""
        if self.certificate_authority is None:
            raise ValueError("this DovecotServer was created without tls=True")
        context = ssl.create_default_context()
        self.certificate_authority.configure_trust(context)
        return context

    def connect(self, user: str, *, password: str | None = None, tls: bool = False, timeout: float = 10.0) -> Any:
        """A logged-in IMAPClient for `user` (use it as a context manager so it logs out).

        `password` overrides the user's own, to try a wrong one; a failed login closes the connection and raises
        imapclient.exceptions.LoginError.
        """
        if tls:
            if self.imaps_port is None:
                raise ValueError("this DovecotServer was created without tls=True")
            client = IMAPClient(self.host, self.imaps_port, ssl=True, ssl_context=self.ssl_context(), timeout=timeout)
        else:
            client = IMAPClient(self.host, self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, self.users[user] if password is None else password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: Sequence[str] = ()) -> int:
        """Store one raw message and return its UID (from Dovecot's UIDPLUS answer)."""
        with self.connect(user) as client:
            response = cast(bytes, client.append(folder, raw, flags=tuple(flags)))
        match = _APPENDUID.search(response)
        if match is None:
            raise SystemCommandError(f"APPEND answered without APPENDUID: {response!r}")
        return int(match.group(1))

    def list_uids(self, user: str, folder: str = "INBOX") -> list[int]:
        with self.connect(user) as client:
            client.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in client.search("ALL"))

    def empty(self, user: str, folders: Sequence[str] = GATEWAY_FOLDERS) -> None:
        """Expunge every message in `folders`, so a test starts from empty mailboxes."""
        with self.connect(user) as client:
            for folder in folders:
                client.select_folder(folder)
                uids = client.search("ALL")
                if uids:
                    client.delete_messages(uids)
                    client.expunge()
                client.unselect_folder()

    # -- configuration -----------------------------------------------------------------------------------------

    def _write_config(self) -> None:
        mail_user = _mail_user()
        mail_root = self.directory / "mail"
        mail_root.mkdir()
        os.chown(mail_root, mail_user.pw_uid, mail_user.pw_gid)
        passwd_lines = [
            f"{user}:{{PLAIN}}{password}:{mail_user.pw_uid}:{mail_user.pw_gid}::{mail_root / user}"
            for user, password in self.users.items()
        ]
        users_path = self.directory / "users"
        users_path.write_text("\n".join(passwd_lines) + "\n")
        tls_settings = self._write_tls_files()
        self.config_path.write_text(
            _render_config(
                directory=self.directory,
                users_path=users_path,
                mail_uid=mail_user.pw_uid,
                imap_port=self.port,
                imaps_port=self.imaps_port,
                tls_settings=tls_settings,
            )
        )

    def _write_tls_files(self) -> str:
        if self.certificate_authority is None:
            return "ssl = no"
        certificate = self.certificate_authority.issue_cert("127.0.0.1", "localhost")
        chain_path = self.directory / "server-chain.pem"
        key_path = self.directory / "server-key.pem"
        certificate.cert_chain_pems[0].write_to_path(str(chain_path))
        for extra in certificate.cert_chain_pems[1:]:
            extra.write_to_path(str(chain_path), append=True)
        certificate.private_key_pem.write_to_path(str(key_path))
        lines = ["ssl = yes", f"ssl_cert = <{chain_path}", f"ssl_key = <{key_path}"]
        if _DH_PARAMETERS.exists():
            lines.append(f"ssl_dh = <{_DH_PARAMETERS}")
        return "\n".join(lines)


def _mail_user() -> pwd.struct_passwd:
    """The account that owns the Maildirs: Dovecot refuses UID 0 for mail access, so root uses `nobody`."""
    if os.geteuid() == 0:
        return pwd.getpwnam("nobody")
    return pwd.getpwuid(os.geteuid())


def _render_config(
    *, directory: Path, users_path: Path, mail_uid: int, imap_port: int, imaps_port: int | None, tls_settings: str
) -> str:
    if os.geteuid() == 0:
        # The Debian package creates these accounts; Dovecot will not run its internal or login processes as root.
        process_users = "default_internal_user = dovecot\ndefault_login_user = dovenull"
        login_chroot = ""
        unprivileged_services = ""
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        my_group = grp.getgrgid(os.getegid()).gr_name
        process_users = f"default_internal_user = {me}\ndefault_internal_group = {my_group}\ndefault_login_user = {me}"
        # Without root there is no chroot and no switching users.
        login_chroot = "  chroot =\n"
        unprivileged_services = "service auth-worker {\n  user = $default_internal_user\n}"
    imaps_listener = f"  inet_listener imaps {{\n    address = {LOOPBACK}\n    port = {imaps_port or 0}\n  }}"
    return f"""# Generated for one test run; see tests/support/dovecot.py.
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
protocols = imap
listen = {LOOPBACK}
{process_users}
first_valid_uid = {mail_uid}
{tls_settings}
# Tests log in over plain loopback IMAP as well as IMAPS.
disable_plaintext_auth = no
auth_mechanisms = plain login
# A failed login must not slow the next one: tests try bad passwords on purpose.
auth_failure_delay = 0
mail_location = maildir:{directory}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users_path}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users_path}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
  mailbox Quarantine {{
    auto = create
  }}
}}
service imap-login {{
{login_chroot}  inet_listener imap {{
    address = {LOOPBACK}
    port = {imap_port}
  }}
{imaps_listener}
}}
service anvil {{
  # Dovecot 2.3 delays logins from an address after a failure (up to 15 s) and login_trusted_networks does
  # not lift it; closing the penalty socket switches the penalty off.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{unprivileged_services}
"""


# -- pytest fixtures (import them into a conftest) --------------------------------------------------------------


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the whole session, IMAP and IMAPS, users from DEFAULT_USERS."""
    with DovecotServer(tls=True) as server:
        yield server


@pytest.fixture
def dovecot_mailbox(dovecot: DovecotServer) -> DovecotServer:
    """The session's Dovecot, running, with every user's INBOX, Processed and Quarantine emptied."""
    dovecot.start()  # a previous test may have stopped it
    for user in dovecot.users:
        dovecot.empty(user)
    return dovecot
