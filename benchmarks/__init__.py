"""LeadBridge benchmarks: one module per measured job; run with ``hatch run bench:run``."""
