"""Tests for pipeline_lib.core.losses.

Every loss value is checked against a reference computed here by hand with
plain math / numpy in float64 (not with the torch code under test).
"""

import math

import pytest
import torch

from pipeline_lib.core import losses as L

# --- tiny fixed input: 3 samples x 4 classes -------------------------------

Z = [
    [2.0, 0.5, -1.0, 0.0],
    [0.1, 0.2, 3.0, -0.5],
    [-1.0, 1.0, 0.5, 0.3],
]
Y = [0, 2, 3]
W = [1.0, 2.0, 0.5, 3.0]

# 3 samples x 3 classes for LDAM (cosine-head-like logits in [-1, 1])
Z3 = [
    [0.9, 0.1, -0.4],
    [0.2, 0.3, -0.1],
    [-0.5, 0.6, 0.4],
]
Y3 = [0, 1, 2]
COUNTS = [100, 10, 1]


def logits(z=Z, requires_grad=False):
    return torch.tensor(z, dtype=torch.float32, requires_grad=requires_grad)


def targets(y=Y):
    return torch.tensor(y, dtype=torch.long)


# --- hand references (plain python math) -----------------------------------

def log_softmax_row(row):
    m = max(row)
    lse = m + math.log(sum(math.exp(v - m) for v in row))
    return [v - lse for v in row]


def ref_ce(z, y, w=None):
    num = den = 0.0
    for row, t in zip(z, y):
        wt = 1.0 if w is None else w[t]
        num += -wt * log_softmax_row(row)[t]
        den += wt
    return num / den


def ref_focal(z, y, gamma, w=None):
    total = 0.0
    for row, t in zip(z, y):
        wt = 1.0 if w is None else w[t]
        ce = -wt * log_softmax_row(row)[t]
        total += (1.0 - math.exp(-ce)) ** gamma * ce
    return total / len(z)


def ref_asl(z, y, gamma_pos=0.0, gamma_neg=4.0, eps=0.1, w=None):
    num = den = 0.0
    for row, t in zip(z, y):
        lp = log_softmax_row(row)
        c = len(row)
        li = 0.0
        for j in range(c):
            p = math.exp(lp[j])
            if j == t:
                a = (1.0 - p) ** gamma_pos
                s = (1.0 - eps) + eps / c
            else:
                a = p ** gamma_neg
                s = eps / c
            li -= s * a * lp[j]
        wt = 1.0 if w is None else w[t]
        num += wt * li
        den += wt
    return num / den


def ref_ldam_margins(counts, max_m=0.5):
    raw = [1.0 / n ** 0.25 for n in counts]
    top = max(raw)
    return [r * max_m / top for r in raw]


def ref_ldam(z, y, counts, max_m=0.5, s=30.0, w=None):
    m = ref_ldam_margins(counts, max_m)
    adj = []
    for row, t in zip(z, y):
        r = list(row)
        r[t] -= m[t]
        adj.append([s * v for v in r])
    return ref_ce(adj, y, w)


def ref_drw(counts, beta):
    raw = [(1.0 - beta) / (1.0 - beta ** n) for n in counts]
    tot = sum(raw)
    return [r / tot * len(counts) for r in raw]


def close(value, expected, rel=1e-5, abs_=1e-6):
    assert isinstance(value, torch.Tensor)
    assert value.dim() == 0, "loss must be a scalar"
    assert value.item() == pytest.approx(expected, rel=rel, abs=abs_)


# --- the hand references themselves (anchor numbers, worked out separately) --

def test_reference_anchor():
    # -log softmax at the targets, computed once with a calculator-style script
    lp = [log_softmax_row(r)[t] for r, t in zip(Z, Y)]
    assert -lp[0] == pytest.approx(0.342350, abs=1e-5)  # ln(1 + e^-1.5 + e^-3 + e^-2)
    assert ref_ce(Z, Y) == pytest.approx(0.661479, abs=1e-5)
    assert ref_ldam_margins(COUNTS) == pytest.approx([0.158114, 0.281171, 0.5], abs=1e-5)


# --- cross-entropy ---------------------------------------------------------

def test_ce_unweighted():
    close(L.CrossEntropyLoss()(logits(), targets()), ref_ce(Z, Y))


def test_ce_weighted():
    loss = L.CrossEntropyLoss(weight=torch.tensor(W))(logits(), targets())
    close(loss, ref_ce(Z, Y, W))
    assert ref_ce(Z, Y, W) != pytest.approx(ref_ce(Z, Y), rel=1e-3)


# --- focal -----------------------------------------------------------------

def test_focal_gamma2():
    close(L.FocalLoss(gamma=2.0)(logits(), targets()), ref_focal(Z, Y, 2.0))


