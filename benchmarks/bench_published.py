"""Paper-scale regression check: the CNN analyses of the authors' 15 published CIFAR-10-LT ResNet-32s.

Runs ``snakemake da_images magnitude_images fragility`` on benchmarks/authors_cifar10.yaml (Base, ROS, REMIX,
DSM, EOS x cuts 0 / 10 / 100 imported from ../shared/data/authors_checkpoints/cifar10, the real CIFAR-10
images of ../shared/data/cifar10; nothing trained) in a work folder of its own, then prints

* the whole run's wall time and the CPU time (user, sys) of all its jobs (getrusage of the children),
* per rule: jobs, wall and CPU seconds, from the Snakemake ``benchmark:`` files of the run,
* the published numbers it reproduces next to ours (DA Table V BAC / FM, Table VIII, Table XI; the scorecard
  of pipeline_lib.scorecard.paper_check) and Magnitude Fig. 1 per class (the paper prints no number, only the claim
  that 12 % or fewer of the classification embeddings suffice).

    python benchmarks/bench_published.py                     # the run (minutes on 2 cores)
    python benchmarks/bench_published.py -n                  # the plan only (snakemake -n)
    python benchmarks/bench_published.py --report-only DIR   # the tables of a finished run

It is a benchmark, not a test (tests/test_bench_published.py covers its code on tiny files).  A second run
in the same folder does nothing (Snakemake finds every output); delete the folder to measure again.
"""
from __future__ import annotations

import argparse
import glob
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "benchmarks" / "authors_cifar10.yaml"
TARGETS = ["da_images", "magnitude_images", "fragility"]
TABLES = {"da_table5": "reports/da/table5.csv", "da_table8": "reports/da/table8.csv",
          "da_table11": "reports/da/table11.csv"}
FIG1_CLAIM = 12.0  # "12% or fewer" of the CE suffice (the Magnitude paper's Fig. 1 caption)


def absolute_config(path=CONFIG, base=REPO) -> dict:
    """The config with its data and checkpoint paths made absolute (relative paths are relative to ``base``)."""
    cfg = yaml.safe_load(Path(path).read_text())

    def absolute(p):
        return str(p) if os.path.isabs(str(p)) else str((Path(base) / p).resolve())

    for ds in cfg["datasets"].values():
        if "path" in ds:
            ds["path"] = absolute(ds["path"])
        for model, cuts in (ds.get("checkpoints") or {}).items():
            ds["checkpoints"][model] = {c: absolute(p) for c, p in cuts.items()}
    return cfg


def rule_times(workdir) -> pd.DataFrame:
    """Per rule of a finished run: jobs, wall_s (sum), wall_max_s, cpu_s (sum), from benchmarks/<rule>/*.tsv."""
    rows = []
    for path in sorted(glob.glob(os.path.join(workdir, "benchmarks", "**", "*.tsv"), recursive=True)):
        rule = Path(path).relative_to(Path(workdir) / "benchmarks").parts[0]
        t = pd.read_csv(path, sep="\t")
        rows += [{"rule": rule, "wall_s": float(r["s"]), "cpu_s": float(r["cpu_time"])} for _, r in t.iterrows()]
    if not rows:
        return pd.DataFrame(columns=["rule", "jobs", "wall_s", "wall_max_s", "cpu_s"])
    df = pd.DataFrame(rows)
    out = df.groupby("rule", sort=False).agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"),
                                              wall_max_s=("wall_s", "max"), cpu_s=("cpu_s", "sum")).reset_index()
    return out.sort_values("wall_s", ascending=False, kind="stable").reset_index(drop=True)


def published_vs_ours(workdir, dataset: str = "cifar10") -> pd.DataFrame:
    """The scorecard rows of DA Tables V, VIII, XI for ``dataset``: published, reproduced, difference."""
    from pipeline_lib.scorecard import paper_check

    published = paper_check.load_published(REPO / "workflow" / "resources")
    parts = [paper_check.ADAPTERS[key](pd.read_csv(Path(workdir) / path)) for key, path in TABLES.items()
             if (Path(workdir) / path).exists()]
    reproduced = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=paper_check.REPRODUCED_COLUMNS)
    settings = {dataset: {"paper_dataset": dataset, "match": True, "why": "the authors' networks"}}
    card = paper_check.scorecard(published, reproduced, settings)
    card = card[(card["paper"] == "da") & card["table"].isin(["table5", "table8", "table11"])
                & (card["dataset"] == dataset)]
    return card[["table", "method", "metric", "published", "reproduced", "difference", "status"]].reset_index(drop=True)


def fig1_per_class(workdir) -> pd.DataFrame:
    """Magnitude Fig. 1: mean over cuts of the % of CE needed, models x classes, and the max vs the claim."""
    fig1 = pd.read_csv(Path(workdir) / "reports" / "magnitude" / "fig1.csv")
    t = fig1.pivot_table(index="model", columns="class", values="pct", aggfunc="mean", sort=False)
    t.columns = [f"class {c}" for c in t.columns]
    t["max"] = t.max(axis=1)
    t[f"<= {FIG1_CLAIM:g} % (paper)"] = t["max"] <= FIG1_CLAIM
    return t.reset_index()


def report(workdir) -> str:
    parts = []
    times = rule_times(workdir)
    if len(times):
        parts.append("per rule (Snakemake benchmark files): jobs, wall s (sum, max), CPU s (sum)\n"
                     + times.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    if any((Path(workdir) / p).exists() for p in TABLES.values()):
        parts.append("published vs reproduced (DA Tables V, VIII, XI; CIFAR-10)\n"
                     + published_vs_ours(workdir).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if (Path(workdir) / "reports" / "magnitude" / "fig1.csv").exists():
        parts.append("Magnitude Fig. 1: % of CE needed per class (mean over cuts)\n"
                     + fig1_per_class(workdir).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return "\n\n".join(parts)


def snakemake(workdir, cores: int, *args) -> subprocess.CompletedProcess:
    exe = shutil.which("snakemake", path=os.path.dirname(sys.executable)) or "snakemake"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run([exe, "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", str(cores),
                           *args, *TARGETS], env=env)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", default=str(REPO / "benchmarks" / "published_run"), help="work folder (created)")
    ap.add_argument("--config", default=str(CONFIG))
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("-n", "--dry-run", action="store_true", help="show the plan only")
    ap.add_argument("--report-only", metavar="DIR", help="print the tables of a finished run in DIR")
    a = ap.parse_args(argv)
    if a.report_only:
        print(report(a.report_only))
        return 0
    wd = Path(a.workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    (wd / "config.yaml").write_text(yaml.safe_dump(absolute_config(a.config)))
    if a.dry_run:
        return snakemake(wd, a.cores, "-n").returncode
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    proc = snakemake(wd, a.cores)
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    user, sys_ = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(f"\nsnakemake --cores {a.cores} {' '.join(TARGETS)}: exit {proc.returncode}, wall {wall:.1f} s, "
          f"CPU user {user:.1f} s + sys {sys_:.1f} s (sys {100 * sys_ / max(user + sys_, 1e-9):.1f} % of CPU)")
    print(report(wd))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
