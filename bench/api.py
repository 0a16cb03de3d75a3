"""A small HTTP client of the platform's API for the scenarios: timed calls, one session per thread."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Reply:
    """Status, parsed JSON body (or {}), and the client-side latency in ms."""

    status: int
    body: dict[str, Any]
    ms: float


class Api:
    """Calls ``base_url`` with ``Authorization: Bearer <key>`` (an admin key, so strict writes work)."""

    def __init__(self, base_url: str, key: str, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout_s = timeout_s
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.key}"
        return session

    def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        started = time.perf_counter()
        response = self.session.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        ms = (time.perf_counter() - started) * 1000
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        return Reply(response.status_code, body if isinstance(body, dict) else {"value": body}, ms)

    def write(self, user_id: str, text: str, *, mode: str | None = None) -> Reply:
        headers = {"X-Write-Mode": mode} if mode else {}
        payload = {"messages": [{"role": "user", "content": text}]}
        return self.call("POST", f"/v1/users/{user_id}/memories", json=payload, headers=headers)

    def search(self, user_id: str, query: str, limit: int = 5) -> Reply:
        return self.call("GET", f"/v1/users/{user_id}/search", params={"q": query, "limit": limit})

    def cache_status(self, user_id: str) -> Reply:
        return self.call("GET", f"/v1/users/{user_id}/cache")

    def warm(self, user_id: str) -> str:
        reply = self.call("POST", f"/v1/users/{user_id}/cache/warm")
        if reply.status != 202:
            raise RuntimeError(f"warm of {user_id}: HTTP {reply.status} {reply.body}")
        return reply.body["task_id"]

    def warm_all(self) -> str:
        reply = self.call("POST", "/v1/cache/warm-all")
        if reply.status != 202:
            raise RuntimeError(f"warm-all: HTTP {reply.status} {reply.body}")
        return reply.body["task_id"]

    def task(self, task_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/tasks/{task_id}").body

    def wait_task(self, task_id: str, timeout_s: float = 60.0, interval_s: float = 0.02) -> dict[str, Any]:
        """Poll ``/v1/tasks/{id}`` until SUCCESS or FAILURE."""
        deadline = time.monotonic() + timeout_s
        while True:
            body = self.task(task_id)
            if body.get("state") in ("SUCCESS", "FAILURE"):
                return body
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {body.get('state')} after {timeout_s:.0f} s")
            time.sleep(interval_s)

    def readyz(self) -> dict[str, Any]:
        try:
            return requests.get(self.base_url + "/readyz", timeout=5).json()
        except (requests.RequestException, ValueError):
            return {}

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` in ``/metrics`` whose labels include ``labels``."""
        text = requests.get(self.base_url + "/metrics", timeout=10).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total
