"""Serials and contracts in free text: distinctive shapes anywhere, other shapes only after their label.

The text given here has already had its look-alikes blanked (lookalikes.py). Every finder returns
(offset, value) pairs so the caller can keep the order of first appearance across finders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from parsers.identifiers.columns import ColumnReader
from parsers.identifiers.shapes import (
    EXTREME_NAME_RE,
    EXTREME_NAMES,
    HEZO_CONTRACT_RE,
    OTHER_MAKER_RE,
    OTHER_MAKERS,
    PARTNERWORKS_CONTRACT,
    PARTNERWORKS_CONTRACT_RE,
    is_distinctive_serial,
    is_labelled_serial,
    is_shared_with_other_makers,
    unlabelled_serial_spans,
)
from parsers.wordscan import LabelScan, LabelSearch

Found = tuple[int, str]

# Polish and English serial labels with their inflections: S/N, SN, Serial#, Serial No, numer seryjny,
# numeru seryjnego, nr ser., numery seryjne ... and S/N or SN glued to a value that starts with a digit (sn2305g-00472).
_SERIAL_LABEL = LabelSearch(
    re.compile(
        r"(?<![A-Za-z0-9])(?:(?:s/n|s\.n\.|sn|serial(?:\s*(?:numbers?|no\.?|nr\.?|num\.?))?|ser(?:yjn|yj|jn|yn)\w*|"
        r"nr\.?\s*ser(?:\.|\b))"
        r"(?:\s*#)?(?![A-Za-z0-9])|(?:s/n|sn)(?=[0-9]))",
        re.IGNORECASE,
    ),
    prefixes=("s/n", r"s\.n\.", "sn", "serial", "seryj", "serjn", "seryn", "nr"),
)
# Words that may stand between a serial label and its value ("numer seryjny AP:", "serial number of the unit is").
_FILLER_WORD_RE = re.compile(r"[^\W\d_]{1,15}", re.IGNORECASE)
# ... unless the word opens some other identifier: then the label has no value of its own.
_OTHER_IDENTIFIER_WORD_RE = re.compile(
    r"mac|ip|part|pn|p/n|model\w*|version|wersj\w*|firmware|device|id|case|rma|nip|regon|krs|po|fv|"
    r"um[oó]w\w*|kontrak[tc]\w*|contract\w*|agreement|zam[oó]wien\w*|faktur\w*|invoice|order|inc|hostname|host|"
    r"asset|inw|inwentar\w*",
    re.IGNORECASE,
)
# ... or says the label has no value: "SN nieczytelny - naklejka …", "S/N not readable", "S/N - see photo DSC04412".
_NO_VALUE_WORD_RE = re.compile(
    r"nieczyteln\w*|brak\w*|nieznan\w*|none|unknown|missing|illegible|unreadable|not|see|patrz|zobacz", re.IGNORECASE
)
# ... and what may stand around a value or close a label: quotes, emphasis, brackets (`SN "…"`, `S/N: *…*`,
# `numer seryjny „…”`, `(Ps#1 Serial Number): …`).
_GAP_PUNCTUATION_RE = re.compile(r"[\s:#.=>|\-–•·\"'*„“”«»\[()]*")
_VALUE_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# Between the values of a list, a short note in brackets may follow each ("40166320 (SP nr 3) i 40166333").
_NOTE = r"(?:[ \t]*\([^()\n]{0,40}\))?"
# A replacement's values may be told apart by a word ("stary S/N …, nowy - …", "old: …, new: …").
_LIST_SEPARATOR_RE = re.compile(
    rf"{_NOTE}\s*(?:,|;|/|\+|&|->|→|\bi\b|\boraz\b|\band\b)\s*"
    r"(?:(?:now[ayei]\w*|star[ayei]\w*|new|old|replacement|zamiennik\w*)(?![A-Za-z])[\s:=\-–]*)?",
    re.IGNORECASE,
)
# A list of one value per line under its label: "- LBNNTMPL21094K (serwerownia A)", "2. 40144815".
_BULLET_RE = re.compile(r"[ \t]*(?:[-*•·–▪◦][ \t]*|(?:\d{1,2}[.)]|[a-z]\))[ \t]+)", re.IGNORECASE)
_MAX_BULLETS = 100
_NUMBERED_ITEM_RE = re.compile(r"\d{1,2}[.)][ \t]+")
# A list ends at a token that opens with another identifier's label, glued to its number ("umowa40231177").
_GLUED_OTHER_LABEL_RE = re.compile(r"(?:um[oó]w|kontrak|contract|pw|po|fv|inv|rma|case|tel|nip)[^\W\d_]*\d", re.I)
_MAX_FILLER_WORDS = 4
# Other makers' equipment: a serial label right after one of these names their serial, unless the value has an
# Extreme shape of its own.
_OTHER_VENDOR_RE = re.compile(rf"(?<![A-Za-z0-9])(?:UPS|{OTHER_MAKERS})(?![A-Za-z0-9])", re.IGNORECASE)
_VENDOR_WINDOW = 20  # "UPS APC (S/N …": the maker stands right before the label
# Words for the equipment a report is about: Extreme's names and models, and device words.
_OUR_DEVICE_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?:{EXTREME_NAMES}|switch\w*|prze[lł][aą]czni\w*|stack\w*|ap|access\s+points?|"
    r"punkt\w*\s+dost[eę]pow\w*|zasilacz\w*|psu|modu[lł]\w*|module)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# Extreme named only to be denied ("Juniper EX3400 (nie Extreme)"), or a model or device word that another maker's
# name just before owns ("HPE Aruba 2930F-24G", "Cisco C9200 switch"): neither speaks for Extreme's equipment.
_DENIAL_BEFORE_RE = re.compile(r"(?<![A-Za-z])(?:nie|not|non|no)[ \t-]*\Z", re.IGNORECASE)
_DENIAL_WINDOW = 6
_OWNED_GAP_RE = re.compile(r"[ \t]*\n?[ \t]*(?<=\s)(?:[^\s,;.()]+[ \t]*\n?[ \t]*(?<=\s)){0,2}")
# Where the words that name a value's device may start: its own line, or the line before when the sentence runs on
# from there (mail clients wrap prose: "… przełącznik Cisco Catalyst 3750X-48P⏎(S/N FDO1629P1AB) …").
_SENTENCE_END_RE = re.compile(r"[^\W\d_]{2}[.!?](?=\s)|\n[ \t]*\n")
# Cisco's `show inventory`: "PID: C9300-48P , VID: V02 , SN: FOC2041Z1GK", the maker named nowhere near.
_CISCO_INVENTORY_LINE_RE = re.compile(r"\bPID:[^\n]*\bVID:")
# A line of a device record: a short key, then its value ("Model: Cisco C9200", "Urządzenie - Dell R740").
_FIELD_LINE_RE = re.compile(r"[ \t>*•·-]*[^\W\d_][^\n:=\t]{0,30}(?::|=|\t| - )")
_MAX_RECORD_LINES = 4
# Which of several units the label is about ("numer seryjny zasilacza nr 2:", "S/N PSU2:"): skipped like a word.
_UNIT_INDEX_RE = re.compile(r"(?:psu|ps|slot|unit)?#?\d{1,2}", re.IGNORECASE)

# Contract labels: umowa/umowy/umowie/umową, kontrakt/kontraktu/kontrakcie, contract (no.), service agreement, PW
# (also glued to its number: PW40012345), PartnerWorks, and the abbreviations of hasty notes (um., kontr.).
# The forms of "umowa", not "umówiony" (arranged) or "umówić".
_UMOWA = r"um[oó]w(?:a|y|ie|ą|ę|ami|ach|om)?"
_CONTRACT_LABEL = LabelSearch(
    re.compile(
        rf"(?<![A-Za-z0-9])(?:(?:{_UMOWA}|kontrak[tc][^\W\d_]*|contracts?(?:_?(?:number|no|nr|id))?|(?:service\s+)?agreement|"
        r"(?-i:PW)|partner\s*works|"
        rf"extreme\s*works)(?![A-Za-z0-9])|(?:(?-i:PW)|{_UMOWA}|kontrak[tc][^\W\d_]*|contract)(?=4\d{{7}}(?!\d))"
        r"|(?:um|kontr)\.)",
        re.IGNORECASE,
    ),
    prefixes=("um", "kontr", "contract", "service", "agreement", "pw", "partner", "extreme"),
)
# A gap mentioning another document means the number belongs to it (a PO or invoice "under the contract").
# PO only in capitals: "po" is the commonest Polish preposition ("Umowa po naszej stronie 40610022").
_CONTRACT_GAP_BLOCKER_RE = re.compile(
    r"(?<![A-Za-z])(?:(?-i:PO)|P\.O\.|zam[oó]w\w*|order|faktur\w*|invoice|FV|case|GTAC|RMA|zg[lł]osz\w*|ticket|INC|"
    r"NIP|REGON|KRS|rachun\w*|kont[oa]|account|part|tel\w*|phone|fax|mobile|kom|device|id|IBAN|"
    r"klient\w*|customer|client|ofert\w*|offer|quote|quotation|kart[aęy]|gwarancj\w*|warranty|protok[oó][lł]\w*|"
    r"protocol|cost\s+cent(?:re|er)|MPK|zleceni\w*|job|work\s+order|vendor|supplier|dostawc\w*|wnios\w*)(?![A-Za-z])",
    re.IGNORECASE,
)
# The label answered that there is no number: what follows belongs to something else ("Umowa: brak, oferta …").
_NO_NUMBER_RE = re.compile(
    r"(?<![A-Za-z])(?:brak\w*|nie\s+(?:pami[eę]tam|znam\w*|zna|posiadamy|mamy|wiem)|none|n/a|tbc|tbd|unknown|"
    r"nieznan\w*|do\s+uzupe[lł]nienia)(?![A-Za-z])",
    re.IGNORECASE,
)
# Contracts of another kind: a lease, a job, a sale ("umowa najmu 41200455", "lease agreement no. 41200455").
_OTHER_KIND_AFTER_RE = re.compile(
    r"\s+(?:najmu|dzier[zż]awy|leasing\w*|o\s+prac[eę]|zlecenia|kupna|sprzeda[zż]y|licencyjn\w*|poufno[sś]ci|NDA)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
_OTHER_KIND_BEFORE_RE = re.compile(
    r"(?<![A-Za-z])(?:lease|leasing|rental|employment|purchase|sales|licen[cs]e|non-disclosure|NDA)\s+\Z", re.IGNORECASE
)
_CONTRACT_TABLE_GAP_RE = re.compile(r"[\s:|#.\-–•·*]*")  # label and value in neighbouring table cells or lines
# Words that only qualify the label ("numer umowy serwisowej:", "contract ID:", "kontrakt nr"): they do not stop a
# value on the next line. `id` only right after the label, where it names the contract's own number.
_CONTRACT_LABEL_WORDS_RE = re.compile(
    r"^[\s:#.]*(?:id|ref)\b|(?<![A-Za-z])(?:serwisow\w*|service|nr|numer|number|no)(?![A-Za-z])", re.IGNORECASE
)
# Numbers that may stand between the label and its value: the service level (24x7, 8x5, 24/7) and the contract's
# date ("umową z dnia 15.01.2026 nr ...").
_CONTRACT_GAP_NUMBERS_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:\d{1,2}x\d{1,2}|24/7|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_MAX_CONTRACT_GAP = 40
_COPULA_GAP_RE = re.compile(r"[\s:,]*(?:(?:is|jest|to|was|by[lł]a?)[\s:,]*)*", re.IGNORECASE)
# A number written before its label and pointed at ("40147950 - to nasz nr umowy", "40147950 (umowa serwisowa)",
# "40147950 is our contract number"): a dash, colon, equals sign or bracket, or a copula, then only words that say
# whose number it is.
_POINTER_TO_LABEL_RE = re.compile(
    r"[ \t]*(?:[-–—:=(][ \t]*|(?=(?:to|jest|is|stanowi)\b))"
    r"(?:(?:to|jest|is|stanowi|this|that|nasz\w*|moj\w*|mój|our|my|the|numer\w*|nr\.?|number|no\.?)[ \t]*)*",
    re.IGNORECASE,
)
# The word right before such a number (past nr/no/numer) must not name another document: "PO 40123456 - umowa".
_WORD_BEFORE_NUMBER_RE = re.compile(r"([^\W\d_]+)\.?[ \t:#]*(?:(?:nr|no|numer\w*|number)\.?[ \t:#]*)?\Z", re.IGNORECASE)
_GLUED_CONTRACT_RE = re.compile(rf"{PARTNERWORKS_CONTRACT}(?![A-Za-z0-9/-]|[.,]\d)")
_PARTNERWORKS_CELL = re.compile(rf"(?:PW)?({PARTNERWORKS_CONTRACT})")
# A power supply named without a serial label ("padł zasilacz LBNNTMPL22183D", "PSU LBNNTMPL24093D", or the serial a
# paragraph further on): the VOSS power-supply serial's own shape, eight letters, five digits and a letter, is
# believed anywhere in a text that names a power supply.
_PSU_WORD = LabelSearch(
    re.compile(r"(?<![A-Za-z0-9])(?:psus?|zasilacz\w*|power\s+suppl(?:y|ies))(?![A-Za-z])", re.IGNORECASE),
    prefixes=("psu", "zasilacz", "power"),
)
# Found from its digits (the regex engine skips ahead to a digit), the eight letters looked back at.
_PSU_LETTERS = 8
_PSU_SERIAL_FROM_DIGIT_RE = re.compile(r"[0-9](?<=(?<![A-Za-z0-9])[A-Za-z]{8}[0-9])[0-9]{4}[A-Za-z](?![A-Za-z0-9])")
LABEL_SEARCHES = (_SERIAL_LABEL, _CONTRACT_LABEL, _PSU_WORD)
"""The label searches of this module, for a LabelGroup that scans a text once for them and others."""
_CONTRACT_LIST_RE = re.compile(
    rf"{_NOTE}\s*(?:,|;|/|\+|&|\bi\b|\boraz\b|\band\b)\s*({PARTNERWORKS_CONTRACT})(?![A-Za-z0-9/-])"
)
_CONTRACT_ITEM_RE = re.compile(rf"(?:PW[\s-]*)?({PARTNERWORKS_CONTRACT})(?![A-Za-z0-9/-])")


def _speaks_for_extreme(text: str, mention: re.Match[str], others: list[re.Match[str]]) -> bool:
    """`mention` (of _OUR_DEVICE_RE or EXTREME_NAME_RE) is not denied, nor owned by another maker named before it."""
    if _DENIAL_BEFORE_RE.search(text, max(0, mention.start() - _DENIAL_WINDOW), mention.start()):
        return False
    return not any(
        other.end() <= mention.start() and _OWNED_GAP_RE.fullmatch(text, other.end(), mention.start())
        for other in others
    )


def _line_around(text: str, position: int) -> tuple[int, int]:
    line_end = text.find("\n", position)
    return text.rfind("\n", 0, position) + 1, len(text) if line_end < 0 else line_end


def _makers_named(text: str, start: int, end: int) -> tuple[bool, bool]:
    """(another maker is named, Extreme is named and the name speaks for it) in text[start:end]."""
    others = list(OTHER_MAKER_RE.finditer(text, start, end))
    extreme = any(_speaks_for_extreme(text, name, others) for name in EXTREME_NAME_RE.finditer(text, start, end))
    return bool(others), extreme


def _on_another_makers_line(text: str, position: int) -> bool:
    line_start, line_end = _line_around(text, position)
    if _CISCO_INVENTORY_LINE_RE.search(text, line_start, line_end):
        return True
    another, extreme = _makers_named(text, line_start, line_end)
    return another and not extreme


def _record_names_another_maker(text: str, position: int) -> bool:
    """The line at `position` names no equipment, and the field lines right above it, back to the previous serial
    line, name another maker and nothing of Extreme's: a device record ("Model: Cisco C9200" over "S/N: …")."""
    line_start, line_end = _line_around(text, position)
    if OTHER_MAKER_RE.search(text, line_start, line_end) or _OUR_DEVICE_RE.search(text, line_start, line_end):
        return False
    names_another = False
    end = line_start - 1
    for _ in range(_MAX_RECORD_LINES):
        if end <= 0:
            break
        start = text.rfind("\n", 0, end) + 1
        if _FIELD_LINE_RE.match(text, start, end) is None or _SERIAL_LABEL.exact.search(text, start, end):
            break
        another, extreme = _makers_named(text, start, end)
        if extreme:
            return False
        if another:
            names_another = True
        elif _OUR_DEVICE_RE.search(text, start, end):
            return False  # "Urządzenie: przełącznik rdzeniowy": a device no other maker is named for
        end = start - 1
    return names_another


