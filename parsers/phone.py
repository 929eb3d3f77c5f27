"""Phone numbers to E.164, and the reporter's own number in their text or signature.

phonenumbers does not know Polish habits: there is no trunk "0" in Poland, yet people write `0-12 25 25 600` and
`032 258 14 09`, so a 10-digit national form starting with 0 drops it; `wew. 12` / `w. 12` (extension) is not
understood, so extensions are cut off. Its matcher also takes Extreme part numbers (`800617-00-04`) for toll-free
numbers, so identifiers and other look-alikes are blanked before searching text.

Speed: most of the cost is the masking and the scans over the text. (1) A text without a run of enough digits is
answered at once, and so is one whose only runs were serial numbers and other look-alikes (masking only turns
characters into spaces, so it cannot create a number, and a run in the masked text is a run in the text). (2) The
patterns that scan the whole text open with a plain character set, which lets the regex engine skip ahead in C
instead of trying every position; normalise_phone keeps the plain extension pattern for its short strings, and the
tests compare each fast form with its plain one. (3) The look-alike mask of the identifier text, which usually holds
the reporter's text whole, is reused when it provably equals masking the text alone (see lookalikes.MaskedText).
"""

from __future__ import annotations

import re

import phonenumbers

from parsers.identifiers import MaskedText, mask_lookalikes
from parsers.identifiers.lookalikes import blank
from parsers.identifiers.shapes import unlabelled_serial_spans
from parsers.language import reporters_own_text
from parsers.wordscan import may_hold_any

OUR_NUMBERS = frozenset({"+48122525600", "+48122525502"})
"""The hotline and the escalation line: never the reporter's."""

_EXTENSION_RE = re.compile(r"(?<![A-Za-z])(?:wew|w|ext|extension|x)\.?[ \t:]*\d{1,6}(?!\d)", re.IGNORECASE)
# The same, searched from its first letter: w, e and x have no case variants beyond ASCII, and the look-behind then
# checks the character before that letter with the plain form's case-insensitive letter class.
_EXTENSION_FROM_LETTER_RE = re.compile(
    r"[WwEeXx](?<!(?i:[A-Za-z]).)(?i:(?<=w)(?:ew|)|(?<=e)(?:xt|xtension)|(?<=x))(?i:\.?[ \t:]*\d{1,6}(?!\d))"
)
_NATIONAL_WITH_TRUNK_ZERO_RE = re.compile(r"0[1-9]\d{8}")
# `+48 (0)22 ...`: the trunk zero written in brackets after the country code, for callers from inside the country.
_BRACKETED_TRUNK_ZERO_RE = re.compile(r"^((?:\+|00)[ \xa0]?\d{1,3})[ \xa0]*\(0\)")
_PART_NUMBER_RE = re.compile(r"\d{6}-\d{2}-\d{2}|\d{6}-[A-Z]\.\d{2}|\d{2}-\d{7}-\d{2}")
_NON_DIGIT_RE = re.compile(r"\D")
# A run of digits in the groupings people use: spaces, no-break spaces, dashes, brackets around an area code (with
# the trunk zero inside them too: "(0-22)", "(0 22)").
_AREA_CODE = r"\((?:0[ \-]?)?\d{1,3}\)"
_DIGIT_OR_AREA = rf"(?:{_AREA_CODE}|\d)"
# Between digits: a blank or dash, or a dot or slash right before the next digit ("512.330.781", "61/852-14-09";
# dates, IP addresses and versions are blanked before the search). A sentence's full stop may follow a number and
# "tel." may precede one; a dot between digits or before a letter (a file name) may not. A colon may precede one
# right after a word ("kom:604 117 352"), not after a digit (a time, "10:30").
_SEPARATOR = r"(?:[ \xa0\-]|[./](?=\d))"
_CANDIDATE_RE = re.compile(
    rf"(?<![\w+,/-])(?<![\W\d_]:)(?<!\d\.)(?:\+|00)?[ \xa0]?{_DIGIT_OR_AREA}(?:{_SEPARATOR}?{_DIGIT_OR_AREA}){{7,14}}"
    r"(?![\w:/-]|[.,/]\d|\.\w)"
)
# The same, searched from its first character (the only ones a candidate can start with). What follows depends on
# that character and is tried in the plain form's order: a "+" or "00" prefix, a blank, "(" of an area code, a digit.
_CANDIDATE_FROM_FIRST_CHAR_RE = re.compile(
    r"[+ \xa0(\d](?<![\w+,/-].)(?<![\W\d_]:.)(?<!\d\..)"
    rf"(?:(?<=\+)[ \xa0]?{_DIGIT_OR_AREA}|(?<=0)0[ \xa0]?{_DIGIT_OR_AREA}|(?<=[ \xa0]){_DIGIT_OR_AREA}"
    r"|(?<=\()(?:0[ \-]?)?\d{1,3}\)|(?<=\d))"
    rf"(?:{_SEPARATOR}?{_DIGIT_OR_AREA}){{7,14}}(?![\w:/-]|[.,/]\d|\.\w)"
)
_MIN_DIGITS, _MAX_DIGITS = 9, 13
_COUNTER_NEEDS = ("uptime", "timeticks", "counter", "octets", "packets", "pkts", "bytes", "errors", "drops")
# Every digit of a candidate is at most three characters from the next ("1) (2"), so a candidate with enough digits
# lies on such a run; blanking look-alikes only removes digits, so the run is in the unmasked text as well.
_DIGIT_RUN_RE = re.compile(rf"\d(?:\D{{0,3}}\d){{{_MIN_DIGITS - 1}}}")
# The same in ASCII text, where a digit can only be 0-9: a plain set is skipped through at twice the speed of \d.
_ASCII_DIGIT_RUN_RE = re.compile(rf"[0-9](?:[^0-9]{{0,3}}[0-9]){{{_MIN_DIGITS - 1}}}")

