"""One attachment: a safe file name, its bytes and hash, and its readable text when it has any.

Device output arrives as `show_version.txt`, as `show_tech.log` labelled application/octet-stream, or as HTML;
all of it is text worth handing to identifier extraction. Binary files (PDF, images, archives) are kept but not read.
"""

from __future__ import annotations

import codecs
import hashlib
import re

from parsers.email.charset import decode_bytes
from parsers.email.headers import decode_header_value
from parsers.email.html_text import html_to_text
from parsers.result import ParsedAttachment

# Enough for a stack's `show tech`; beyond this the text is not read (the bytes are still kept whole).
MAX_TEXT_BYTES = 4 * 1024 * 1024
_SNIFF_BYTES = 8192
_TEXT_EXTENSIONS = frozenset(
    {"txt", "log", "cfg", "conf", "csv", "json", "xml", "ini", "out", "cli", "text", "md", "yaml", "yml", "tsv"}
)
_HTML_EXTENSIONS = frozenset({"htm", "html"})
_TEXT_APPLICATION_TYPES = frozenset(
    {"application/json", "application/xml", "application/x-sh", "application/csv", "application/x-log"}
)
_EXTENSION_FOR_TYPE = {
    "text/plain": "txt", "text/html": "html", "application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg",
    "image/gif": "gif", "message/rfc822": "eml", "application/zip": "zip", "application/pgp-signature": "asc",
}  # fmt: skip
# Path separators and control characters: the name may reach a file system or a browser later.
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def safe_filename(raw_name: str | None, content_type: str, position: int) -> str:
    """The attachment's own name without any path, or `attachment-N.ext` when it has none."""
    name = decode_header_value(raw_name) if raw_name and "=?" in raw_name else (raw_name or "")
    name = _UNSAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    if name:
        return name[:255]
    extension = _EXTENSION_FOR_TYPE.get(content_type, "bin")
    return f"attachment-{position}.{extension}"


def build_attachment(filename: str, content_type: str, data: bytes) -> ParsedAttachment:
    return ParsedAttachment(
        filename=filename, content_type=content_type, content=data, sha256=hashlib.sha256(data).hexdigest()
    )


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _looks_like_text(data: bytes) -> bool:
    """Printable bytes without NULs: device output saved under an unknown type. A terminal's capture may hold
    backspaces and escape sequences (a pager erasing its prompt), which count as text here."""
    sample = data[:_SNIFF_BYTES]
    if not sample or b"\x00" in sample:
        return False
    control = sum(byte < 32 and byte not in (8, 9, 10, 12, 13, 27) for byte in sample)
    return control <= len(sample) // 100


def attachment_text(attachment: ParsedAttachment, charset: str | None) -> str | None:
    """The readable text of an attachment, or None for binary content."""
    extension = _extension(attachment.filename)
    content_type = attachment.content_type
    is_html = content_type == "text/html" or extension in _HTML_EXTENSIONS
    declared_text = (
        content_type.startswith("text/")
        or content_type in _TEXT_APPLICATION_TYPES
        or extension in _TEXT_EXTENSIONS
        or is_html
    )
    data = attachment.content[:MAX_TEXT_BYTES]
    has_bom = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not has_bom and b"\r\x00" in data[:_SNIFF_BYTES]:
        data = data.replace(b"\r\x00", b"\r")  # a telnet session's log: the protocol sends CR as CR NUL
    if not (declared_text or has_bom or (content_type == "application/octet-stream" and _looks_like_text(data))):
        return None
    if has_bom:
        text = data.decode("utf-16", errors="replace")  # Windows tools save console output this way
        return html_to_text(text) if is_html else text
    if b"\x00" in data[:_SNIFF_BYTES]:
        return None  # mislabelled binaries: not worth guessing
    text = decode_bytes(data, charset).text
    return html_to_text(text) if is_html else text
