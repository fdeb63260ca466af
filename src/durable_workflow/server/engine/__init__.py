"""The state machine: engine functions over one transaction, run by ``Engine``."""
