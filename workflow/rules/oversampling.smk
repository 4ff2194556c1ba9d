# Phase 2b: oversample the train embeddings to full balance in latent space.

from pipeline_lib.sampling.sampler_runs import parse_run


def sampler_params(wildcards):
    """The sampler of a run name and its options: EOS's all from the name, the others' from the config."""
    if wildcards.sampler in CUSTOM:
        return custom_sampler_params(CUSTOM[wildcards.sampler])
    name, options = parse_run(wildcards.sampler)
    if name != "eos":
        options = dict(config["oversampling"].get(name, {}))
    return {"name": name, "options": options, "seed": config["seed"]}


rule oversample_embeddings:
    input:
        "data/embeddings/{dataset}/cut{cut}/{loss}/train.parquet",
    output:
        "data/oversampled/{dataset}/cut{cut}/{loss}/{sampler}.parquet",
    log:
        "logs/oversample_embeddings/{dataset}_cut{cut}_{loss}_{sampler}.log",
    benchmark:
        "benchmarks/oversample_embeddings/{dataset}_cut{cut}_{loss}_{sampler}.tsv"
    params:
        sampler=sampler_params,
        code=code("oversample_embeddings.py"),
    threads: 1  # neighbour searches on 64-d embeddings are fast; SVC is single-threaded
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/oversample_embeddings.py"
