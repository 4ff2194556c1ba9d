"""The tabular study of "How Data Augmentation Works" and "Latent Feature Magnitude": runs (splits,
augmentation, model fits, latent oversampling) and their tables and figures."""