def test_focal_default_gamma_is_2():
    assert L.FocalLoss().gamma == 2.0


def test_focal_weighted_authors_form():
    loss = L.FocalLoss(gamma=2.0, weight=torch.tensor(W))(logits(), targets())
    close(loss, ref_focal(Z, Y, 2.0, W))


def test_focal_gamma0_equals_ce():
    close(L.FocalLoss(gamma=0.0)(logits(), targets()), ref_ce(Z, Y))
    # and it is really smaller than CE with gamma > 0
    assert ref_focal(Z, Y, 2.0) < ref_ce(Z, Y)


# --- ASL -------------------------------------------------------------------

def test_asl_defaults():
    loss = L.ASLSingleLabel()(logits(), targets())
    close(loss, ref_asl(Z, Y, 0.0, 4.0, 0.1))


def test_asl_other_parameters():
    loss = L.ASLSingleLabel(gamma_pos=1.0, gamma_neg=2.0, eps=0.2)(logits(), targets())
    close(loss, ref_asl(Z, Y, 1.0, 2.0, 0.2))


def test_asl_zero_params_equals_ce():
    loss = L.ASLSingleLabel(gamma_pos=0.0, gamma_neg=0.0, eps=0.0)(logits(), targets())
    close(loss, ref_ce(Z, Y))


def test_asl_weighted():
    loss = L.ASLSingleLabel(weight=torch.tensor(W))(logits(), targets())
    close(loss, ref_asl(Z, Y, w=W))
    assert ref_asl(Z, Y, w=W) != pytest.approx(ref_asl(Z, Y), rel=1e-3)


# --- LDAM ------------------------------------------------------------------

def test_ldam_margins():
    m = L.LDAMLoss(COUNTS).m_list
    assert m.dtype == torch.float32
    assert m.tolist() == pytest.approx(ref_ldam_margins(COUNTS), rel=1e-6)
    assert m.max().item() == pytest.approx(0.5)
    # ratios follow n^(-1/4)
    assert (m[0] / m[2]).item() == pytest.approx(100 ** -0.25, rel=1e-6)
    assert (m[1] / m[2]).item() == pytest.approx(10 ** -0.25, rel=1e-6)
    assert "m_list" in dict(L.LDAMLoss(COUNTS).named_buffers())


def test_ldam_max_m():
    m = L.LDAMLoss(COUNTS, max_m=0.3).m_list
    assert m.max().item() == pytest.approx(0.3)


def test_ldam_loss_value():
    loss = L.LDAMLoss(COUNTS)(logits(Z3), targets(Y3))
    close(loss, ref_ldam(Z3, Y3, COUNTS))


def test_ldam_loss_value_other_s_and_weight():
    w = [0.2, 0.8, 2.0]
    loss = L.LDAMLoss(COUNTS, max_m=0.4, s=10.0, weight=torch.tensor(w))(logits(Z3), targets(Y3))
    close(loss, ref_ldam(Z3, Y3, COUNTS, max_m=0.4, s=10.0, w=w))


def test_ldam_margin_only_on_target():
    # moving a non-target logit by the margin must matter, i.e. the margin is
    # subtracted at the target only: compare with a wrong variant
    wrong = ref_ce([[30 * v for v in r] for r in Z3], Y3)
    assert ref_ldam(Z3, Y3, COUNTS) > wrong
    close(L.LDAMLoss(COUNTS)(logits(Z3), targets(Y3)), ref_ldam(Z3, Y3, COUNTS))


# --- DRW -------------------------------------------------------------------

def test_drw_weights_values():
    for beta in (0.9999, 0.9, 0.99):
        w = L.drw_class_weights(COUNTS, beta=beta)
        assert w.dtype == torch.float32
        assert w.tolist() == pytest.approx(ref_drw(COUNTS, beta), rel=1e-5)


def test_drw_weights_sum_and_monotone():
    counts = [500, 200, 50, 10, 1]
    w = L.drw_class_weights(counts)
    assert w.sum().item() == pytest.approx(len(counts), rel=1e-6)
    assert torch.all(w[1:] > w[:-1]), "rarer class must get a larger weight"
    # default beta is 0.9999
    assert w.tolist() == pytest.approx(ref_drw(counts, 0.9999), rel=1e-5)


def test_drw_weight_for_epoch_200():
    assert L.drw_weight_for_epoch(COUNTS, 0, 200) is None
    assert L.drw_weight_for_epoch(COUNTS, 159, 200) is None
    for epoch in (160, 199):
        w = L.drw_weight_for_epoch(COUNTS, epoch, 200)
        assert w is not None
        assert w.tolist() == pytest.approx(ref_drw(COUNTS, 0.9999), rel=1e-5)


