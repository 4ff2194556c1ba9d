"""The networks of the image study (one definition for checkpoint import, the workflow and the analyses)."""

# every network of the image study, in the order checkpoints are imported
MODELS = ("base", "ldam", "ros", "remix", "balanced", "dsm", "eos")
# the networks with an nn.Linear head, the ones the latent (CE) analyses read: LDAM's cosine head is left out
LINEAR_HEAD_MODELS = ("base", "balanced", "ros", "remix", "dsm", "eos")
# DA Table V's order (alphabetical, as the paper prints it); the workflow plans the image study in this order
TABLE5_MODELS = ("balanced", "base", "dsm", "eos", "ldam", "remix", "ros")
NORMED_HEAD_MODELS = ("ldam",)          # trained with the LDAM loss: cosine NormedLinear head
WHOLE_NETWORK_MODELS = ("dsm", "eos")   # Base extractor + retrained linear head
BASE_MODEL = "base"