# Numbers in a signature that are not phones: blanked before the search. All but the fax start with a digit, so
# they are one pattern that opens with that digit (the regex engine then skips ahead in C to the next ASCII digit).
_NOT_PHONES_FROM_DIGIT_RE = re.compile(
    r"[0-9](?:"
    + "|".join(
        (
            r"\d{5}-\d{2}-\d{2}|\d{5}-[A-Z]\.\d{2}|\d-\d{7}-\d{2}",  # Extreme part numbers (_PART_NUMBER_RE)
            # dates, from their first digit: 654-12-33 (a Polish way of grouping a phone number) holds no date
            r"\d{3}-\d{2}-\d{2}|(?<![0-9][0-9])\d?[./-]\d{1,2}[./-]\d{2,4}(?![0-9]|-[0-9])",
            # IP addresses and software versions, but not a mobile number written 512.330.781 nor a landline
            # written 22.614.09.32 where no address can stand (a group above 255); never from inside such a number
            r"(?<![0-9][0-9])(?<![0-9]\.[0-9])(?!\d\d\.\d{3}\.\d{3}(?!\.?\d))"
            r"(?!\d\.(?:25[6-9]|2[6-9]\d|[3-9]\d\d)\.\d\d\.\d\d(?!\.?\d))\d*(?:\.\d+){2,}",
            r"(?<!\d\d)(?<!\d-\d)\d-\d{3}(?![0-9]|-[0-9])",  # postal codes, not inside 0-22-654-12-33
        )
    )
    + ")"
)
# A fax is no way to reach a person (tel/fax is): "Fax: …", "Faks: …", "F: …".
_FAX_RE = re.compile(r"[Ff](?<!/[Ff])(?:[Aa](?:[Xx]|[Kk][Ss])\.?:?|(?<![A-Za-z][Ff]):)[ \t]*[+\d(][\d \xa0()\-]{7,}")
# Counters of device output are no numbers to call: "sysUpTime.0 = 412345678", "Timeticks: (412345678)".
_COUNTER_RE = re.compile(
    r"(?i:uptime|timeticks|counter\w*|octets|packets|pkts|bytes|errors|drops)[^\n\d]{0,30}[\d(][\d ()]*"
)
# Where a signature begins: a closing salutation on a line of its own.
_CLOSING_RE = re.compile(
    r"^[ \t]*(?:(?:serdecznie\s+|gor[aą]co\s+)?pozdrawiam\w*|(?:[lł][aą]cz[eę]\s+)?pozdrowienia|z\s+pozdrowieniami|"
    r"pozdr|z\s+powa[zż]aniem|z\s+wyrazami\s+szacunku|serdeczno[sś]ci|dzi[eę]kuj[eę]\w*|"
    r"(?:best\s+|kind\s+|warm\s+)?regards|all\s+the\s+best|best|cheers|thanks?(?:\s+you)?|sincerely|br|"
    r"mit\s+freundlichen\s+gr[uü](?:ß|ss)en|s\s+pozdravem|med\s+vennlig\s+hilsen)\b[^\n]{0,30}$",
    re.IGNORECASE | re.MULTILINE,
)


