"""Prometheus metrics, on a registry of our own so tests can build several apps in one process."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gateway.intake import Created, Duplicate, FollowUp, Outcome, Quarantined, RawIntake


def _outcome_name(outcome: Outcome) -> str:
    match outcome:
        case Created():
            return "created"
        case Duplicate():
            return "duplicate"
        case FollowUp():
            return "follow_up"
        case Quarantined():
            return "quarantined"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.intake = Counter(
            "hezo_intake_total",
            "Inputs submitted to the pipeline, by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.intake_failures = Counter(
            "hezo_intake_store_failures_total",
            "Inputs refused because the store failed (sender asked to retry)",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_sent = Counter(
            "hezo_outbox_sent_total", "Outbox rows sent, by kind", ["kind"], registry=self.registry
        )
        self.outbox_failed = Counter(
            "hezo_outbox_failures_total",
            "Outbox send attempts that failed, by kind and permanence",
            ["kind", "permanent"],
            registry=self.registry,
        )
        self.ack_latency = Histogram(
            "hezo_ack_latency_seconds",
            "From receipt to acknowledgement sent",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
            registry=self.registry,
        )
        self.sla_warnings = Counter(
            "hezo_sla_warnings_total", "Desk warnings about response deadlines", ["stage"], registry=self.registry
        )
        self.open_requests = Gauge("hezo_open_requests", "Requests not yet closed (sampled)", registry=self.registry)

    def observe_intake(self, raw: RawIntake, outcome: Outcome) -> None:
        self.intake.labels(raw.channel, _outcome_name(outcome)).inc()
