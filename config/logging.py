"""Logging set-up: one format, and a filter that keeps secrets in URLs out of every log line."""

from __future__ import annotations

import logging
import re

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):(?P<secret>[^@/\s]+)@")


def redact(text: str) -> str:
    """``scheme://user:password@host`` becomes ``scheme://user:***@host``."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's final message with passwords in URLs masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of ``logger`` (default: root), once."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
            handler.addFilter(RedactSecretsFilter())


def configure_logging(level: str = "INFO") -> None:
    """Root logging for the web process (Celery configures its own; see ``tasks.app``)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redaction()
