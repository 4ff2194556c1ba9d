# CNN analyses of "The Hidden Influence of Latent Feature Magnitude" (reports/magnitude/fig1, fig5, table_topk)
# and "Understanding CNN Fragility When Learning With Imbalanced Data" (reports/fragility/*) on the models of
# the image study (workflow/rules/da_images.smk: Base, Balanced, ROS, REMIX, DSM, EOS, trained or imported),
# read from their latents files (workflow/rules/latents.smk), never from the networks: numpy work, one thread.
# One rule per artifact, named after it, with a script of the same name.
from pipeline_lib.core.image_models import LINEAR_HEAD_MODELS

MAG = config["magnitude_images"]
FRAG = config["fragility"]
MAG_REPORT = "Latent Feature Magnitude (images)"
FRAG_REPORT = "CNN Fragility (images)"
CNN_MODELS = [m for m in LINEAR_HEAD_MODELS if m in DA_MODELS]  # the networks with an nn.Linear head


def cnn_runs_input(wildcards):
    """Named inputs ``runs/<i>/...`` of every (data set, cut) of the image study for the Magnitude and
    Fragility analyses: each model's latents files and Balanced's own training draw."""
    runs = []
    for d, c in da_runs():
        files = da_cut_files(d, c, [], keys=())
        files["models"] = {m: latents_files(da_model_files(d, c, m)["predictions"]) for m in CNN_MODELS}
        if "balanced" in CNN_MODELS:
            files["models"]["balanced"]["train_indices"] = f"data/balanced/{d}/cut{c}/train_indices.csv"
        runs.append(files)
    return flatten({"runs": runs})


rule magnitude_fig1_cnn_ce_needed:
    input:
        unpack(cnn_runs_input),
    output:
        png=report("reports/magnitude/fig1.png", caption="../report/magnitude_fig1_cnn_ce_needed.rst", category=MAG_REPORT, subcategory="Fig. 1",
                   labels={"artifact": "fig1"}),
        csv="reports/magnitude/fig1.csv",
    log:
        "logs/magnitude_fig1_cnn_ce_needed/fig1.log",
    benchmark:
        "benchmarks/magnitude_fig1_cnn_ce_needed/fig1.tsv"
    params:
        runs=da_runs_meta(),
        options=dict(bias=MAG["bias"], instances=MAG["instances"]),
        code=code("magnitude_fig1_cnn_ce_needed.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/magnitude_fig1_cnn_ce_needed.py"


rule magnitude_fig5_minority_magnitudes:
    input:
        unpack(cnn_runs_input),
    output:
        png=report("reports/magnitude/fig5.png", caption="../report/magnitude_fig5_minority_magnitudes.rst", category=MAG_REPORT, subcategory="Fig. 5",
                   labels={"artifact": "fig5"}),
        csv="reports/magnitude/fig5.csv",
    log:
        "logs/magnitude_fig5_minority_magnitudes/fig5.log",
    benchmark:
        "benchmarks/magnitude_fig5_minority_magnitudes/fig5.tsv"
    params:
        runs=da_runs_meta(),
        options=dict(value=MAG["value"], instances=MAG["instances"]),
        code=code("magnitude_fig5_minority_magnitudes.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/magnitude_fig5_minority_magnitudes.py"


rule magnitude_table_topk_ce_share:
    input:
        unpack(cnn_runs_input),
    output:
        csv=report("reports/magnitude/table_topk.csv", caption="../report/magnitude_table_topk_ce_share.rst", category=MAG_REPORT, subcategory="top-k CE share",
                   labels={"artifact": "table_topk"}),
        md="reports/magnitude/table_topk.md",
    log:
        "logs/magnitude_table_topk_ce_share/table_topk.log",
    benchmark:
        "benchmarks/magnitude_table_topk_ce_share/table_topk.tsv"
    params:
        runs=da_runs_meta(),
        options=dict(ks=list(MAG["ks"]), instances=MAG["instances"]),
        code=code("magnitude_table_topk_ce_share.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/magnitude_table_topk_ce_share.py"


rule fragility_top_features:
    input:
        unpack(cnn_runs_input),
    output:
        csv=report("reports/fragility/top_features.csv", caption="../report/fragility_top_features.rst", category=FRAG_REPORT, subcategory="class top-K features",
                   labels={"artifact": "top_features"}),
        md="reports/fragility/top_features.md",
    log:
        "logs/fragility_top_features/top_features.log",
    benchmark:
        "benchmarks/fragility_top_features/top_features.tsv"
    params:
        runs=da_runs_meta(),
        options=dict(k=FRAG["k"], split=FRAG["split"], instances=FRAG["instances"]),
        code=code("fragility_top_features.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/fragility_top_features.py"


rule fragility_magnitude_match:
    input:
        unpack(cnn_runs_input),
    output:
        png=report("reports/fragility/magnitude_match.png", caption="../report/fragility_magnitude_match.rst", category=FRAG_REPORT, subcategory="train/test magnitude matching",
                   labels={"artifact": "magnitude_match"}),
        csv="reports/fragility/magnitude_match.csv",
        md="reports/fragility/magnitude_match.md",
    log:
        "logs/fragility_magnitude_match/magnitude_match.log",
    benchmark:
        "benchmarks/fragility_magnitude_match/magnitude_match.tsv"
    params:
        runs=da_runs_meta(),
        options=dict(k=FRAG["k"]),
        code=code("fragility_magnitude_match.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/fragility_magnitude_match.py"


rule fragility_diversity:
    input:
        unpack(cnn_runs_input),
    output:
        csv=report("reports/fragility/diversity.csv", caption="../report/fragility_diversity.rst", category=FRAG_REPORT, subcategory="latent class diversity",
                   labels={"artifact": "diversity"}),
        md="reports/fragility/diversity.md",
    log:
        "logs/fragility_diversity/diversity.log",
    benchmark:
        "benchmarks/fragility_diversity/diversity.tsv"
    params:
        runs=da_runs_meta(),
        options=dict(k=FRAG["k"], n_neighbors=FRAG["n_neighbors"], density=FRAG["density"], test_neighbours=FRAG["test_neighbours"]),
        code=code("fragility_diversity.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/fragility_diversity.py"


rule magnitude_images:
    input:
        "reports/magnitude/fig1.png",
        "reports/magnitude/fig1.csv",
        "reports/magnitude/fig5.png",
        "reports/magnitude/fig5.csv",
        "reports/magnitude/table_topk.csv",
        "reports/magnitude/table_topk.md",


rule fragility:
    input:
        "reports/fragility/top_features.csv",
        "reports/fragility/top_features.md",
        "reports/fragility/magnitude_match.png",
        "reports/fragility/magnitude_match.csv",
        "reports/fragility/magnitude_match.md",
        "reports/fragility/diversity.csv",
        "reports/fragility/diversity.md",