def is_other_makers_serial(text: str, position: int, value: str) -> bool:
    """`value`, found at `position`, has a shape other makers share and stands on a line, or in a record, about
    their equipment."""
    return is_shared_with_other_makers(value.upper()) and (
        _on_another_makers_line(text, position)
        or _last_named_is_another_maker(text, position)
        or _record_names_another_maker(text, position)
    )


def unlabelled_serials(text: str) -> list[Found]:
    """Serials whose shape alone identifies them (EXOS, VOSS, SLX/IronWare, 14-digit AP)."""
    return [
        (start, text[start:end].upper())
        for start, end in unlabelled_serial_spans(text)
        if is_distinctive_serial(text[start:end]) and not is_other_makers_serial(text, start, text[start:end])
    ]


def _value_after_label(text: str, position: int, *, same_line: bool = False) -> re.Match[str] | None:
    """The first value token after a serial label, skipping a few connecting words on the same line.

    The value may sit on the next line (the label alone on its line), but connecting words never cross a line, nor
    does the search from a label heading a table's column (`same_line`): the next line's first cell is another
    column's.
    """
    for skipped in range(_MAX_FILLER_WORDS + 1):
        gap = _GAP_PUNCTUATION_RE.match(text, position)
        if gap is None or gap.group(0).count("\n") > (0 if skipped or same_line else 1):
            return None
        value_from = gap.end()
        if "\n" in gap.group(0) and (number := _NUMBERED_ITEM_RE.match(text, value_from)):
            value_from = number.end()  # the first item of a numbered list under the label
        token = _VALUE_TOKEN_RE.match(text, value_from)
        if token is None:
            return None
        if _UNIT_INDEX_RE.fullmatch(token.group(0)):
            if "\n" in gap.group(0):
                return None
            position = token.end()
            continue
        if _FILLER_WORD_RE.fullmatch(token.group(0)) is None:
            return token
        word = token.group(0)
        if _OTHER_IDENTIFIER_WORD_RE.fullmatch(word) or _NO_VALUE_WORD_RE.fullmatch(word) or "\n" in gap.group(0):
            return None
        position = token.end()
    return None


