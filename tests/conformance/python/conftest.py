"""Fixtures: one rocketchat-sim per test module (flags from the module's SIM_ARGS), plus fresh ones on demand."""
import os

import pytest

from simproc import start_simulator

FAST = os.environ.get("CONFORMANCE_FAST") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes 30 s or more; skipped when CONFORMANCE_FAST=1")


def pytest_collection_modifyitems(config, items):
    if not FAST:
        return
    skip = pytest.mark.skip(reason="CONFORMANCE_FAST=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def sim(request):
    """The module's simulator: `rocketchat-sim --port 0 <SIM_ARGS>`."""
    instance = start_simulator(getattr(request.module, "SIM_ARGS", ()))
    yield instance
    instance.stop()


@pytest.fixture
def sim_factory():
    """Start extra simulators with their own flags (fresh state, e.g. rate-limit counters)."""
    started = []

    def start(*args):
        instance = start_simulator(args)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()
