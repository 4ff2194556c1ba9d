"""The shared machinery of every study: data sets and imbalance, networks, losses, training, heads,
embeddings and latents, metrics, the shared measures, checkpoint import.  Layer rule: imports only ``core``
and ``runtime``."""