def _bullet_items(
    text: str, value_start: int, item: re.Pattern[str], accept: Callable[[str], bool] = bool
) -> Iterator[re.Match[str]]:
    """The items of the following bulleted lines, each matched by `item` and accepted, when the value at
    `value_start` opens a bulleted line; up to the first line that is no such item."""
    line_start = text.rfind("\n", 0, value_start) + 1
    if _BULLET_RE.fullmatch(text, line_start, value_start) is None:
        return
    line_end = text.find("\n", value_start)
    for _ in range(_MAX_BULLETS):
        bullet = _BULLET_RE.match(text, line_end + 1) if line_end >= 0 else None
        if bullet is None:
            return
        value = item.match(text, bullet.end())
        if value is None or not accept(value.group(0)):
            return
        yield value
        line_end = text.find("\n", bullet.end())


def _others_labelled_serial(text: str, label: re.Match[str], token: re.Match[str]) -> bool:
    """The value after a serial label is another maker's: named right before the label or between it and the value,
    or on the line, which names no Extreme equipment."""
    if is_distinctive_serial(token.group(0)):
        return is_other_makers_serial(text, token.start(), token.group(0))
    return (
        _names_another_vendor(text, label)
        or _OTHER_VENDOR_RE.search(text, label.end(), token.start()) is not None
        or _last_named_is_another_maker(text, label.start())
        or _record_names_another_maker(text, label.start())
    )


