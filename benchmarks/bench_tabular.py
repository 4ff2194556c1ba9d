"""Wall time of the whole tabular study (da_tabular + magnitude_tabular) from scratch, in a fresh working
directory, with the per-rule sums of Snakemake's benchmark files.

    .venv/bin/python benchmarks/bench_tabular.py --data-home ../shared/data/imblearn [--cores 2] [--runs 0 1 2 3 4]

Without --data-home, imbalanced-learn downloads the data (network needed).
"""
import argparse
import glob
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-home", default=None)
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--runs", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--workdir", default=None, help="keep the run here (default: a temporary folder)")
    args = ap.parse_args()
    wd = Path(args.workdir or tempfile.mkdtemp(prefix="bench_tabular_"))
    wd.mkdir(parents=True, exist_ok=True)
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    home = None if args.data_home is None else str(Path(args.data_home).resolve())
    cfg["tabular"] = {"data_home": home, "download": home is None, "runs": args.runs}
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    cmd = [snakemake, "da_tabular", "magnitude_tabular", "-s", str(REPO / "Snakefile"), "--directory", str(wd),
           "--cores", str(args.cores), "--quiet", "progress"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    per_rule, jobs = defaultdict(float), defaultdict(int)
    for tsv in glob.glob(str(wd / "benchmarks" / "*" / "*.tsv")):
        rule = Path(tsv).parent.name
        with open(tsv) as fh:
            per_rule[rule] += float(fh.read().splitlines()[1].split("\t")[0])
        jobs[rule] += 1
    print(f"host: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"--cores {args.cores}; runs {args.runs}; working directory {wd}")
    print(f"whole tabular study: {wall:.0f} s wall ({wall / 60:.1f} min), {sum(jobs.values())} jobs")
    for rule, s in sorted(per_rule.items(), key=lambda kv: -kv[1]):
        print(f"  {rule:36s} {jobs[rule]:4d} jobs {s:8.1f} s summed job wall time")


if __name__ == "__main__":
    main()
