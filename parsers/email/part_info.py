"""What a MIME part declares about itself (type, charset, file name, disposition), read once per part.

Under `policy.default` every header access re-runs the structured parser, so the walk asks each part once and
keeps the answers. The compat32 tree (see decode.py) holds plain strings: there each header is fetched once and its
parameters parsed once (not at all when it is absent), instead of once per stdlib accessor (get_content_type,
get_params, get_filename and get_content_disposition each fetch and parse again); the answers are those accessors'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import utils
from email.message import Message

# Content-Type / Content-Disposition parameters as the stdlib's get_params returns them (unquoted, in order).
Params = Sequence[tuple[str, object]]


@dataclass(frozen=True)
class PartInfo:
    content_type: str
    charset: str | None
    filename: str | None
    disposition: str | None
    flowed: bool = False
    """RFC 3676 format=flowed text (see flowed.py)."""
    delsp: bool = False

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


def _main_value(header: object) -> str:
    """The header value before its parameters, lower case: what get_content_type and get_content_disposition read."""
    return str(header).partition(";")[0].strip().lower()


def _first_param(params: Params, name: str) -> object | None:
    """The first parameter called `name` (any case), as get_param finds it."""
    return next((value for key, value in params if key.lower() == name), None)


def _filename(disposition_params: Params | None, type_params: Params) -> str | None:
    """What get_filename returns: `filename` of Content-Disposition, else `name` of Content-Type."""
    filename = _first_param(disposition_params or [], "filename")
    if filename is None:
        filename = _first_param(type_params, "name")
    if filename is None:
        return None
    # get_params values are str, or (charset, language, text) for RFC 2231 values
    return str(utils.collapse_rfc2231_value(filename)).strip()  # type: ignore[arg-type]


def describe(part: Message) -> PartInfo:
    """Read the part's Content-Type and Content-Disposition once; RFC 2045 defaults when absent or broken."""
    type_header: object = part.get("content-type")
    disposition_header: object = part.get("content-disposition")
    type_params = getattr(type_header, "params", None)
    disposition_params = getattr(disposition_header, "params", None)
    type_param_list: Params | None = None
    if isinstance(type_params, Mapping):  # a structured header object from policy.default
        content_type = str(getattr(type_header, "content_type", "")).lower()
    else:  # compat32 tree, or no Content-Type at all
        content_type = part.get_default_type() if type_header is None else _main_value(type_header)
        type_param_list = (part.get_params() or []) if type_header is not None else []
        type_params = {key.lower(): value for key, value in type_param_list}
    if content_type.count("/") != 1 or not all(content_type.split("/")):
        content_type = "text/plain"
    if isinstance(disposition_params, Mapping):
        disposition = str(getattr(disposition_header, "content_disposition", "") or "").lower() or None
        filename = _param(disposition_params, "filename")
    else:
        disposition = None if disposition_header is None else _main_value(disposition_header)
        filename = (
            part.get_filename()
            if type_param_list is None
            else _filename(
                part.get_params(header="content-disposition") if disposition_header is not None else None,
                type_param_list,
            )
        )
    return PartInfo(
        content_type=content_type,
        charset=_param(type_params, "charset"),
        filename=filename or _param(type_params, "name"),
        disposition=disposition,
        flowed=(_param(type_params, "format") or "").lower() == "flowed",
        delsp=(_param(type_params, "delsp") or "").lower() == "yes",
    )
