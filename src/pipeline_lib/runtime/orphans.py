"""Training jobs whose Snakemake is gone stop at the next epoch boundary instead of running to the end.

When the Snakemake process that started a job is killed (``kill -9``, a closed terminal), its jobs keep
running as orphans: nobody will collect their outputs (Snakemake marks them incomplete) and they hold the
CPU / GPU.  The training loops call :func:`stop_if_orphaned` once per epoch, after the epoch's resume
checkpoint is written: it finds the Snakemake process among the job's ancestors once (nothing is watched
when there is none, e.g. a test, a cluster job), and, when that process is gone, logs one line and raises
:class:`Orphaned`, so the job ends with its resume checkpoint on disk; the next run resumes from it.
"""
from __future__ import annotations

import os


class Orphaned(RuntimeError):
    """The job's Snakemake process is gone; the message says where training stopped."""


_WATCHED: dict = {}


def _is_snakemake(cmdline: list[str]) -> bool:
    """``snakemake ...``, ``python .../bin/snakemake ...`` or ``python -m snakemake ...`` (not a job's shell,
    whose command line merely names a script under .snakemake/)."""
    head = cmdline[:3]
    return (any(os.path.basename(a) == "snakemake" for a in head)
            or any(a == "-m" and b == "snakemake" for a, b in zip(head, head[1:])))


def snakemake_ancestor():
    """(pid, create_time) of the nearest Snakemake process above this one, or None."""
    try:
        import psutil
    except ImportError:  # psutil comes with Snakemake; without it nothing is watched
        return None
    try:
        for proc in psutil.Process().parents():
            try:
                if _is_snakemake(proc.cmdline()):
                    return proc.pid, proc.create_time()
            except (psutil.AccessDenied, psutil.ZombieProcess, psutil.NoSuchProcess):
                continue
    except psutil.Error:
        return None
    return None


def _alive(pid: int, created: float) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # cannot tell: keep going


def stop_if_orphaned(epoch: int, epochs: int, checkpoint: str | None = None, log=print) -> None:
    """Raise :class:`Orphaned` (after one log line) when the Snakemake process that started this job has
    gone; ``epoch`` of ``epochs`` just finished and ``checkpoint`` (None: the loop keeps none) holds it."""
    pid = os.getpid()
    if _WATCHED.get("pid") != pid:  # first call in this process (a forked child looks again)
        _WATCHED.update(pid=pid, parent=snakemake_ancestor())
    parent = _WATCHED["parent"]
    if parent is None or epoch >= epochs or _alive(*parent):
        return
    saved = (f"its resume checkpoint {checkpoint} is written; the next run resumes after epoch {epoch}"
             if checkpoint else "this loop keeps no resume checkpoint; the next run starts it again")
    message = (f"stopped after epoch {epoch}/{epochs}: the Snakemake process that started this job (pid "
               f"{parent[0]}) is gone; {saved} (snakemake --rerun-incomplete ...)")
    log(message)
    raise Orphaned(message)


def live_snakemakes(folder: str = ".") -> list[tuple[int, str]]:
    """(pid, command line) of each running Snakemake whose working folder is ``folder`` (its own, or its
    ``--directory`` / ``-d``): before ``snakemake --unlock``, make sure this list is empty."""
    import psutil

    here = os.path.realpath(folder)
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        cmd, cwd = proc.info.get("cmdline") or [], proc.info.get("cwd")
        if proc.info["pid"] == os.getpid() or not _is_snakemake(cmd):
            continue
        workdir = cwd
        for flag, value in zip(cmd, cmd[1:]):
            if flag in ("--directory", "-d"):
                workdir = os.path.join(cwd or "", value)
        if workdir and os.path.realpath(workdir) == here:
            found.append((proc.info["pid"], " ".join(cmd)))
    return found


def main(argv=None) -> int:
    """``python -m pipeline_lib.runtime.orphans [FOLDER]``: the Snakemake runs working in FOLDER (default: here).
    Exit status 1 when there is one (do not --unlock then), 0 when there is none."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    folder = args[0] if args else "."
    live = live_snakemakes(folder)
    for pid, cmd in live:
        print(f"running: pid {pid}: {cmd}")
    print(f"{len(live)} Snakemake run(s) in {os.path.realpath(folder)}" + ("; wait for it or stop it (Ctrl-C, "
          "kill PID) before --unlock" if live else "; no other run holds the lock: snakemake --unlock is safe"),
          file=sys.stderr)
    return 1 if live else 0


if __name__ == "__main__":
    raise SystemExit(main())
