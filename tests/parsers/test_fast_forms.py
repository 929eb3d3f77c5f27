"""Patterns and gates rewritten for speed give exactly what their plain forms give, on generated text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email import message_from_bytes
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.policy import compat32

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import autoreply, cli_logs, language, phone, wordscan
from parsers.email import quotes
from parsers.email import views as views_module
from parsers.email.charset import decode_bytes
from parsers.email.headers import (
    _PLAIN_MAILBOX,
    HeaderView,
    decode_header_value,
    first_address,
    first_address_by_grammar,
)
from parsers.email.part_info import PartInfo, describe
from parsers.email.quotes import split_body
from parsers.email.structure import MailContent
from parsers.email.views import build_views
from parsers.identifiers.lookalikes import _UNLABELLED_FOREIGN, blank, mask_lookalikes, masked_lookalikes
from parsers.identifiers.shapes import unlabelled_serial_spans

# Digits (ASCII and one non-ASCII), every separator the patterns care about, letters that open extensions, fax and
# look-alikes in both cases, Polish letters and the characters whose case folding is special.
PHONE_PIECES = [
    "0", "00", "1", "4", "48", "12", "601", "2345", "٣", "+", " ", "\xa0", "-", "(", ")", ".", ",", "/", ":", "\n",
    "\t", "w", "W", "wew", "WEW", "ext", "Extension", "x", "X", "e", "fax", "Fax", "tel", "a", "Z", "ą", "Ł", "ż",
    "İ", "ı", "ſ", "K", "_", "#", "uptime", "Bytes: ", "Timeticks: (", "pacKets", "F: ", "f:",
]  # fmt: skip
NUMBERS = [
    "601 234 567", "+48 (22) 614 09 32", "0048583012277", "0-12 418 22 90", "800617-00-04", "12 25 25 600",
    "2214G-00417", "S/N 14JP512E0001", "NIP 677-123-45-67",  # digit runs that masking blanks
]  # fmt: skip


def phone_text() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(PHONE_PIECES), st.sampled_from(NUMBERS))
    return st.lists(piece, max_size=24).map("".join)


PLAIN_PHONE_SCAN = {
    "extension": (phone._EXTENSION_RE, phone._EXTENSION_FROM_LETTER_RE),
    "candidate": (phone._CANDIDATE_RE, phone._CANDIDATE_FROM_FIRST_CHAR_RE),
}


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


@settings(max_examples=600, deadline=None)
@given(text=phone_text())
def test_phone_scans_match_their_plain_forms(text: str) -> None:
    for plain, fast in PLAIN_PHONE_SCAN.values():
        assert spans(fast, text) == spans(plain, text)


def plain_phones_in_text(text: str) -> list[str]:
    """phones_in_text without the digit-run gate."""
    masked = mask_lookalikes(text)
    masked = blank(masked, unlabelled_serial_spans(masked))
    masked = phone._FAX_RE.sub(phone._blank, masked)
    masked = phone._COUNTER_RE.sub(phone._blank, masked)
    masked = phone._NOT_PHONES_FROM_DIGIT_RE.sub(phone._blank, masked)
    masked = phone._EXTENSION_RE.sub(phone._blank, masked)
    found: list[str] = []
    for candidate in phone._CANDIDATE_RE.finditer(masked):
        if not phone.has_phone_length(candidate.group(0)):
            continue
        e164 = phone.normalise_phone(candidate.group(0).replace("\xa0", " "))
        if e164 is not None and e164 not in found:
            found.append(e164)
    return found


@settings(max_examples=400, deadline=None)
@given(text=phone_text())
def test_phones_in_text_matches_the_plain_pipeline(text: str) -> None:
    assert phone.phones_in_text(text) == plain_phones_in_text(text)


@settings(max_examples=400, deadline=None)
@given(text=phone_text())
def test_no_candidate_without_a_digit_run(text: str) -> None:
    """The gate's claim itself: every candidate with enough digits lies on a run the gate finds."""
    if phone._DIGIT_RUN_RE.search(text) is None:
        for candidate in phone._CANDIDATE_RE.finditer(text):
            assert len(re.sub(r"\D", "", candidate.group(0))) < phone._MIN_DIGITS


