# EOS paper figures and Table I / run-time table; each a PNG (or table) plus the CSV of what it shows.

from pipeline_lib.infra.config import check_analysis


def run_files(dataset, cut, loss, keys):
    """The files of one run (dataset x cut x loss) under ``keys`` (train, test, backbone, oversampled, heads)."""
    base = f"{dataset}/cut{cut}/{loss}"
    files = {
        "train": f"data/embeddings/{base}/train.parquet",
        "test": f"data/embeddings/{base}/test.parquet",
        "backbone": f"data/backbones/{base}/backbone.pt",
        "oversampled": {s: f"data/oversampled/{base}/{method_folder(s)}.parquet" for s in SAMPLERS},
        "heads": {s: f"data/heads/{base}/{method_folder(s)}/head.pt" for s in SAMPLERS},
    }
    return {k: files[k] for k in keys}


def dataset_runs(dataset):
    """(dataset, cut, loss) of every run of one dataset, in figure order."""
    return [(dataset, c, l) for l in LOSSES for c in CUTS]


def runs_input(runs, keys):
    """Named inputs ``runs/<i>/<key>[/<sampler>]`` of runs [(dataset, cut, loss)], for ``unpack``; the
    script rebuilds the runs with pipeline_lib.infra.namedfiles.runs(snakemake.input, snakemake.params.runs)."""
    return flatten({"runs": [run_files(d, c, l, keys) for d, c, l in runs]})


def tsne_choice():
    """(dataset, loss, cut) of Fig. 6 (its classes are resolved at run time from the class names)."""
    t = config["analysis"]["tsne"]
    return t.get("dataset", DATASETS[0]), t["loss"], CUTS[0]


def need_analysis(target):
    try:
        check_analysis(run_config())
    except ConfigError as err:
        raise WorkflowError(f"{target}: {err}")


def _tsne_run():
    need_analysis("reports/fig6.png")
    dataset, loss, cut = tsne_choice()
    return [(dataset, cut, loss)]


def _curve_runs():
    need_analysis("reports/fig7.png")
    loss = config["analysis"]["head_curve"]["loss"]
    return [(d, CUTS[0], loss) for d in DATASETS]


def runtime_benchmarks():
    """{dataset: {pipeline: [benchmark tsv, ...]}}: the stages of each pipeline, all cuts."""
    need_loss("ce", "reports/runtime.csv")
    out = {}
    for d in DATASETS:
        pipes = {}
        for m in PIXEL_METHODS:
            files = [f"benchmarks/train_pixel_backbone/{d}_cut{c}_{m}.tsv" for c in CUTS]
            if m != "remix":
                files += [f"benchmarks/oversample_pixels/{d}_cut{c}_{m}.tsv" for c in CUTS]
            pipes[f"pixel_{m}" if m != "remix" else "remix"] = files
        if "eos" in SAMPLERS:
            pipes["three_phase_eos"] = [f for c in CUTS for f in (
                f"benchmarks/train_backbone/{d}_cut{c}_ce.tsv", f"benchmarks/export_embeddings/{d}_cut{c}_ce.tsv",
                f"benchmarks/oversample_embeddings/{d}_cut{c}_ce_{method_folder('eos')}.tsv",
                f"benchmarks/retrain_head/{d}_cut{c}_ce_{method_folder('eos')}.tsv")]
        for g in GAN_METHODS:  # the GAN, the balanced set, the CE backbone trained on it (Table III, RQ4)
            pipes[f"gan_{g}"] = [f for c in CUTS for f in (
                f"benchmarks/train_gan/{d}_cut{c}_{g}.tsv", f"benchmarks/sample_gan/{d}_cut{c}_{g}.tsv",
                f"benchmarks/train_gan_backbone/{d}_cut{c}_{g}_ce.tsv")]
        out[d] = pipes
    return out


