"""Language of the reporter's own text: `pl` or `en`, the language to answer in.

A small hand-made scorer instead of a statistical detector: the texts are short (an SMS, terse call notes typed
without diacritics) and full of identifiers and CLI output, where character-n-gram detectors guess wildly, while
Polish diacritics and a few hundred function words decide reliably and in microseconds.

The words are counted with set look-ups mapped over the word list (in C), not in a Python loop, and the CLI-line
pattern, which tries every line, runs only on text holding a character one of its two forms needs.
"""

from __future__ import annotations

import re
from itertools import filterfalse

from gateway.schema import Language
from parsers.wordscan import may_hold_any

# Forwarded and quoted history was written by someone else: the reporter's own text ends where it starts.
_HISTORY_START_RE = re.compile(
    r"^(?:[ \t]*-{2,}\s*(?:Original Message|Forwarded message|Wiadomo\w+ oryginalna|Wiadomo\w+ przekazana)\b.*$"
    r"|(?:W dniu|On)\b.{0,200}(?:pisze|napisał\w*|wrote):[ \t]*$"
    r"|(?:Od|From):[ \t].*\n(?:Wysłano|Wysłane|Sent|Data|Date):.*$)",
    re.MULTILINE | re.IGNORECASE,
)
# Every match of _HISTORY_START_RE holds one of these, in lower case: checking for them costs a fraction of the search.
# IGNORECASE also matches these four characters to ASCII letters (İ ı to i, ſ to s, the Kelvin sign to k), which
# lower() does not do: a text holding one is always searched.
_HISTORY_START_NEEDS = ("--", "pisze", "napisa", "wrote", "od:", "from:")
_PASTE_BANNER_RE = re.compile(r"^[ \t]*-{3,}[ \t]*[^\s-][^\n]{0,60}?[ \t]-{3,}[ \t]*$", re.MULTILINE)
_QUOTED_LINE_RE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)
# CLI output: aligned `key   : value` lines and prompts carry English words that say nothing about the writer.
# A prompt is `\S+[#>]` (two or more non-blanks ending in # or >), written so that a long token is not given back one
# character at a time: a first character, then runs each ending in # or >.
_CLI_LINE_RE = re.compile(
    r"^(?:[^\n:]{1,40}[ \t]:[ \t].*|\S(?:[^\s#>]*+[#>])+[ \t]*(?:show|sh)\b.*)$", re.MULTILINE | re.IGNORECASE
)
_CLI_LINE_NEEDS = (" :", "\t:", "#", ">")  # a key/value line has a blank before its colon, a prompt ends in # or >
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# The same words in lower-case ASCII text, where a letter can only be a-z: the Unicode letter class costs four times
# as much per character, and English mail, Polish typed without diacritics and CLI output are all ASCII.
_ASCII_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
# A capital I not inside a run of letters: where the word "I" may stand (found from the letter, at C speed).
_LONE_CAPITAL_I_RE = re.compile(r"I(?<![^\W\d_]I)(?![^\W\d_])")
# Polish letters in both cases: a set look-up instead of a pattern search per word.
_POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")

