"""A simulated OpenD that speaks the real wire protocol, for demos and end-to-end tests."""

from opend.sim.server import Simulator, SimulatorThread
from opend.sim.state import DEFAULT_TRADE_PASSWORD

__all__ = ["DEFAULT_TRADE_PASSWORD", "Simulator", "SimulatorThread"]
