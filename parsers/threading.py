"""What a subject says about the thread: the request it continues, and whether it asks for escalation.

Only the top-level subject is read for either decision. Bodies never count: every reply quotes our
acknowledgement, which names its reference and our escalation contacts.
"""

from __future__ import annotations

import re

# Dashes as typed or as word processors replace them; the tag is normalised to ASCII on the way out.
_TAG = re.compile(r"(?<![A-Za-z0-9])HZ[-‐‑–—](\d{4})[-‐‑–—](\d{6})(?!\d)", re.IGNORECASE)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|odp|fwd?|pd|aw|wg|tr|sv|vs|odpowied[zź]|przekazanie)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+", re.IGNORECASE
)
# Explicit requests: the noun ("Eskalacja", "prośba o eskalację", "Escalation:"), "please escalate", or the verb
# with where to ("eskalować do 2 linii", "escalate to L2").
_ESCALATION = re.compile(
    r"(?<![a-ząćęłńóśźż])(?:eskalacj[aiąeę]|eskalacyjn\w*|escalation|(?:please|pls|kindly)\s+escalate|"
    r"eskaluj(?:cie|emy|ę)?\b|z?eskalowani[aeu]\b|escalate(?=\s*[:!])|\Aescalate\b|"
    r"z?eskalowa[cć]\s+do\b|escalate\s+to\b|(?:need|needs|want|get|have)\s+(?:(?:this|it|that|the\s+\w+)\s+)?escalated\b|"
    r"(?:prosz[eę]|prosimy)\s+(?:o\s+)?(?:eskalowa[cć]|zeskalowa[cć]))",
    re.IGNORECASE,
)
# A conditional or a threat is not a request: "we will escalate if...", "w razie braku odpowiedzi eskalacja". Its
# condition may run over a comma ("jeśli ..., eskalacja").
_CONDITIONAL = re.compile(
    r"(?<![a-ząćęłńóśźż])(?:je[sś]li|je[zż]eli|gdyby?|w\s+razie|w\s+przypadku|inaczej|bo\s+inaczej|if|unless|"
    r"otherwise|or\s+we|grozi|poprosimy|zg[lł]osimy)\s*(?:\S+\s+){0,4}$",
    re.IGNORECASE,
)
# A future, a possibility or a negation only holds within its own part of the subject: "no escalation needed", "bez
# eskalacji", but "No PoE, escalation request" and "Bez sieci, prośba o eskalację" ask for it.
_MODAL_OR_NEGATION = re.compile(
    r"(?<![a-ząćęłńóśźż])(?:will|would|may|might|b[eę]dzie(?:my)?|no|bez|de-?|do\s+not|don'?t|odwo[lł]\w*|wycof\w*|rezygnuj\w*|rezygnacj\w*|"
    r"anul\w*|cancel\w*|withdraw\w*|"
    r"nie\s+(?:trzeba|nale[zż]y|potrzeba|musimy|musicie|ma\s+potrzeby))\s*(?:\S+\s+){0,4}$",
    re.IGNORECASE,
)


# The word names something else: "escalation matrix/contacts/procedure", "macierz eskalacji", "ścieżka
# eskalacyjna", "kontakty eskalacyjne" — or the subject turns it down: "escalation not needed", "eskalacja zbędna".
_DESCRIBED_BEFORE = re.compile(
    r"(?<![a-ząćęłńóśźż])(?:macierz\w*|matryc\w*|ścież\w*|sciez\w*|procedur\w*|list\w*|kontakt\w*|osob\w*|"
    r"tryb\w*|zasad\w*|polityk\w*|schemat\w*|plan\w*)\s*$",
    re.IGNORECASE,
)
_REFUSED_OR_DESCRIBED_AFTER = re.compile(
    r"\w*[\s,]*(?:matrix|contacts?|procedure|path|list|policy|plan|process|levels?|"
    r"not\s+(?:needed|required|necessary)|no\s+longer\s+(?:needed|required)|cancel+ed|withdrawn|"
    r"nie\s+(?:jest\s+)?potrzebn\w*|niepotrzebn\w*|zbędn\w*|anulowan\w*|odwołan\w*|wycofan\w*)\b",
    re.IGNORECASE,
)


SUBJECT_CHARS_READ = 1_000
"""How much of a subject the escalation wording is sought in. Each mention is judged by the text before it, so a
crafted subject of many thousand mentions would cost seconds per thousand; real subjects are far shorter."""


def strip_reply_prefixes(subject: str) -> str:
    """The subject without leading Re:/Odp:/Fwd:/PD:/AW: markers (any number, any case)."""
    return _REPLY_PREFIX.sub("", subject, count=1).strip()


def follow_up_tag(text: str) -> str | None:
    """The `HZ-YYYY-NNNNNN` reference a subject or SMS body carries (with or without brackets), or None."""
    match = _TAG.search(text)
    return f"HZ-{match.group(1)}-{match.group(2)}" if match else None


def subject_follow_up_tag(subject: str) -> str | None:
    """The reference an e-mail continues, read from its top-level subject after any reply/forward prefixes."""
    return follow_up_tag(strip_reply_prefixes(subject))


def subject_asks_escalation(subject: str) -> bool:
    """Explicit escalation wording in a subject; a conditional ("we will escalate if…"), a refusal ("escalation not
    needed") or the name of something else ("escalation matrix", "ścieżka eskalacyjna") does not count."""
    subject = subject[:SUBJECT_CHARS_READ]
    for match in _ESCALATION.finditer(subject):
        before = subject[: match.start()]
        clause = re.split(r"[.;!?:()\[\]–—-]\s", before)[-1]  # commas stay: "jeśli…, eskalacja"
        if _CONDITIONAL.search(clause) or _MODAL_OR_NEGATION.search(clause.rsplit(",", 1)[-1]):
            continue
        if _DESCRIBED_BEFORE.search(clause) or _REFUSED_OR_DESCRIBED_AFTER.match(subject, match.end()):
            continue
        return True
    return False
