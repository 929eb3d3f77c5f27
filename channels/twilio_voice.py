"""Twilio voice webhooks: the hotline menu, and every call stored as one phone request.

  POST /twilio/voice                the call arrives: stored (external id CallSid), the menu answered
  POST /twilio/voice/menu           the caller's key: 1 fault report, 2 escalation, 0 engineer, 9 English
  POST /twilio/voice/dial-status    how the <Dial> to the engineers ended; a voicemail unless it was answered
  POST /twilio/voice/recorded       the caller finished the voicemail: thanks and goodbye
  POST /twilio/voice/recording      recording status callback: the RecordingUrl added to the call's request
  POST /twilio/voice/transcription  transcription callback: the text (or why there is none) added as well
How the later events reach the same request: channels/phone_intake.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from twilio.twiml.voice_response import VoiceResponse

from channels import twilio_ivr as ivr
from channels.phone_intake import submit_call_event
from channels.twilio_signature import Webhook, public_url, verified_webhook
from gateway.errors import StoreError
from gateway.intake import Outcome
from gateway.logs import get_logger
from gateway.sla import in_window
from gateway.web import DEPS, SETTINGS

VOICE = "/twilio/voice"
MENU = "/twilio/voice/menu"
DIAL_STATUS = "/twilio/voice/dial-status"
RECORDED = "/twilio/voice/recorded"
RECORDING = "/twilio/voice/recording"
TRANSCRIPTION = "/twilio/voice/transcription"
DOOR = "twilio-voice"

log = get_logger("channels.twilio_voice")


def _twiml(response: VoiceResponse, status: int = 200) -> web.Response:
    return web.Response(text=str(response), content_type="text/xml", charset="utf-8", status=status)


def _language(request: web.Request) -> ivr.Language:
    wanted = request.query.get("lang", "pl")
    return next((language for language in ivr.LANGUAGES if language == wanted), "pl")


def _links(request: web.Request, language: ivr.Language) -> ivr.IvrLinks:
    return ivr.IvrLinks(
        menu=public_url(request, MENU, lang=language),
        dial_status=public_url(request, DIAL_STATUS, lang=language),
        recorded=public_url(request, RECORDED, lang=language),
        recording=public_url(request, RECORDING),
        transcription=public_url(request, TRANSCRIPTION),
    )


def _same_number(a: str, b: str) -> bool:
    return bool(a) and a.replace(" ", "") == b.replace(" ", "")


def _call_record(request: web.Request, webhook: Webhook, *, event: str, notes: str, **extra: Any) -> dict[str, Any]:
    """The call as a call record (see the phone call record in the design), plus what Twilio told us."""
    twilio = request.app[SETTINGS].twilio
    dialled = webhook.get("To")
    record: dict[str, Any] = {
        "call_id": webhook.get("CallSid"),
        "started_at": request.app[DEPS].clock().isoformat(),
        "line": "escalation" if _same_number(dialled, twilio.escalation_number) else "hotline",
        "caller_number": webhook.get("From"),
        "caller_name": webhook.get("CallerName"),
        "notes": notes,
        "source": "twilio",
        "twilio_event": event,
        "dialled_number": dialled,
    }
    return {**record, **extra}


async def _store(request: web.Request, webhook: Webhook, event: str | None, record: dict[str, Any]) -> Outcome:
    deps = request.app[DEPS]
    outcome = await submit_call_event(
        deps,
        call_sid=webhook.get("CallSid"),
        event=event,
        record=record,
        received_at=deps.clock(),
        envelope=webhook.envelope(DOOR),
    )
    log.info("call event stored", call_sid=webhook.get("CallSid"), call_event=event or "call", outcome=repr(outcome))
    return outcome


async def _store_keeping_the_caller(
    request: web.Request, webhook: Webhook, event: str | None, record: dict[str, Any]
) -> None:
    """While a caller is on the line the menu goes on even if the database fails: the engineers' phone and the
    voicemail still work, and the recording callback opens the request once the store is back."""
    try:
        await _store(request, webhook, event, record)
    except StoreError:
        log.exception("call event not stored; the call goes on", call_sid=webhook.get("CallSid"), call_event=event)


async def _verified_call(request: web.Request) -> Webhook | web.Response:
    webhook = await verified_webhook(request)
    if isinstance(webhook, Webhook) and not webhook.get("CallSid"):
        return web.Response(status=400, text="CallSid is missing\n")
    return webhook


def _engineers_or_voicemail(
    request: web.Request, language: ivr.Language, prompt: str, before: tuple[str, ...] = ()
) -> VoiceResponse:
    twilio = request.app[SETTINGS].twilio
    links = _links(request, language)
    if twilio.engineers_number and in_window(request.app[DEPS].clock(), twilio.engineers_window):
        return ivr.connect(language, links, twilio.engineers_number, before=before)
    reason = "closed" if twilio.engineers_number and twilio.engineers_window == "8x5" else "unavailable"
    return ivr.voicemail(language, links, prompt, before=(*before, reason))


async def incoming_call(request: web.Request) -> web.Response:
    webhook = await _verified_call(request)
    if isinstance(webhook, web.Response):
        return webhook
    notes = "Połączenie przychodzące przez Twilio (menu głosowe)."
    await _store_keeping_the_caller(request, webhook, None, _call_record(request, webhook, event="call", notes=notes))
    language = _language(request)
    return _twiml(ivr.menu(language, _links(request, language)))


async def menu_choice(request: web.Request) -> web.Response:
    webhook = await _verified_call(request)
    if isinstance(webhook, web.Response):
        return webhook
    language = _language(request)
    choice = webhook.get("Digits")
    if choice == "9":
        return _twiml(ivr.menu("en", _links(request, "en")))
    if choice == "1":
        return _twiml(ivr.voicemail(language, _links(request, language), "fault"))
    if choice == "2":
        notes = "Dzwoniący wybrał w menu eskalację istniejącego zgłoszenia."
        record = _call_record(request, webhook, event="menu:2", notes=notes, line="escalation")
        await _store_keeping_the_caller(request, webhook, "escalation", record)
        return _twiml(_engineers_or_voicemail(request, language, "escalation_message", before=("escalated",)))
    if choice == "0":
        return _twiml(_engineers_or_voicemail(request, language, "message"))
    return _twiml(ivr.menu(language, _links(request, language), before=("invalid",)))


async def dial_status(request: web.Request) -> web.Response:
    webhook = await _verified_call(request)
    if isinstance(webhook, web.Response):
        return webhook
    language = _language(request)
    if webhook.get("DialCallStatus") == "completed":
        return _twiml(ivr.goodbye(language))
    # busy, no-answer, failed, canceled: nobody took the call, so the caller leaves a message instead.
    return _twiml(ivr.voicemail(language, _links(request, language), "message", before=("unavailable",)))


async def recorded(request: web.Request) -> web.Response:
    webhook = await _verified_call(request)
    if isinstance(webhook, web.Response):
        return webhook
    # The recording itself arrives at the status callback; this is only the caller's way out.
    return _twiml(ivr.goodbye(_language(request), "thanks"))


async def _store_callback(request: web.Request, webhook: Webhook, event: str, record: dict[str, Any]) -> web.Response:
    try:
        await _store(request, webhook, event, record)
    except StoreError:
        log.exception("call event not stored", call_sid=webhook.get("CallSid"), call_event=event)
        return web.Response(status=503, text="not stored; please retry\n")
    return _twiml(ivr.empty())


async def recording_status(request: web.Request) -> web.Response:
    webhook = await _verified_call(request)
    if isinstance(webhook, web.Response):
        return webhook
    url, status, duration = (
        webhook.get("RecordingUrl"),
        webhook.get("RecordingStatus"),
        webhook.get("RecordingDuration"),
    )
    if status in ("", "completed"):
        notes = f"Nagranie poczty głosowej ({duration or '?'} s): {url}"
    else:
        notes = f"Nagranie poczty głosowej nie powiodło się (status {status})."
    record = _call_record(
        request,
        webhook,
        event="recording",
        notes=notes,
        recording_url=url,
        recording_sid=webhook.get("RecordingSid"),
        recording_duration_s=duration,
        recording_status=status,
    )
    return await _store_callback(request, webhook, f"recording:{webhook.get('RecordingSid')}", record)


async def transcription(request: web.Request) -> web.Response:
    webhook = await _verified_call(request)
    if isinstance(webhook, web.Response):
        return webhook
    text, status, url = (
        webhook.get("TranscriptionText"),
        webhook.get("TranscriptionStatus"),
        webhook.get("RecordingUrl"),
    )
    if status == "completed" and text:
        notes = f"Transkrypcja poczty głosowej (automatyczna):\n{text}\nNagranie: {url}"
    else:
        # Polish is often not transcribed at all: the recording stays the source an engineer listens to.
        notes = f"Transkrypcja niedostępna (status {status or 'brak'}). Nagranie: {url}"
    record = _call_record(
        request,
        webhook,
        event="transcription",
        notes=notes,
        recording_url=url,
        recording_sid=webhook.get("RecordingSid"),
        transcription_sid=webhook.get("TranscriptionSid"),
        transcription_status=status,
    )
    sid = webhook.get("TranscriptionSid") or webhook.get("RecordingSid")
    return await _store_callback(request, webhook, f"transcription:{sid}", record)


def install(app: web.Application) -> None:
    app.router.add_post(VOICE, incoming_call)
    app.router.add_post(MENU, menu_choice)
    app.router.add_post(DIAL_STATUS, dial_status)
    app.router.add_post(RECORDED, recorded)
    app.router.add_post(RECORDING, recording_status)
    app.router.add_post(TRANSCRIPTION, transcription)
