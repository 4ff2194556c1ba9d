"""Damaged intermediates: what each job wrote (size + sha256), which input of a failed job is damaged, and the
command that rebuilds it.

Every workflow script starts with :func:`pipeline_lib.infra.runlog.start`, which calls :func:`watch_job`: when
the script ends without an exception, every output file gets a record ``logs/checksums/<path>.json``
(size, sha256, the rule, and how to call Snakemake again); when it fails, each of its inputs is checked
(:func:`damage`) and a damaged one is named on the console and in the log, in one line, with the rule that
writes it and the command that rebuilds it (:func:`damage_line`).  ``python -m pipeline_lib.infra.integrity``
(``make verify``) checks every file under ``data/`` and ``reports/`` the same way, so that a damaged file
is found where Snakemake sees nothing to do.

    record_outputs   paths -> their records
    damage           a file -> why it is damaged (size / sha256 against its record, then its format), or None
    producer         the rule that wrote a file (its record, else Snakemake's own metadata)
    rebuild_command  ``snakemake --cores 1 --force <file>`` (with the run's --configfile / -s / --directory)
    verify           every damaged file under some folders, as lines
"""
from __future__ import annotations

import base64
import json
import os
import shlex
import zipfile

RECORDS = os.path.join("logs", "checksums")
ENV = "PIPELINE_REBUILD"  # set by the workflow (common.smk): {"snakefile": ..., "configfiles": [...]}
ZIP_SUFFIXES = (".pt", ".pth", ".npz")


def record_path(path: str) -> str:
    return os.path.join(RECORDS, os.path.normpath(str(path)) + ".json")


def _sha256(path: str) -> str:
    from ..core.embeddings import file_sha256

    return file_sha256(path)


def _files(paths) -> list[str]:
    """The files among ``paths``, a directory's files included."""
    out = []
    for p in map(str, paths):
        if os.path.isdir(p):
            out += sorted(os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs)
        elif os.path.isfile(p):
            out.append(p)
    return out


def _call() -> dict:
    try:
        return json.loads(os.environ.get(ENV, "") or "{}")
    except ValueError:
        return {}


def set_rebuild_call(snakefile: str, configfiles=None) -> None:
    """Called by the workflow when it plans: the Snakefile and the --configfile files of this run, which the
    jobs (they inherit the environment) write into their records for the rebuild command."""
    os.environ[ENV] = json.dumps({"snakefile": os.path.abspath(str(snakefile)),
                                  "configfiles": [os.path.abspath(str(c)) for c in configfiles or []]})


def record_outputs(paths, rule: str) -> None:
    """Write the record of each output file (size, sha256, ``rule``, the Snakemake call's files)."""
    call = _call()
    for p in _files(paths):
        rec = {"size": os.path.getsize(p), "sha256": _sha256(p), "rule": rule, **call}
        target = record_path(p)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(rec, fh)
        os.replace(tmp, target)


def read_record(path: str) -> dict | None:
    try:
        with open(record_path(path)) as fh:
            rec = json.load(fh)
        return rec if isinstance(rec, dict) else None
    except (OSError, ValueError):
        return None


def _format_damage(path: str) -> str | None:
    """Why ``path`` cannot be opened as what its suffix says (Parquet, a torch / numpy zip), or None."""
    if path.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq

            pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - any failure to read is the damage
            return f"not a readable Parquet file: {type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
    elif path.endswith(ZIP_SUFFIXES):
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
            if bad:
                return f"its member {bad} fails its CRC check"
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            return f"not a readable zip archive ({' '.join(str(exc).split())[:120]})"
    return None


def damage(path: str) -> str | None:
    """Why the file ``path`` is damaged: its size or sha256 differs from what its producer recorded, or it
    does not open as its format (Parquet, ``.pt`` / ``.pth`` / ``.npz`` zips); None when it is fine."""
    path = str(path)
    rec = read_record(path)
    if rec is not None:
        size = os.path.getsize(path)
        if size != rec.get("size"):
            return f"{size} bytes, its producer wrote {rec.get('size')}"
        if _sha256(path) != rec.get("sha256"):
            return "its sha256 differs from the one its producer recorded"
    return _format_damage(path)