def _last_named_is_another_maker(text: str, position: int) -> bool:
    """On the line before `position`, another maker is named after the last Extreme product or device word: "The HPE
    DL360 server also lost its link; its S/N: …", "… 5420F sn …, trzeci to Cisco C9200 FOC2418Y1JK", not "Cisco
    obok, nasz przełącznik: S/N …"."""
    start = _sentence_start(text, position)
    others = list(_OTHER_VENDOR_RE.finditer(text, start, position))
    if not others:
        return False
    ours = [
        match.end()
        for match in _OUR_DEVICE_RE.finditer(text, start, position)
        if _speaks_for_extreme(text, match, others)
    ]
    return others[-1].end() > (ours[-1] if ours else -1)


def _sentence_start(text: str, position: int) -> int:
    """The start of the line at `position`, or of the line before when the sentence runs on from it."""
    line_start = text.rfind("\n", 0, position) + 1
    if line_start < 2 or text[line_start - 2] == "\n":
        return line_start
    start = text.rfind("\n", 0, line_start - 1) + 1
    if _FIELD_LINE_RE.match(text, start, line_start) or _FIELD_LINE_RE.match(text, line_start, position):
        return line_start  # lines of a record or a form: each names its own device (see _record_names_another_maker)
    for end in _SENTENCE_END_RE.finditer(text, start, line_start):
        start = end.end()
    return start


