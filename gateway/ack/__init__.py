"""Acknowledgements and desk notifications, rendered from Jinja2 templates (templates/ack/<language>/).

Pure: nothing here sends, stores or reads configuration; the outbox dispatcher delivers what these functions build.
"""

from gateway.ack.context import DEFAULT_CONTACTS, AckContext, ServiceContacts
from gateway.ack.headers import one_line, tagged_subject
from gateway.ack.mail import SlaStage, render_ack_email, render_escalation_notice, render_sla_warning
from gateway.ack.sms import render_ack_sms, sms_segments

__all__ = [
    "DEFAULT_CONTACTS",
    "AckContext",
    "ServiceContacts",
    "SlaStage",
    "one_line",
    "render_ack_email",
    "render_ack_sms",
    "render_escalation_notice",
    "render_sla_warning",
    "sms_segments",
    "tagged_subject",
]
