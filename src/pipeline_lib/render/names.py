"""Display names: every label a table or figure shows for a method, model, loss or shot group is spelled
here once (:data:`DISPLAY`); each vocabulary below is the subset of it one kind of table uses.  A name not
listed (a sampler of your own, its run name) is shown as it is."""
from __future__ import annotations


class Names(dict):
    """Display names; a name not listed (your own sampler's run name) is shown as it is."""

    def __missing__(self, key):
        return key


class PreNames(Names):
    """Table I's names; a pixel-space run of your own sampler, ``pre_<name>``, is shown as ``Pre-<name>``."""

    def __missing__(self, key):
        return "Pre-" + key[len("pre_"):] if key.startswith("pre_") else key


DISPLAY = {
    # methods and models
    "baseline": "Baseline", "none": "Head", "base": "Base", "balanced": "Balanced", "ros": "ROS", "cs": "CS",
    "smote": "SMOTE", "bsmote": "B.SMOTE", "balsvm": "Bal.SVM", "adasyn": "ADASYN", "eos": "EOS",
    "remix": "REMIX", "dsm": "DSM", "ldam": "LDAM", "crt": "cRT", "tau_norm": "tau-norm", "logit_adj": "LA",
    # the tabular study's classifiers
    "svm": "SVM", "lg": "LG", "nn": "NN",
    # EOS Table I: pixel-space (Pre-) and embedding-space (Post-) oversampling
    "pre_smote": "Pre-SMOTE", "pre_bsmote": "Pre-BSMOTE", "pre_balsvm": "Pre-BalSVM", "pre_ros": "Pre-ROS",
    "pre_remix": "REMIX", "post_smote": "Post-SMOTE", "post_bsmote": "Post-BSMOTE", "post_balsvm": "Post-BalSVM",
    # shot groups (long-tail reporting)
    "many": "Many", "medium": "Medium", "few": "Few",
}


def _pick(*keys: str) -> dict:
    return {k: DISPLAY[k] for k in keys}


# EOS Table II's columns and the EOS figures' methods
METHOD_NAMES = Names(_pick("baseline", "none", "ros", "smote", "bsmote", "balsvm", "eos", "crt", "tau_norm",
                           "logit_adj"))
# EOS Table I's rows: a pixel-space run ``pre_<sampler>``, an embedding-space run ``<sampler>`` (Post-)
TABLE1_NAMES = PreNames({**_pick("pre_smote", "pre_bsmote", "pre_balsvm", "pre_ros", "pre_remix"),
                         **{k: DISPLAY["post_" + k] for k in ("smote", "bsmote", "balsvm")}})
# the networks of the image studies (DA images, Magnitude, Fragility)
MODEL_NAMES = _pick("balanced", "base", "dsm", "eos", "ldam", "remix", "ros")
# the tabular study's methods and classifiers
TABULAR_NAMES = _pick("base", "ros", "cs", "smote", "adasyn", "remix", "eos", "dsm", "svm", "lg", "nn")
# many / medium / few-shot groups
SHOT_NAMES = _pick("many", "medium", "few")
LOSS_NAMES = {"ce": "CE", "focal": "Focal", "asl": "ASL", "ldam": "LDAM"}


def loss_display(loss: str) -> str:
    """``ce`` -> CE, ``ldam-drw`` -> LDAM-DRW (a loss not listed keeps its name)."""
    base, _, drw = loss.partition("-")
    return LOSS_NAMES.get(base, base) + ("-DRW" if drw else "")