def test_drw_weight_for_epoch_10():
    assert L.drw_weight_for_epoch(COUNTS, 7, 10) is None
    assert L.drw_weight_for_epoch(COUNTS, 8, 10) is not None
    assert L.drw_weight_for_epoch(COUNTS, 9, 10) is not None
    w = L.drw_weight_for_epoch(COUNTS, 8, 10, beta=0.9)
    assert w.tolist() == pytest.approx(ref_drw(COUNTS, 0.9), rel=1e-5)


@pytest.mark.parametrize("make", [
    lambda: L.CrossEntropyLoss(),
    lambda: L.FocalLoss(),
    lambda: L.ASLSingleLabel(),
])
def test_set_class_weight(make):
    loss = make()
    assert loss.weight is None
    before = loss(logits(), targets()).item()
    loss.set_class_weight(torch.tensor(W))
    assert torch.equal(loss.weight, torch.tensor(W))
    after = loss(logits(), targets()).item()
    assert after != pytest.approx(before, rel=1e-3)
    loss.set_class_weight(None)
    assert loss.weight is None
    assert loss(logits(), targets()).item() == pytest.approx(before)


def test_set_class_weight_ldam_drw():
    loss = L.LDAMLoss(COUNTS)
    w = L.drw_weight_for_epoch(COUNTS, 160, 200)
    loss.set_class_weight(w)
    close(loss(logits(Z3), targets(Y3)), ref_ldam(Z3, Y3, COUNTS, w=ref_drw(COUNTS, 0.9999)))


# --- names / factory -------------------------------------------------------

def test_losses_tuple():
    assert L.LOSSES == ("ce", "focal", "asl", "ldam")


@pytest.mark.parametrize("name,expected", [
    ("ce", ("ce", False)), ("focal", ("focal", False)),
    ("asl", ("asl", False)), ("ldam", ("ldam", False)),
    ("ce-drw", ("ce", True)), ("focal-drw", ("focal", True)),
    ("asl-drw", ("asl", True)), ("ldam-drw", ("ldam", True)),
])
def test_parse_loss_name_accepts(name, expected):
    assert L.parse_loss_name(name) == expected


@pytest.mark.parametrize("name", ["x", "", "CE", "drw", "-drw", "ldam_drw",
                                  "ldam-drw-drw", "ldam-DRW", "bce", " ce"])
def test_parse_loss_name_refuses(name):
    with pytest.raises(ValueError) as err:
        L.parse_loss_name(name)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg == (f"unknown loss {name!r}; allowed: ce, focal, asl, ldam, "
                   "optionally with the suffix -drw (e.g. ldam-drw)")


def test_parse_loss_name_message_exact():
    with pytest.raises(ValueError, match=r"^unknown loss 'x'; allowed: ce, focal, asl, ldam, "
                                         r"optionally with the suffix -drw \(e\.g\. ldam-drw\)$"):
        L.parse_loss_name("x")


@pytest.mark.parametrize("name,cls", [
    ("ce", L.CrossEntropyLoss), ("ce-drw", L.CrossEntropyLoss),
    ("focal", L.FocalLoss), ("focal-drw", L.FocalLoss),
    ("asl", L.ASLSingleLabel), ("asl-drw", L.ASLSingleLabel),
    ("ldam", L.LDAMLoss), ("ldam-drw", L.LDAMLoss),
])
def test_make_loss_types(name, cls):
    loss = L.make_loss(name, COUNTS)
    assert type(loss) is cls
    assert loss.weight is None


def test_make_loss_defaults():
    assert L.make_loss("focal", COUNTS).gamma == 2.0
    asl = L.make_loss("asl", COUNTS)
    assert (asl.gamma_pos, asl.gamma_neg, asl.eps) == (0.0, 4.0, 0.1)
    ldam = L.make_loss("ldam", COUNTS)
    assert (ldam.max_m, ldam.s) == (0.5, 30.0)


def test_make_loss_options():
    focal = L.make_loss("focal", COUNTS, {"gamma": 1.0})
    close(focal(logits(), targets()), ref_focal(Z, Y, 1.0))
    asl = L.make_loss("asl-drw", COUNTS, {"gamma_pos": 1.0, "gamma_neg": 2.0, "eps": 0.05})
    close(asl(logits(), targets()), ref_asl(Z, Y, 1.0, 2.0, 0.05))
    ldam = L.make_loss("ldam", COUNTS, {"max_m": 0.3, "s": 16.0})
    close(ldam(logits(Z3), targets(Y3)), ref_ldam(Z3, Y3, COUNTS, max_m=0.3, s=16.0))


