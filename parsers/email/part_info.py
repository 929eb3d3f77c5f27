"""What a MIME part declares about itself (type, charset, file name, disposition), read once per part.

Under `policy.default` every header access re-runs the structured parser, so the walk asks each part once and
keeps the answers. The compat32 fallback tree (see decode.py) holds plain strings; the stdlib accessors cover it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message


@dataclass(frozen=True)
class PartInfo:
    content_type: str
    charset: str | None
    filename: str | None
    disposition: str | None

    @property
    def maintype(self) -> str:
        return self.content_type.split("/", 1)[0]

    @property
    def subtype(self) -> str:
        return self.content_type.split("/", 1)[1]

    @property
    def is_attachment(self) -> bool:
        """Declared an attachment, or named without being declared inline."""
        return self.disposition == "attachment" or (self.disposition != "inline" and self.filename is not None)


def _param(params: Mapping[str, object], name: str) -> str | None:
    value = params.get(name)
    return str(value) if value else None


def describe(part: Message) -> PartInfo:
    """Read the part's Content-Type and Content-Disposition once; RFC 2045 defaults when absent or broken."""
    type_header: object = part.get("content-type")
    disposition_header: object = part.get("content-disposition")
    type_params = getattr(type_header, "params", None)
    if isinstance(type_params, Mapping):  # a structured header object from policy.default
        content_type = str(getattr(type_header, "content_type", "")).lower()
    else:  # compat32 tree, or no Content-Type at all
        content_type = part.get_content_type()
        type_params = {key.lower(): value for key, value in part.get_params() or []}
    if content_type.count("/") != 1 or not all(content_type.split("/")):
        content_type = "text/plain"
    disposition_params = getattr(disposition_header, "params", None)
    if isinstance(disposition_params, Mapping):
        disposition = str(getattr(disposition_header, "content_disposition", "") or "").lower() or None
        filename = _param(disposition_params, "filename")
    else:
        disposition = part.get_content_disposition()
        filename = part.get_filename()
    return PartInfo(
        content_type=content_type,
        charset=_param(type_params, "charset"),
        filename=filename or _param(type_params, "name"),
        disposition=disposition,
    )
