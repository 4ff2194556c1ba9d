"""What the workflow needs around the science: config validation and schema defaults, code hashes, named
inputs, the run log, integrity checks.  Layer rule: imports anything below; imported only by ``workflow/``,
``tests/`` and ``benchmarks/``."""
