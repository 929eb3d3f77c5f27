"""MAIL/RCPT addresses: the session's quick reading of `<local@domain>` equals aiosmtpd's full parse."""

from __future__ import annotations

import asyncio
import string

from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.smtp_protocol import GatewaySMTP, PeerSessions

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
atoms = st.text(ATEXT, min_size=1, max_size=8)
labels = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=8)
plain_addresses = st.builds(
    lambda local, domain: f"{'.'.join(local)}@{'.'.join(domain)}",
    st.lists(atoms, min_size=1, max_size=3),
    st.lists(labels, min_size=1, max_size=3),
)
tails = st.sampled_from(["", " SIZE=4096", "  BODY=8BITMIME SMTPUTF8", "\tSIZE=1 ", " ", "(comment) SIZE=1", "x"])
# Arguments around the plain form too: brackets, quotes, literals, dots in odd places, UTF-8, whitespace.
odd_arguments = st.text(ATEXT + '<>@."()[] \tąż:;,\\', max_size=40)


async def _session() -> GatewaySMTP:
    # Inside a running loop: aiosmtpd would otherwise make (and leave open) an event loop of its own.
    return GatewaySMTP(None, peers=PeerSessions(limit=1))


SESSION = asyncio.run(_session())


Reading = tuple[str | None, str | None]


def both_readings(argument: str) -> tuple[Reading, Reading]:
    try:
        aiosmtpds = SMTP._getaddr(SESSION, argument)
    except (IndexError, AttributeError):  # the e-mail package's parser fails so on `x@`, `x@[`: unreadable
        aiosmtpds = (None, None)
    return SESSION._getaddr(argument), aiosmtpds


@settings(max_examples=500)
@given(address=plain_addresses, tail=tails, lead=st.sampled_from(["", " ", "\t "]))
def test_plain_addresses_read_as_aiosmtpd_reads_them(address: str, tail: str, lead: str) -> None:
    ours, aiosmtpds = both_readings(f"{lead}<{address}>{tail}")
    assert ours == aiosmtpds


@settings(max_examples=1000)
@given(argument=odd_arguments)
def test_any_argument_reads_as_aiosmtpd_reads_it(argument: str) -> None:
    ours, aiosmtpds = both_readings(argument)
    assert ours == aiosmtpds


def test_known_forms() -> None:
    for argument, expected in [
        ("<jan@example.pl> SIZE=4096", ("jan@example.pl", "SIZE=4096")),
        ('<"jan kowalski"@example.pl>', ('"jan kowalski"@example.pl', "")),  # the long way
        ("<jan@[192.0.2.1]>", ("jan@[192.0.2.1]", "")),
        ("<jan@example.pl>(note) SIZE=1", ("jan@example.pl", "SIZE=1")),
        ("<jan@example..pl>", (None, None)),
        ("jan@", (None, None)),
        ("0@[", (None, None)),
    ]:
        assert both_readings(argument) == (expected, expected), argument


def test_local_part_limit_holds_on_the_quick_path() -> None:
    SESSION.local_part_limit = 3
    try:
        assert both_readings("<abcd@example.pl>") == ((None, None), (None, None))
        assert both_readings("<abc@example.pl>") == (("abc@example.pl", ""), ("abc@example.pl", ""))
    finally:
        SESSION.local_part_limit = 0
