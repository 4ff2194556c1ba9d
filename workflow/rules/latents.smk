# Latents of every network (pipeline_lib.latents): train and test features, logits of its own head, prediction,
# label and sample id, once per network, at data/latents/<the network's folder under data/>/{train,test}.parquet.
# Backbones and heads on their features share the backbone's one extraction (its embedding files); pixel-space,
# Balanced and GAN-balanced backbones get one forward pass each.  Every latent-space analysis reads these.
# Helpers: common.smk.


rule latents_from_embeddings:
    input:
        unpack(latents_embedding_input),
    output:
        train="data/latents/{net}/train.parquet",
        test="data/latents/{net}/test.parquet",
    log:
        "logs/latents_from_embeddings/{net}.log",
    benchmark:
        "benchmarks/latents_from_embeddings/{net}.tsv"
    wildcard_constraints:
        net=LATENT_KINDS["embedding"],
    params:
        code=code("latents_from_embeddings.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/latents_from_embeddings.py"


rule latents_from_network:
    input:
        unpack(latents_network_input),
    output:
        train="data/latents/{net}/train.parquet",
        test="data/latents/{net}/test.parquet",
    log:
        "logs/latents_from_network/{net}.log",
    benchmark:
        "benchmarks/latents_from_network/{net}.tsv"
    wildcard_constraints:
        net=LATENT_KINDS["network"],
    params:
        run=latents_network_params,
        code=code("latents_from_network.py"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=1,
    script:
        "../scripts/latents_from_network.py"


rule latents:
    input:
        all_latents(),
