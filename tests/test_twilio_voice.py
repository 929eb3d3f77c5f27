"""The hotline over Twilio voice: TwiML read back with xml.etree, and every call stored as one phone request."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import ClientResponse

from gateway.steps import PipelineDeps
from gateway.store import Store, reads
from gateway.store import tables as t
from gateway.store.blobs import BlobStore
from gateway.store.engine import create_engine
from tests.conftest import FixedClock
from tests.test_twilio_signature import (
    ACCOUNT_SID,
    CALLER,
    ENGINEERS,
    PUBLIC_URL,
    Client,
    count_rows,
    post_signed,
    serving,
    settings,
    start_client,
    voice_params,
)


@pytest.fixture
async def client(deps: PipelineDeps) -> AsyncIterator[Client]:
    async with serving(deps) as test_client:
        yield test_client


CALL = "CA0f4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"
RECORDING_SID = "RE5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}"
SATURDAY_EVENING = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)


async def twiml(response: ClientResponse) -> ET.Element:
    assert response.status == 200, await response.text()
    assert response.content_type == "text/xml"
    root = ET.fromstring(await response.read())
    assert root.tag == "Response"
    return root


def recording_params(**extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CALL,
        "RecordingSid": RECORDING_SID,
        "RecordingUrl": RECORDING_URL,
        "RecordingStatus": "completed",
        "RecordingDuration": "37",
        "RecordingChannels": "1",
        "RecordingStartTime": "Tue, 24 Nov 2026 10:01:02 +0000",
        "RecordingSource": "RecordVerb",
        **extra,
    }


def transcription_params(status: str = "completed", text: str = "") -> dict[str, str]:
    return voice_params(
        CALL,
        CallStatus="completed",
        TranscriptionSid="TR1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        TranscriptionText=text,
        TranscriptionStatus=status,
        TranscriptionType="fast",
        TranscriptionUrl=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Transcriptions/TR1a2b",
        RecordingSid=RECORDING_SID,
        RecordingUrl=RECORDING_URL,
        url="",
    )


async def stored(deps: PipelineDeps, reference: str = "HZ-2026-000001") -> reads.StoredRequest:
    async with deps.store.reading() as conn:
        found = await reads.request_by_reference(conn, reference)
    assert found is not None
    return found


async def bodies(deps: PipelineDeps, reference: str = "HZ-2026-000001") -> list[str]:
    request = await stored(deps, reference)
    async with deps.store.reading() as conn:
        return [m["body_text"] for m in await reads.messages_of(conn, request.id)]


async def test_incoming_call_answers_the_polish_menu_and_stores_the_call(client: Client, deps: PipelineDeps) -> None:
    root = await twiml(await post_signed(client, "/twilio/voice", voice_params(CALL)))
    says = root.findall("Say")
    assert says and all(say.get("language") == "pl-PL" for say in says)
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("numDigits") == "1"
    assert gather.get("input") == "dtmf"
    assert gather.get("action") == f"{PUBLIC_URL}/twilio/voice/menu?lang=pl"
    prompts = [(say.get("language"), say.text or "") for say in gather.findall("Say")]
    assert "naciśnij 1" in prompts[0][1] and "naciśnij 2" in prompts[0][1] and "naciśnij 0" in prompts[0][1]
    assert prompts[1] == ("en-GB", "For English, press 9.")
    # Nothing pressed: the caller can still leave a message.
    assert root.find("Record") is not None

    request = await stored(deps)
    assert request.data["channel"] == "phone"
    assert request.data["external_id"] == CALL
    assert request.data["reporter"]["phone"] == CALLER
    assert request.data["escalation"] is False


async def test_a_retried_call_webhook_is_one_request(client: Client, deps: PipelineDeps) -> None:
    for _ in range(2):
        await twiml(await post_signed(client, "/twilio/voice", voice_params(CALL)))
    assert await count_rows(deps, t.requests) == 1
    assert await count_rows(deps, t.messages) == 1


async def test_a_call_to_the_escalation_line_is_an_escalation(client: Client, deps: PipelineDeps) -> None:
    params = voice_params(CALL, To="+48122525502", Called="+48122525502")
    await twiml(await post_signed(client, "/twilio/voice", params))
    assert (await stored(deps)).data["escalation"] is True


async def test_choice_0_inside_the_service_window_dials_the_engineers(client: Client) -> None:
    params = voice_params(CALL, Digits="0", CallStatus="in-progress")
    root = await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))
    dial = root.find("Dial")
    assert dial is not None
    assert (dial.text or "").strip() == ENGINEERS
    assert dial.get("action") == f"{PUBLIC_URL}/twilio/voice/dial-status?lang=pl"
    assert root.find("Record") is None


async def test_choice_0_outside_the_service_window_takes_a_voicemail(client: Client, clock: FixedClock) -> None:
    clock.now = SATURDAY_EVENING
    params = voice_params(CALL, Digits="0", CallStatus="in-progress")
    root = await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))
    assert root.find("Dial") is None
    assert any("od 9 do 17" in (say.text or "") for say in root.findall("Say"))
    record = root.find("Record")
    assert record is not None
    assert record.get("recordingStatusCallback") == f"{PUBLIC_URL}/twilio/voice/recording"
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == f"{PUBLIC_URL}/twilio/voice/transcription"
    assert record.get("action") == f"{PUBLIC_URL}/twilio/voice/recorded?lang=pl"
    assert record.get("maxLength") == "120"


async def test_without_an_engineers_number_choice_0_is_a_voicemail(deps: PipelineDeps) -> None:
    client = await start_client(deps, settings(engineers_number=""))
    try:
        params = voice_params(CALL, Digits="0", CallStatus="in-progress")
        root = await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))
    finally:
        await client.close()
    assert root.find("Dial") is None
    assert root.find("Record") is not None


async def test_unanswered_dial_falls_back_to_voicemail(client: Client) -> None:
    params = voice_params(CALL, CallStatus="in-progress", DialCallStatus="no-answer", DialCallSid="CA77")
    root = await twiml(await post_signed(client, "/twilio/voice/dial-status?lang=pl", params))
    assert root.find("Record") is not None
    answered = {**params, "DialCallStatus": "completed", "DialCallDuration": "184"}
    root = await twiml(await post_signed(client, "/twilio/voice/dial-status?lang=pl", answered))
    assert root.find("Record") is None
    assert root.find("Hangup") is not None


async def test_choice_9_repeats_the_menu_in_english(client: Client) -> None:
    params = voice_params(CALL, Digits="9", CallStatus="in-progress")
    root = await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))
    says = root.iter("Say")
    assert {say.get("language") for say in says} == {"en-GB"}
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("action") == f"{PUBLIC_URL}/twilio/voice/menu?lang=en"


async def test_choice_1_asks_for_serial_and_contract_then_records(client: Client) -> None:
    params = voice_params(CALL, Digits="1", CallStatus="in-progress")
    root = await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))
    assert "numer seryjny" in (root.findtext("Say") or "")
    assert root.find("Record") is not None


async def test_an_unknown_key_repeats_the_menu(client: Client) -> None:
    params = voice_params(CALL, Digits="7", CallStatus="in-progress")
    root = await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))
    assert root.findtext("Say") == "Nieprawidłowy wybór."
    assert root.find("Gather") is not None


async def test_choice_2_escalates_the_calls_request(client: Client, deps: PipelineDeps) -> None:
    await twiml(await post_signed(client, "/twilio/voice", voice_params(CALL)))
    params = voice_params(CALL, Digits="2", CallStatus="in-progress")
    for _ in range(2):  # a retried gather is one follow-up
        root = await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))
        assert root.find("Dial") is not None
    request = await stored(deps)
    assert request.data["escalation"] is True
    assert request.priority == "high"
    assert await count_rows(deps, t.requests) == 1
    assert await count_rows(deps, t.messages) == 2


async def test_recording_and_transcription_are_added_to_the_same_request(client: Client, deps: PipelineDeps) -> None:
    await twiml(await post_signed(client, "/twilio/voice", voice_params(CALL)))
    recorded = await post_signed(client, "/twilio/voice/recorded?lang=pl", voice_params(CALL, **recording_params()))
    assert (await twiml(recorded)).find("Hangup") is not None
    for _ in range(2):  # Twilio may deliver a callback twice
        assert (await post_signed(client, "/twilio/voice/recording", recording_params())).status == 200
    text = "Dzień dobry, padł przełącznik, numer seryjny 2214G-00417, umowa 40027719."
    transcribed = await post_signed(client, "/twilio/voice/transcription", transcription_params(text=text))
    assert transcribed.status == 200
    assert await count_rows(deps, t.requests) == 1
    messages = await bodies(deps)
    assert len(messages) == 3
    assert RECORDING_URL in messages[1] and "37 s" in messages[1]
    assert text in messages[2] and RECORDING_URL in messages[2]


async def test_a_failed_polish_transcription_keeps_the_recording_url(client: Client, deps: PipelineDeps) -> None:
    await twiml(await post_signed(client, "/twilio/voice", voice_params(CALL)))
    response = await post_signed(client, "/twilio/voice/transcription", transcription_params(status="failed"))
    assert response.status == 200
    messages = await bodies(deps)
    assert "niedostępna" in messages[-1]
    assert RECORDING_URL in messages[-1]


async def test_a_recording_of_an_unstored_call_opens_the_request(client: Client, deps: PipelineDeps) -> None:
    # The call's first webhook never reached the store (say the database was down): the call is not lost.
    assert (await post_signed(client, "/twilio/voice/recording", recording_params())).status == 200
    request = await stored(deps)
    assert request.data["external_id"] == CALL
    assert RECORDING_URL in request.data["description"]


async def test_a_webhook_without_callsid_is_refused(client: Client, deps: PipelineDeps) -> None:
    params = voice_params(CALL)
    del params["CallSid"]
    assert (await post_signed(client, "/twilio/voice", params)).status == 400
    assert await count_rows(deps, t.raw_inputs) == 0


async def test_the_caller_is_served_while_the_database_is_down(tmp_path: Path) -> None:
    unreachable = Store(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'gateway.db'}"))
    # Tuesday 11:00 in Warsaw: the engineers' 8x5 window is open, so choice 2 dials them whatever the wall clock says.
    deps = PipelineDeps(
        store=unreachable,
        blobs=BlobStore(tmp_path / "data"),
        own_addresses=(),
        ack_domain="myhezo.pl",
        clock=FixedClock(),
    )
    async with serving(deps) as client:
        root = await twiml(await post_signed(client, "/twilio/voice", voice_params(CALL)))
        assert root.find("Gather") is not None
        params = voice_params(CALL, Digits="2", CallStatus="in-progress")
        assert (await twiml(await post_signed(client, "/twilio/voice/menu?lang=pl", params))).find("Dial") is not None
        # A callback has no caller waiting: it hears that nothing was stored.
        assert (await post_signed(client, "/twilio/voice/recording", recording_params())).status == 503
    await unreachable.close()
