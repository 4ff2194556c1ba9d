"""backbone_training.precision: the choice (auto / fp32 / bf16), its record, fp32 untouched, bf16 deterministic."""
import numpy as np
import pandas as pd
import pytest
import torch

from pipeline_lib.core import precision
from pipeline_lib.core.training import TrainConfig, run_stage, train_backbone

SGD = dict(lr=0.1, momentum=0.9, weight_decay=2e-4, select_on="final")
CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def _toy(n=96, classes=3, size=8, seed=0):
    rng = np.random.RandomState(seed)
    y = np.repeat(np.arange(classes), n // classes)
    x = rng.randint(0, 256, size=(len(y), size, size, 3)).astype(np.uint8)
    x[..., 0] = np.clip(x[..., 0] // 3 + 80 * y[:, None, None], 0, 255)
    return x, y


def _train(prec=None, log=lambda *_: None):
    x, y = _toy()
    extra = {} if prec is None else {"precision": prec}
    cfg = TrainConfig(**SGD, epochs=2, batch_size=32, crop_padding=1, flip=True, seed=5, device="cpu", **extra)
    model, hist = train_backbone(x, y, num_classes=3, arch="resnet20", loss="ce", cfg=cfg,
                                 mean=[0.5] * 3, std=[0.25] * 3, log=log)
    return model, hist


def _same(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("setting, device, flags, want", [
    ("auto", CPU, ["avx2", "avx512f", "avx512_bf16"], "bf16"),
    ("auto", CPU, ["avx2", "amx_tile", "amx_bf16"], "bf16"),
    ("auto", CPU, ["avx2", "avx512f"], "fp32"),
    ("auto", CPU, [], "fp32"),
    ("auto", CUDA, [], "bf16"),
    ("fp32", CUDA, ["amx_bf16"], "fp32"),
    ("fp32", CPU, ["avx512_bf16"], "fp32"),
    ("bf16", CPU, [], "bf16"),
])
def test_resolve_by_setting_and_hardware(setting, device, flags, want):
    assert precision.resolve(setting, device, flags) == want


def test_bad_setting_is_one_line_naming_value_and_choices():
    with pytest.raises(ValueError, match=r"^precision 'fp16' not allowed; allowed: auto, fp32, bf16$"):
        TrainConfig(**SGD, epochs=1, batch_size=8, crop_padding=0, flip=False, seed=0, device="cpu", precision="fp16")


def test_describe_records_choice_setting_and_cpu_flags():
    d = precision.describe("auto", CPU)
    assert d["precision_setting"] == "auto" and d["device"] == "cpu"
    assert d["precision"] == ("bf16" if precision.cpu_has_bf16(d["cpu_flags"]) else "fp32")
    assert set(d["cpu_flags"]) <= set(precision.CPU_FLAGS)


@pytest.mark.slow
def test_fp32_is_the_default_and_unchanged():
    default, _ = _train()
    fp32, _ = _train("fp32")
    assert _same(default, fp32)


@pytest.mark.slow
def test_bf16_trains_deterministically_differs_from_fp32_and_saves_float32():
    msgs = []
    a, hist = _train("bf16", log=msgs.append)
    b, _ = _train("bf16")
    fp32, _ = _train("fp32")
    assert _same(a, b)                       # same config, same machine: same bytes
    assert not _same(a, fp32)                # the switch is real
    assert all(np.isfinite(r["train_loss"]) for r in hist)
    for t in a.state_dict().values():        # weights stay float32, in the default layout
        assert t.dtype in (torch.float32, torch.int64) and t.is_contiguous()
    assert msgs[0].startswith("precision bf16 (setting bf16; device cpu;")


@pytest.mark.slow
def test_run_stage_writes_the_choice_into_the_backbone(tmp_path):
    from pipeline_lib.core.datasets import ImageArrays
    from pipeline_lib.core.models import load_backbone

    x, y = _toy()
    arrays = ImageArrays(train_x=x, train_y=y, test_x=x[:30], test_y=y[:30], class_names=["a", "b", "c"])
    arrays.save(str(tmp_path / "images.npz"))
    pd.DataFrame({"sample_id": np.arange(len(y))}).to_csv(tmp_path / "idx.csv", index=False)
    training = dict(SGD, epochs=1, batch_size=32, crop_padding=1, flip=True, device="cpu", precision="auto",
                    cuda_graph=False)
    run_stage(str(tmp_path / "images.npz"), str(tmp_path / "idx.csv"), str(tmp_path / "bb.pt"),
              str(tmp_path / "log.csv"), arch="resnet20", loss="ce", training=training, loss_options={}, seed=0,
              log=lambda *_: None)
    _, meta = load_backbone(str(tmp_path / "bb.pt"))
    assert meta["precision_setting"] == "auto"
    assert meta["precision"] == precision.resolve("auto", CPU)
    assert meta["cpu_flags"] == precision.cpu_flags()