def _names_another_vendor(text: str, label: re.Match[str]) -> bool:
    """The words just before a serial label name equipment that is not Extreme's."""
    line_start = text.rfind("\n", 0, label.start()) + 1
    return _OTHER_VENDOR_RE.search(text, max(line_start, label.start() - _VENDOR_WINDOW), label.start()) is not None


def psu_serials(text: str, scan: LabelScan | None = None) -> list[Found]:
    """Power-supply serials of their own shape in a text that names a power supply (see _PSU_WORD)."""
    if next(_PSU_WORD.finditer(text, scan), None) is None:
        return []
    found: list[Found] = []
    for match in _PSU_SERIAL_FROM_DIGIT_RE.finditer(text):
        start = match.start() - _PSU_LETTERS
        if not is_other_makers_serial(text, start, text[start : match.end()]):
            found.append((start, text[start : match.end()].upper()))
    return found


def labelled_serials(text: str, scan: LabelScan | None = None, layout: str | None = None) -> list[Found]:
    """Values after a serial label that pass the (looser) labelled-serial shape, including lists (`A, B i C`).

    `scan`: a scan of `text` by a LabelGroup holding LABEL_SEARCHES (saves a pass over the text). `layout`: the
    text before look-alikes were blanked in `text`, whose cells part a table's rows (see ColumnReader).
    """
    found: list[Found] = []
    columns = ColumnReader(text, layout)
    for label in _SERIAL_LABEL.finditer(text, scan):
        column = columns.values(label)
        if column is not None:
            found += [
                (at, cell.upper())
                for at, cell in column
                if is_labelled_serial(cell) and not is_other_makers_serial(text, at, cell)
            ]
        token = _value_after_label(text, label.end(), same_line=column is not None)
        if token is not None and _others_labelled_serial(text, label, token):
            continue  # "UPS APC (S/N AS2214123456)", "S/N UPS: …": a serial, but of someone else's device
        if token is not None and is_labelled_serial(token.group(0)):
            items = _bullet_items(text, token.start(), _VALUE_TOKEN_RE, is_labelled_serial)
            found += [(item.start(), item.group(0).upper()) for item in items]
        while token is not None and is_labelled_serial(token.group(0)):
            found.append((token.start(), token.group(0).upper()))
            separator = _LIST_SEPARATOR_RE.match(text, token.end())
            token = _VALUE_TOKEN_RE.match(text, separator.end()) if separator else None
            if token is not None and _GLUED_OTHER_LABEL_RE.match(token.group(0)):
                break
    return found


