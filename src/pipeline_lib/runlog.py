"""Set-up shared by the workflow scripts: send all output to the rule's log, pin thread counts."""
from __future__ import annotations

import logging
import os
import sys


def setup(log_path: str | None, threads: int = 1) -> logging.Logger:
    if log_path:
        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        fh = open(log_path, "w", buffering=1)
        sys.stdout = sys.stderr = fh
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", force=True)
    # torch only where the job uses it (importing it costs seconds per job): set the thread count now if it
    # is loaded, else through OMP_NUM_THREADS, which torch reads when a later import loads it
    n = max(1, int(threads))
    os.environ["OMP_NUM_THREADS"] = str(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return logging.getLogger("pipeline_lib")