@settings(max_examples=400, deadline=None)
@given(text=phone_text())
def test_the_digit_run_gate_answers_as_its_unicode_pattern(text: str) -> None:
    """ASCII text takes the plain-set pattern; mostly ASCII pieces make both paths common."""
    assert phone.has_digit_run(text) == (phone._DIGIT_RUN_RE.search(text) is not None)
    ascii_only = text.encode("ascii", "ignore").decode()
    assert phone.has_digit_run(ascii_only) == (phone._DIGIT_RUN_RE.search(ascii_only) is not None)


# The MAC look-alike as it was written before it was split into two separator-first searches.
PLAIN_MAC_RE = re.compile(
    r"[0-9A-Fa-f](?:(?<![0-9A-Fa-f:-].)[0-9A-Fa-f][:-](?:[0-9A-Fa-f]{2}[:-]){4}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:-])"
    r"|(?<![0-9A-Fa-f.].)[0-9A-Fa-f]{3}(?:\.[0-9A-Fa-f]{4}){2}(?![0-9A-Fa-f.]))"
)
MAC_PIECES = ["0", "9", "a", "F", "g", "00", "4a", "ab12", ":", "-", ".", " ", "\n", "ą", "_", "00:04:96:9A:B4:F7"]


@settings(max_examples=600, deadline=None)
@given(pieces=st.lists(st.sampled_from(MAC_PIECES), max_size=30))
def test_separator_first_mac_searches_find_the_plain_macs(pieces: list[str]) -> None:
    text = "".join(pieces)
    found = sorted(
        (match.start() - lead, match.end())
        for pattern, lead in _UNLABELLED_FOREIGN
        if pattern.pattern.startswith(("[:-]", "\\."))
        for match in pattern.finditer(text)
    )
    assert found == spans(PLAIN_MAC_RE, text)


def plain_describe(part: Message) -> PartInfo:
    """describe() as it read a compat32 part through the stdlib accessors, each fetching and parsing again."""
    content_type = part.get_content_type()
    type_params = {key.lower(): value for key, value in part.get_params() or []}
    if content_type.count("/") != 1 or not all(content_type.split("/")):
        content_type = "text/plain"
    filename = part.get_filename()
    name = type_params.get("name")
    charset = type_params.get("charset")
    return PartInfo(
        content_type=content_type,
        charset=str(charset) if charset else None,
        filename=filename or (str(name) if name else None),
        disposition=part.get_content_disposition(),
    )


HEADER_PIECES = [
    "text/plain", "TEXT/HTML", "application/octet-stream", "multipart/mixed", "text", "a/b/c", "/", "", ";", " ",
    "; charset=utf-8", '; CHARSET="iso-8859-2"', "; name=a.txt", '; Name="b c.log"', "; name*=utf-8''%C5%BC.txt",
    "; filename=x.pdf", '; FILENAME="y;z.txt"', "; filename*0*=utf-8''a; filename*1=b.txt", "; filename=",
    "; name", "=", '"', "attachment", "INLINE", "form-data", "ą", "=?utf-8?q?=C5=BC?=",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    content_type=st.none() | st.lists(st.sampled_from(HEADER_PIECES), max_size=6).map("".join),
    disposition=st.none() | st.lists(st.sampled_from(HEADER_PIECES), max_size=6).map("".join),
)
def test_describe_reads_what_the_stdlib_accessors_read(content_type: str | None, disposition: str | None) -> None:
    headers = "".join(
        f"{name}: {value}\n"
        for name, value in (("Content-Type", content_type), ("Content-Disposition", disposition))
        if value is not None
    )
    part = message_from_bytes(f"Subject: x\n{headers}\nbody\n".encode(), policy=compat32)
    assert describe(part) == plain_describe(part)


PLAIN_POLISH_LETTERS_RE = re.compile(r"[ąćęłńóśźż]", re.IGNORECASE)


def test_the_polish_letter_set_holds_what_the_pattern_matches_among_all_characters() -> None:
    matched = {char for char in map(chr, range(0x110000)) if PLAIN_POLISH_LETTERS_RE.match(char)}
    assert matched == language._POLISH_LETTERS


