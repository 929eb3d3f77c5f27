"""The hotline's voice menu as TwiML: pure functions, no I/O. The voice door decides which one to answer.

Menu (Polish first; 9 repeats it in English):
  1  report a fault      -> a voicemail: serial number, contract number, what is wrong
  2  escalate a request  -> the request is escalated, then an engineer (inside the service window) or a voicemail
  0  talk to an engineer -> <Dial> inside the service window, otherwise (or when nobody answers) a voicemail
  no choice              -> a voicemail, so a caller who cannot press keys is still heard
Every voicemail is recorded with a status callback and a transcription request. Twilio's transcription may not
understand Polish at all, so the recording URL is what the engineers rely on; the text is a bonus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from twilio.twiml.voice_response import VoiceResponse

Language = Literal["pl", "en"]
LANGUAGES: tuple[Language, ...] = ("pl", "en")
VOICES: dict[Language, tuple[str, str]] = {"pl": ("Polly.Ewa", "pl-PL"), "en": ("Polly.Amy", "en-GB")}
MAX_RECORDING_S = 120  # Twilio transcribes recordings of 2-120 s only
GATHER_TIMEOUT_S = 6
DIAL_TIMEOUT_S = 25

PROMPTS: dict[Language, dict[str, str]] = {
    "pl": {
        "greeting": "Dzień dobry, tu serwis myHEZO, autoryzowany partner serwisowy Extreme Networks.",
        "menu": "Aby zgłosić awarię, naciśnij 1. Aby eskalować istniejące zgłoszenie, naciśnij 2. "
        "Aby porozmawiać z inżynierem, naciśnij 0.",
        "no_choice": "Nie wybrano żadnej opcji.",
        "invalid": "Nieprawidłowy wybór.",
        "fault": "Po sygnale podaj numer seryjny uszkodzonego urządzenia, numer umowy serwisowej, swoje dane "
        "kontaktowe i opisz problem. Zakończ nagranie krzyżykiem.",
        "escalated": "Zgłoszenie zostanie eskalowane.",
        "escalation_message": "Po sygnale podaj numer zgłoszenia zaczynający się od H Z i powód eskalacji. "
        "Zakończ nagranie krzyżykiem.",
        "message": "Po sygnale zostaw wiadomość: numer seryjny urządzenia, numer umowy i opis problemu. "
        "Oddzwonimy. Zakończ nagranie krzyżykiem.",
        "connecting": "Łączymy z inżynierem dyżurnym.",
        "closed": "Inżynierowie są dostępni w dni robocze od 9 do 17.",
        "unavailable": "Niestety, inżynierowie nie mogą teraz odebrać.",
        "thanks": "Dziękujemy, wiadomość została zapisana. Do usłyszenia.",
        "goodbye": "Dziękujemy za rozmowę. Do usłyszenia.",
    },
    "en": {
        "greeting": "Hello, this is myHEZO service, authorised service partner of Extreme Networks.",
        "menu": "To report a fault, press 1. To escalate an existing request, press 2. "
        "To talk to an engineer, press 0.",
        "no_choice": "No option was chosen.",
        "invalid": "That is not one of the options.",
        "fault": "After the tone, please give the serial number of the failed device, your service contract "
        "number, your contact details, and describe the problem. Press the hash key when you are done.",
        "escalated": "Your request will be escalated.",
        "escalation_message": "After the tone, please give the request number starting with H Z and the reason "
        "for the escalation. Press the hash key when you are done.",
        "message": "After the tone, please leave a message: the serial number of the device, your contract "
        "number and the problem. We will call you back. Press the hash key when you are done.",
        "connecting": "Connecting you to the engineer on duty.",
        "closed": "Our engineers are available on working days from 9 a.m. to 5 p.m. Polish time.",
        "unavailable": "Sorry, our engineers cannot take your call right now.",
        "thanks": "Thank you, your message has been recorded. Goodbye.",
        "goodbye": "Thank you for calling. Goodbye.",
    },
}
OTHER_LANGUAGE_HINT = "For English, press 9."


@dataclass(frozen=True)
class IvrLinks:
    """Absolute public URLs of the voice webhooks, the language already in their query string."""

    menu: str
    dial_status: str
    recorded: str
    recording: str
    transcription: str


def _say(response: VoiceResponse, language: Language, key: str) -> None:
    voice, locale = VOICES[language]
    response.say(PROMPTS[language][key], voice=voice, language=locale)


def menu(language: Language, links: IvrLinks, *, before: tuple[str, ...] = ("greeting",)) -> VoiceResponse:
    response = VoiceResponse()
    for key in before:
        _say(response, language, key)
    gather = response.gather(input="dtmf", num_digits=1, action=links.menu, method="POST", timeout=GATHER_TIMEOUT_S)
    voice, locale = VOICES[language]
    gather.say(PROMPTS[language]["menu"], voice=voice, language=locale)
    if language == "pl":
        english_voice, english_locale = VOICES["en"]
        gather.say(OTHER_LANGUAGE_HINT, voice=english_voice, language=english_locale)
    # Reached only when the caller pressed nothing: take a message rather than hang up on them.
    _say(response, language, "no_choice")
    _record(response, language, links, "message")
    return response


def voicemail(language: Language, links: IvrLinks, prompt: str, *, before: tuple[str, ...] = ()) -> VoiceResponse:
    response = VoiceResponse()
    for key in before:
        _say(response, language, key)
    _record(response, language, links, prompt)
    return response


def connect(language: Language, links: IvrLinks, number: str, *, before: tuple[str, ...] = ()) -> VoiceResponse:
    """<Dial> the engineers; the action URL hears how it ended (DialCallStatus) and takes a message if needed."""
    response = VoiceResponse()
    for key in (*before, "connecting"):
        _say(response, language, key)
    response.dial(number, action=links.dial_status, method="POST", timeout=DIAL_TIMEOUT_S)
    return response


def goodbye(language: Language, key: str = "goodbye") -> VoiceResponse:
    response = VoiceResponse()
    _say(response, language, key)
    response.hangup()
    return response


def empty() -> VoiceResponse:
    """The answer to a status callback: Twilio only needs a 200."""
    return VoiceResponse()


def _record(response: VoiceResponse, language: Language, links: IvrLinks, prompt: str) -> None:
    _say(response, language, prompt)
    # action= is required: without it Twilio posts the finished recording to the current document URL and the
    # caller would hear the same menu again.
    response.record(
        action=links.recorded,
        method="POST",
        max_length=MAX_RECORDING_S,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=links.recording,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
        transcribe=True,
        transcribe_callback=links.transcription,
    )
