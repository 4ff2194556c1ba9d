"""pipeline_lib: the logic of the Dablain & Chawla reproduction pipeline (EOS and follow-ups).

One module per concept: datasets, imbalance, models, losses, training, embeddings, oversampling,
heads, metrics, reports; config (validation) and codehash (rerun triggers) serve the workflow.
"""
__version__ = "0.1.0"
