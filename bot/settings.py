"""Runtime configuration: environment variables with the ZAPIS_ prefix, nested with "__".

Examples: ``ZAPIS_DATABASE_URL``, ``ZAPIS_LIMITS__HOLD_MINUTES``,
``ZAPIS_STAFF='{"9001": {"clinics": [1], "role": "registrar"}}'``.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

DEFAULT_DB_URL = "sqlite+aiosqlite:///data/zapis.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class StaffMember(BaseModel):
    clinics: list[int] = Field(min_length=1)
    role: Literal["registrar", "doctor", "admin"] = "registrar"


class LimitsSettings(BaseModel):
    hold_minutes: int = Field(default=5, ge=1, le=60)
    daily_booking_cap: int = Field(default=6, ge=1)
    one_active_per_specialty: bool = True
    max_relatives: int = Field(default=5, ge=0, le=20)  # the family section (not built yet)
    throttle_per_second: float = Field(default=5.0, gt=0)
    # The documents section (not built yet).
    document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    waitlist_offer_minutes: int = Field(default=15, ge=1)
    # Wait-list offers and alternatives (taken slot, clinic cancel) start at least this
    # far ahead: a time ten minutes away is no use to anyone who is not already there.
    offer_lead_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    no_show_limit: int = Field(default=3, ge=1)
    no_show_restriction: bool = False


class QuietHours(BaseModel):
    start: time = time(22, 0)
    end: time = time(8, 0)


class WebhookSettings(BaseModel):
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=1, le=65535)
    path: str = "/telegram"
    base_url: str = ""
    secret_token: SecretStr | None = None
    # True: answer Telegram 200 only once the update was processed and committed (a
    # process killed mid-update leaves it to Telegram's retry: nothing is lost; one
    # chat's updates stay in order). False: 200 at once, the update processed in a task.
    answer_after_processing: bool = True
    # Also listen on this port with SO_REUSEPORT: several processes on one machine share
    # it and the kernel spreads Telegram's connections over them — one address without a
    # proxy in front (`python -m bot cluster --reuse-port`, bench/cluster.py). None: only
    # ``port``, which stays each process's own (health checks reach that one).
    shared_port: int | None = Field(default=None, ge=1, le=65535)
    # Updates one process works on at once (answer_after_processing); the others wait
    # their turn before taking their chat's lock or a connection. Telegram sends up to 40
    # at once (setWebhook's max_connections), but one process is one core: running 40
    # interleaved only holds 40 database connections (the pool's overflow opened and
    # closed again and again) and 40 chat locks for longer, for no more updates per second.
    max_in_flight: int = Field(default=8, ge=1, le=1000)


class GorzdravSettings(BaseModel):
    """St Petersburg's Gorzdrav API (issue 11); used by regions that ZAPIS_SOURCES maps to it."""

    base_url: str = "https://gorzdrav.spb.ru/_api/api/v2"
    districts: list[str] = Field(default_factory=lambda: ["12"])
    clinics: list[str] = Field(default_factory=list)  # only these lpu ids; [] = all
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=2, ge=0, le=5)
    requests_per_second: float = Field(default=3.0, gt=0, le=10)
    mirror_minutes: int = Field(default=10, ge=1)
    reconcile_minutes: int = Field(default=5, ge=1)
    fake: bool = False  # serve the recorded fake on loopback instead (console, tests)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZAPIS_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    bot_token: SecretStr | None = None
    # Another Bot API server instead of api.telegram.org: a local telegram-bot-api, or
    # the emulator of `python -m bot cluster`; it may then call an http:// webhook.
    telegram_api_url: str | None = None
    database_url: str = DEFAULT_DB_URL
    # SQLite only: run sqlite3 in the event-loop thread (storage/sqlite_inloop.py) or
    # through aiosqlite's worker thread. Either URL spelling is accepted.
    sqlite_driver: Literal["inloop", "aiosqlite"] = "inloop"
    redis_url: str | None = None
    encryption_key: SecretStr | None = None
    default_tz: str = "Europe/Moscow"
    default_locale: Literal["ru", "en"] = "ru"
    staff: dict[int, StaffMember] = Field(default_factory=dict)
    reminder_offsets_minutes: list[int] = Field(default_factory=lambda: [24 * 60, 120])
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    # A reminder under a day ahead (the 2 h one) that falls in the quiet hours:
    # "skip" it, or "shift" it to just before they begin (domain.quiet_hours).
    reminder_quiet_policy: Literal["skip", "shift"] = "skip"
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    log_level: str = "INFO"
    # Which source owns each region's schedule: {"spb": "gorzdrav"}; unlisted → local.
    sources: dict[str, Literal["local", "gorzdrav"]] = Field(default_factory=dict)
    gorzdrav: GorzdravSettings = Field(default_factory=GorzdravSettings)
    # Support tickets (issue 10): the promised answer time per category, in working minutes
    # (Mon–Fri 09:00–18:00 of the clinic); "default" covers the categories not listed.
    ticket_targets_minutes: dict[str, int] = Field(
        default_factory=lambda: {"technical": 4 * 60, "default": 9 * 60}
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("default_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(
            ("sqlite+aiosqlite://", "sqlite+zapis://", "postgresql+asyncpg://")
        ):
            raise ValueError(
                "must start with sqlite+aiosqlite:// (or sqlite+zapis://) or"
                " postgresql+asyncpg:// (async drivers only)"
            )
        return value

    @field_validator("reminder_offsets_minutes")
    @classmethod
    def _positive_offsets(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("reminder offsets must be positive minutes, e.g. [1440, 120]")
        return sorted(set(value), reverse=True)


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for the operator (no traceback)."""


class ConfigError(StartupError):
    """A setting is missing or malformed; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "ZAPIS_" + "__".join(str(p).upper() for p in first["loc"])
        raise ConfigError(f"configuration error: {name}: {first['msg']}") from None
    except SettingsError as exc:  # a complex value (JSON) that does not even parse
        match = re.search(r'field "([^"]+)"', str(exc))
        name = "ZAPIS_" + (match.group(1).upper() if match else "SETTINGS")
        raise ConfigError(f"configuration error: {name}: not valid JSON") from None


def require(settings: Settings, *names: str) -> None:
    """Fail with a clear line when a run mode needs a setting that is not set."""
    for name in names:
        value = getattr(settings, name)
        if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
            raise ConfigError(
                f"configuration error: ZAPIS_{name.upper()} is required for this mode"
            )
