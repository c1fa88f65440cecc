"""The start/stop logic of the simulator fixture, checked against a stand-in binary."""
import os
import re
from pathlib import Path

import pytest
import requests

from simproc import REPO_ROOT, SimulatorStartError, sim_binary, start_simulator

FAKE = Path(__file__).resolve().parents[1] / "fixtures" / "fake-rocketchat-sim"


def test_reads_url_line_passes_flags_and_kills_on_stop():
    sim = start_simulator(["--profile", "6"], binary=FAKE)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sim.url)
        assert sim.ws_url == sim.url.replace("http://", "ws://") + "/websocket"
        health = sim.health()
        assert health["ok"] is True
        assert health["argv"] == ["--port", "0", "--profile", "6"]
    finally:
        sim.stop()
    assert sim.proc.poll() is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.url + "/_sim/health", timeout=2)


def test_wrong_first_line_fails_loudly():
    env = dict(os.environ, FAKE_SIM_MODE="garbage")
    with pytest.raises(SimulatorStartError, match="listening somewhere"):
        start_simulator(binary=FAKE, env=env)


def test_early_exit_reports_stderr():
    env = dict(os.environ, FAKE_SIM_MODE="exit")
    with pytest.raises(SimulatorStartError, match="refusing to start"):
        start_simulator(binary=FAKE, env=env)


def test_missing_binary_names_the_path(tmp_path):
    with pytest.raises(SimulatorStartError, match="not found"):
        start_simulator(binary=tmp_path / "nope")


def test_default_binary_is_relative_to_repo_root(monkeypatch):
    monkeypatch.delenv("ROCKETCHAT_SIM_BIN", raising=False)
    assert sim_binary() == REPO_ROOT / "target" / "debug" / "rocketchat-sim"
    monkeypatch.setenv("ROCKETCHAT_SIM_BIN", "some/dir/sim")
    assert sim_binary() == REPO_ROOT / "some" / "dir" / "sim"