rule fig3_generalization_gap:
    input:
        unpack(lambda wc: runs_input(dataset_runs(wc.dataset), ["train", "test", "oversampled"])),
    output:
        png=report("reports/fig3_{dataset}.png", caption="../report/fig3.rst", category="EOS paper",
                   subcategory="Fig. 3", labels={"figure": "3", "dataset": "{dataset}"}),
        csv="reports/fig3_{dataset}.csv",
    log:
        "logs/fig3_generalization_gap/{dataset}.log",
    benchmark:
        "benchmarks/fig3_generalization_gap/{dataset}.tsv"
    params:
        runs=lambda wc: runs_meta(dataset_runs(wc.dataset)),
        methods=METHODS,
        title=lambda wc: TITLES[wc.dataset],
        code=code("fig3_generalization_gap.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    localrule: True
    script:
        "../scripts/fig3_generalization_gap.py"


rule fig4_gap_tp_fp:
    input:
        unpack(lambda wc: runs_input([r for d in DATASETS for r in dataset_runs(d)], ["train", "test"])),
    output:
        png=report("reports/fig4.png", caption="../report/fig4.rst", category="EOS paper", subcategory="Fig. 4",
                   labels={"figure": "4"}),
        csv="reports/fig4.csv",
    log:
        "logs/fig4_gap_tp_fp/fig4.log",
    benchmark:
        "benchmarks/fig4_gap_tp_fp/fig4.tsv"
    params:
        runs=runs_meta([r for d in DATASETS for r in dataset_runs(d)]),
        titles={d: TITLES[d] for d in DATASETS},
        code=code("fig4_gap_tp_fp.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    localrule: True
    script:
        "../scripts/fig4_gap_tp_fp.py"


rule fig5_weight_norms:
    input:
        unpack(lambda wc: runs_input(dataset_runs(wc.dataset), ["backbone", "heads"])),
    output:
        png=report("reports/fig5_{dataset}.png", caption="../report/fig5.rst", category="EOS paper",
                   subcategory="Fig. 5", labels={"figure": "5", "dataset": "{dataset}"}),
        csv="reports/fig5_{dataset}.csv",
    log:
        "logs/fig5_weight_norms/{dataset}.log",
    benchmark:
        "benchmarks/fig5_weight_norms/{dataset}.tsv"
    params:
        runs=lambda wc: runs_meta(dataset_runs(wc.dataset)),
        methods=METHODS,
        title=lambda wc: TITLES[wc.dataset],
        code=code("fig5_weight_norms.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/fig5_weight_norms.py"


rule fig6_tsne:
    input:
        unpack(lambda wc: runs_input(_tsne_run(), ["train", "oversampled"])),
    output:
        png=report("reports/fig6.png", caption="../report/fig6.rst", category="EOS paper", subcategory="Fig. 6",
                   labels={"figure": "6"}),
        csv="reports/fig6.csv",
    log:
        "logs/fig6_tsne/fig6.log",
    benchmark:
        "benchmarks/fig6_tsne/fig6.tsv"
    params:
        runs=lambda wc: runs_meta(_tsne_run()),
        methods=METHODS,
        tsne=dict(config["analysis"]["tsne"]),
        title=lambda wc: TITLES[tsne_choice()[0]],
        seed=config["seed"],
        code=code("fig6_tsne.py"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/fig6_tsne.py"


rule fig7_head_curve:
    input:
        unpack(lambda wc: runs_input(_curve_runs(), ["test", "oversampled"])),
    output:
        png=report("reports/fig7.png", caption="../report/fig7.rst", category="EOS paper", subcategory="Fig. 7",
                   labels={"figure": "7"}),
        csv="reports/fig7.csv",
    log:
        "logs/fig7_head_curve/fig7.log",
    benchmark:
        "benchmarks/fig7_head_curve/fig7.tsv"
    params:
        runs=lambda wc: runs_meta(_curve_runs()),
        titles={d: TITLES[d] for d in DATASETS},
        curve=dict(config["analysis"]["head_curve"]),
        head_training=HEAD_TRAINING,
        head_loss=head_loss(config["analysis"]["head_curve"]["loss"]),
        loss_options=loss_options_of(head_loss(config["analysis"]["head_curve"]["loss"])),
        seed=config["seed"],
        code=code("fig7_head_curve.py"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/fig7_head_curve.py"


rule table1:
    input:
        table1_inputs,
    output:
        csv=report("reports/table1.csv", caption="../report/table1.rst", category="EOS paper",
                   subcategory="Table I", labels={"table": "I"}),
        md="reports/table1.md",
    log:
        "logs/table1/table1.log",
    benchmark:
        "benchmarks/table1/table1.tsv"
    params:
        datasets=DATASETS,
        methods=[f"pre_{m}" for m in PIXEL_METHODS] + [s for s in ("smote", "bsmote", "balsvm") if s in SAMPLERS],
        titles=TITLES,
        code=code("table1.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table1.py"


rule runtime_table:
    input:
        unpack(lambda wc: flatten({"benchmarks": runtime_benchmarks()})),
    output:
        report("reports/runtime.csv", caption="../report/runtime.rst", category="EOS paper",
               subcategory="Efficiency", labels={"table": "run time"}),
    log:
        "logs/runtime_table/runtime.log",
    benchmark:
        "benchmarks/runtime_table/runtime.tsv"
    params:
        code=code("runtime_table.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/runtime_table.py"


rule eos_paper:
    input:
        "reports/table1.csv",
        "reports/table2.csv",
        "reports/table2_class_counts.csv",
        "reports/table2_shots.csv",
        expand("reports/fig3_{dataset}.png", dataset=DATASETS),
        "reports/fig4.png",
        expand("reports/fig5_{dataset}.png", dataset=DATASETS),
        "reports/fig6.png",
        "reports/fig7.png",
        "reports/runtime.csv",
        "reports/table3.csv",
        expand("reports/fig_gan_samples_{dataset}.png", dataset=DATASETS),
        "reports/table4.csv",
        "reports/table5.csv",
        "reports/pixel_eos.csv",
        "reports/eos_variants.csv",
