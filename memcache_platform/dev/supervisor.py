"""``make run``'s process manager: honcho's, but a Procfile process that exits is restarted.

honcho stops every process as soon as one exits: one crashed beat took the web (and so every write)
down with it. ``Supervisor`` keeps honcho's output multiplexing and Ctrl-C handling and changes only
what happens when a process exits: it is started again after an exponential backoff (reset once it
has run for ``stable_s``), the restart is printed, and counted in a JSON state file that tests and
operators read (``var/run/supervisor.json``: pid, restarts, last exit per process).
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import signal
import time
from pathlib import Path
from typing import Any

from honcho.manager import SIGNALS, Manager

KILL_WAIT_S = 15  # a warm Celery shutdown finishes its task first; then SIGKILL


class Supervisor(Manager):
    """Runs the Procfile's processes until SIGINT/SIGTERM, restarting any that exits."""

    def __init__(
        self,
        *,
        state_file: Path | None = None,
        base_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        stable_s: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.state_file = state_file
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.stable_s = stable_s

    def add_process(self, name: str, cmd: str, **kwargs: Any) -> Any:
        """As honcho's, plus the bookkeeping of restarts."""
        proc = super().add_process(name, cmd, **kwargs)
        self._processes[name].update(restarts=0, failures=0, started_at=None, restart_at=None)
        return proc

    def loop(self) -> None:
        """Multiplex output; restart exited processes; on a signal stop all and return."""

        def _terminate(signum: int, _frame: object) -> None:
            self._system_print(f"{SIGNALS[signum]['name']} received\n")
            self.returncode = SIGNALS[signum]["rc"]
            self.terminate()

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        for name in self._processes:
            self._spawn(name)
        stop_started: float | None = None
        while True:
            try:
                msg = self.events.get(timeout=0.1)
            except queue.Empty:
                msg = None
            if msg is not None:
                self._handle(msg)
            if self._terminating:
                stop_started = stop_started or time.monotonic()
                if self._all_stopped():
                    break
                if time.monotonic() - stop_started > KILL_WAIT_S:
                    self.kill()
                continue
            now = time.monotonic()
            for name, p in self._processes.items():
                if p["restart_at"] is not None and now >= p["restart_at"]:
                    p["restart_at"] = None
                    p["restarts"] += 1
                    self._system_print(f"restarting {name} (restart #{p['restarts']})\n")
                    self._spawn(name)
        if self.returncode is None:
            self.returncode = 0

    def _spawn(self, name: str) -> None:
        p = self._processes[name]
        for key in ("pid", "returncode"):
            p.pop(key, None)
        p["started_at"] = time.monotonic()
        p["process"] = multiprocessing.Process(name=name, target=p["obj"].run, args=(self.events, True))
        p["process"].start()

    def _handle(self, msg: Any) -> None:
        p = self._processes[msg.name]
        if msg.type == "line":
            self._printer.write(msg)
        elif msg.type == "start":
            p["pid"] = msg.data["pid"]
            self._system_print(f"{msg.name} started (pid={msg.data['pid']})\n")
            self._save_state()
        elif msg.type == "stop":
            rc = msg.data["returncode"]
            p.update(returncode=rc, last_exit={"rc": rc, "at": time.time()})
            p["process"].join(1)
            if self._terminating:
                self._system_print(f"{msg.name} stopped (rc={rc})\n")
            else:
                ran_s = time.monotonic() - (p["started_at"] or 0)
                p["failures"] = 1 if ran_s >= self.stable_s else p["failures"] + 1
                delay = min(self.max_delay_s, self.base_delay_s * 2 ** (p["failures"] - 1))
                p["restart_at"] = time.monotonic() + delay
                self._system_print(
                    f"{msg.name} exited (rc={rc}) after {ran_s:.0f} s; restarting in {delay:.0f} s\n"
                )
            self._save_state()

    def _all_stopped(self) -> bool:
        # A process waiting for its restart has stopped; one whose start message is still in
        # flight has not (its pid arrives before its stop).
        return all(p.get("returncode") is not None or p.get("restart_at") for p in self._processes.values())

    def _killall(self, force: bool = False) -> None:
        for p in self._processes.values():
            p["restart_at"] = None
        super()._killall(force=force)

    def _save_state(self) -> None:
        """Pids, restarts and last exits per process, for tests and operators."""
        if self.state_file is None:
            return
        state = {
            name: {
                "pid": p.get("pid"),
                "running": p.get("pid") is not None and p.get("returncode") is None,
                "restarts": p["restarts"],
                "last_exit": p.get("last_exit"),
            }
            for name, p in self._processes.items()
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"updated_at": time.time(), "processes": state}, indent=1))
        tmp.replace(self.state_file)


def run_procfile(procfile: Path, cwd: Path, env: dict[str, str], state_file: Path | None) -> int:
    """Run every process of ``procfile`` under a ``Supervisor`` until Ctrl-C; the exit status."""
    from honcho.environ import expand_processes, parse_procfile

    manager = Supervisor(state_file=state_file)
    for proc in expand_processes(parse_procfile(procfile.read_text()).processes, env=env):
        manager.add_process(proc.name, proc.cmd, quiet=proc.quiet, env=proc.env, cwd=str(cwd))
    manager.loop()
    return int(manager.returncode or 0)
