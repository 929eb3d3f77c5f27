"""Prometheus metrics, on a registry of our own so tests can build several apps in one process.

With `[serve] workers`, each worker counts in files of a folder the parent made (prometheus_client's multiprocess
mode), and /metrics adds up every worker's files, those of workers that died included: whichever worker answers a
scrape gives the gateway's totals, and a restarted worker does not set a counter back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess, values

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


_shared_folder: Path | None = None


def share_between_processes(folder: Path) -> None:
    """Count in files in `folder` from now on (a worker calls this before it makes any metric)."""
    global _shared_folder
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # where prometheus_client's file values go
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    _shared_folder = folder


def forget_process(pid: int, folder: Path) -> None:
    """A worker has died: its live gauges no longer count (its counters and histograms still do)."""
    multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    shared_folder: Path | None = field(default_factory=lambda: _shared_folder)

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
        self.open_requests = Gauge(
            "hezo_open_requests",
            "Requests not yet closed (sampled)",
            registry=self.registry,
            multiprocess_mode="livemostrecent",  # every worker samples the same database: the latest sample
        )

    def exposition(self) -> bytes:
        """The text format for /metrics: this process's metrics, or every worker's added up."""
        if self.shared_folder is None:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker, path=str(self.shared_folder))  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)

    def observe_intake(self, raw: RawIntake, outcome: Outcome) -> None:
        self.intake.labels(raw.channel, _outcome_name(outcome)).inc()
