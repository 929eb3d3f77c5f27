"""Numbers that resemble serials or contracts but are something else: blanked out before extraction.

Blanking (spaces of the same length) keeps every offset, so the order of first appearance survives.

The phone search masks the reporter's own text, which mostly stands whole in the identifier text, masked already.
MaskedText hands out that part of the mask when it is provably what masking the part alone gives: the part is
bounded by line breaks (which every look-behind and look-ahead here treats as it treats the text's ends) and no
look-alike match crosses its ends (a match across an end could hide or make one inside). Otherwise the part is
masked on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.wordscan import LabelSearch

# Values after these labels belong to someone else's numbering: tax and court registers, banks, invoices,
# orders, Extreme GTAC cases and RMAs, XIQ device ids, parcels, product barcodes. The value must hold a digit.
_FOREIGN_LABEL = (
    r"NIP|REGON|KRS|PESEL|IBAN|BIC|SWIFT|rachun\w*|kont[ao]\b(?:\s+bankow\w*)?|account|"
    r"faktur\w*|FV|invoice|zam[oó]wieni\w*|ZAM|order|(?-i:PO)|P\.O\.|purchase\s+order|"
    r"case|GTAC|zg[lł]oszeni\w*\s+(?:w\s+)?GTAC|RMA|ticket|INC|"
    r"device\s+id|id\s+urz\w*\.?|id\s+urządzenia|"
    r"list\w*\s+przewozow\w*|przesyłk\w*|paczk\w*|nadani[ae]|tracking|waybill|consignment|AWB|GTIN|EAN|UPC|"
    # foreign partners' company and tax registers (Norway, Czechia, Germany, Denmark, the Netherlands, the EU)
    r"org\.?\s*nr|I[ČC]O|DI[ČC]|USt-?Id\w*|HRB|CVR|KVK|VAT(?:\s+(?:ID|No|reg\w*))?|tax\s+id|"
    r"company\s+(?:no|number|reg\w*)|registration\s+(?:no|number)|"
    # the reporter's own numbering of things and documents: asset tags, inventory, customer, offer, work order
    r"asset\s+(?:tag|no|number|id)|inventory\s+(?:tag|no|number)|inw\.|inwentarz[^\W\d_]*|(?:nr|numer|id|kod)\s+klienta|"
    r"customer\s+(?:no|number|id)|"
    r"ofert[^\W\d_]*|offer|quote|quotation|cost\s+cent(?:re|er)|MPK|"
    r"zleceni[^\W\d_]*|work\s+order|job\s+(?:no|number)|vendor\s+(?:no|number|id)|"
    # Cisco's own output names its serial so (its serials have the SLX/IronWare shape)
    r"processor\s+board\s+id"
)
# Between such a label and its value only connecting words and punctuation may stand.
_FILLER = r"(?:[\s:#.()=\-–]|nr\b|no\b|numer\w*|number\b|klienta\b|w\b|in\b|(?-i:PO\b))*"
_FOREIGN_VALUE = r"[A-Za-z]{0,4}[/-]?\d[\dA-Za-z/.-]*"
_LABELLED_FOREIGN = LabelSearch(
    re.compile(
        rf"(?<![A-Za-z0-9])(?:{_FOREIGN_LABEL})(?![A-Za-z]){_FILLER}(?P<value>{_FOREIGN_VALUE})",
        re.IGNORECASE,
    ),
    # `PO` and `konto`/`konta` end where a Polish word would go on ("po aktualizacji", "portach", "kontakt"): their
    # prefixes say so, or every such word would be a place to try the exact pattern.
    prefixes=(
        "nip", "regon", "krs", "pesel", "iban", "bic", "swift", "rachun", "kont[ao](?![a-z0-9_])", "account",
        "faktur", "fv", "invoice", "zam", "order", "po(?![a-z])", r"p\.o\.", "purchase", "case", "gtac", "zg", "rma",
        "ticket", "inc", "device", "id", "list", "przesyłk", "paczk", "nadani", "tracking", "waybill", "consignment",
        "awb", "gtin", "ean", "upc", "org", "ičo", "ico", "dič", "dic", "ust", "hrb", "cvr", "kvk", "vat",
        "tax", "company", "registration", "asset", "inventory", "inw", "nr", "numer", "kod", "customer", "ofert",
        "offer", "quot", "cost", "mpk", "zlec", "work", "job", "vendor", "processor",
    ),
)  # fmt: skip

# Look-alikes that need no label. The regex engine skips ahead in C only to a plain first character (and scanning
# costs per pattern), so the kinds are grouped by how they start, the word-boundary checks come just after the first
# character, and digits are ASCII `[0-9]` there (a Unicode `\d` set is three times slower to skip through). Each
# entry: (pattern, characters of the look-alike before where the match starts).
_UNLABELLED_FOREIGN: tuple[tuple[re.Pattern[str], int], ...] = (
    (
        re.compile(
            "|".join(
                (
                    r"H(?<!\wH)Z-\d{4}-\d{6}\b",  # our own request references
                    # the reporter's own helpdesk tickets
                    r"I(?<!\wI)NC\d{5,}\b|R(?<!\wR)(?:ITM|EQ)\d{5,}\b|C(?<!\wC)HG\d{5,}\b|P(?<!\wP)RB\d{5,}\b",
                    # invoice and order numbers written FV/2025/11/0231
                    r"F(?<!\wF)V/[\w/.-]+|Z(?<!\wZ)AM/[\w/.-]+|P(?<!\wP)O/[\w/.-]+",
                    # NIP written in groups
                    r"N(?<!\wN)[Ii][Pp]\b[\s:.]*(?:PL)?\d{3}[ -]?\d{2,3}[ -]?\d{2}[ -]?\d{2,3}",
                    r"n(?<!\wn)[Ii][Pp]\b[\s:.]*(?:PL)?\d{3}[ -]?\d{2,3}[ -]?\d{2}[ -]?\d{2,3}",
                )
            )
        ),
        0,
    ),
    # MACs, 00:04:96:9A:B4:F7 and 0004.969a.b4f7, found from their first separator: hex digits are a third of
    # most text, separators are rare. The two forms cannot overlap (their characters differ), so two searches find
    # what one alternation found.
    (
        re.compile(
            r"[:-](?<=(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}[:-])(?:[0-9A-Fa-f]{2}[:-]){4}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:-])"
        ),
        2,
    ),
    (re.compile(r"\.(?<=(?<![0-9A-Fa-f.])[0-9A-Fa-f]{4}\.)[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![0-9A-Fa-f.])"), 4),
    # Polish account number (NRB) without country code
    (re.compile(r"[0-9](?<![0-9][0-9])[0-9](?:[ ]?\d{4}){6}(?!\d)"), 0),
    # IBAN: found from its first digit, the two letters of the country before it
    (re.compile(r"[0-9](?<=(?<!\w)[A-Z]{2}[0-9])[0-9](?:[ ]?[0-9A-Z]{4}){3,7}(?:[ ]?[0-9A-Z]{1,3})?\b"), 2),
)


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span (in bounds, in any order, overlapping or not) replaced by as many spaces.

    Built from slices between the merged spans: a list of every character cost more than all the masking searches.
    """
    pieces: list[str] = []
    kept_from = 0  # the text from here on is not blanked yet
    for start, end in sorted(spans):
        if end <= kept_from:
            continue
        start = max(start, kept_from)
        pieces += (text[kept_from:start], " " * (end - start))
        kept_from = end
    return "".join((*pieces, text[kept_from:])) if pieces else text


