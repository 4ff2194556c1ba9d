"""The backbone families of pipeline_lib.core.models (ResNet, WideResNet, DenseNet-BC) on tiny instances.

Nothing is trained; the only large networks are built once each to count their parameters."""
import pytest
import torch

from conftest import randomise_bn
from pipeline_lib.core import checkpoints as ck
from pipeline_lib.core.heads import load_head
from pipeline_lib.core.arch_names import ARCHITECTURES, FEATURE_DIM, check_arch, feature_dim
from pipeline_lib.core.models import (DenseNetBC, NormedLinear, ResNetCifar, WideResNet, build_model, load_backbone, reassemble, save_backbone)

TINY = {"resnet20": (ResNetCifar, 64), "wrn10_1": (WideResNet, 64), "wrn10_2": (WideResNet, 128),
        "densenet16_4": (DenseNetBC, 16)}  # densenet16_4: 8 + 2*4 = 16 -> 8, +8 = 16 -> 8, +8 = 16
SHAPES = [(1, 8), (3, 32)]  # (channels, side): the digits and CIFAR


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("channels,side", SHAPES)
@pytest.mark.parametrize("arch", list(TINY))
@pytest.mark.slow
def test_forward_features_and_head(arch, channels, side):
    cls, width = TINY[arch]
    torch.manual_seed(0)
    m = build_model(arch, 5, in_channels=channels).eval()
    assert isinstance(m, cls) and m.feature_dim == width == feature_dim(arch)
    x = torch.randn(3, channels, side, side)
    with torch.no_grad():
        f = m.features(x)
        out = m(x)
    assert f.shape == (3, m.feature_dim) and (f >= 0).all() and f.abs().sum() > 0
    assert out.shape == (3, 5) and torch.allclose(out, m.head(f))
    assert isinstance(m.head, torch.nn.Linear) and (m.head.in_features, m.head.out_features) == (width, 5)
    assert list(m.state_dict())[-2:] == ["head.weight", "head.bias"]  # the head's keys come last
    m.train()(x).sum().backward()  # trainable in train mode (batch statistics)
    assert all(p.grad is not None for p in m.parameters())


@pytest.mark.parametrize("arch", list(TINY))
@pytest.mark.slow
def test_normed_head_and_reassemble(arch):
    torch.manual_seed(1)
    m = build_model(arch, 4, in_channels=1, normed_head=True).eval()
    assert isinstance(m.head, NormedLinear) and m.head.weight.shape == (m.feature_dim, 4)
    assert m.head.in_features == m.feature_dim
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        assert m(x).abs().max() <= 1 + 1e-5
        head = torch.nn.Linear(m.feature_dim, 4)
        phase3 = reassemble(m, head)
        assert torch.allclose(phase3(x), head(m.features(x)))
        assert torch.equal(m.features(x), phase3.features(x)) and isinstance(m.head, NormedLinear)


@pytest.mark.parametrize("normed", [False, True])
@pytest.mark.parametrize("arch", list(TINY))
@pytest.mark.slow
def test_save_load_backbone_round_trip(tmp_path, arch, normed):
    torch.manual_seed(2)
    m = randomise_bn(build_model(arch, 3, in_channels=1, normed_head=normed))
    path = str(tmp_path / "b.pt")
    save_backbone(path, m, arch=arch, num_classes=3, in_channels=1, normed_head=normed, loss="x")
    back, meta = load_backbone(path)
    assert type(back) is type(m) and meta["arch"] == arch and meta["loss"] == "x" and not back.training
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(back(x), m(x)) and torch.equal(back.features(x), m.features(x))


@pytest.mark.parametrize("bad", ["wrn11_2", "densenet10_12", "vgg16", "wrn28", "resnet18", "wrn28_0", "wrn028_10",
                                 "densenet100", "densenet101_12", "WRN28_10", " wrn28_10", "wrn28_10 ", ""])
def test_bad_names_raise_naming_the_value(bad):
    for fn in (check_arch, feature_dim, lambda a: build_model(a, 10)):
        with pytest.raises(ValueError) as info:
            fn(bad)
        msg = str(info.value)
        assert f"unknown backbone {bad!r}" in msg
        assert "resnet20|32|44|56|110" in msg and "wrn<d>_<k>" in msg and "densenet<L>_<k>" in msg
    with pytest.raises(ValueError, match="unknown backbone None"):
        check_arch(None)


