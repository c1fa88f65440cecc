"""Start/stop rocketchat-sim for a test and talk to its /_sim control API."""
from __future__ import annotations

import os
import re
import selectors
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[3]
URL_LINE = re.compile(r"^ROCKETCHAT_SIM_URL=(http://127\.0\.0\.1:\d+)\s*$")


class SimulatorStartError(RuntimeError):
    pass


def sim_binary() -> Path:
    """ROCKETCHAT_SIM_BIN (relative paths are taken from the repo root) or target/debug/rocketchat-sim."""
    configured = os.environ.get("ROCKETCHAT_SIM_BIN", "target/debug/rocketchat-sim")
    path = Path(configured)
    return path if path.is_absolute() else REPO_ROOT / path


class Simulator:
    """One running rocketchat-sim process."""

    def __init__(self, url: str, proc: subprocess.Popen, stderr_file):
        self.url = url
        self.ws_url = url.replace("http://", "ws://", 1) + "/websocket"
        self.proc = proc
        self._stderr = stderr_file
        self.http = requests.Session()

    # -- control API (ARCHITECTURE.md, "Control API over HTTP") --------------
    def _control(self, method: str, route: str, **kwargs):
        r = self.http.request(method, self.url + route, timeout=10, **kwargs)
        r.raise_for_status()
        return r.json()

    def health(self):
        return self._control("GET", "/_sim/health")

    def post(self, user: str, rid: str, msg: str, tmid: str | None = None, _id: str | None = None):
        body = {"user": user, "rid": rid, "msg": msg}
        if tmid:
            body["tmid"] = tmid
        if _id:
            body["_id"] = _id
        return self._control("POST", "/_sim/post", json=body)["message"]

    def edit(self, msg_id: str, msg: str):
        return self._control("POST", "/_sim/edit", json={"msgId": msg_id, "msg": msg})

    def react(self, user: str, msg_id: str, emoji: str):
        return self._control("POST", "/_sim/react", json={"user": user, "msgId": msg_id, "emoji": emoji})

    def messages(self, rid: str):
        return self._control("GET", "/_sim/messages", params={"rid": rid})["messages"]

    def fault(self, **fault):
        return self._control("POST", "/_sim/faults", json=fault)

    def reset_faults(self):
        return self._control("POST", "/_sim/reset-faults")

    # -- lifecycle ------------------------------------------------------------
    def stderr_tail(self, limit: int = 4000) -> str:
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            return self._stderr.read()[-limit:]
        except ValueError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.http.close()
        self._stderr.close()


def start_simulator(args=(), binary: Path | None = None, timeout: float = 20.0, env=None) -> Simulator:
    """Run `<binary> --port 0 <args>` and wait for its ROCKETCHAT_SIM_URL line."""
    binary = Path(binary) if binary else sim_binary()
    if not binary.exists():
        raise SimulatorStartError(
            f"simulator binary not found: {binary} (build it with `cargo build -p rocketchat-sim` "
            "or set ROCKETCHAT_SIM_BIN)"
        )
    stderr_file = tempfile.TemporaryFile(mode="w+", prefix="rocketchat-sim-", suffix=".log")
    proc = subprocess.Popen(
        [str(binary), "--port", "0", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        env=env,
    )

    def fail(why: str):
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)
        stderr_file.seek(0)
        tail = stderr_file.read()[-4000:]
        stderr_file.close()
        raise SimulatorStartError(f"{binary}: {why}; exit={proc.returncode}; stderr:\n{tail}")

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    line = ""
    try:
        while not line.endswith("\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                fail(f"no ROCKETCHAT_SIM_URL line within {timeout}s")
            if not sel.select(remaining):
                continue
            chunk = proc.stdout.readline()
            if chunk == "":
                fail(f"stdout closed before the URL line (got {line!r})")
            line += chunk
    finally:
        sel.close()

    match = URL_LINE.match(line)
    if not match:
        fail(f"first stdout line is not ROCKETCHAT_SIM_URL=http://127.0.0.1:PORT: {line!r}")

    # Keep draining stdout so the simulator never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return Simulator(match.group(1), proc, stderr_file)
