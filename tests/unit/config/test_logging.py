"""Passwords in URLs never reach a log line."""

import logging

import pytest

from config.logging import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgresql://app:p%40ss@db/memcache", "postgresql://app:***@db/memcache"),
        ("connect amqp://guest:guest@mq:5672// failed", "connect amqp://guest:***@mq:5672// failed"),
        ("postgresql://postgres@/db?host=/var/pg", "postgresql://postgres@/db?host=/var/pg"),
        ("no url here: a:b@c", "no url here: a:b@c"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_filter_rewrites_formatted_records(caplog):
    logger = logging.getLogger("test.redaction")
    caplog.handler.addFilter(RedactSecretsFilter())
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.warning("broker %s unreachable", "redis://user:hunter2@broker:6379/1")
    assert "hunter2" not in caplog.text
    assert "redis://user:***@broker:6379/1" in caplog.text
