"""Tracker configuration: the options of ``lumi.events.init``, checked once, immutable afterwards."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from lumi.errors import ValidationError
from lumi.transport import redact_url

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .providers import SystemAnalyticsProvider, UIAnalyticsProvider

ENV_WRITE_KEY = "LUMINA_WRITE_KEY"
ENV_ENDPOINT = "LUMINA_ENDPOINT"
INGEST_PATH = "/collect/sdk/events"

#: The JS SDK's retry schedule: 3 retries, linear backoff.
DEFAULT_RETRY_DELAYS_MS: tuple[int, ...] = (300, 600, 900)
SAMPLING_KINDS = ("turn", "ui_event", "span")


class CaptureTranscript(str, enum.Enum):
    """How turn transcripts are sent: as they are, masked, or not at all (metadata only)."""

    FULL = "full"
    MASKED = "masked"
    NONE = "none"


MaskFn = Callable[[str], str]


class EventsConfigError(ValidationError):
    """A tracker option is invalid; the message names the option."""


_POSITIVE = (
    "flush_interval_ms",
    "max_batch_bytes",
    "max_queue_events",
    "exit_timeout_s",
    "connect_timeout_s",
    "read_timeout_s",
    "max_retry_after_s",
)
_FLAGS = ("enable_tool_wrapping", "debug", "sync_mode", "spool_fsync", "enabled")


def _check_positive(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise EventsConfigError(f"{name} must be a positive number, got {value!r}")


def _check_sampling(rates: Mapping[str, float] | None) -> dict[str, float]:
    if rates is None:
        return {}
    if not isinstance(rates, Mapping):
        raise EventsConfigError(f"sampling must be a mapping of kind to rate, got {rates!r}")
    aliases = {"uiEvent": "ui_event", "ui": "ui_event"}
    out: dict[str, float] = {}
    for kind, rate in rates.items():
        key = aliases.get(kind, kind)
        if key not in SAMPLING_KINDS:
            raise EventsConfigError(
                f"sampling: unknown event kind {kind!r} (known: {', '.join(SAMPLING_KINDS)})"
            )
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise EventsConfigError(f"sampling[{kind!r}] must be a number in [0, 1], got {rate!r}")
        out[key] = float(rate)
    return out


def _normalise_endpoint(endpoint: str | None) -> str | None:
    if endpoint is None:
        return None
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        shown = redact_url(endpoint) if isinstance(endpoint, str) else type(endpoint).__name__
        raise EventsConfigError(f"endpoint must be an http(s) URL, got {shown!r}")
    return endpoint.rstrip("/")


class TrackerOptions(TypedDict, total=False):
    """The keyword options of :func:`lumi.events.init` and :class:`~lumi.events.Tracker`.

    ``write_key`` / ``endpoint`` default to LUMINA_WRITE_KEY / LUMINA_ENDPOINT. The README
    section "Event tracking" explains each; a bad value raises :class:`EventsConfigError`."""

    write_key: str | None
    endpoint: str | None
    capture_transcript: CaptureTranscript | str
    mask_fn: MaskFn | None
    enable_tool_wrapping: bool
    flush_interval_ms: float
    max_batch_bytes: int
    max_queue_events: int
    sampling: Mapping[str, float] | None
    ui_analytics: UIAnalyticsProvider | None
    system_analytics: SystemAnalyticsProvider | None
    debug: bool
    sync_mode: bool
    retry_delays_ms: Sequence[float]
    retry_jitter: float
    max_retry_after_s: float
    connect_timeout_s: float
    read_timeout_s: float
    exit_timeout_s: float
    spool_dir: str | os.PathLike[str] | None
    spool_fsync: bool
    identity_path: str | os.PathLike[str] | None
    config_dir: str | os.PathLike[str] | None
    persist_identity: bool | None
    enabled: bool


def _ui_provider(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        from .providers import UIAnalyticsProvider, check_provider

        check_provider(value, UIAnalyticsProvider, attribute.name)


def _system_provider(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        from .providers import SystemAnalyticsProvider, check_provider

        check_provider(value, SystemAnalyticsProvider, attribute.name)


@attrs.frozen(kw_only=True)
class TrackerConfig:
    """Every option of a :class:`~lumi.events.Tracker` (see ``lumi.events.init`` for the meaning)."""

    write_key: str | None = attrs.field(default=None, repr=False)
    endpoint: str | None = None
    capture_transcript: CaptureTranscript = CaptureTranscript.FULL
    mask_fn: MaskFn | None = None
    enable_tool_wrapping: bool = True
    flush_interval_ms: float = 5000
    max_batch_bytes: int = 100_000
    max_queue_events: int = 10_000
    sampling: dict[str, float] = attrs.field(factory=dict)
    ui_analytics: UIAnalyticsProvider | None = attrs.field(default=None, validator=_ui_provider)
    system_analytics: SystemAnalyticsProvider | None = attrs.field(
        default=None, validator=_system_provider
    )
    debug: bool = False
    sync_mode: bool = False
    retry_delays_ms: tuple[float, ...] = DEFAULT_RETRY_DELAYS_MS
    retry_jitter: float = 0.2
    max_retry_after_s: float = 30.0
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    exit_timeout_s: float = 3.0
    spool_dir: Path | None = None
    spool_fsync: bool = True
    identity_path: Path | None = None
    persist_identity: bool | None = None
    enabled: bool = True

    @property
    def url(self) -> str | None:
        """The ingest URL, or None when no endpoint is configured."""
        return None if self.endpoint is None else self.endpoint + INGEST_PATH


def build_config(
    environ: Mapping[str, str] | None = None, **given: Unpack[TrackerOptions]
) -> TrackerConfig:
    """Check the options and fill write key / endpoint from LUMINA_WRITE_KEY / LUMINA_ENDPOINT."""
    options: dict[str, Any] = dict(given)
    write_key = options.pop("write_key", None)
    endpoint = options.pop("endpoint", None)
    capture_transcript = options.pop("capture_transcript", CaptureTranscript.FULL)
    mask_fn = options.pop("mask_fn", None)
    sampling = options.pop("sampling", None)
    spool_dir = options.pop("spool_dir", None)
    identity_path = options.pop("identity_path", None)
    config_dir = options.pop("config_dir", None)
    env = os.environ if environ is None else environ
    write_key = write_key if write_key is not None else env.get(ENV_WRITE_KEY) or None
    endpoint = endpoint if endpoint is not None else env.get(ENV_ENDPOINT) or None
    try:
        mode = CaptureTranscript(
            capture_transcript.lower()
            if isinstance(capture_transcript, str)
            else capture_transcript
        )
    except ValueError:
        raise EventsConfigError(
            f"capture_transcript must be one of full, masked, none; got {capture_transcript!r}"
        ) from None
    if mask_fn is not None and not callable(mask_fn):
        raise EventsConfigError("mask_fn must be a callable taking and returning a str")
    if write_key is not None and not isinstance(write_key, str):
        raise EventsConfigError("write_key must be a string")
    for name in _POSITIVE:
        if name in options:
            _check_positive(name, options[name])
    for name in _FLAGS:
        if name in options and not isinstance(options[name], bool):
            raise EventsConfigError(f"{name} must be True or False, got {options[name]!r}")
    persist = options.get("persist_identity")
    if persist is not None and not isinstance(persist, bool):
        raise EventsConfigError(f"persist_identity must be True, False or None, got {persist!r}")
    jitter = options.get("retry_jitter", 0.0)
    if not isinstance(jitter, (int, float)) or isinstance(jitter, bool) or not 0 <= jitter < 1:
        raise EventsConfigError(f"retry_jitter must be a number in [0, 1), got {jitter!r}")
    if "retry_delays_ms" in options:
        delays = options["retry_delays_ms"]
        if (
            isinstance(delays, (str, bytes))
            or not isinstance(delays, Sequence)
            or any(not isinstance(d, (int, float)) or isinstance(d, bool) or d < 0 for d in delays)
        ):
            raise EventsConfigError(
                f"retry_delays_ms must be a sequence of non-negative numbers, got {delays!r}"
            )
        options["retry_delays_ms"] = tuple(delays)
    if identity_path is None and config_dir is not None:
        identity_path = Path(config_dir) / "identity.json"
    known = {f.name for f in attrs.fields(TrackerConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise EventsConfigError(f"unknown tracker option(s): {', '.join(unknown)}")
    return TrackerConfig(
        write_key=write_key,
        endpoint=_normalise_endpoint(endpoint),
        capture_transcript=mode,
        mask_fn=mask_fn,
        sampling=_check_sampling(sampling),
        spool_dir=None if spool_dir is None else Path(spool_dir),
        identity_path=None if identity_path is None else Path(identity_path),
        **options,
    )