# Words both languages use ("switch", "restart", "do") are on neither list.
_POLISH_WORD_LIST = """
    i w we z ze na nie się jest są do od po że o za przez dla oraz jak ale czy już tylko też jeszcze bo lub albo
    mamy ma mam nam nas nasz nasza nasze naszego naszej naszym jego jej ich ten ta te tego tej tym tych ktory który
    która które jako gdy kiedy gdzie co żeby aby więc tak także bez przy pod nad przed między u ze
    dzień dobry witam pozdrawiam pozdrowienia poważaniem szanowni państwo państwa pan pani proszę prosimy prosi
    dziękuję dziękujemy dzięki uprzejmie pilne pilnie pilny awaria uszkodzony uszkodzenie zgłaszam zgłaszamy
    zgłoszenie działa działają nie wstaje nie wstają padł padła brak kontakt kontaktu telefon oddzwonić dzwoni
    urządzenie urządzenia przełącznik przełącznika switcha zasilacz zasilacza wymiana wymianę wymiany
    umowa umowy umowie umową kontrakt kontraktu numer nr seryjny seryjnego klient klienta klientka od rana wczoraj
    dziś dzisiaj jutro rano wieczorem nocy po restarcie sieć sieci sprawdzone sprawdzony
    oddzwoń hala hali prośba pomocy potrzebna potrzebny
"""
# Hasty notes and SMS are typed without diacritics ("padl", "prosze o kontakt"): each word counts in that form too.
_WITHOUT_DIACRITICS = str.maketrans("ąćęłńóśźż", "acelnoszz")
_POLISH_WORDS = frozenset(
    form for word in _POLISH_WORD_LIST.split() for form in (word, word.translate(_WITHOUT_DIACRITICS))
)
_ENGLISH_WORD_LIST = """
    the and is are was were be been of to in on at for with from by as it its this that these those we our us you
    your they their he she his her not no but or if so since after before about into over under than then there
    have has had does did can could would should will shall may might must please pls kindly thanks thank
    hello hi dear regards best cheers kind sincerely team asap urgent down dead failed failure broken offline
    still again keeps stopped working not booting replacement replace needed need needs send ship shipped call
    back contact number serial contract agreement device unit site office floor since morning today yesterday
    tonight evening night week weekend caller speaking answer english issue problem request case any all both
"""
_ENGLISH_WORDS = frozenset(_ENGLISH_WORD_LIST.split())
# A word on both lists ("we") counts as Polish, the list checked first.
_ENGLISH_ONLY_WORDS = _ENGLISH_WORDS - _POLISH_WORDS


def _may_start_history(text: str) -> bool:
    return may_hold_any(text, _HISTORY_START_NEEDS)


def reporters_own_text(text: str) -> str:
    """`text` without forwarded or quoted history (the whole text when that would leave nothing)."""
    history = _HISTORY_START_RE.search(text) if _may_start_history(text) else None
    head = text[: history.start()] if history else text
    own = _QUOTED_LINE_RE.sub("", head) if ">" in head else head
    return own if own.strip() else text


def language_scores(text: str) -> tuple[int, int]:
    """(Polish, English) evidence: words with Polish letters or on the Polish list, words on the English list.

    A capital "I" on its own counts as English, a small "i" as Polish ("and").
    """
    if any(needed in text for needed in _CLI_LINE_NEEDS):
        text = _CLI_LINE_RE.sub("", text)
    lower = text.lower()
    words = (_ASCII_WORD_RE if lower.isascii() else _WORD_RE).findall(lower)
    polish = sum(map(_POLISH_WORDS.__contains__, words))
    english = sum(map(_ENGLISH_ONLY_WORDS.__contains__, words))
    if _LONE_CAPITAL_I_RE.search(text):
        # A capital "I" standing alone is the English pronoun ("I think PSU 2 is dead, I swapped it"); the Polish
        # "i" (and) is written small but at the start of a sentence. Each was counted as Polish above.
        pronouns = sum(word == "I" for word in _WORD_RE.findall(text))
        polish, english = polish - pronouns, english + pronouns
    # Polish letters are not ASCII: only the few other words are searched for them.
    polish += sum(
        1
        for word in filterfalse(str.isascii, words)
        if word not in _POLISH_WORDS and not _POLISH_LETTERS.isdisjoint(word)
    )
    return polish, english


def detect_language(text: str, *, default: Language = "pl") -> Language:
    """`pl` or `en` for the reporter's own part of `text`; `default` when it says too little or is even.

    Text below a banner of dashes ("----- GTAC -----", "---- log ----") was pasted from elsewhere: when the
    reporter wrote something above it, that decides.
    """
    own = reporters_own_text(text)
    if "---" in own and (banner := _PASTE_BANNER_RE.search(own)) and language_scores(own[: banner.start()]) != (0, 0):
        own = own[: banner.start()]
    polish, english = language_scores(own)
    if polish == english:
        return default
    return "pl" if polish > english else "en"
