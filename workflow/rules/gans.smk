# GAN-based oversampling, the EOS paper's Table III baselines (pipeline_lib.sampling.gans): a GAN per data set, cut and
# method is its own cached stage (changing how many images are drawn does not retrain it); sample_gan balances
# the cut with it in the pixel pipeline's format; a backbone per loss is trained on that with the loop, losses
# and schedule of every other backbone (pipeline_lib.core.training.run_stage).


def gan_params(wildcards):
    """train_gan's params: the GAN's options (schema defaults filled), seed, data set name, device."""
    return {"options": dict(GAN_CFG[wildcards.gan]), "seed": config["seed"], "dataset": wildcards.dataset,
            "device": dataset_training(wildcards.dataset)["device"]}


rule train_gan:
    input:
        unpack(cut_data),
    output:
        generator="data/gans/{dataset}/cut{cut}/{gan}/generator.pt",
        history="data/gans/{dataset}/cut{cut}/{gan}/training_log.csv",
    log:
        "logs/train_gan/{dataset}_cut{cut}_{gan}.log",
    benchmark:
        "benchmarks/train_gan/{dataset}_cut{cut}_{gan}.tsv"
    params:
        hp=gan_params,
        code=code("train_gan.py"),
    threads: 1  # small generators: two GANs side by side beat one on two threads
    resources:
        mem_mb=8000,
        runtime=720,
        gpu=1,
    script:
        "../scripts/train_gan.py"


rule sample_gan:
    input:
        unpack(cut_data),
        generator="data/gans/{dataset}/cut{cut}/{gan}/generator.pt",
    output:
        "data/gan_balanced/{dataset}/cut{cut}/{gan}.npz",
    log:
        "logs/sample_gan/{dataset}_cut{cut}_{gan}.log",
    benchmark:
        "benchmarks/sample_gan/{dataset}_cut{cut}_{gan}.tsv"
    params:
        seed=config["seed"],
        code=code("sample_gan.py"),
    threads: 1
    resources:
        mem_mb=16000,
        runtime=60,
    script:
        "../scripts/sample_gan.py"


rule train_gan_backbone:
    input:
        unpack(cut_data),
        balanced="data/gan_balanced/{dataset}/cut{cut}/{gan}.npz",
    output:
        model="data/gan_backbones/{dataset}/cut{cut}/{gan}/{loss}/backbone.pt",
        history="data/gan_backbones/{dataset}/cut{cut}/{gan}/{loss}/training_log.csv",
        predictions="data/gan_backbones/{dataset}/cut{cut}/{gan}/{loss}/test_predictions.parquet",
    log:
        "logs/train_gan_backbone/{dataset}_cut{cut}_{gan}_{loss}.log",
    benchmark:
        "benchmarks/train_gan_backbone/{dataset}_cut{cut}_{gan}_{loss}.tsv"
    params:
        hp=backbone_params,
        code=code("train_gan_backbone.py"),
    threads: 4
    resources:
        mem_mb=16000,
        runtime=1440,
        gpu=1,
    script:
        "../scripts/train_gan_backbone.py"


rule table3:
    input:
        unpack(lambda wc: records_input(table3_records())),
    output:
        csv=report("reports/table3.csv", caption="../report/table3.rst", category="EOS paper",
                   subcategory="Table III", labels={"table": "III"}),
        md="reports/table3.md",
    log:
        "logs/table3/table3.log",
    benchmark:
        "benchmarks/table3/table3.tsv"
    params:
        records=records_meta(table3_records()),
        titles=TITLES,
        k=EOS_OPTIONS["k_neighbors"],
        code=code("table3.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table3.py"


rule fig_gan_samples:
    input:
        images=lambda wc: cut_files(wc.dataset, CUTS[0])["images"],
        indices=lambda wc: cut_files(wc.dataset, CUTS[0])["indices"],
        generators=lambda wc: [f"data/gans/{wc.dataset}/cut{CUTS[0]}/{g}/generator.pt" for g in GAN_METHODS],
    output:
        png=report("reports/fig_gan_samples_{dataset}.png", caption="../report/fig_gan_samples.rst",
                   category="EOS paper", subcategory="Table III", labels={"figure": "GAN samples {dataset}"}),
        csv="reports/fig_gan_samples_{dataset}.csv",
    log:
        "logs/fig_gan_samples/{dataset}.log",
    benchmark:
        "benchmarks/fig_gan_samples/{dataset}.tsv"
    params:
        gans=GAN_METHODS,
        per_class=GAN_CFG["samples_per_class"],
        seed=config["seed"],
        title=lambda wc: f"{TITLES[wc.dataset]}, cut {CUTS[0]}: real training images and GAN samples",
        code=code("fig_gan_samples.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/fig_gan_samples.py"
