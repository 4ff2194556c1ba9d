"""Set-up shared by the workflow scripts: send all output to the rule's log, pin thread counts, and keep a
short line on the console for what a user must see while the job runs (progress, warnings, the cause of
a failure).  The full detail (tracebacks, every epoch) stays in the rule's log file."""
from __future__ import annotations

import atexit
import logging
import os
import sys

from ..runtime import memory as _memory
from ..runtime import threads as _threads
from ..runtime.console import console, tag, to_console

def _one_line_cause(exc_type, exc, tb) -> None:
    """Excepthook: the traceback goes to the log, its one-line cause to the console."""
    sys.__excepthook__(exc_type, exc, tb)
    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    to_console(f"error: {exc_type.__name__}: {cause}")


def setup(log_path: str | None, threads: int = 1, job: str | None = None) -> logging.Logger:
    """Send stdout/stderr to ``log_path`` (when given), pin thread counts, keep freed memory
    (:mod:`pipeline_lib.runtime.memory`); ``job`` tags console lines."""
    if job:
        tag(job)
    if log_path:
        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        fh = open(log_path, "w", buffering=1)
        sys.stdout = sys.stderr = fh
        sys.excepthook = _one_line_cause
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", force=True)
    # every thread pool (torch, OpenMP, BLAS) at the rule's threads, torch only where the job uses it
    # (importing it costs seconds per job), and a heap that keeps what a batch frees; the job's log ends
    # with the threads each pool ended up with and the heap's setting
    n = _threads.pin(threads)
    _memory.keep_freed_memory()
    logger = logging.getLogger("pipeline_lib")
    if log_path:
        atexit.register(lambda: logger.info(f"threads {n}: {_threads.settings()}; heap: {_memory.settings()}"))
    return logger


def job_tag(snakemake) -> str:
    """'rule a=b c=d' of a Snakemake job, for console lines."""
    wc = " ".join(f"{k}={v}" for k, v in snakemake.wildcards.items())
    return f"{snakemake.rule} {wc}".strip()


def start(snakemake) -> logging.Logger:
    """What every workflow script does first: its log, its thread count, its console tag; and, through
    :func:`pipeline_lib.infra.integrity.watch_job`, its outputs' records at the end (size, sha256) or, if it fails,
    a line naming each damaged input and the command that rebuilds it."""
    from .integrity import watch_job

    logger = setup(snakemake.log[0] if snakemake.log else None, snakemake.threads, job=job_tag(snakemake))
    watch_job(snakemake, console)
    return logger


def epoch_progress(total_epochs: int, log=None, lines: int = 20):
    """A ``log`` callable for the training loops: every message goes to the log; the per-epoch lines
    (``epoch=k ... train_loss=... seconds=...``) also reach the console as ``epoch k/N loss L  S s/epoch``,
    for the first and last epoch and about ``lines`` times in between."""
    log = log or logging.getLogger("pipeline_lib").info
    every = max(1, int(total_epochs) // max(1, lines))

    def emit(message: str) -> None:
        if not message.startswith("epoch="):
            log(message)
            return
        fields = dict(f.split("=", 1) for f in message.split() if "=" in f)
        epoch = int(fields["epoch"])
        log(message)
        if epoch == 1 or epoch == total_epochs or epoch % every == 0:
            loss, secs = fields.get("train_loss", "?"), fields.get("seconds", "?")
            line = f"epoch {epoch}/{total_epochs} loss {loss} {secs} s/epoch"
            if "test_macro_f1" in fields:
                line += f" test macro-F1 {fields['test_macro_f1']}"
            to_console(line)

    return emit