def test_valid_names_and_widths_without_building():
    for arch in ARCHITECTURES:
        check_arch(arch)
        assert feature_dim(arch) == FEATURE_DIM == 64
    assert [feature_dim(a) for a in ("wrn10_1", "wrn16_4", "wrn28_10", "wrn40_2")] == [64, 256, 640, 128]
    assert feature_dim("densenet100_12") == 342 and feature_dim("densenet40_12") == 132
    assert feature_dim("densenet16_8") == 32 and feature_dim("densenet190_40") == 2190
    assert build_model("wrn16_2", 10).feature_dim == feature_dim("wrn16_2") == 128
    assert len(build_model("wrn16_2", 10).block2) == 2 and len(build_model("densenet22_4", 10).block3) == 3
    assert not any(k.startswith("layer") for k in build_model("wrn10_1", 2).state_dict())  # no resnet depth hint


def test_published_parameter_counts():
    assert abs(n_params(build_model("wrn28_10", 10)) - 36.5e6) <= 0.01 * 36.5e6  # WRN paper, Table 2/3: 36.5M
    assert abs(n_params(build_model("wrn16_4", 10)) - 2.7e6) <= 0.03 * 2.7e6     # 2.7M
    assert abs(n_params(build_model("wrn40_2", 10)) - 2.2e6) <= 0.03 * 2.2e6     # 2.2M
    # DenseNet-BC (Huang et al., Table 2): 100-12 "0.8M" is 769,162 rounded up (3.9% below 0.8M); the larger
    # BC networks, published to three digits, are matched within 0.5%
    dn100 = n_params(build_model("densenet100_12", 10))
    assert dn100 == 769_162 and abs(dn100 - 0.8e6) <= 0.05 * 0.8e6
    assert abs(n_params(build_model("densenet250_24", 10)) - 15.3e6) <= 0.005 * 15.3e6
    assert abs(n_params(build_model("densenet190_40", 10)) - 25.6e6) <= 0.005 * 25.6e6
    assert n_params(build_model("resnet56", 10)) == 853_018
    ratio = n_params(build_model("wrn22_4", 10)) / n_params(build_model("resnet56", 10))
    assert 4.5 < ratio < 5.5  # the paper's "approx. 5X"


# ---------------------------------------------------------------- checkpoints with the feature width of the arch


@pytest.mark.parametrize("arch", ["wrn10_2", "densenet16_4"])
def test_import_network_and_head_use_the_arch_width(tmp_path, arch):
    torch.manual_seed(3)
    base = randomise_bn(build_model(arch, 3, in_channels=1))
    d = base.feature_dim
    src = str(tmp_path / "base.pth")
    torch.save(ck.to_ldam_layout(base.state_dict()), src)
    out = tmp_path / "base.pt"
    ck.import_network(src, out, arch=arch, num_classes=3, in_channels=1, normed_head=False, loss="ce",
                      mean=[0.5], std=[0.25], class_names=["a", "b", "c"])
    model, meta = load_backbone(str(out))
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        assert meta["arch"] == arch and torch.equal(model(x), base(x))
    whole = reassemble(base, torch.nn.Linear(d, 3))
    eos = str(tmp_path / "eos.pth")
    torch.save({"state_dict": ck.to_ldam_layout(whole.state_dict())}, eos)
    meta = ck.import_head(eos, str(out), tmp_path / "head.pt")
    head, _ = load_head(str(tmp_path / "head.pt"))
    assert meta["in_features"] == head.in_features == d and torch.equal(head.weight, whole.head.weight)
    cos = reassemble(base, NormedLinear(d, 3))  # the other head kind is named with the arch's width
    torch.save(ck.to_ldam_layout(cos.state_dict()), str(tmp_path / "cos.pth"))
    with pytest.raises(ck.CheckpointError) as info:
        ck.import_head(str(tmp_path / "cos.pth"), str(out), tmp_path / "h.pt")
    assert "cosine (NormedLinear) classifier head" in str(info.value)
    assert f"linear.weight of shape (3, {d})" in str(info.value)