def hezo_contracts(text: str) -> list[Found]:
    """HZ/AHB/YYYY/NNNN and HZ/SOS/YYYY/NNNN: our own numbering, believed anywhere."""
    return [(m.start(), m.group(0).upper()) for m in HEZO_CONTRACT_RE.finditer(text)]


def _gap_allows_contract(gap: str) -> bool:
    without_label_words = _CONTRACT_LABEL_WORDS_RE.sub(" ", gap)
    if _CONTRACT_TABLE_GAP_RE.fullmatch(without_label_words):
        return without_label_words.count("\n") <= 2
    if len(gap) > _MAX_CONTRACT_GAP:
        return False
    rest = _CONTRACT_GAP_NUMBERS_RE.sub(" ", without_label_words)
    if ("\n" in rest and not (rest.count("\n") == 1 and _COPULA_GAP_RE.fullmatch(rest))) or any(
        ch.isdigit() for ch in rest
    ):
        return False  # a line break only where a mail client wrapped "Our contract is / 40620298"
    return _CONTRACT_GAP_BLOCKER_RE.search(rest) is None and _NO_NUMBER_RE.search(rest) is None


def _contract_after_label(text: str, label_end: int, *, same_line: bool = False) -> Iterator[Found]:
    """The number after a contract label, and the list it opens; `same_line` as for _value_after_label."""
    if text[label_end - 1 : label_end].isalpha() and (glued := _GLUED_CONTRACT_RE.match(text, label_end)):
        yield label_end, glued.group(0)  # "umowa40231177": the label pattern stopped right before the number
        return
    window_end = label_end + _MAX_CONTRACT_GAP + 12
    if same_line:
        line_end = text.find("\n", label_end)
        window_end = min(window_end, len(text) if line_end < 0 else line_end)
    for candidate in PARTNERWORKS_CONTRACT_RE.finditer(text, label_end, window_end):
        if not _gap_allows_contract(text[label_end : candidate.start()]):
            return
        yield candidate.start(), candidate.group(0)
        position = candidate.end()
        while (more := _CONTRACT_LIST_RE.match(text, position)) is not None:
            yield more.start(1), more.group(1)
            position = more.end()
        for item in _bullet_items(text, candidate.start(), _CONTRACT_ITEM_RE):
            yield item.start(1), item.group(1)
        return


