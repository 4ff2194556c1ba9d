# Phase 3: retrain a fresh linear head on the (oversampled) embeddings, predict the test embeddings.


def head_params(wildcards):
    loss = head_loss(wildcards.loss)
    return {"loss": loss, "training": HEAD_TRAINING, "loss_options": loss_options_of(loss), "seed": config["seed"]}


def tau_norm_params():
    """tau_normalise's params: the tau grid, the held-out share of the train embeddings, the seed."""
    return {"taus": [float(t) for t in BASELINES["tau_grid"]], "holdout": float(BASELINES["tau_holdout"]),
            "seed": config["seed"]}


def logit_adjust_params(wildcards):
    """logit_adjust's params: tau-norm's grid, held-out share and seed, and LDAM's logit scale s (its cosine
    head's logits are s cos)."""
    return {**tau_norm_params(), "cosine_scale": float(config["loss_options"]["ldam"]["s"])}


rule retrain_head:
    input:
        train="data/oversampled/{dataset}/cut{cut}/{loss}/{sampler}.parquet",
        test="data/embeddings/{dataset}/cut{cut}/{loss}/test.parquet",
    output:
        head="data/heads/{dataset}/cut{cut}/{loss}/{sampler}/head.pt",
        predictions="data/heads/{dataset}/cut{cut}/{loss}/{sampler}/test_predictions.parquet",
        history="data/heads/{dataset}/cut{cut}/{loss}/{sampler}/training_log.csv",
    log:
        "logs/retrain_head/{dataset}_cut{cut}_{loss}_{sampler}.log",
    benchmark:
        "benchmarks/retrain_head/{dataset}_cut{cut}_{loss}_{sampler}.tsv"
    params:
        hp=head_params,
        code=code("retrain_head.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/retrain_head.py"


# Kang et al.'s tau-normalisation: the phase-1 head, each class vector divided by its norm^tau (bias dropped),
# tau chosen on a held-out share of the train embeddings; written where evaluate_run reads a sampler's head.


rule tau_normalise:
    input:
        backbone="data/backbones/{dataset}/cut{cut}/{loss}/backbone.pt",
        train="data/embeddings/{dataset}/cut{cut}/{loss}/train.parquet",
        test="data/embeddings/{dataset}/cut{cut}/{loss}/test.parquet",
    output:
        head="data/heads/{dataset}/cut{cut}/{loss}/tau_norm/head.pt",
        predictions="data/heads/{dataset}/cut{cut}/{loss}/tau_norm/test_predictions.parquet",
        search="data/heads/{dataset}/cut{cut}/{loss}/tau_norm/tau_search.csv",
    log:
        "logs/tau_normalise/{dataset}_cut{cut}_{loss}.log",
    benchmark:
        "benchmarks/tau_normalise/{dataset}_cut{cut}_{loss}.tsv"
    params:
        tau=tau_norm_params(),
        code=code("tau_normalise.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/tau_normalise.py"


# Menon et al.'s post-hoc logit adjustment: the phase-1 logits minus tau log(training prior), tau chosen on the
# held-out share of the train embeddings that tau-norm uses; written where evaluate_run reads a method's predictions.


rule logit_adjust:
    input:
        backbone="data/backbones/{dataset}/cut{cut}/{loss}/backbone.pt",
        train="data/embeddings/{dataset}/cut{cut}/{loss}/train.parquet",
        test="data/embeddings/{dataset}/cut{cut}/{loss}/test.parquet",
    output:
        predictions="data/heads/{dataset}/cut{cut}/{loss}/logit_adj/test_predictions.parquet",
        search="data/heads/{dataset}/cut{cut}/{loss}/logit_adj/tau_search.csv",
    log:
        "logs/logit_adjust/{dataset}_cut{cut}_{loss}.log",
    benchmark:
        "benchmarks/logit_adjust/{dataset}_cut{cut}_{loss}.tsv"
    params:
        la=logit_adjust_params,
        code=code("logit_adjust.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/logit_adjust.py"