def test_make_loss_bad_name():
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        L.make_loss("nope", COUNTS)


def test_make_loss_unknown_option_refused():
    with pytest.raises(ValueError):
        L.make_loss("focal", COUNTS, {"gama": 1.0})


def test_uses_normed_head():
    assert L.uses_normed_head("ldam") is True
    assert L.uses_normed_head("ldam-drw") is True
    for name in ("ce", "ce-drw", "focal", "focal-drw", "asl", "asl-drw"):
        assert L.uses_normed_head(name) is False
    with pytest.raises(ValueError):
        L.uses_normed_head("nope")


# --- gradients, dtypes, devices --------------------------------------------

ALL = [
    ("ce", lambda: L.CrossEntropyLoss(), Z, Y),
    ("ce-w", lambda: L.CrossEntropyLoss(weight=torch.tensor(W)), Z, Y),
    ("focal", lambda: L.FocalLoss(), Z, Y),
    ("focal-w", lambda: L.FocalLoss(weight=torch.tensor(W)), Z, Y),
    ("asl", lambda: L.ASLSingleLabel(), Z, Y),
    ("asl-w", lambda: L.ASLSingleLabel(weight=torch.tensor(W)), Z, Y),
    ("ldam", lambda: L.LDAMLoss(COUNTS), Z3, Y3),
    ("ldam-drw", lambda: L.LDAMLoss(COUNTS, weight=L.drw_class_weights(COUNTS)), Z3, Y3),
]


@pytest.mark.parametrize("label,make,z,y", ALL, ids=[a[0] for a in ALL])
def test_gradients_flow(label, make, z, y):
    x = logits(z, requires_grad=True)
    loss = make()(x, targets(y))
    loss.backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum().item() > 0


def test_asl_gradient_includes_focusing_weight():
    # the asymmetric weight is computed WITH gradient: compare the analytic
    # torch gradient with a central finite difference of the hand reference
    x = logits(requires_grad=True)
    L.ASLSingleLabel()(x, targets()).backward()
    h = 1e-5
    for i in range(3):
        for j in range(4):
            zp = [list(r) for r in Z]
            zm = [list(r) for r in Z]
            zp[i][j] += h
            zm[i][j] -= h
            fd = (ref_asl(zp, Y) - ref_asl(zm, Y)) / (2 * h)
            assert x.grad[i, j].item() == pytest.approx(fd, abs=1e-4)


@pytest.mark.parametrize("label,make,z,y", ALL, ids=[a[0] for a in ALL])
def test_bf16_input(label, make, z, y):
    loss_fn = make()
    x32 = logits(z)
    xbf = x32.to(torch.bfloat16)
    out_bf = loss_fn(xbf, targets(y))
    assert out_bf.dtype == torch.float32
    # identical to float32 computation on the bf16-rounded logits
    out_rounded = loss_fn(xbf.float(), targets(y))
    assert out_bf.item() == pytest.approx(out_rounded.item(), rel=1e-6, abs=1e-7)
    # and close to the float32 result on the original logits
    out32 = loss_fn(x32, targets(y))
    assert out_bf.item() == pytest.approx(out32.item(), rel=5e-2, abs=1e-3)
    # bf16 backward works too
    xg = xbf.clone().requires_grad_(True)
    loss_fn(xg, targets(y)).backward()
    assert xg.grad.dtype == torch.bfloat16
    assert torch.isfinite(xg.grad.float()).all()


def test_ldam_to_moves_buffer_and_float64():
    loss = L.LDAMLoss(COUNTS).to(torch.float64)
    out = loss(logits(Z3).double(), targets(Y3))
    assert out.dtype == torch.float32
    assert out.item() == pytest.approx(ref_ldam(Z3, Y3, COUNTS), rel=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("label,make,z,y", ALL, ids=[a[0] for a in ALL])
def test_cuda(label, make, z, y):
    dev = torch.device("cuda")
    loss_fn = make().to(dev)
    if isinstance(loss_fn, L.LDAMLoss):
        assert loss_fn.m_list.device.type == "cuda"
    x = logits(z).to(dev).requires_grad_(True)
    out = loss_fn(x, targets(y).to(dev))
    assert out.device.type == "cuda"
    expected = make()(logits(z), targets(y)).item()
    assert out.item() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    out.backward()
    assert torch.isfinite(x.grad).all()
    out_bf = loss_fn(x.detach().to(torch.bfloat16), targets(y).to(dev))
    assert out_bf.dtype == torch.float32
    assert out_bf.item() == pytest.approx(expected, rel=5e-2, abs=1e-3)
