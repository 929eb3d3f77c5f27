"""Service levels (config/service_levels.toml): request window, delivery time and on-site flag of each level.

Loaded and validated once; a bad file fails loudly with the level and key named, never at the first request.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from gateway.errors import ConfigError
from gateway.paths import CONFIG_DIR
from gateway.sla import WINDOWS, Window, due, next_business_day_end

Delivery = Literal["none", "nbd", "8h", "4h"]
DELIVERIES: tuple[Delivery, ...] = get_args(Delivery)
DELIVERY_HOURS: dict[Delivery, int] = {"8h": 8, "4h": 4}

DEFAULT_LEVELS_FILE = CONFIG_DIR / "service_levels.toml"
_KEYS = {"window", "delivery", "onsite", "description"}


@dataclass(frozen=True)
class ServiceLevel:
    """One contract level as the gateway applies it."""

    code: str  # e.g. AHB_24X7_NBD, upper case
    window: Window  # the request window: response deadlines count only inside it
    delivery: Delivery  # replacement equipment delivered within this time of verification ("none": no hardware)
    onsite: bool  # an engineer replaces the device on site (SOS, Onsite)
    description: str = ""

    @property
    def replacement(self) -> bool:
        """Equipment is delivered, so the failed device must come back within 7 days."""
        return self.delivery != "none"

    def delivery_due(self, verified_at: datetime) -> datetime | None:
        """When the replacement must be on site, counted from verification; None for levels without hardware.

        NBD: 17:00 Warsaw on the next business day (a request verified outside the 8x5 window counts from its
        next opening); 8 h / 4 h: hours inside the level's window (elapsed time on 24x7).
        """
        if self.delivery == "none":
            return None
        if self.delivery == "nbd":
            return next_business_day_end(verified_at, self.window)
        return due(verified_at, self.window, DELIVERY_HOURS[self.delivery])


@dataclass(frozen=True)
class ServiceLevels(Mapping[str, ServiceLevel]):
    """The known levels by code (codes compared in upper case)."""

    by_code: Mapping[str, ServiceLevel]

    def __getitem__(self, code: str) -> ServiceLevel:
        return self.by_code[code.strip().upper()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_code)

    def __len__(self) -> int:
        return len(self.by_code)

    def find(self, code: str | None) -> ServiceLevel | None:
        return self.by_code.get(code.strip().upper()) if code else None

    def window_of(self, code: str | None, default: Window = "8x5") -> Window:
        """The request window of a level; `default` (8x5) when the level is unknown."""
        level = self.find(code)
        return level.window if level else default


def parse_levels(data: Mapping[str, object], source: str = "service levels") -> ServiceLevels:
    """Validate the `[levels.<CODE>]` tables of a parsed TOML document."""
    tables = data.get("levels")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{source}: no [levels.<CODE>] tables")
    levels: dict[str, ServiceLevel] = {}
    for code, values in tables.items():
        where = f"{source}: levels.{code}"
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: must be a table")
        unknown = set(values) - _KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key {', '.join(sorted(unknown))}")
        window, delivery, onsite = values.get("window"), values.get("delivery"), values.get("onsite")
        if window not in WINDOWS:
            raise ConfigError(f"{where}.window: expected one of {', '.join(WINDOWS)} (got {window!r})")
        if delivery not in DELIVERIES:
            raise ConfigError(f"{where}.delivery: expected one of {', '.join(DELIVERIES)} (got {delivery!r})")
        if not isinstance(onsite, bool):
            raise ConfigError(f"{where}.onsite: expected true or false (got {onsite!r})")
        description = values.get("description", "")
        if not isinstance(description, str):
            raise ConfigError(f"{where}.description: expected text")
        normalised = code.strip().upper()
        if normalised in levels:
            raise ConfigError(f"{where}: defined twice")
        levels[normalised] = ServiceLevel(normalised, window, delivery, onsite, description)
    return ServiceLevels(levels)


def load_levels(path: Path | None = None) -> ServiceLevels:
    """Read and validate a service-level file (default: config/service_levels.toml); raises ConfigError."""
    source = path or DEFAULT_LEVELS_FILE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"service level file not found: {source}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    return parse_levels(data, str(source.name))


@lru_cache(maxsize=1)
def default_levels() -> ServiceLevels:
    """The levels shipped in config/service_levels.toml, read once."""
    return load_levels()