def test_the_characters_ignorecase_folds_to_ascii_letters_are_all_known() -> None:
    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    assert {char for char in map(chr, range(0x80, 0x110000)) if ascii_letter.match(char)} == wordscan.FOLDS_TO_ASCII


def plain_language_scores(text: str) -> tuple[int, int]:
    """language_scores as a loop over the words, every text through the CLI-line pattern."""
    polish = english = 0
    text = language._CLI_LINE_RE.sub("", text)
    pronouns = sum(word == "I" for word in language._WORD_RE.findall(text))  # counted English, not Polish "i"
    polish, english = -pronouns, pronouns
    for word in language._WORD_RE.findall(text.lower()):
        if word in language._POLISH_WORDS or (not word.isascii() and PLAIN_POLISH_LETTERS_RE.search(word)):
            polish += 1
        elif word in language._ENGLISH_WORDS:
            english += 1
    return polish, english


WORD_PIECES = [
    "we", "We", "the", "i", "I", "nie", "się", "Dzień", "żółw", "ÓSMY", "naïve", "İ", "x", "show", "sh", "switch#",
    "sw1>", " ", "  ", "\n", "\t", ":", " : ", "#", ">", "> ", "'", "don't", "9", "_", "Serial", "ą", "ł",
    "\u212a",  # the Kelvin sign: not ASCII, yet lower case makes it an ASCII "k"
    "I", " I ", "I'm", "Ia", "aI", "I9",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(WORD_PIECES), max_size=30))
def test_language_scores_count_what_the_plain_loop_counts(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert language.language_scores(text) == plain_language_scores(text)
    ascii_only = text.encode("ascii", "ignore").decode()  # the ASCII word pattern's text
    assert language.language_scores(ascii_only) == plain_language_scores(ascii_only)
    history = language._HISTORY_START_RE.search(text)
    own = language._QUOTED_LINE_RE.sub("", text[: history.start()] if history else text)
    assert language.reporters_own_text(text) == (own if own.strip() else text)


# What starts forwarded or quoted history, in pieces and in every case, and the characters with special folds.
HISTORY_PIECES = [
    "-", "--", "-----", " ", "\n", "\t", "Original Message", "ORIGINAL MESSAGE", "Forwarded message", "Wiadomość",
    " oryginalna", " przekazana", "W dniu", "On", " 2026-11-24 ", "Jan", "pisze", "PISZE", "napisał", "NAPISAŁA",
    "wrote", "WROTE", ":", "From", "Od", "Sent", "Wysłano", "Date", "Data", "> ", "ſ", "\u212a", "İ", "ı", "x",
]  # fmt: skip


HISTORY_LINES = [
    "-----Original Message-----", "---------- Forwarded message ---------", "-- Wiadomość przekazana --",
    "W dniu 24.11.2026 Jan pisze:", "W dniu 24.11.2026 Anna napisała:", "On Tue, 24 Nov 2026 Jan wrote:",
    "Od: Jan\nWysłano: wtorek", "From: Jan\nSent: Tuesday", "From: Jan\nDate: Tuesday",
]  # fmt: skip
# Other characters a letter matches under IGNORECASE besides its two cases.
SPECIAL_FOLDS = {"s": "ſ", "k": "\u212a", "i": "ıİ"}


@st.composite
def case_variant(draw: st.DrawFn, phrases: list[str]) -> str:
    """One of `phrases`, each letter in either case or replaced by a character that folds to it."""
    phrase = draw(st.sampled_from(phrases))
    variants = [sorted({char, char.lower(), char.upper(), *SPECIAL_FOLDS.get(char.lower(), "")}) for char in phrase]
    return "".join(draw(st.sampled_from(choices)) for choices in variants)


def history_line() -> st.SearchStrategy[str]:
    """A line that starts history, in any case (see case_variant)."""
    return case_variant(HISTORY_LINES)


@settings(max_examples=600, deadline=None)
@given(pieces=st.lists(st.one_of(st.sampled_from(HISTORY_PIECES), history_line()), max_size=12))
def test_the_reporters_own_text_is_cut_where_the_plain_search_cuts_it(pieces: list[str]) -> None:
    text = "Zgłaszam awarię.\n" + "".join(pieces)  # own words first: a cut at the very start would keep everything
    history = language._HISTORY_START_RE.search(text)
    own = language._QUOTED_LINE_RE.sub("", text[: history.start()] if history else text)
    assert language.reporters_own_text(text) == (own if own.strip() else text)


CLEANUP_PIECES = ["a", "ą", " ", "\n", "\r", "\r\n", "\xa0", "\u200b", "\u00ad", "\u2007", "\ufeff", "\x1c", "\t", "9"]


def cleanup_text() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(CLEANUP_PIECES), max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(
    subject=cleanup_text(),
    body=st.lists(cleanup_text(), max_size=3),
    enclosed=st.lists(cleanup_text(), max_size=3),
    attachment_texts=st.lists(cleanup_text(), max_size=3),
)
def test_views_join_texts_as_cleaning_each_level_again_would(
    subject: str, body: list[str], enclosed: list[str], attachment_texts: list[str]
) -> None:
    content = MailContent(body=body, enclosed=enclosed, attachment_texts=attachment_texts)
    views = build_views(subject, content, split_body)
    plain_body = views_module._joined(body)
    plain_whole = views_module._joined([plain_body, views_module._joined(enclosed)])
    assert views.whole == plain_whole
    assert views.identifiers == views_module._joined([subject, plain_whole, *attachment_texts])


def plain_decode_header_value(raw: str) -> str:
    """decode_header_value with every value through the stdlib's decode_header."""
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
    if not unfolded.isascii():
        unfolded = decode_bytes(unfolded.encode("utf-8", errors="surrogateescape"), None).text
        if "=?" not in unfolded:
            return unfolded.strip()
    try:
        chunks = decode_header(unfolded)
    except (HeaderParseError, ValueError, LookupError):
        return unfolded.strip()
    return "".join(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset).text for chunk, charset in chunks)


