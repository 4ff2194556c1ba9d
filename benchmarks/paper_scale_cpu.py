"""The paper-scale CIFAR-10-LT run on a CPU (EOS paper Table II, cross-entropy row), with the project's own
command, and its numbers next to the paper's.

    .venv/bin/python benchmarks/paper_scale_cpu.py [--run-dir benchmarks/paper_scale_cpu] [--cuts 0]
        [--precision auto [bf16 ...]] [--epochs 200] [--seed 0] [--cores 2] [--runs own authors]
        [--results results/paper_scale_cpu] [--dry-run]

The precision check (fp32 vs bf16 at reduced scale; results/precision_check):

    .venv/bin/python benchmarks/paper_scale_cpu.py --runs own --epochs 30 --cuts 0 10 \
        --precision fp32 bf16 --run-dir /tmp/psc30 --results results/precision_check/seed0
    .venv/bin/python benchmarks/paper_scale_cpu.py --runs own --epochs 30 --cuts 0 --seed 1 \
        --precision fp32 bf16 --run-dir /tmp/psc30s1 --results results/precision_check/seed1

(``--seed`` seeds initialisation, batch order, augmentation, samplers and heads, not the cut's draw of
images: two seeds at one cut measure the seed noise a precision must stay within.)

What it does:
1. (run ``own``) writes ``<run-dir>/config.yaml`` from ``benchmarks/paper_scale_cpu.yaml`` (configs/paper.yaml's CIFAR-10
   protocol: exp 100:1, ResNet-32, 200 epochs, batch 128, the authors' schedule and normalisation; loss ce;
   the paper's four samplers plus cRT and tau-norm) with the CIFAR-10 PNG copy of ``--shared`` as an
   ``imagefolder`` source, the cuts and the precision asked for;
2. runs ``nice snakemake --cores N reports/table2.csv`` there (a killed run resumes from the backbone's
   per-epoch checkpoint when started again with the same arguments);
3. (run ``authors``) the same in ``<run-dir>-authors``, but the cut-0 backbone imported from the authors'
   published network (``authors_checkpoints/cifar10/no_augcifar10_mod_133_0.pth``) instead of trained: its
   baseline is the paper's own number (.7256 / .8387 / .7246), its heads are retrained by the project;
4. prints, per method, BAC / GM / FM of each run next to the paper's Table II CE row for CIFAR-10, the
   training time and images/s of each backbone (from its epoch log), and copies the small result files
   (Table II CSV/Markdown, metrics, epoch log, run logs, Snakemake benchmark files, the config, the
   comparison) to ``--results``.

Differences from the paper's protocol (also in docs/paper-scale-cpu.md): the PNG folders lose CIFAR-10's
original order, so the cut's training images are another draw than LDAM-DRW's; the backbone of the final
epoch is kept (``select_on: final``) instead of the authors' best-test-F1 epoch; bf16 where the CPU has it.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "benchmarks" / "paper_scale_cpu.yaml"
PAPER = REPO / "workflow" / "resources" / "paper_eos_table2.csv"
AUTHORS_BASE_CUT0 = "authors_checkpoints/cifar10/no_augcifar10_mod_133_0.pth"
METHODS = ("baseline", "smote", "bsmote", "balsvm", "eos", "crt", "tau_norm")
METRICS = {"bac": "BAC", "gm_authors": "GM", "fm_authors": "FM"}


def write_config(run_dir: Path, shared: Path, cuts: list[int], prec: str, authors: bool, epochs: int,
                 seed: int | None = None) -> Path:
    cfg = yaml.safe_load(TEMPLATE.read_text())
    cfg["cuts"] = cuts
    if seed is not None:
        cfg["seed"] = seed
    cfg["backbone_training"]["precision"] = prec
    cfg["backbone_training"]["epochs"] = epochs  # the schedule's milestones scale with it (core.training)
    ds = cfg["datasets"]["cifar10"]
    ds["path"] = str((shared / "data" / "cifar10").resolve())
    if authors:
        ds["checkpoints"] = {"base": {"0": str((shared / "data" / AUTHORS_BASE_CUT0).resolve())}}
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run(run_dir: Path, cores: int, dry: bool) -> None:
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    cmd = ["nice", "-n", "10", snakemake, "-s", str(REPO / "Snakefile"), "--directory", str(run_dir),
           "--cores", str(cores), "reports/table2.csv"] + (["-n"] if dry else [])
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def metrics_of(run_dir: Path, cuts: list[int]) -> pd.Series:
    """BAC / GM / FM per (method, metric), the mean over ``cuts``."""
    files = [run_dir / f"data/metrics/cifar10/cut{c}/ce/metrics.csv" for c in cuts]
    m = pd.concat([pd.read_csv(f) for f in files if f.exists()], ignore_index=True)
    return m[m["metric"].isin(list(METRICS))].groupby(["method", "metric"])["value"].mean()


def per_cut_bac(runs: dict, cuts: list[int]) -> str:
    """Markdown: BAC of every method per run and cut, and per pair of runs the largest |difference| at the
    same cut next to the largest cut-to-cut |difference| within one run (the noise a precision must stay in)."""
    table = {}
    for label, (d, _) in runs.items():
        for c in cuts:
            f = d / f"data/metrics/cifar10/cut{c}/ce/metrics.csv"
            if f.exists():
                m = pd.read_csv(f)
                table[f"{label} cut {c}"] = m[m["metric"] == "bac"].groupby("method")["value"].mean()
    if not table:
        return ""
    df = pd.DataFrame(table).reindex(list(METHODS)).dropna(how="all")
    out = ["| method | " + " | ".join(df.columns) + " |", "|---|" + "---|" * len(df.columns)]
    out += ["| " + meth + " | " + " | ".join("—" if pd.isna(v) else f"{v:.4f}" for v in row) + " |"
            for meth, row in df.iterrows()]
    labels = list(runs)
    notes = []
    for a in labels:
        cols = [f"{a} cut {c}" for c in cuts if f"{a} cut {c}" in df]
        if len(cols) > 1:
            spread = (df[cols].max(axis=1) - df[cols].min(axis=1))
            notes.append(f"- {a}: cut-to-cut BAC spread per method: max {spread.max():.4f}, mean {spread.mean():.4f}")
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            diffs = pd.concat([(df[f"{a} cut {c}"] - df[f"{b} cut {c}"]) for c in cuts
                               if f"{a} cut {c}" in df and f"{b} cut {c}" in df], axis=1)
            if diffs.size:
                notes.append(f"- {a} - {b} at the same cut: max |difference| {diffs.abs().max().max():.4f}, "
                             f"mean {diffs.stack().mean():+.4f} (over {diffs.notna().sum().sum()} method-cuts)")
    return "\n".join(out) + "\n\n" + "\n".join(notes) + "\n"


def training_time(run_dir: Path, cuts: list[int]) -> list[str]:
    lines = []
    for c in cuts:
        log = run_dir / f"data/backbones/cifar10/cut{c}/ce/training_log.csv"
        idx = run_dir / f"data/imbalanced/cifar10/cut{c}/train_indices.csv"
        if not log.exists():
            lines.append(f"cut {c}: no epoch log (backbone imported or not trained)")
            continue
        h = pd.read_csv(log)
        if "seconds" not in h.columns:
            lines.append(f"cut {c}: backbone imported, not trained here")
            continue
        n = len(pd.read_csv(idx))
        s = float(h["seconds"].sum())
        lines.append(f"cut {c}: {len(h)} epochs of {n} images in {s / 60:.1f} min ({n * len(h) / s:.0f} images/s "
                     f"through the whole loop; median epoch {h['seconds'].median():.1f} s); final train acc "
                     f"{h['train_acc'].iloc[-1]:.4f}")
    return lines


def comparison(runs: dict, cuts: list[int]) -> str:
    paper = pd.read_csv(PAPER, comment="#")
    paper = paper[(paper["dataset"] == "cifar10") & (paper["loss"] == "ce")].set_index("method")
    heads = ["method"] + [f"{label} {m}" for label in ["paper", *runs] for m in METRICS.values()]
    rows = []
    for meth in METHODS:
        cells = [meth]
        for m in METRICS.values():
            v = paper[m.lower()].get(meth) if m.lower() in paper.columns else None
            cells.append("—" if v is None or pd.isna(v) else f"{v:.4f}")
        for stats in runs.values():
            for key in METRICS:
                v = stats.get((meth, key))
                cells.append("—" if v is None else f"{v:.4f}")
        rows.append(cells)
    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", type=Path, default=REPO / "benchmarks" / "paper_scale_cpu")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--cuts", type=int, nargs="+", default=[0])
    ap.add_argument("--precision", nargs="+", default=["auto"], choices=("auto", "fp32", "bf16"),
                    help="several: one own run per precision, in <run-dir>-<precision>")
    ap.add_argument("--epochs", type=int, default=200, help="backbone epochs (the schedule scales with them)")
    ap.add_argument("--seed", type=int, default=yaml.safe_load(TEMPLATE.read_text())["seed"],
                    help="the config's seed (training, samplers, heads; not the cut's draw); default: the template's")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--runs", nargs="+", choices=("own", "authors"), default=["own", "authors"],
                    help="own: the backbone trained here; authors: the authors' cut-0 base network imported")
    ap.add_argument("--results", type=Path, default=REPO / "results" / "paper_scale_cpu")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    if not (a.shared / "data" / "cifar10" / "train").is_dir():
        ap.error(f"--shared {a.shared} not allowed; allowed: a folder holding data/cifar10/train (the PNG copy)")
    if a.epochs < 1:
        ap.error(f"--epochs {a.epochs} not allowed; allowed: an integer >= 1")
    if a.seed < 0:
        ap.error(f"--seed {a.seed} not allowed; allowed: an integer >= 0")
    several = len(a.precision) > 1
    runs = {}  # label -> (run folder, precision)
    if "own" in a.runs:
        for prec in a.precision:
            runs[f"own {prec}" if several else "own"] = (
                a.run_dir.with_name(f"{a.run_dir.name}-{prec}") if several else a.run_dir, prec)
    if "authors" in a.runs:
        runs["authors' network"] = (a.run_dir.with_name(a.run_dir.name + "-authors"), a.precision[0])
    own = [label for label in runs if label.startswith("own")]
    for label, (d, prec) in runs.items():
        write_config(d, a.shared, a.cuts if label in own else [0], prec, label not in own, a.epochs, a.seed)
        run(d, a.cores, a.dry_run)
    if a.dry_run:
        return
    stats = {label: metrics_of(d, a.cuts if label in own else [0]) for label, (d, _) in runs.items()}
    text = ["# CIFAR-10-LT (exp 100:1), ResNet-32, cross-entropy: EOS paper Table II next to this project's runs",
            "", (f"Cuts of the own run: {a.cuts} (mean where several). " if own else "")
            + f"Backbone epochs: {a.epochs}. Seed: {a.seed}. Precision setting: {' '.join(a.precision)}. Machine: "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs. Command: "
            f"benchmarks/paper_scale_cpu.py {' '.join(sys.argv[1:])}", "",
            comparison(stats, a.cuts)]
    if len(a.cuts) > 1 or several:
        text += ["## BAC per cut", "", per_cut_bac({k: runs[k] for k in own}, a.cuts)]
    text += ["## Backbone training", ""]
    text += [f"- {label}: {line}" for label, (d, _) in runs.items() for line in training_time(d, a.cuts)]
    report = "\n".join(text) + "\n"
    print(report)
    a.results.mkdir(parents=True, exist_ok=True)
    (a.results / "comparison.md").write_text(report)
    for label, (d, _) in runs.items():
        dest = a.results / (label.replace(" ", "_") if label in own else "authors")
        for pattern in ("config.yaml", "reports/table2.*", "data/metrics/**/*.csv", "data/backbones/**/*.csv",
                        "logs/**/*.log", "benchmarks/**/*.tsv"):
            for f in d.glob(pattern):
                target = dest / f.relative_to(d)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
    print(f"results copied to {os.path.relpath(a.results, REPO)}")


if __name__ == "__main__":
    main()
