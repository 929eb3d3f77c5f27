"""The /portal/ form for registered users and partners, opened through a signed link from myHEZO.pl.

Who the reporter is comes from the portal, never from this form: myHEZO.pl (where VZAM logins live) signs
login, account type, name, e-mail and an expiry with [portal] link_secret; the gateway keeps no customer passwords.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from channels.portal import Rejected, submit_portal_json
from gateway.pages import install_page_support, render
from gateway.sessions import (
    CSRF_FIELD,
    PortalIdentity,
    Session,
    csrf_token,
    csrf_valid,
    ensure_secret,
    session_of,
    session_or_new,
    set_session_cookie,
    sign_portal_link,
)
from gateway.web import SETTINGS
from parsers.phone import normalise_phone

FORM_PATH = "/portal/"
TEXT_FIELDS = (
    "company", "phone", "serial_number", "contract_number", "product", "severity", "subject", "description",
    "language", "submission_id", CSRF_FIELD,
)  # fmt: skip
SEVERITIES = ("low", "medium", "high", "critical")
ACCOUNT_TYPES = ("partner", "user")
MAX_FIELD_BYTES = 64 * 1024
MAX_FILES = 10
CHUNK = 64 * 1024


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    path: Path
    size: int


@dataclass
class FormInput:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # field name -> text key of the message


def identity_from_link(query: Any, secret: str, max_age_s: int, now: float) -> PortalIdentity | None:
    """The identity a valid, unexpired link vouches for; None for anything else."""
    if not secret:
        return None  # no secret configured: links are off, rather than accepted unsigned
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        return None
    identity = PortalIdentity(
        login=query.get("login", ""), account_type=query.get("account_type", ""),
        name=query.get("name", ""), email=query.get("email", ""),
    )  # fmt: skip
    if not identity.login or identity.account_type not in ACCOUNT_TYPES:
        return None
    # Expired, or valid for longer than we allow: a leaked link in a browser history is useful for minutes only.
    if not now <= expires <= now + max_age_s:
        return None
    expected = sign_portal_link(secret, identity, expires)
    return identity if hmac.compare_digest(str(query.get("sig", "")), expected) else None


async def _read_field(part: BodyPartReader) -> str | None:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            return None
    return data.decode("utf-8", errors="replace")


async def _stream_file(part: BodyPartReader, folder: Path, index: int, limit: int) -> UploadedFile | None:
    """Written to disk chunk by chunk; past the limit the rest is read and dropped, never held in memory."""
    path = folder / f"upload-{index}"
    size = 0
    with path.open("wb") as handle:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > limit:
                while await part.read_chunk(CHUNK):
                    pass
                return None
            handle.write(chunk)
    filename = Path(part.filename or f"attachment-{index}").name[:200]  # no client-chosen directories
    content_type = part.headers.get("Content-Type", "application/octet-stream")[:100]
    return UploadedFile(filename, content_type, path, size)


async def read_form(request: web.Request, folder: Path) -> FormInput:
    form = FormInput()
    limit = request.app[SETTINGS].portal.max_attachment_bytes
    if request.content_type == "application/x-www-form-urlencoded":  # no files: a plain form post is fine too
        posted = await request.post()
        form.fields = {n: str(posted[n]).strip()[:MAX_FIELD_BYTES] for n in TEXT_FIELDS if n in posted}
        return form
    if not request.content_type.startswith("multipart/"):
        raise web.HTTPUnsupportedMediaType(text="send the form as multipart/form-data")
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise web.HTTPBadRequest(text="nested multipart is not accepted")
        if part.name == "attachments" and part.filename:
            if len(form.files) >= MAX_FILES:
                form.errors["attachments"] = "too_many_files"
                await part.release()
                continue
            uploaded = await _stream_file(part, folder, len(form.files) + 1, limit)
            if uploaded is None:
                form.errors["attachments"] = "file_too_large"
            else:
                form.files.append(uploaded)
        elif part.name in TEXT_FIELDS:
            value = await _read_field(part)
            if value is None:
                form.errors[part.name] = "field_too_long"
            else:
                form.fields[part.name] = value.strip()
        else:
            await part.release()
    return form


def validate(form: FormInput) -> None:
    f = form.fields
    if not f.get("subject"):
        form.errors.setdefault("subject", "required")
    elif len(f["subject"]) > 200:
        form.errors.setdefault("subject", "field_too_long")
    if not f.get("description"):
        form.errors.setdefault("description", "required")
    if f.get("phone") and normalise_phone(f["phone"]) is None:
        form.errors.setdefault("phone", "phone_invalid")
    if f.get("severity", "medium") not in SEVERITIES:
        form.errors.setdefault("severity", "choose_one")
    if not f.get("submission_id", "").startswith("web-"):
        form.errors.setdefault("submission_id", "form_expired")


def submission_json(form: FormInput, identity: PortalIdentity, submitted_at: str) -> bytes:
    f = form.fields
    payload = {
        "submission_id": f["submission_id"], "submitted_at": submitted_at,
        "login": identity.login, "account_type": identity.account_type, "company": f.get("company", ""),
        "contact": {"name": identity.name, "email": identity.email, "phone": f.get("phone", "")},
        "serial_number": f.get("serial_number", ""), "contract_number": f.get("contract_number", ""),
        "product": f.get("product", ""), "severity": f.get("severity", "medium"),
        "subject": f.get("subject", ""), "description": f.get("description", ""),
        "language": "en" if f.get("language") == "en" else "pl",
        "attachments": [
            {"filename": u.filename, "content_type": u.content_type,
             "content_base64": base64.b64encode(u.path.read_bytes()).decode()}
            for u in form.files
        ],
    }  # fmt: skip
    return json.dumps(payload, ensure_ascii=False).encode()


def _form_page(
    request: web.Request, session: Session, form: FormInput | None = None, *, status: int = 200
) -> web.Response:
    assert session.portal is not None
    values = dict(form.fields) if form else {}
    values.setdefault("submission_id", f"web-{secrets.token_urlsafe(12)}")  # one per form: a double click is a repeat
    context = {
        "identity": session.portal,
        "values": values,
        "errors": form.errors if form else {},
        "csrf": csrf_token(request, session),
        "severities": SEVERITIES,
        "max_mb": request.app[SETTINGS].portal.max_attachment_bytes / 1_048_576,
    }
    return render(request, "portal_form.html", context, status=status)


async def form_page(request: web.Request) -> web.Response:
    portal = request.app[SETTINGS].portal
    if "sig" in request.query:
        identity = identity_from_link(request.query, portal.link_secret, portal.link_max_age_s, time.time())
        if identity is None:
            return render(request, "portal_denied.html", {"reason_key": "link_invalid"}, status=403)
        visitor, _ = session_or_new(request)
        visitor = replace(visitor, portal=identity, portal_expires=int(time.time()) + portal.link_max_age_s)
        # Redirect to the bare URL, so the signed link leaves the address bar and is never sent as a Referer.
        response = web.HTTPSeeOther(FORM_PATH + ("?lang=en" if request.query.get("lang") == "en" else ""))
        set_session_cookie(request, response, visitor)
        raise response
    session = session_of(request)
    if session is None or session.portal is None:
        return render(request, "portal_denied.html", {"reason_key": "open_from_portal"}, status=403)
    return _form_page(request, session)


async def form_submit(request: web.Request) -> web.Response:
    session = session_of(request)
    if session is None or session.portal is None:
        return render(request, "portal_denied.html", {"reason_key": "open_from_portal"}, status=403)
    # Uploads go to a private temporary folder (mode 0700), removed when the answer is ready.
    with tempfile.TemporaryDirectory(prefix="hezo-portal-") as folder:
        form = await read_form(request, Path(folder))
        if not csrf_valid(request, session, form.fields.get(CSRF_FIELD)):
            return render(request, "error.html", {"title_key": "forbidden", "reason_key": "csrf_failed"}, status=403)
        validate(form)
        if form.errors:
            status = 413 if form.errors.get("attachments") == "file_too_large" else 400
            return _form_page(request, session, form, status=status)
        content = submission_json(form, session.portal, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    envelope = {"door": "portal-form", "peer": request.remote, "portal_login": session.portal.login}
    try:
        reference, missing = await submit_portal_json(request.app, content, envelope)
    except Rejected as exc:
        return render(request, "error.html", {"title_key": "not_stored", "reason_text": str(exc)}, status=exc.status)
    return render(request, "portal_done.html", {"reference": reference, "missing": missing})


def install(app: web.Application) -> None:
    ensure_secret(app)
    install_page_support(app)
    app.router.add_get(FORM_PATH, form_page)
    app.router.add_post(FORM_PATH, form_submit)
