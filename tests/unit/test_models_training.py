import numpy as np
import pytest
import torch

from pipeline_lib.core.heads import HeadConfig, train_head
from pipeline_lib.core.models import NormedLinear, build_model, load_backbone, reassemble, save_backbone
from pipeline_lib.core.training import TrainConfig, augment, lr_at, milestones, train_backbone
from pipeline_lib.core.devices import to_tensor
from pipeline_lib.core import embeddings

# explicit settings (the dataclasses carry no defaults: the workflow passes the config's, see the schema);
# the values of the authors' schedule, as in the schema's backbone_training / head_training
SGD = dict(lr=0.1, momentum=0.9, weight_decay=2e-4, select_on="final")
HEAD = dict(SGD, batch_size=128, warmup_epochs=5, seed=0)


def _toy_images(n=120, classes=3, size=8, channels=3, seed=0):
    rng = np.random.RandomState(seed)
    y = np.repeat(np.arange(classes), n // classes)
    x = rng.randint(0, 256, size=(len(y), size, size, channels)).astype(np.uint8)
    x[..., 0] = np.clip(x[..., 0] // 3 + 80 * y[:, None, None], 0, 255)  # learnable signal
    return x, y


def test_resnet32_shapes_and_params():
    m = build_model("resnet32", 10)
    assert m.features(torch.zeros(2, 3, 32, 32)).shape == (2, 64)
    assert m(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    n = sum(p.numel() for p in m.parameters())
    assert 460_000 < n < 470_000  # the standard ResNet-32 has ~0.46M parameters
    assert sum(isinstance(b, torch.nn.Module) for b in m.layer1) == 5
    assert len(build_model("resnet56", 5).layer3) == 9


def test_features_nonnegative_and_ldam_head_is_cosine():
    m = build_model("resnet20", 4, normed_head=True).eval()
    assert isinstance(m.head, NormedLinear)
    x = torch.randn(5, 3, 16, 16)
    f = m.features(x)
    assert (f >= 0).all()
    assert m(x).abs().max() <= 1 + 1e-5


def test_unknown_arch():
    with pytest.raises(ValueError, match="unknown backbone 'resnet18'"):
        build_model("resnet18", 10)


def test_lr_schedule_matches_authors_for_200_epochs():
    assert milestones(200) == (5, 160, 180)
    assert [round(lr_at(e, 200, 0.1), 6) for e in range(6)] == [0.02, 0.04, 0.06, 0.08, 0.1, 0.1]
    assert lr_at(159, 200, 0.1) == 0.1 and lr_at(160, 200, 0.1) == pytest.approx(1e-3)
    assert lr_at(180, 200, 0.1) == pytest.approx(1e-5)
    assert milestones(20) == (1, 16, 18)


def test_augment_crops_are_shifted_windows_and_flips():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    pad_value = torch.tensor([-9.0])
    gen = torch.Generator().manual_seed(3)
    out = augment(x, 2, True, gen, pad_value)
    assert out.shape == x.shape
    padded = torch.full((2, 1, 8, 8), -9.0)
    padded[:, :, 2:6, 2:6] = x
    for b in range(2):
        windows = [padded[b, :, i:i + 4, j:j + 4] for i in range(5) for j in range(5)]
        windows += [w.flip(-1) for w in windows]
        assert any(torch.equal(out[b], w) for w in windows)
    no_aug = augment(x, 0, False, gen, pad_value)
    assert torch.equal(no_aug, x)


def _train(tmp_path, epochs, checkpoint=None, loss="ce", select_on="final"):
    x, y = _toy_images()
    cfg = TrainConfig(**{**SGD, "select_on": select_on}, epochs=epochs, batch_size=32, crop_padding=1, flip=True,
                      seed=1, device="cpu")
    mean, std = [0.5] * 3, [0.25] * 3
    return train_backbone(x, y, num_classes=3, arch="resnet20", loss=loss, cfg=cfg, mean=mean, std=std,
                          test_images=x, test_labels=y, checkpoint=checkpoint, log=lambda *_: None)


@pytest.mark.slow
def test_training_is_deterministic_and_resumes_exactly(tmp_path):
    full, _ = _train(tmp_path, 3)
    again, _ = _train(tmp_path, 3)
    for a, b in zip(full.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    # a run killed during epoch 2 resumes from the epoch-1 checkpoint and ends with the same weights
    killed = str(tmp_path / "killed.pt")
    assert _train_partial(tmp_path, killed, stop_after=2) == 0  # 0-based index of the last saved epoch
    resumed, rhist = _train(tmp_path, 3, checkpoint=killed)
    assert [r["epoch"] for r in rhist] == [1, 2, 3]
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def _train_partial(tmp_path, ckpt, stop_after):
    """Run training with a log callback that raises after ``stop_after`` epochs (a kill)."""
    x, y = _toy_images()
    cfg = TrainConfig(**SGD, epochs=3, batch_size=32, crop_padding=1, flip=True, seed=1, device="cpu")
    seen = []

    def log(msg):
        if msg.startswith("epoch="):
            seen.append(msg)
            if len(seen) == stop_after:
                raise KeyboardInterrupt

    try:
        train_backbone(x, y, num_classes=3, arch="resnet20", loss="ce", cfg=cfg, mean=[0.5] * 3, std=[0.25] * 3,
                       checkpoint=ckpt, log=log)
    except KeyboardInterrupt:
        pass
    return torch.load(ckpt, weights_only=False)["epoch"]


@pytest.mark.slow
def test_select_on_test_keeps_best_epoch(tmp_path):
    _, hist = _train(tmp_path, 3, select_on="test")
    assert all("test_macro_f1" in r for r in hist)


@pytest.mark.parametrize("loss", ["ce", "ldam", "focal-drw"])
@pytest.mark.slow
def test_head_on_test_embeddings_equals_reassembled_network(tmp_path, loss):
    """Phase 3 trained on exported embeddings == backbone + new head run on the images."""
    model, _ = _train(tmp_path, 2, loss=loss)
    save_backbone(str(tmp_path / "b.pt"), model, arch="resnet20", num_classes=3, in_channels=3,
                  normed_head=(loss == "ldam"), mean=[0.5] * 3, std=[0.25] * 3, class_names=list("abc"))
    model, meta = load_backbone(str(tmp_path / "b.pt"))
    x, y = _toy_images(seed=5)
    xt = to_tensor(x, meta["mean"], meta["std"], "cpu")
    feats, pred = embeddings.extract(model, xt)
    np.testing.assert_array_equal(pred, model(xt).argmax(1).numpy())
    head, _ = train_head(feats, y, num_classes=3, loss=loss, cls_counts=[40, 40, 40], cfg=HeadConfig(**HEAD, epochs=3))
    full = reassemble(model, head).eval()
    with torch.no_grad():
        logits_net = full(xt)
        logits_head = head(torch.as_tensor(feats))
    torch.testing.assert_close(logits_net, logits_head, rtol=1e-5, atol=1e-5)
    assert torch.equal(logits_net.argmax(1), logits_head.argmax(1))
    assert model.head is not full.head  # the phase-1 network is left untouched


def test_head_training_deterministic_and_learns():
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(3), 50)
    X = (rng.randn(150, 8) + 3 * np.eye(3, 8)[y]).astype(np.float32)
    h1, hist = train_head(X, y, num_classes=3, loss="ce", cls_counts=[50] * 3, cfg=HeadConfig(**HEAD, epochs=10),
                          X_test=X, y_test=y)
    h2, _ = train_head(X, y, num_classes=3, loss="ce", cls_counts=[50] * 3, cfg=HeadConfig(**HEAD, epochs=10))
    assert torch.equal(h1.weight, h2.weight)
    assert [round(r["lr"], 3) for r in hist[:6]] == [0.02, 0.04, 0.06, 0.08, 0.1, 0.1]
    assert hist[-1]["test_bac"] > 0.9


def test_remix_positions_balance_the_batch():
    from pipeline_lib.core.remix import remix_lambda, remix_positions

    labels = torch.tensor([0] * 90 + [1] * 30 + [2] * 8)
    gen = torch.Generator().manual_seed(0)
    pos = remix_positions(labels, gen)
    assert len(pos) == len(labels)
    counts = torch.bincount(labels[pos], minlength=3).float()
    assert counts.min() > 30 and counts.max() < 55  # ~128/3 each instead of 90/30/8
    assert set(pos.tolist()) <= set(range(len(labels)))
    lams = [remix_lambda(0.1, gen) for _ in range(200)]
    assert all(0 <= v <= 1 for v in lams) and np.mean([min(v, 1 - v) < 0.1 for v in lams]) > 0.5  # Beta(.1,.1) is U-shaped


@pytest.mark.slow
def test_remix_training_runs_and_is_deterministic(tmp_path):
    x, y = _toy_images()
    cfg = TrainConfig(**SGD, epochs=2, batch_size=32, crop_padding=1, flip=True, seed=3, device="cpu", remix_alpha=0.1)
    kw = dict(num_classes=3, arch="resnet20", loss="ce", cfg=cfg, mean=[0.5] * 3, std=[0.25] * 3, log=lambda *_: None)
    m1, h1 = train_backbone(x, y, **kw)
    m2, _ = train_backbone(x, y, **kw)
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    plain, _ = train_backbone(x, y, **{**kw, "cfg": TrainConfig(**SGD, epochs=2, batch_size=32, crop_padding=1, flip=True, seed=3,
                                                                 device="cpu")})
    assert not torch.equal(plain.head.weight, m1.head.weight)


def test_remix_mixed_loss_is_ce_on_mixed_one_hot_labels():
    """The loop mixes the losses of the two label sets; for CE that equals CE on mixed one-hot labels."""
    from pipeline_lib.core.losses import make_loss

    torch.manual_seed(0)
    logits = torch.randn(6, 4)
    ya, yb, lam = torch.tensor([0, 1, 2, 3, 0, 1]), torch.tensor([3, 3, 0, 1, 2, 2]), 0.3
    ce = make_loss("ce", [1, 1, 1, 1])
    mixed = lam * ce(logits, ya) + (1 - lam) * ce(logits, yb)
    soft = lam * torch.nn.functional.one_hot(ya, 4) + (1 - lam) * torch.nn.functional.one_hot(yb, 4)
    expected = -(soft * torch.log_softmax(logits, 1)).sum(1).mean()
    torch.testing.assert_close(mixed, expected)


# --- GPU-path plumbing, checked on the CPU (the CUDA graph capture itself needs a GPU: benchmarks/gpu_check.py) ---

def _old_per_batch_draws(n, cfg, gen, y_cpu):
    """The draws of the loop before epoch_plan, batch by batch: permutation, [REMIX balancing], crop offsets,
    flips, [REMIX lambda, partners]."""
    from pipeline_lib.core.remix import remix_lambda, remix_positions

    perm = torch.randperm(n, generator=gen)
    out = []
    for i in range(0, n, cfg.batch_size):
        idx = perm[i:i + cfg.batch_size]
        if cfg.remix_alpha:
            idx = idx[remix_positions(y_cpu[perm[i:i + cfg.batch_size]], gen)]
        b = len(idx)
        oy = torch.randint(0, 2 * cfg.crop_padding + 1, (b,), generator=gen) if cfg.crop_padding else None
        ox = torch.randint(0, 2 * cfg.crop_padding + 1, (b,), generator=gen) if cfg.crop_padding else None
        flip = torch.rand(b, generator=gen) < 0.5 if cfg.flip else None
        lam = mate = None
        if cfg.remix_alpha:
            lam = remix_lambda(cfg.remix_alpha, gen)
            mate = torch.randperm(b, generator=gen)
        out.append((idx, oy, ox, flip, mate, lam))
    return out


@pytest.mark.parametrize("kw", [dict(crop_padding=2, flip=True), dict(crop_padding=0, flip=True),
                                dict(crop_padding=3, flip=False), dict(crop_padding=1, flip=True, remix_alpha=0.1)])
def test_epoch_plan_draws_what_the_per_batch_loop_drew(kw):
    from pipeline_lib.core.training import epoch_plan

    cfg = TrainConfig(**SGD, epochs=1, batch_size=32, seed=0, device="cpu", **kw)
    y = torch.as_tensor(np.repeat(np.arange(3), [60, 30, 10]))
    plan = epoch_plan(100, cfg, torch.Generator().manual_seed(7), y).to("cpu")
    old = _old_per_batch_draws(100, cfg, torch.Generator().manual_seed(7), y)
    assert len(plan.bounds) == len(old) == 4 and plan.bounds[-1] == (96, 100)
    for k, want in enumerate(old):
        got = plan.batch(k)
        for g, w in zip(got[:5], want[:5]):
            assert (g is None and w is None) or torch.equal(g, w)
        assert got[5] == want[5]
    assert plan.flip.dtype == torch.bool or not cfg.flip


def test_set_lr_changes_a_tensor_lr_in_place_and_fused_tensor_lr_sgd_matches():
    """The graph path's optimiser (fused SGD reading a device-tensor lr that set_lr changes in place) takes the
    same steps as the CPU's SGD with a float lr (checked here with PyTorch's CPU fused kernel)."""
    from pipeline_lib.core.training import set_lr

    torch.manual_seed(0)
    a, b = torch.nn.Linear(6, 3), torch.nn.Linear(6, 3)
    b.load_state_dict(a.state_dict())
    lr_t = torch.tensor(0.1)
    oa = torch.optim.SGD(a.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    ob = torch.optim.SGD(b.parameters(), lr=lr_t, momentum=0.9, weight_decay=2e-4, fused=True)
    x = torch.randn(8, 6)
    for lr in (0.02, 0.04, 0.1, 1e-3, 1e-5):
        set_lr(oa, lr)
        set_lr(ob, lr)
        assert ob.param_groups[0]["lr"] is lr_t and float(lr_t) == pytest.approx(lr) and oa.param_groups[0]["lr"] == lr
        for m, o in ((a, oa), (b, ob)):
            o.zero_grad()
            m(x).pow(2).sum().backward()
            o.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["ce", "ldam-drw"])
@pytest.mark.slow
def test_static_input_path_of_the_graph_step_equals_the_loop(monkeypatch, loss):
    """train_backbone's CUDA-graph branch (fixed input tensors refilled per full batch, a captured step keyed
    on the loss weights, the last smaller batch eager) run on the CPU with an eager stand-in for the capture:
    the same weights and history as the plain loop, one call per full batch, a new key when DRW switches on."""
    from pipeline_lib.core import training

    x, y = _toy_images(n=130)  # batches of 32: four full ones and one of 2
    cfg = TrainConfig(**SGD, epochs=5, batch_size=32, crop_padding=2, flip=True, seed=4, device="cpu")
    kw = dict(num_classes=3, arch="resnet20", loss=loss, mean=[0.5] * 3, std=[0.25] * 3, log=lambda *_: None)
    plain, plain_hist = train_backbone(x, y, cfg=cfg, **kw)

    keys = []

    class EagerStandIn:
        def __init__(self, fn, warmup=3):
            self.fn = fn

        def __call__(self, key=None):
            keys.append(key)
            return self.fn()

    real_setup = training._setup
    monkeypatch.setattr(training, "_setup", lambda *a: (lambda r: (*r[:5], True, *r[6:]))(real_setup(*a)))  # graph on
    monkeypatch.setattr(training, "GraphedStep", EagerStandIn)
    graphed, graphed_hist = train_backbone(x, y, cfg=cfg, **kw)
    for a, b in zip(plain.state_dict().values(), graphed.state_dict().values()):
        assert torch.equal(a, b)
    drop = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert drop(plain_hist) == drop(graphed_hist)
    assert len(keys) == 4 * 5
    assert keys == ([0] * 20 if loss == "ce" else [0] * 16 + [1] * 4)  # DRW weights from epoch int(0.8 * 5) = 4


@pytest.mark.slow
def test_cuda_graph_setting_on_the_cpu_is_reported_and_changes_nothing():
    x, y = _toy_images()
    base = dict(**SGD, epochs=2, batch_size=32, crop_padding=1, flip=True, seed=2, device="cpu")
    msgs = []
    on, _ = train_backbone(x, y, num_classes=3, arch="resnet20", loss="ce", cfg=TrainConfig(**base, cuda_graph=True),
                           mean=[0.5] * 3, std=[0.25] * 3, log=msgs.append)
    off, _ = train_backbone(x, y, num_classes=3, arch="resnet20", loss="ce", cfg=TrainConfig(**base),
                            mean=[0.5] * 3, std=[0.25] * 3, log=lambda *_: None)
    assert msgs[0] == "cuda_graph not used: device cpu"
    assert all(torch.equal(a, b) for a, b in zip(on.state_dict().values(), off.state_dict().values()))
    with pytest.raises(ValueError, match="cuda_graph 'yes' not allowed; allowed: true, false"):
        TrainConfig(**base, cuda_graph="yes")


@pytest.mark.slow
def test_step_throughput_reports_loop_and_bare_step_alike():
    from pipeline_lib.core.training import step_throughput

    x, y = _toy_images(n=90)
    cfg = TrainConfig(**SGD, epochs=200, batch_size=32, crop_padding=1, flip=True, seed=0, device="cpu")
    r = step_throughput(x, y, num_classes=3, arch="resnet20", loss="ce", cfg=cfg, mean=[0.5] * 3, std=[0.25] * 3,
                        repeats=2, log=lambda *_: None)
    assert r["batches"] == 3 and len(r["loop_epoch_s_all"]) == len(r["bare_epoch_s_all"]) == 2
    assert r["loop_epoch_s"] == pytest.approx(float(np.median(r["loop_epoch_s_all"])))
    assert r["loop_images_s"] == pytest.approx(90 / r["loop_epoch_s"]) and r["bare_images_s"] == pytest.approx(
        90 / r["bare_epoch_s"])
    assert r["loop_vs_bare"] == pytest.approx(r["loop_images_s"] / r["bare_images_s"])
    with pytest.raises(ValueError, match="repeats 0 not allowed; allowed: an integer >= 1"):
        step_throughput(x, y, num_classes=3, arch="resnet20", loss="ce", cfg=cfg, mean=[0.5] * 3, std=[0.25] * 3,
                        repeats=0)
