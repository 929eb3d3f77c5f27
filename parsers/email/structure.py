"""Walk a parsed MIME tree once: the readable body, enclosed messages, and attachments with their text.

Bounded on purpose: nesting deeper than MAX_DEPTH and more than MAX_PARTS parts are not read (a crafted or looping
bounce can nest enclosed messages without end), and one unreadable part is skipped with a note instead of losing
the whole message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from parsers.email.attachments import attachment_text, build_attachment, safe_filename
from parsers.email.charset import decode_bytes
from parsers.email.decode import read_message
from parsers.email.flowed import unflow
from parsers.email.headers import HeaderView
from parsers.email.html_text import html_to_text
from parsers.email.part_info import PartInfo, describe
from parsers.email.payload import payload_bytes
from parsers.result import ParsedAttachment, ParseError

MAX_DEPTH = 12
MAX_PARTS = 400
# Machine-readable reports: read as text for identifiers, never shown as the reporter's words.
_REPORT_TYPES = frozenset(
    {"message/delivery-status", "message/disposition-notification", "message/feedback-report", "text/rfc822-headers",
     "message/global-delivery-status", "message/global-headers"}
)  # fmt: skip
_ENCLOSED_TYPES = frozenset({"message/rfc822", "message/global"})
# A plain part that only points at the HTML one ("View this message in HTML", "Twój program nie obsługuje HTML"):
# short, and about HTML or a browser. The HTML part then holds the report.
_PLACEHOLDER_CHARS = 300
_PLACEHOLDER = re.compile(r"\b(?:html|browser|przegl[aą]dar\w*)\b", re.IGNORECASE)


@dataclass
class MailContent:
    """What a message holds, sorted by who wrote it."""

    body: list[str] = field(default_factory=list)
    """Readable text of the top-level message body, in order (own words plus whatever they quote inline)."""
    enclosed: list[str] = field(default_factory=list)
    """Text of enclosed messages and delivery reports: someone else's words."""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    attachment_texts: list[str] = field(default_factory=list)
    """Each attachment's file name, then its readable text, in message order (enclosed messages' too)."""
    notes: list[str] = field(default_factory=list)
    content_type: str = "text/plain"
    """The top-level content type (RFC 2045's default when unreadable)."""


def _is_placeholder(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) <= _PLACEHOLDER_CHARS and _PLACEHOLDER.search(stripped) is not None


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def _serialised(message: Message) -> bytes:
    """The enclosed message as bytes to keep; its text is read from the parsed tree either way."""
    try:
        return message.as_bytes()
    except Exception:  # the generator re-folds headers and can fail on broken ones; the content was read already
        return b""


def _subject_file_name(message: Message) -> str | None:
    """An enclosed message without a file name is named after its subject, as mail clients show it."""
    subject = HeaderView(message).text("subject")
    return f"{subject[:120]}.eml" if subject else None


def _enclosed_summary(message: Message) -> str:
    """The header lines of an enclosed message that a person would read (and that may carry identifiers)."""
    view = HeaderView(message)
    fields = (("From", view.text("from")), ("Date", view.text("date")), ("Subject", view.text("subject")))
    return "\n".join(f"{name}: {value}" for name, value in fields if value)


def _attached_mail(attachment: ParsedAttachment) -> Message | None:
    """A file named .eml (sent as application/octet-stream or text/plain) holding an e-mail, parsed; else None."""
    if not attachment.filename.lower().endswith(".eml"):
        return None
    try:
        message, headers = read_message(attachment.content)
    except ParseError:
        return None
    return message if headers.looks_like_mail() else None


