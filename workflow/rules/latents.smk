# Latents of every network (pipeline_lib.core.latents): train and test features, logits of its own head, prediction,
# label and sample id, once per network, at data/latents/<the network's folder under data/>/{train,test}.parquet.
# Backbones and heads on their features share the backbone's one extraction (its embedding files); pixel-space,
# Balanced and GAN-balanced backbones get one forward pass each.  Every latent-space analysis reads these.


LATENT_KINDS = {"embedding": r"(backbones/[^/]+/cut\d+/[^/]+|heads/[^/]+/cut\d+/[^/]+/[^/]+)",
                "network": r"(pixel_backbones/[^/]+/cut\d+/[^/]+|balanced_backbones/[^/]+/cut\d+|gan_backbones/[^/]+/cut\d+/[^/]+/[^/]+)"}


def _latent_net(wildcards):
    """(kind, dataset, cut, rest) of a latents folder ``<kind>/<dataset>/cut<c>/<rest...>``."""
    kind, dataset, cut, *rest = wildcards.net.split("/")
    return kind, dataset, cut[len("cut"):], rest


def latents_embedding_input(wildcards):
    kind, dataset, cut, rest = _latent_net(wildcards)
    run = f"{dataset}/cut{cut}/{rest[0]}"
    files = {s: f"data/embeddings/{run}/{s}.parquet" for s in ("train", "test")}
    files["network"] = f"data/backbones/{run}/backbone.pt"
    if kind == "heads":
        files["head"] = f"data/heads/{run}/{rest[1]}/head.pt"
    return files


def latents_network_input(wildcards):
    kind, dataset, cut, rest = _latent_net(wildcards)
    files = cut_files(dataset, cut)
    if kind == "balanced_backbones":  # the Balanced model's train split: its own balanced draw
        files["indices"] = f"data/balanced/{dataset}/cut{cut}/train_indices.csv"
    return {**files, "network": f"data/{wildcards.net}/backbone.pt"}


def latents_network_params(wildcards):
    kind, dataset, cut, rest = _latent_net(wildcards)
    return {"dataset": dataset, "cut": int(cut), "model": wildcards.net,
            "loss": rest[1] if kind == "gan_backbones" else "ce",
            "device": dataset_training(dataset)["device"]}


def all_latents():
    """The latents files of every network of the workflow: the EOS pipeline's backbones and heads (Table II
    methods, Tables III-V, the K sweep, the variants), its pixel-space and GAN-balanced backbones, the Table V
    architectures and the models of the image study."""
    preds = [f"data/embeddings/{d}/cut{c}/{l}/test.parquet" for d in DATASETS for c in CUTS for l in LOSSES]
    # logit adjustment has no network of its own: its logits are the phase-1 head's minus tau log prior (its
    # tau in data/heads/.../logit_adj/tau_search.csv), its features the backbone's latents
    preds += [head_predictions(d, c, l, method_folder(m)) for d in DATASETS for c in CUTS for l in LOSSES
              for m in TABLE2_METHODS[1:] if m != "logit_adj"]
    preds += [f"data/pixel_backbones/{d}/cut{c}/{m}/test_predictions.parquet" for d in DATASETS for c in CUTS
              for m in PIXEL_METHODS]
    for records in (table3_records(), table4_records(), table5_records(), pixel_eos_records(), variant_records()):
        preds += [r["predictions"] for r in records]
    preds += [da_model_files(d, c, m)["predictions"] for d, c in da_runs() for m in DA_RUN_MODELS]
    return sorted({f for p in preds for f in latents_files(p).values()})


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
