"""What ``memcache import`` reads: a file of records in one of two formats, and its resume state.

* ``jsonl``: JSON Lines, one object per line: ``{"user_id", "messages" | "memory", "metadata"?,
  "created_at"?, "session_id"?, "id"?}`` (blank lines are ignored).
* ``mem0``: a Mem0 export, one JSON document: a list of memories, or an object holding one under
  ``memories`` (the platform's JSON export) or ``results`` (``get_all``'s pages). Each memory
  carries ``user_id``, its text in ``memory`` (or ``content``), and optionally ``id``,
  ``metadata``, ``created_at``; other fields (hash, categories, updated_at, ...) are ignored, and
  so are metadata keys this platform sets itself (category, topic, ...: it derives them anew).

Light on purpose (no platform imports): the CLI loads it before it calls any platform.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memcache_platform.errors import InvalidInput, PlatformError
from memcache_platform.ids import METADATA_KEY_PATTERN, RESERVED_METADATA_KEYS, validate_user_id

FORMATS = ("auto", "jsonl", "mem0")
JSONL_FIELDS = frozenset({"user_id", "messages", "memory", "metadata", "created_at", "session_id", "id"})
_METADATA_KEY = re.compile(METADATA_KEY_PATTERN)


class ImportFileError(PlatformError):
    """The file cannot be read, or a record in it is malformed (its line or position is named)."""

    code = "invalid_import_file"
    status = 400


@dataclass(frozen=True)
class Record:
    """One record to import: its user, the batch endpoint's body of it, where it is, its key."""

    user_id: str
    body: dict[str, Any]
    where: str  # "line 12" or "memory #3", for messages
    key: str  # the record's id, or a digest of its content: what the state file remembers


def _key(user_id: str, body: dict[str, Any], given: object) -> str:
    if isinstance(given, str | int) and str(given):
        return f"id:{given}"
    canonical = json.dumps([user_id, body], sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:24]


def _record(item: object, where: str, *, export: bool) -> Record:
    """One record of either format, checked as far as the CLI can (the API checks the rest)."""
    if not isinstance(item, dict):
        raise ImportFileError(f"{where}: a record must be a JSON object")
    try:
        user_id = validate_user_id(item.get("user_id"))
    except InvalidInput as exc:
        raise ImportFileError(f"{where}: {exc.message}") from None
    if export:
        text = item.get("memory") if item.get("memory") is not None else item.get("content")
        item = {"memory": text, "metadata": _own_metadata(item.get("metadata"), where)} | {
            k: item[k] for k in ("created_at", "id") if item.get(k) is not None
        }
    elif unknown := sorted(set(item) - JSONL_FIELDS):
        raise ImportFileError(
            f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(JSONL_FIELDS))})"
        )
    has_messages, has_memory = item.get("messages") is not None, item.get("memory") is not None
    if has_messages == has_memory:
        raise ImportFileError(f"{where}: give exactly one of 'messages' or 'memory'")
    if has_memory and not (isinstance(item["memory"], str) and item["memory"].strip()):
        raise ImportFileError(f"{where}: 'memory' must be a non-empty string")
    if has_messages and not (isinstance(item["messages"], list) and item["messages"]):
        raise ImportFileError(f"{where}: 'messages' must be a non-empty list of chat messages")
    body = {k: item[k] for k in ("messages", "memory", "metadata", "created_at", "session_id") if item.get(k)}
    return Record(user_id, body, where, _key(user_id, body, item.get("id")))


def _own_metadata(metadata: object, where: str) -> dict[str, Any] | None:
    """An exported memory's metadata without the keys Mem0 or this platform set themselves."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ImportFileError(f"{where}: 'metadata' must be a JSON object")
    kept = {k: v for k, v in metadata.items() if k not in RESERVED_METADATA_KEYS and _METADATA_KEY.match(k)}
    return kept or None


def _jsonl(text: str) -> Iterator[Record]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ImportFileError(
                f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        yield _record(item, f"line {number}", export=False)


def _export_memories(document: object) -> list[Any] | None:
    """The list of memories of a Mem0 export document, or None if it is not one."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for name in ("memories", "results"):
            if isinstance(document.get(name), list):
                return document[name]
    return None


def detect(text: str) -> str:
    """``mem0`` for one JSON document holding a list of memories, else ``jsonl``."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "mem0"
    try:
        document = json.loads(text)
    except ValueError:
        return "jsonl"
    return "mem0" if _export_memories(document) is not None else "jsonl"


def read_records(path: Path, fmt: str = "auto") -> tuple[str, list[Record]]:
    """The format and the records of ``path``; ``ImportFileError`` naming the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise ImportFileError(f"{path}: the file is empty")
    fmt = detect(text) if fmt == "auto" else fmt
    if fmt == "jsonl":
        return fmt, list(_jsonl(text))
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ImportFileError(
            f"line {exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    memories = _export_memories(document)
    if memories is None:
        raise ImportFileError(f"{path}: a Mem0 export is a list of memories, or holds one under 'memories'")
    return fmt, [_record(item, f"memory #{i}", export=True) for i, item in enumerate(memories, 1)]


class ImportState:
    """The keys of records already imported (written or skipped), kept in a JSON Lines file.

    Appended and flushed after each batch, so a run stopped at any point (Ctrl-C) loses at most the
    batches in flight; those the platform answers as duplicates when they are sent again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()
        if path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                try:
                    self.done.add(json.loads(line)["key"])
                except (ValueError, KeyError, TypeError):
                    raise ImportFileError(
                        f"{path} line {number}: not a state line of memcache import"
                    ) from None

    def record(self, keys: list[str], status: dict[str, str]) -> None:
        """Remember ``keys`` as imported (``status`` says how), durably before returning."""
        if not keys:
            return
        with self.path.open("a", encoding="utf-8") as out:
            for key in keys:
                out.write(json.dumps({"key": key, "status": status[key]}) + "\n")
            out.flush()
        self.done.update(keys)