@dataclass(frozen=True)
class MaskedText:
    """`text` with its look-alikes blanked, and the extents of the matches that did it (look-behind letters in)."""

    text: str
    masked: str
    extents: tuple[tuple[int, int], ...]

    def masked_part(self, part: str) -> str | None:
        """mask_lookalikes(part) read off this mask when `part` stands in `text` as described above, else None."""
        start = self.text.find(part)
        end = start + len(part)
        if start < 0 or not part:
            return None
        if (start > 0 and self.text[start - 1] != "\n") or (end < len(self.text) and self.text[end] != "\n"):
            return None
        if any(first < cut < last for first, last in self.extents for cut in (start, end)):
            return None
        return self.masked[start:end]


def masked_lookalikes(text: str) -> MaskedText:
    """`text` with look-alike numbers replaced by spaces (same length, same offsets), and where the matches lay."""
    unlabelled = [(m.start() - lead, m.end()) for pattern, lead in _UNLABELLED_FOREIGN for m in pattern.finditer(text)]
    labelled = list(_LABELLED_FOREIGN.finditer(text))
    masked = blank(text, unlabelled + [m.span("value") for m in labelled])
    return MaskedText(text=text, masked=masked, extents=(*unlabelled, *(m.span() for m in labelled)))


def mask_lookalikes(text: str) -> str:
    """`text` with look-alike numbers replaced by spaces (same length, same offsets)."""
    return masked_lookalikes(text).masked
