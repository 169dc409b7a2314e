"""Local HTTP simulators of the partners (CitizenServe, IMT) for the tests, the demo and
the benchmarks: the partners' own wire formats, an inspectable ledger, fault injection."""

from partners.sandbox.server import Faults, SandboxServer

__all__ = ["Faults", "SandboxServer"]