HEADER_VALUE_PIECES = [
    "Re: ", "awaria", " ", "\n ", "\r\n\t", "=?", "?=", "=?utf-8?q?=C5=BC?=", "=?UTF-8?B?xbw=?=", "=?x?q?a?=", "ą",
    "\udcc5\udcbc", "<a@b.pl>", '"Jan"', "=?iso-8859-2?Q?=B1?= ", "?", "=",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(HEADER_VALUE_PIECES), max_size=8))
def test_header_values_decode_as_through_decode_header(pieces: list[str]) -> None:
    raw = "".join(pieces)
    assert decode_header_value(raw) == plain_decode_header_value(raw).strip()


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.sampled_from(["Subject", "X-Loop", "x-loop", "Precedence", "Return-Path"]), max_size=4),
    asked=st.sampled_from(["subject", "X-LOOP", "precedence", "return-path", "list-id"]),
)
def test_header_view_answers_in_and_get_as_a_mapping_does(names: list[str], asked: str) -> None:
    message = message_from_bytes("".join(f"{name}: value {i}\n" for i, name in enumerate(names)).encode() + b"\nx")
    view = HeaderView(message)
    assert (asked in view) == Mapping.__contains__(view, asked)
    assert view.get(asked) == Mapping.get(view, asked)
    assert view.get(asked, "") == Mapping.get(view, asked, "")


# Look-alikes of every kind, their labels and fillers, and what can stand next to them across a part's ends.
LOOKALIKE_PIECES = [
    "NIP", "nip", "NIP:", "Faktura", "FV/2025/11", "ZAM/1", "PO/7", "PO", "po", "INC0012345", "RITM12345",
    "HZ-2025-000123", "REGON", "konto", "case", "RMA", "id", "nr", "w", "no", "#", ":", "-", ".", "/", " ", "\n",
    "\n\n", "677-123-45-67", "PL", "61", "1090 1014 0000 0712 1981 2874", "00:04:96:9A:B4:F7", "0004.969a.b4f7",
    "aa:bb", "12", "2214G-00417", "601 234 567", "ą", "x", "A",
]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(
    before=st.lists(st.sampled_from(LOOKALIKE_PIECES), max_size=8).map("".join),
    part=st.lists(st.sampled_from(LOOKALIKE_PIECES), max_size=10).map("".join),
    after=st.lists(st.sampled_from(LOOKALIKE_PIECES), max_size=8).map("".join),
)
def test_a_mask_read_off_a_larger_text_is_the_parts_own_mask(before: str, part: str, after: str) -> None:
    for whole in (before + part + after, f"{before}\n\n{part}\n\n{after}", f"{part}\n{after}", f"{before}\n{part}"):
        read_off = masked_lookalikes(whole).masked_part(part)
        assert read_off is None or read_off == mask_lookalikes(part)


