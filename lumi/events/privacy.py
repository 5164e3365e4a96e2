"""Transcript privacy: FULL sends text as is, MASKED through a mask function, NONE sends none.

The built-in :func:`mask_pii` replaces e-mail addresses, card numbers (Luhn-checked, so an order
number of 16 digits is left alone) and phone numbers. It is a regular-expression mask, a safety
net rather than a guarantee: pass your own ``mask_fn`` for anything stricter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .config import CaptureTranscript, MaskFn

#: What a content becomes when the mask function failed: all of it is hidden.
REDACTED = "[REDACTED]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
# An optional +, then 7-15 digits with common separators; at least 7 digits (checked below).
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ().-]{5,20}\d(?!\w)")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a string of digits (card numbers)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return "[PHONE]" if 7 <= digits <= 15 else match.group()


def mask_pii(text: str) -> str:
    """Replace e-mails, Luhn-valid card numbers and phone numbers by [EMAIL], [CARD], [PHONE]."""
    text = _EMAIL.sub("[EMAIL]", text)
    text = _CARD.sub(_mask_card, text)
    return _PHONE.sub(_mask_phone, text)


class Privacy:
    """Applies the capture mode to each piece of content; counts mask failures."""

    def __init__(
        self, mode: CaptureTranscript, mask_fn: MaskFn | None, on_failure: Callable[[str], None]
    ) -> None:
        """``on_failure(reason)`` is called (to count and warn) when ``mask_fn`` fails."""
        self.mode = mode
        self._mask = mask_fn if mask_fn is not None else mask_pii
        self._on_failure = on_failure

    @property
    def sends_content(self) -> bool:
        return self.mode is not CaptureTranscript.NONE

    def content(self, text: str) -> str | None:
        """The text as it may leave the process, or None when nothing may."""
        if self.mode is CaptureTranscript.FULL:
            return text
        if self.mode is CaptureTranscript.NONE:
            return None
        try:
            masked = self._mask(text)
        except Exception as exc:  # a user's mask_fn: any failure must not lose the event
            self._on_failure(f"mask_fn raised {type(exc).__name__}")
            return REDACTED
        if not isinstance(masked, str):
            self._on_failure(f"mask_fn returned {type(masked).__name__}, not str")
            return REDACTED
        return masked