class _Walker:
    def __init__(self) -> None:
        self.content = MailContent()
        self._parts_seen = 0
        self._defects: set[str] = set()
        # multipart/alternative describes its children to choose one, and the chosen one is walked: read each once.
        self._described: dict[int, PartInfo] = {}

    def _describe(self, part: Message) -> PartInfo:
        info = self._described.get(id(part))
        if info is None:
            info = self._described[id(part)] = describe(part)
        return info

    def finish(self) -> MailContent:
        if self._defects:
            self._note("MIME defects: " + ", ".join(sorted(self._defects)))
        return self.content

    def _note(self, text: str) -> None:
        if text not in self.content.notes:
            self.content.notes.append(text)

    def _text_of(self, part: Message, info: PartInfo, content_type: str) -> str:
        decoded = decode_bytes(payload_bytes(part), info.charset)
        if decoded.note:
            self._note(decoded.note)
        if content_type == "text/html":
            return html_to_text(decoded.text)
        return unflow(decoded.text, delsp=info.delsp) if info.flowed else decoded.text

    def walk(self, part: Message, depth: int, target: list[str]) -> None:
        """Read `part`; readable inline text goes to `target` (the body, or the enclosed text when nested)."""
        self._parts_seen += 1
        if self._parts_seen > MAX_PARTS:
            self._note(f"more than {MAX_PARTS} MIME parts; the rest was not read")
            return
        if depth > MAX_DEPTH:
            self._note(f"MIME nesting deeper than {MAX_DEPTH} levels was not read")
            return
        try:
            self._read(part, depth, target)
        except Exception as exc:  # the stdlib has known crash bugs on malformed parts; keep the rest of the mail
            self._note(f"unreadable MIME part skipped ({type(exc).__name__})")

    def _read(self, part: Message, depth: int, target: list[str]) -> None:
        info = self._describe(part)
        content_type = info.content_type
        if depth == 0:
            self.content.content_type = content_type
        self._defects.update(type(defect).__name__ for defect in part.defects)
        if content_type in _ENCLOSED_TYPES:
            self._enclosed(part, info, depth)
        elif info.maintype == "multipart":
            self._multipart(part, info, depth, target)
        elif content_type in _REPORT_TYPES:
            self.content.enclosed.append(self._report_text(part))
        elif content_type in ("text/plain", "text/html") and not info.is_attachment:
            target.append(self._text_of(part, info, content_type))
        else:
            self._attachment(part, info, depth)

    def _multipart(self, part: Message, info: PartInfo, depth: int, target: list[str]) -> None:
        children = _children(part)
        if not children:
            # A multipart without readable boundaries: its raw text is still the message.
            self._note("multipart without readable parts; body read as plain text")
            target.append(self._text_of(part, info, "text/plain"))
            return
        if info.subtype == "alternative":
            self._alternative(children, depth + 1, target)
            return
        for index, child in enumerate(children):
            # In report mail only the first part is the sender's text; the rest are reports and returned mail.
            secondary_report = index > 0 and info.subtype == "report"
            self.walk(child, depth + 1, self.content.enclosed if secondary_report else target)

    def _alternative(self, children: list[Message], depth: int, target: list[str]) -> None:
        """Plain text when it says something, else HTML, else the first part that reads as anything."""
        described = [(child, self._describe(child)) for child in children]
        has_html = any(info.content_type == "text/html" for _, info in described)
        for child, info in described:
            if info.content_type == "text/plain" and not info.is_attachment:
                text = self._text_of(child, info, "text/plain")
                if text.strip() and not (has_html and _is_placeholder(text)):
                    self._parts_seen += 1
                    target.append(text)
                    return
        for wanted in ("text/html", "multipart"):
            for child, info in described:
                if wanted in (info.content_type, info.maintype):
                    self.walk(child, depth, target)
                    return
        self.walk(children[0], depth, target)

    def _enclosed(self, part: Message, info: PartInfo, depth: int) -> None:
        children = _children(part)
        if not children:
            self._attachment(part, info, depth)
            return
        inner = children[0]
        filename = safe_filename(info.filename or _subject_file_name(inner), info.content_type, self._position())
        self.content.attachments.append(build_attachment(filename, "message/rfc822", _serialised(inner)))
        self.content.attachment_texts.append(filename)
        self.content.enclosed.append(_enclosed_summary(inner))
        self.walk(inner, depth + 1, self.content.enclosed)

    def _report_text(self, part: Message) -> str:
        blocks = _children(part) or [part]
        lines = [f"{name}: {value}" for block in blocks for name, value in block.raw_items()]
        text = payload_bytes(part) if not _children(part) else b""
        return "\n".join(lines) + ("\n" + decode_bytes(text, None).text if text else "")

    def _position(self) -> int:
        return len(self.content.attachments) + 1

    def _attachment(self, part: Message, info: PartInfo, depth: int) -> None:
        filename = safe_filename(info.filename, info.content_type, self._position())
        attachment = build_attachment(filename, info.content_type, payload_bytes(part))
        self.content.attachments.append(attachment)
        self.content.attachment_texts.append(filename)
        inner = _attached_mail(attachment)
        if inner is not None:  # an .eml sent as a file: read as the enclosed message it is
            self.content.enclosed.append(_enclosed_summary(inner))
            self.walk(inner, depth + 1, self.content.enclosed)
            return
        text = attachment_text(attachment, info.charset)
        if text:
            self.content.attachment_texts.append(text)


def read_structure(message: Message) -> MailContent:
    """Everything readable in `message`, sorted into body, enclosed text and attachments."""
    walker = _Walker()
    walker.walk(message, 0, walker.content.body)
    return walker.finish()
