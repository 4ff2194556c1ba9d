"""Importing published networks (LDAM-DRW layout) with pipeline_lib.core.checkpoints.

Nothing is trained: tiny resnet20 models are built from a seed (BatchNorm statistics randomised so that
they matter), saved with their keys renamed into the LDAM-DRW layout, and imported."""
import copy
import hashlib

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import randomise_bn
from pipeline_lib.core import checkpoints as ck
from pipeline_lib.core.heads import load_head
from pipeline_lib.core.models import build_model, load_backbone, reassemble

C, CH = 3, 1
META = dict(arch="resnet20", num_classes=C, in_channels=CH)


def make_net(seed=0, *, classes=C, channels=CH, normed=False, arch="resnet20"):
    torch.manual_seed(seed)
    net = build_model(arch, classes, in_channels=channels, normed_head=normed)
    randomise_bn(net, seed + 1000)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.num_batches_tracked.fill_(97 * 134)
    return net


def ldam_sd(net, *, module=False):
    sd = ck.to_ldam_layout(net.state_dict())
    return {("module." + k if module else k): v for k, v in sd.items()}


def save(path, obj):
    torch.save(obj, path)
    return str(path)


def outputs(net, seed=5, channels=CH):
    x = torch.randn(4, channels, 8, 8, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return net.eval()(x)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def import_kwargs(normed=False):
    return dict(META, normed_head=normed, loss="ldam-drw" if normed else "ce", mean=[0.5], std=[0.25],
                class_names=["a", "b", "c"])


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(ck.CheckpointError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and msg == msg.strip()
    return msg


# ------------------------------------------------------------------------------------------ layouts


def test_layouts_rename_only_the_classifier():
    sd = make_net().state_dict()
    ldam = ck.to_ldam_layout(sd)
    assert "linear.weight" in ldam and "linear.bias" in ldam and not any(k.startswith("head.") for k in ldam)
    assert [k for k in ldam if not k.startswith("linear.")] == [k for k in sd if not k.startswith("head.")]
    back = ck.to_project_layout(ldam)
    assert list(back) == list(sd) and all(back[k] is sd[k] for k in sd)
    # the option-A shortcut has no parameters: every key is a conv / bn / linear key, as in LDAM-DRW
    assert {k.split(".")[0] for k in ldam} == {"conv1", "bn1", "layer1", "layer2", "layer3", "linear"}


@pytest.mark.parametrize("wrap", ["bare", "module", "state_dict", "model", "ldam_checkpoint"])
@pytest.mark.slow
def test_read_state_dict_unwraps_and_strips_module(tmp_path, wrap):
    net = make_net()
    sd = ldam_sd(net, module=wrap in ("module", "ldam_checkpoint"))
    obj = {"bare": sd, "module": sd, "state_dict": {"state_dict": sd, "epoch": 3}, "model": {"model": sd},
           "ldam_checkpoint": {"epoch": 134, "arch": "resnet20", "state_dict": sd, "best_acc1": torch.tensor(72.5),
                               "optimizer": torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9).state_dict()}
           }[wrap]
    got = ck.read_state_dict(save(tmp_path / "x.pth", obj))
    assert list(got) == list(ldam_sd(net))
    assert all(torch.equal(got[k], v) for k, v in ldam_sd(net).items())


def test_read_state_dict_accepts_numpy_scalars_but_no_other_objects(tmp_path):
    net = make_net()
    p = save(tmp_path / "np.pth", {"state_dict": ldam_sd(net), "best_acc1": np.float64(72.5)})
    assert set(ck.read_state_dict(p)) == set(ldam_sd(net))
    whole = save(tmp_path / "whole.pth", net)  # the module pickled, not its state dict
    msg = error_of(ck.read_state_dict, whole)
    assert whole in msg and "pickles Python objects (e.g. '" in msg and "state_dict()" in msg


# ------------------------------------------------------------------------------------ import_network


@pytest.mark.parametrize("normed", [False, True])
@pytest.mark.parametrize("wrap", ["bare", "module", "state_dict"])
@pytest.mark.slow
def test_import_network_gives_the_original_outputs(tmp_path, normed, wrap):
    net = make_net(1, normed=normed)
    sd = ldam_sd(net, module=wrap == "module")
    src = save(tmp_path / "published.pth", {"state_dict": sd} if wrap == "state_dict" else sd)
    out = tmp_path / "out" / "backbone.pt"
    meta = ck.import_network(src, out, **import_kwargs(normed))
    model, read_meta = load_backbone(str(out))
    assert torch.equal(outputs(model), outputs(net))
    assert not torch.allclose(outputs(make_net(2, normed=normed)), outputs(net))  # the comparison can fail
    assert type(model.head) is type(net.head)
    assert read_meta == meta == {
        "arch": "resnet20", "num_classes": 3, "in_channels": 1, "normed_head": normed,
        "loss": "ldam-drw" if normed else "ce", "mean": [0.5], "std": [0.25], "class_names": ["a", "b", "c"],
        "select_on": "imported", "epochs": None, "imported_from": src, "sha256": sha(src)}


@pytest.mark.slow
def test_import_network_fills_missing_num_batches_tracked(tmp_path):
    net = make_net(3)
    sd = {k: v for k, v in ldam_sd(net).items() if not k.endswith("num_batches_tracked")}
    assert len(sd) < len(ldam_sd(net))
    out = tmp_path / "b.pt"
    ck.import_network(save(tmp_path / "old.pth", sd), out, **import_kwargs())
    model, _ = load_backbone(str(out))
    assert torch.equal(outputs(model), outputs(net))
    assert int(model.bn1.num_batches_tracked) == 0


def test_import_network_rejects_inconsistent_settings(tmp_path):
    src = save(tmp_path / "n.pth", ldam_sd(make_net()))
    with pytest.raises(ValueError, match="class_names has 2 names, expected num_classes = 3"):
        ck.import_network(src, tmp_path / "o.pt", **dict(import_kwargs(), class_names=["a", "b"]))
    with pytest.raises(ValueError, match=r"mean \[0.5, 0.5\] has 2 value\(s\)"):
        ck.import_network(src, tmp_path / "o.pt", **dict(import_kwargs(), mean=[0.5, 0.5]))
    with pytest.raises(ValueError, match="normed_head=False does not fit loss 'ldam'"):
        ck.import_network(src, tmp_path / "o.pt", **dict(import_kwargs(), loss="ldam"))
    assert not (tmp_path / "o.pt").exists()


@pytest.mark.slow
def test_imported_backbone_runs_the_embedding_export(tmp_path):
    """Downstream stages read an imported backbone like a trained one: export_embeddings' features are
    the original network's."""
    from pipeline_lib.core import embeddings as emb
    from pipeline_lib.core.datasets import ImageArrays
    from pipeline_lib.core.devices import to_tensor

    rng = np.random.default_rng(0)
    data = ImageArrays(rng.integers(0, 256, (12, 8, 8, 1), dtype=np.uint8), np.arange(12) % C,
                       rng.integers(0, 256, (6, 8, 8, 1), dtype=np.uint8), np.arange(6) % C, ["a", "b", "c"])
    data.save(str(tmp_path / "images.npz"))
    pd.DataFrame({"sample_id": [0, 2, 3, 5, 7]}).to_csv(tmp_path / "idx.csv", index=False)
    net = make_net(4)
    backbone = tmp_path / "backbone.pt"
    ck.import_network(save(tmp_path / "p.pth", ldam_sd(net, module=True)), backbone, **import_kwargs())
    emb.export_stage(str(tmp_path / "images.npz"), str(tmp_path / "idx.csv"), str(backbone),
                     str(tmp_path / "train.parquet"), str(tmp_path / "test.parquet"), dataset="toy", cut=0,
                     loss="ce", device="cpu")
    test, meta = emb.read(str(tmp_path / "test.parquet"))
    expected, _ = emb.extract(net, to_tensor(data.test_x, [0.5], [0.25], torch.device("cpu")))
    np.testing.assert_allclose(emb.features(test), expected, rtol=0, atol=1e-6)
    assert meta["backbone_sha256"] == sha(backbone) and meta["arch"] == "resnet20"


# --------------------------------------------------------------------------------------- import_head


def whole_network(base_net, seed, *, perturb=None, delta=1e-3):
    """A dsm/eos network: the base's extractor with a different linear layer (optionally one extractor
    tensor moved by ``delta``)."""
    net = copy.deepcopy(base_net)
    torch.manual_seed(seed)
    net.head = torch.nn.Linear(64, C)
    if perturb:
        with torch.no_grad():
            net.state_dict()[perturb].flatten()[0] += delta
    return net


@pytest.fixture()
def base(tmp_path):
    net = make_net(7)
    path = tmp_path / "base.pt"
    ck.import_network(save(tmp_path / "base.pth", ldam_sd(net)), path, **import_kwargs())
    return net, str(path)


def test_import_head_takes_the_linear_layer(tmp_path, base):
    base_net, base_path = base
    dsm = whole_network(base_net, 8)
    src = save(tmp_path / "dsm_comb.pth", {"state_dict": ldam_sd(dsm, module=True)})
    meta = ck.import_head(src, base_path, tmp_path / "heads" / "head.pt", sampler="smote")
    head, read_meta = load_head(str(tmp_path / "heads" / "head.pt"))
    assert torch.equal(head.weight, dsm.head.weight) and torch.equal(head.bias, dsm.head.bias)
    assert not torch.equal(head.weight, base_net.head.weight)
    assert read_meta == meta == {"in_features": 64, "num_classes": 3, "loss": "ce", "sampler": "smote",
                                 "backbone_sha256": sha(base_path), "imported_from": src, "sha256": sha(src)}
    base_model, _ = load_backbone(base_path)
    assert torch.equal(outputs(reassemble(base_model, head)), outputs(dsm))


def test_import_head_accepts_a_file_without_num_batches_tracked(tmp_path, base):
    base_net, base_path = base
    sd = {k: v for k, v in ldam_sd(whole_network(base_net, 9)).items() if not k.endswith("num_batches_tracked")}
    ck.import_head(save(tmp_path / "eos.pth", sd), base_path, tmp_path / "head.pt")
    assert torch.equal(load_head(str(tmp_path / "head.pt"))[0].bias, sd["linear.bias"])


def test_import_head_rejects_a_different_extractor(tmp_path, base):
    base_net, base_path = base
    dsm = whole_network(base_net, 8, perturb="layer2.1.bn1.running_mean")
    src = save(tmp_path / "dsm.pth", ldam_sd(dsm))
    msg = error_of(ck.import_head, src, base_path, tmp_path / "head.pt")
    assert msg.startswith(f"checkpoint {src}: extractor key 'layer2.1.bn1.running_mean' differs from the base "
                          f"backbone {base_path} by up to 0.001")
    assert not (tmp_path / "head.pt").exists()
    ck.import_head(src, base_path, tmp_path / "head.pt", tolerance=0.01)  # within a tolerance it is accepted
    assert (tmp_path / "head.pt").exists()


def test_import_head_rejects_a_cosine_head_and_another_class_count(tmp_path, base):
    base_net, base_path = base
    cos = make_net(7, normed=True)
    msg = error_of(ck.import_head, save(tmp_path / "cos.pth", ldam_sd(cos)), base_path, tmp_path / "h.pt")
    assert "cosine (NormedLinear) classifier head" in msg and "expected a linear head" in msg
    five = make_net(7, classes=5)
    msg = error_of(ck.import_head, save(tmp_path / "five.pth", ldam_sd(five)), base_path, tmp_path / "h.pt")
    assert "key 'linear.weight' has shape (5, 64), expected (3, 64)" in msg


# --------------------------------------------------------------------------------------- bad files


def _drop(sd, key):
    return {k: v for k, v in sd.items() if k != key}


BAD = {
    "classes": (lambda: ldam_sd(make_net(classes=5)), False,
                "key 'linear.weight' has shape (5, 64), expected (3, 64) for resnet20 with 1 input channel(s) and "
                "3 classes (the file's head has 5 classes)"),
    "channels": (lambda: ldam_sd(make_net(channels=3)), False,
                 "key 'conv1.weight' has shape (16, 3, 3, 3), expected (16, 1, 3, 3) for resnet20 with 1 input "
                 "channel(s) and 3 classes (the file's network takes 3 input channel(s))"),
    "missing": (lambda: _drop(ldam_sd(make_net()), "layer2.0.bn2.weight"), False,
                "missing key 'layer2.0.bn2.weight' expected for resnet20 with 1 input channel(s) and 3 classes"),
    "missing_head": (lambda: _drop(ldam_sd(make_net()), "linear.bias"), False, "missing key 'linear.bias'"),
    "extra": (lambda: {**ldam_sd(make_net()), "fc.weight": torch.zeros(3, 64)}, False,
              "unexpected key 'fc.weight', not part of resnet20"),
    "deeper": (lambda: ldam_sd(make_net(arch="resnet32")), False,
               "unexpected key 'layer1.3.conv1.weight', not part of resnet20 with 1 input channel(s) and 3 classes "
               "(the file's network looks like a resnet32)"),
    "cosine_for_linear": (lambda: ldam_sd(make_net(normed=True)), False,
                          "has a cosine (NormedLinear) classifier head (linear.weight of shape (64, 3), no bias), "
                          "expected a linear head"),
    "linear_for_cosine": (lambda: ldam_sd(make_net()), True,
                          "has a linear classifier head (linear.weight of shape (3, 64) and a linear.bias), "
                          "expected a cosine (NormedLinear) head (linear.weight of shape (64, 3) and no bias)"),
    "nan": (lambda: {**ldam_sd(make_net()), "layer3.2.conv2.weight": torch.full((64, 64, 3, 3), float("nan"))},
            False, "key 'layer3.2.conv2.weight' holds non-finite values"),
    "int_weight": (lambda: {**ldam_sd(make_net()), "bn1.weight": torch.ones(16, dtype=torch.int64)}, False,
                   "key 'bn1.weight' has dtype torch.int64, expected a floating-point tensor"),
    "not_a_state_dict": (lambda: {"epoch": 3, "conv1.weight": torch.zeros(1)}, False,
                         "entry 'epoch' holds a value of type int, not a tensor"),
    "a_list": (lambda: [torch.zeros(1)], False, "holds a value of type list, not a state dict"),
    "empty": (lambda: {}, False, "holds an empty dict"),
    "two_heads": (lambda: {**ldam_sd(make_net()), "head.bias": torch.zeros(3)}, False,
                  "has both 'linear.bias' and 'head.bias'; expected one classifier"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_network_files_get_one_line(tmp_path, case):
    make, normed, expected = BAD[case]
    path = save(tmp_path / f"{case}.pth", make())
    msg = error_of(ck.check_network, path, **META, normed_head=normed)
    assert msg.startswith(f"checkpoint {path}: ")
    assert expected in msg


def test_a_good_file_passes_and_comes_back_in_project_layout(tmp_path):
    net = make_net(normed=True)
    sd = ck.check_network(save(tmp_path / "g.pth", ldam_sd(net, module=True)), **META, normed_head=True)
    assert list(sd) == list(net.state_dict())


def test_missing_and_unreadable_files(tmp_path):
    missing = str(tmp_path / "nope.pth")
    assert error_of(ck.check_network, missing, **META, normed_head=False) == f"checkpoint {missing} does not exist"
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint\nsecond line\n")
    msg = error_of(ck.read_state_dict, str(text))
    assert msg.startswith(f"checkpoint {text}: not a readable PyTorch file (UnpicklingError: ")
    assert "weights_only" not in msg  # torch's advice to load untrusted files unsafely is not repeated
    short = tmp_path / "short.pth"
    short.write_text("hi")
    assert error_of(ck.read_state_dict, str(short)).startswith(f"checkpoint {short}: not a readable PyTorch file (")
    assert error_of(ck.read_state_dict, str(tmp_path)) == f"checkpoint {tmp_path} is not a file"


# ---------------------------------------------------------------------------------------- plan check


def test_plan_check_passes_good_files_and_compares_dsm_with_a_given_base(tmp_path):
    base_net = make_net(7)
    files = {"base": save(tmp_path / "base.pth", ldam_sd(base_net)),
             "ldam": save(tmp_path / "ldam.pth", ldam_sd(make_net(3, normed=True), module=True)),
             "eos": save(tmp_path / "eos.pth", {"state_dict": ldam_sd(whole_network(base_net, 8))}),
             "bad_dsm": save(tmp_path / "dsm.pth", ldam_sd(whole_network(base_net, 8, perturb="bn1.bias")))}
    plan = {"base": {0: files["base"]}, "ldam": {0: files["ldam"]}, "eos": {0: files["eos"]}}
    ck.check_plan_checkpoints(plan, **META, dataset="toy")
    # the dsm file's extractor differs from the Base file of the same cut: caught before any job runs
    msg = error_of(ck.check_plan_checkpoints, {**plan, "dsm": {0: files["bad_dsm"]}}, **META, dataset="toy")
    assert msg.startswith(f"checkpoint {files['bad_dsm']} (datasets.toy.checkpoints.dsm.0): extractor key "
                          f"'bn1.bias' differs from the base backbone {files['base']}")
    # without a Base file of that cut only the network is checked (the import job compares it later)
    ck.check_plan_checkpoints({"dsm": {0: files["bad_dsm"]}, "base": {10: files["base"]}}, **META, dataset="toy")


def test_plan_check_errors_name_the_config_key(tmp_path):
    missing = str(tmp_path / "ros.pth")
    assert (error_of(ck.check_plan_checkpoints, {"ros": {10: missing}}, **META, dataset="toy")
            == f"checkpoint {missing} (datasets.toy.checkpoints.ros.10) does not exist")
    linear = save(tmp_path / "lin.pth", ldam_sd(make_net()))
    msg = error_of(ck.check_plan_checkpoints, {"base": {0: linear}, "ldam": {0: linear}}, **META, dataset="toy")
    assert msg.startswith(f"checkpoint {linear} (datasets.toy.checkpoints.ldam.0): has a linear classifier head")
    msg = error_of(ck.check_plan_checkpoints, {"resnet": {0: linear}}, **META, dataset="toy")
    assert msg == ("datasets.toy.checkpoints: unknown model 'resnet'; allowed: base, ldam, ros, remix, balanced, "
                   "dsm, eos")
    msg = error_of(ck.check_plan_checkpoints, {"base": linear}, **META, dataset="toy")
    assert msg.startswith("datasets.toy.checkpoints.base must map a cut to a file path")
    three = save(tmp_path / "rgb.pth", ldam_sd(make_net(channels=3)))
    msg = error_of(ck.check_plan_checkpoints, {"remix": {100: three}}, **META, dataset="toy")
    assert msg.startswith(f"checkpoint {three} (datasets.toy.checkpoints.remix.100): key 'conv1.weight' has shape")