def has_phone_length(candidate: str) -> bool:
    """Enough digits for a phone number and not too many, a bracketed trunk zero (`+48 (0)22`) not counted."""
    if "(0)" in candidate:
        candidate = _BRACKETED_TRUNK_ZERO_RE.sub("", candidate)
    return _MIN_DIGITS <= len(_NON_DIGIT_RE.sub("", candidate)) <= _MAX_DIGITS


def has_digit_run(text: str) -> bool:
    """Whether `text` holds a run of digits long enough for a phone number (see _DIGIT_RUN_RE)."""
    return (_ASCII_DIGIT_RUN_RE if text.isascii() else _DIGIT_RUN_RE).search(text) is not None


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def normalise_phone(value: str, *, region: str = "PL", carrier_given: bool = False) -> str | None:
    """One phone number as E.164, or None when it is not a valid number or is one of ours.

    `carrier_given`: the number came from the telephone network (Twilio's From), not from someone's typing. It is
    then taken when it is a possible number, although phonenumbers may not know its range as assigned (new
    ranges, ranges kept for tests and drama).
    """
    cleaned = _EXTENSION_RE.sub(" ", value).strip()
    if not cleaned or _PART_NUMBER_RE.fullmatch(cleaned):
        return None
    if "(0)" in cleaned:
        cleaned = _BRACKETED_TRUNK_ZERO_RE.sub(r"\1 ", cleaned)
    digits = _NON_DIGIT_RE.sub("", cleaned)
    if region == "PL" and not cleaned.startswith("+") and _NATIONAL_WITH_TRUNK_ZERO_RE.fullmatch(digits):
        cleaned = digits[1:]
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    known = phonenumbers.is_possible_number(number) if carrier_given else phonenumbers.is_valid_number(number)
    if not known:
        return None
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None if e164 in OUR_NUMBERS else e164


def phones_in_text(text: str, lookalikes: MaskedText | None = None) -> list[str]:
    """Every valid number in `text` (E.164, ours left out), in order, without repeats.

    `lookalikes`: the masked text of some larger text that may hold `text` (its mask is then read off, not redone).
    """
    if not has_digit_run(text):
        return []
    masked = lookalikes.masked_part(text) if lookalikes is not None else None
    if masked is None:
        masked = mask_lookalikes(text)
    masked = blank(masked, unlabelled_serial_spans(masked))
    if not has_digit_run(masked):
        return []  # the run was a serial number or another look-alike (see the module docstring, point 1)
    masked = _FAX_RE.sub(_blank, masked)
    if may_hold_any(masked, _COUNTER_NEEDS):
        masked = _COUNTER_RE.sub(_blank, masked)
    masked = _NOT_PHONES_FROM_DIGIT_RE.sub(_blank, masked)
    masked = _EXTENSION_FROM_LETTER_RE.sub(_blank, masked)
    found: list[str] = []
    for candidate in _CANDIDATE_FROM_FIRST_CHAR_RE.finditer(masked):
        if not has_phone_length(candidate.group(0)):
            continue
        e164 = normalise_phone(candidate.group(0).replace("\xa0", " "))
        if e164 is not None and e164 not in found:
            found.append(e164)
    return found


def reporter_phone_in_text(text: str, lookalikes: MaskedText | None = None) -> str | None:
    """The single phone number of the reporter in their own text (signature), None when absent or ambiguous.

    Quoted and forwarded history is left out: numbers there belong to other people. `lookalikes`: as for
    phones_in_text.
    """
    own = reporters_own_text(text)
    found = phones_in_text(own, lookalikes)
    if len(found) > 1:
        # Other people's numbers stand in the message ("na miejscu będzie p. Marek, kom. 601 998 221"); the
        # reporter's own is the one under the closing salutation, when just one stands there.
        closings = list(_CLOSING_RE.finditer(own))
        found = phones_in_text(own[closings[-1].end() :]) if closings else found
    return found[0] if len(found) == 1 else None