def plain_history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if quotes._SEPARATOR.match(line) or quotes._BEGIN_FORWARDED.match(line):
            return index
        if quotes._RULE.match(line) and index + 1 < len(lines) and quotes._is_header_block(lines, index + 1):
            return index
        if quotes._is_header_block(lines, index) or quotes._attribution_lines(lines, index):
            return index
    return len(lines)


def plain_split_body(text: str) -> quotes.BodySplit:
    """split_body with every line through every pattern."""
    lines = text.splitlines()
    start = plain_history_start(lines)
    head, history = lines[:start], lines[start:]
    if not any(line.strip() for line in head) and history and quotes._attribution_lines(history, 0):
        head, history = history, []
    own_lines: list[str] = []
    quoted_lines: list[str] = []
    skip = 0
    for index, line in enumerate(head):
        if skip:
            skip -= 1
            quoted_lines.append(line)
        elif quotes._QUOTED.match(line):
            quoted_lines.append(line)
        elif span := quotes._attribution_lines(head, index):
            skip = span - 1
            quoted_lines.append(line)
        else:
            own_lines.append(line)
    cut = plain_signature_start(own_lines)
    return quotes.BodySplit(
        own="\n".join(own_lines[:cut]).strip(),
        signature="\n".join(own_lines[cut:]).strip(),
        quoted="\n".join([*quoted_lines, *history]).strip(),
    )


def plain_signature_start(lines: list[str]) -> int:
    """signature_start testing every line: the last delimiter, or a footer opening a paragraph before it."""
    delimiter = next(
        (index for index in range(len(lines) - 1, -1, -1) if quotes._SIGNATURE_DELIMITER.match(lines[index])),
        len(lines),
    )
    return next(
        (
            index
            for index in range(1, delimiter)
            if not lines[index - 1].strip() and quotes._DISCLAIMER_START.match(lines[index])
        ),
        delimiter,
    )


BODY_LINES = [
    "Dzień dobry,", "switch nie działa", "", " ", "> cytat", " > x", ">", "--", "-- ", "---", "Jan", "tel. 601 234 567",
    "-----Original Message-----", "---------- Forwarded message ---------", "-------- Przekazana wiadomość --------",
    "Begin forwarded message:", "Początek przekazanej wiadomości:", "_" * 12, "From: Jan <j@x.pl>", "Od: Jan",
    "Sent: Monday", "Wysłano: poniedziałek", "To: pomoc", "Temat: awaria", "Subject: x",
    "W dniu 12.02.2026 o 10:41, Jan pisze:", "On Mon, 12 Feb 2026 at 10:41, Jan", "<j@x.pl> wrote:", "12.02.2026 Jan",
    "Dnia 12.02.2026 Jan napisał(a):", "a: b", "*From:* Jan", "==", "**", "x\u2028y", "x\x0by",
    "CONFIDENTIALITY NOTICE: this e-mail", "Disclaimer", "  -- Disclaimer", "The information contained in this message",
    "Treść tej wiadomości jest poufna.", "\t", "\x0c", "confidentiality", "notice: x",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(st.sampled_from(BODY_LINES), max_size=14))
def test_split_body_cuts_as_testing_every_line_would(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert quotes.split_body(text) == plain_split_body(text)


def plain_blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


@settings(max_examples=500, deadline=None)
@given(data=st.data(), text=st.text(alphabet="ab9ą \n", max_size=20))
def test_blanking_from_slices_blanks_what_blanking_each_character_does(data: st.DataObject, text: str) -> None:
    bound = st.integers(0, len(text))
    pairs = data.draw(st.lists(st.tuples(bound, bound), max_size=5))
    spans = [(min(pair), max(pair)) for pair in pairs]
    assert blank(text, spans) == plain_blank(text, spans)


# Pieces of From headers: name words (ASCII, Polish, with an apostrophe), every special of the address grammar,
# blanks and other white space, addresses plain and odd.
MAILBOX_PIECES = [
    "Jan", "Kowalski", "Łukasz", "Żółw", "O'Brien", "'Jan'", "J.", " ", "  ", "\t", "\xa0", "\n", "<", ">", "\"", "(",
    ")", "[", "]", "\\", ",", ";", ":", "@", ".", "jan@example.pl", "j.k@serwis.example.com", "a..b@x.pl", "x@", "@x",
    "zgłoś@example.pl", "=?utf-8?q?Jan?=", "<jan@example.pl>", "jan@[10.0.0.1]",
]  # fmt: skip


def mailbox_text() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(MAILBOX_PIECES), max_size=10).map("".join)


