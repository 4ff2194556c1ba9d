"""Oversamplers with imbalanced-learn's ``fit_resample`` interface (EOS, Balanced SVM, REMIX, samplers of your
own), their run names, the oversampling file stages and the GAN baselines.  Layer rule: imports ``sampling``,
``core``, ``runtime``."""