def producer(path: str) -> str | None:
    """The rule that wrote ``path``: from its record, else from Snakemake's metadata (.snakemake/metadata)."""
    rec = read_record(path)
    if rec and rec.get("rule"):
        return rec["rule"]
    name = base64.urlsafe_b64encode(os.path.normpath(str(path)).encode()).decode()
    try:
        with open(os.path.join(".snakemake", "metadata", name)) as fh:
            return json.load(fh).get("rule")
    except (OSError, ValueError):
        return None


def _snakemake() -> str:
    """'snakemake' where that is the one beside this Python (a virtualenv's), else that one's full path."""
    import shutil
    import sys

    here = os.path.join(os.path.dirname(sys.executable), "snakemake")
    found = shutil.which("snakemake")
    if not os.path.exists(here) or (found and os.path.samefile(found, here)):
        return "snakemake"
    return here


def rebuild_command(path: str) -> str:
    """The command that rebuilds ``path`` alone (its consumers follow on the next run): Snakemake forced on
    the file, with the --configfile of the run that wrote it, and -s / --directory when the working folder
    is not the workflow's."""
    rec = read_record(path) or {}
    call = {**rec, **_call()}
    args = [_snakemake(), "--cores", "1"]
    snakefile = call.get("snakefile")
    if snakefile and os.path.abspath(os.path.dirname(snakefile)) != os.path.abspath(os.getcwd()):
        args += ["-s", snakefile, "--directory", os.path.abspath(os.getcwd())]
    for cf in call.get("configfiles") or []:
        args += ["--configfile", cf]
    args += ["--force", str(path)]
    return " ".join(shlex.quote(a) for a in args)


def damage_line(path: str, reason: str) -> str:
    rule = producer(path)
    by = f"written by rule {rule}" if rule else "written by an earlier job"
    return f"{path} is damaged ({reason}); {by}; rebuild it with: {rebuild_command(path)}"


def damaged_inputs(paths) -> list[str]:
    """One :func:`damage_line` for each damaged file among ``paths``."""
    out = []
    for p in _files(paths):
        reason = damage(p)
        if reason:
            out.append(damage_line(p, reason))
    return out


def verify(roots=("data", "reports")) -> list[str]:
    """One :func:`damage_line` for each damaged file under ``roots`` (README files and hidden files left out)."""
    files = [p for p in _files([r for r in roots if os.path.isdir(r)])
             if not os.path.basename(p).startswith(".") and os.path.basename(p) != "README.md"]
    return damaged_inputs(files)


def watch_job(snakemake, console) -> None:
    """Called by ``runlog.start``: at a clean exit record the job's outputs; on an exception name its damaged
    inputs (``console``: one line on the terminal and in the log)."""
    import atexit
    import sys

    state = {"failed": False}
    hook = sys.excepthook

    def on_error(exc_type, exc, tb):
        state["failed"] = True
        hook(exc_type, exc, tb)
        for line in damaged_inputs(list(snakemake.input)):
            console(f"error: {line}")

    def on_exit():
        if not state["failed"]:
            record_outputs(list(snakemake.output), snakemake.rule)

    sys.excepthook = on_error
    atexit.register(on_exit)


def main(argv=None) -> int:
    """``python -m pipeline_lib.infra.integrity [FOLDER ...]`` (default data reports): list damaged files."""
    import sys

    roots = (sys.argv[1:] if argv is None else argv) or ["data", "reports"]
    lines = verify(roots)
    for line in lines:
        print(line)
    print(f"{len(lines)} damaged file(s) under {', '.join(roots)}" if lines else f"no damaged file under "
          f"{', '.join(roots)}", file=sys.stderr)
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