def plain_mailbox() -> st.SearchStrategy[str]:
    """`Name <address>` and `address` forms the quick path takes."""
    word = st.sampled_from(["Jan", "Kowalski", "Łukasz", "O'Brien", "'Jan'", "Serwis-IT"])
    blanks = st.sampled_from(["", " ", "  ", "\t", " \t "])
    words = st.lists(st.tuples(word, blanks.filter(bool)), max_size=3)
    name = words.map(lambda pairs: "".join(text + blank for text, blank in pairs))
    address = st.sampled_from(["jan@example.pl", "j.k@serwis.example.com", "a+b@x-y.pl"])
    named = st.builds(lambda b1, n, b2, a: b1 + n + b2 + f"<{a}>" + b1, blanks, name, blanks, address)
    return st.one_of(named, st.builds(lambda b, a: b + a + b, blanks, address))


@settings(max_examples=1500)
@given(st.one_of(mailbox_text(), plain_mailbox()))
def test_the_quick_read_of_a_from_header_gives_what_the_address_grammar_gives(value: str) -> None:
    assert first_address(value) == first_address_by_grammar(value)


@given(plain_mailbox())
def test_plain_mailboxes_take_the_quick_path(value: str) -> None:
    assert _PLAIN_MAILBOX.fullmatch(value) is not None


HARDWARE_LINE_PIECES = [
    "Switch", "Slot-1", "PSU-2", "PartInfo", "5520-VIM-4X-1", "X440G2", "-", " ", "  ", "\t", ":", " : ", "\n",
    "800979-00-05", "2011G-00289", "Rev 05", "BootROM:", "Internal", "a", "ą", "::", "\n\n",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(HARDWARE_LINE_PIECES), max_size=30))
def test_hardware_lines_are_the_lines_the_anchored_pattern_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    found = [line.span() for line in cli_logs._hardware_lines(text)]
    assert found == [line.span() for line in cli_logs._EXOS_HARDWARE_LINE_RE.finditer(text)]


NOTICE_PHRASES = [
    "jestem poza biurem", "będę nieobecna", "przebywam na urlopie", "pozostaję na zwolnieniu", "jestem w delegacji",
    "nie ma mnie w szkole", "nie będzie mnie w pracy", "nie mam dostępu do poczty", "I'm away", "I am on leave",
    "i will be travelling", "I am currently absent", "i'm not in the office", "wiadomość wygenerowana automatycznie",
    "This is an automatic notification", "please do not reply to this email", "has been opened on your behalf",
    "we have received your request and a ticket", "wiadomość została wysłana automatycznie", "prosimy nie odpowiadać",
    "nie odpowiadaj na tę wiadomość", "zgłoszenie zostało zarejestrowane",
]  # fmt: skip


def notice_phrase() -> st.SearchStrategy[str]:
    """A phrase the notice patterns match, in any case (see case_variant)."""
    return case_variant(NOTICE_PHRASES)


@settings(max_examples=600, deadline=None)
@given(pieces=st.lists(st.one_of(notice_phrase(), st.sampled_from([" ", "\n", "x", "ą", "Dzień dobry,"])), max_size=5))
def test_the_notice_gates_pass_every_text_their_patterns_match(pieces: list[str]) -> None:
    text = "".join(pieces)
    if autoreply._ABSENCE.search(text):
        assert wordscan.may_hold_any(text, autoreply._ABSENCE_NEEDS)
    if autoreply._MACHINE_NOTICE.search(text):
        assert wordscan.may_hold_any(text, autoreply._MACHINE_NOTICE_NEEDS)
