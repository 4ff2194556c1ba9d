"""Console lines: what a user must see while a job runs (progress, warnings, the one-line cause of a failure),
on the terminal Snakemake shows, prefixed with the job's rule and wildcards, and in the job's log.  Imports
nothing of the package; not in any code hash (it cannot change what a rule writes)."""
from __future__ import annotations

import logging
import sys

_CONSOLE = sys.__stderr__  # the terminal Snakemake shows, kept before runlog.setup() sends stderr to the log
_TAG = {"rule": "pipeline"}


def tag(job: str) -> None:
    """Prefix later console lines with ``job`` (the rule and its wildcards)."""
    _TAG["rule"] = job


def to_console(line: str) -> None:
    """``line`` on the terminal, prefixed with the job's rule and wildcards (only once stderr is the log)."""
    if _CONSOLE is not None and _CONSOLE is not sys.stderr:
        print(f"[{_TAG['rule']}] {line}", file=_CONSOLE, flush=True)


def console(message: str) -> None:
    """One line on the console and in the log."""
    logging.getLogger("pipeline_lib").info(message)
    to_console(message)