def _contract_before_label(text: str, label_start: int) -> Found | None:
    """The number on the label's line that points at the label, when nothing before it names another document."""
    line_start = text.rfind("\n", 0, label_start) + 1
    window_start = max(line_start, label_start - _MAX_CONTRACT_GAP)
    candidates = list(PARTNERWORKS_CONTRACT_RE.finditer(text, window_start, label_start))
    if not candidates:
        return None
    number = candidates[-1]
    if _POINTER_TO_LABEL_RE.fullmatch(text, number.end(), label_start) is None:
        return None
    before = _WORD_BEFORE_NUMBER_RE.search(text[max(line_start, number.start() - _MAX_CONTRACT_GAP) : number.start()])
    if before is not None and _CONTRACT_GAP_BLOCKER_RE.fullmatch(before.group(1)):
        return None
    return number.start(), number.group(0)


def labelled_contracts(text: str, scan: LabelScan | None = None, layout: str | None = None) -> list[Found]:
    """8-digit 4… numbers that follow a contract label closely, with nothing naming another document between, or
    that point at a label right after them when it has no number of its own.

    `scan`, `layout`: as for labelled_serials.
    """
    found: list[Found] = []
    columns = ColumnReader(text, layout)
    for label in _CONTRACT_LABEL.finditer(text, scan):
        if _OTHER_KIND_AFTER_RE.match(text, label.end()) or _OTHER_KIND_BEFORE_RE.search(
            text, max(0, label.start() - 20), label.start()
        ):
            continue
        column = columns.values(label)
        if column is not None:
            found += [(at, m.group(1)) for at, cell in column if (m := _PARTNERWORKS_CELL.fullmatch(cell))]
        after = list(_contract_after_label(text, label.end(), same_line=column is not None))
        before = None if after else _contract_before_label(text, label.start())
        found += after if before is None else [before]
    return found
