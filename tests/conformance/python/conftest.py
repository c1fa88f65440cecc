"""Fixtures: one rocketchat-sim per test module (flags from the module's SIM_ARGS), plus fresh ones on demand."""
import pytest

from simproc import start_simulator


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
