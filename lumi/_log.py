"""``LUMI_LOG=debug`` or ``LUMI_LOG=info``: the ``lumi`` logger (and its children, such as
``lumi.events`` and ``lumi.emulator``) at that level on stderr, set up when lumi is imported, as
``OPENAI_LOG`` does for openai. Unset, lumi leaves logging to the application.

What is logged is unchanged by the switch: tokens, passwords, API keys and signatures are never
in a log line (the transport logs redacted headers).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping

LOG_ENV = "LUMI_LOG"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"

_HANDLER_NAME = "lumi-log-stderr"


def configure_from_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Apply ``LUMI_LOG`` (nothing when it is unset or empty; a warning when it is unknown).
    Calling it again changes the level and never adds a second handler."""
    value = environ.get(LOG_ENV, "").strip().lower()
    if not value:
        return
    level = LEVELS.get(value)
    if level is None:
        warnings.warn(f"{LOG_ENV}={value!r} is ignored: use {' or '.join(LEVELS)}", stacklevel=2)
        return
    logger = logging.getLogger("lumi")
    logger.setLevel(level)
    if not any(handler.get_name() == _HANDLER_NAME for handler in logger.handlers):
        handler = logging.StreamHandler()  # sys.stderr at the time of the call
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)


configure_from_environment()
