"""Checks of chapter 4, the VAE and its loss (``book/04_vae.ipynb``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..gaussian import gaussian_kl, reparameterize
from ..losses import VAEObjective, vae_loss
from ..models import VAE, MLPConfig
from .autoencoders import SATURATED_LOGITS, saturation_diagnosis
from .core import (
    FAIL,
    NOT_ATTEMPTED,
    PASS,
    CheckResult,
    LayerKindError,
    LayerShapeError,
    Mistake,
    answer_check,
    calls,
    close,
    copy_layers,
    difference,
    kind,
    math_or_torch,
    never_raises,
    not_a_function,
    not_attempted,
    read_answer,
    run_check,
    seeded,
    tell,
    where_it_failed,
    with_report,
)
from .gaussians import WRONG_KLS

__all__ = [
    "check_elbo_identity",
    "check_gaussian_nll",
    "check_kl_warmup",
    "check_log_mean_exp",
    "check_mse_sigma_prediction",
    "check_vae_loss",
    "check_vae_module",
    "mse_sigma_experiment",
]


def _vae_cases() -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
    g = torch.Generator().manual_seed(9)
    return [
        (  # large logits, up to about 30, where sigmoid(logits) rounds to exactly 0 or 1
            (torch.rand(3, 784, generator=g) > 0.7).float(),
            torch.randn(3, 784, generator=g) * 8,
            torch.randn(3, 5, generator=g),
            torch.randn(3, 5, generator=g),
        ),
        (
            torch.rand(4, 784, generator=g),
            torch.randn(4, 784, generator=g) * 2,
            torch.randn(4, 5, generator=g),
            torch.randn(4, 5, generator=g),
        ),
    ]


def _loss(**options) -> Callable:
    return lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv, **options)["loss"]


def _recon(x: Tensor, logits: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


# Wrong losses of a VAE, each with its hint: the loss exercise and the loss of TinyVAE.
_REDUCTION_MISTAKES = [
    Mistake(
        _loss(pixel_reduction="mean"),
        "You averaged the reconstruction over pixels (the default reduction='mean'): it is now "
        "784 times too small next to the KL. Sum over pixels, then average over images.",
    ),
    Mistake(
        _loss(latent_reduction="mean"),
        "You averaged the KL over the latent dimensions: it is now too small. Sum over latent "
        "dimensions, then average over images.",
    ),
    Mistake(
        _loss(pixel_reduction="mean", latent_reduction="mean"),
        "Both terms are averaged over their dimensions. Sum over pixels and over latent "
        "dimensions; only the batch is averaged.",
    ),
    Mistake(
        lambda x, logits, mu, lv: _loss()(x, logits, mu, lv) * len(x),
        "You summed over the batch: the loss then grows with the batch size. Average over images.",
    ),
]
_LOSS_MISTAKES = [
    *_REDUCTION_MISTAKES,
    Mistake(
        lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv)["recon"] - vae_loss(x, logits, mu, lv)["kl"],
        "Your KL term has the wrong sign. The loss is -ELBO = reconstruction + KL, and the KL, "
        "0.5 * sum(mu^2 + exp(logvar) - 1 - logvar), is never negative: note the minus in front "
        "of -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).",
    ),
    Mistake(lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv)["recon"], "You left out the KL term."),
    Mistake(
        lambda x, logits, mu, lv: -_loss()(x, logits, mu, lv),
        "The sign is flipped: that is the ELBO, which training maximizes. The loss to minimize is -ELBO.",
    ),
    *[
        Mistake(
            lambda x, logits, mu, lv, kl=wrong.wrong: (_recon(x, logits) + kl(mu, lv)).mean(),
            f"The reconstruction is right; the KL term is not. {wrong.hint}",
            wrong.formula,
        )
        for wrong in WRONG_KLS[2:]  # its sign has a hint above; a missing 1/2 is below
    ],
    Mistake(
        lambda x, logits, mu, lv: (_recon(x, logits) + 2 * gaussian_kl(mu, lv)).mean(),
        "The reconstruction is right; the KL term is twice too large: it has a factor 1/2 in front.",
    ),
]


def _loss_carries_gradient(exercise: str, loss, inputs: dict[str, Tensor], what: str = "loss") -> CheckResult | None:
    """A failure if ``loss`` cannot train: a Python number, a tensor cut from its graph, or one
    whose gradient misses one of ``inputs``; None if it can.  ``what`` names it in the hint."""
    if not isinstance(loss, Tensor):
        return CheckResult(
            exercise,
            FAIL,
            f"Right value, but your {what} is {kind(loss)}, not a tensor: a number has no gradient, so "
            "loss.backward() fails and nothing trains. Return the tensor itself (no .item(), no float()).",
        )
    if not loss.requires_grad:
        return CheckResult(
            exercise,
            FAIL,
            f"Right value, but your {what} carries no gradient: it was cut from its graph (.detach(), "
            ".item() turned back into a tensor, torch.no_grad(), .data). Compute it with tensor "
            "operations all the way, so that loss.backward() reaches the model.",
        )
    names = list(inputs)
    if not names:
        return None
    grads = torch.autograd.grad(loss.sum(), [inputs[n] for n in names], allow_unused=True)
    cut = [n for n, grad in zip(names, grads, strict=True) if grad is None or not grad.abs().sum() > 0]
    if cut:
        return CheckResult(
            exercise,
            FAIL,
            f"Right value, but no gradient reaches {' and '.join(cut)}: part of your {what} was "
            "detached from its graph, so training would never change what produced it.",
        )
    return None


RECONSTRUCTION_CUT = (
    "Right values, but no gradient from the reconstruction reaches the encoder ({layers}): the sample z "
    "must stay connected to mu and logvar (no .detach(), no torch.no_grad()), or training never "
    "teaches the encoder to encode."
)


def _same_gradient(got: Tensor | None, expected: Tensor) -> bool:
    if got is None:
        got = torch.zeros_like(expected)
    scale = expected.abs().max().item()
    return bool(torch.allclose(got, expected, rtol=1e-3, atol=1e-3 * scale + 1e-7))


def gradient_hint(
    model, loss: Tensor, reference, loss_ref: Tensor, kl_ref: Tensor, layers: dict[str, tuple[str, int | None]]
) -> str | None:
    """Backpropagate the student's ``loss`` to the weights of the student's ``model`` and
    vaelib's ``loss_ref`` to those of ``reference`` (the same weights, copied): a hint if they
    differ (a sample cut from mu and logvar, a detached decoder), None if they agree.
    ``kl_ref`` is the reference's KL alone: the gradient an encoder gets when the
    reconstruction's is cut.  ``layers`` as in :func:`copy_layers`."""
    names = [name for name in ["decoder_out", "decoder_hidden", "hidden", "to_mu", "to_logvar"] if name in layers]
    theirs = [getattr(model, name).weight for name in names]
    ours = [
        (getattr(reference, where) if index is None else getattr(reference, where)[index]).weight
        for where, index in (layers[name] for name in names)
    ]
    got = torch.autograd.grad(loss, theirs, allow_unused=True)
    expected = torch.autograd.grad(loss_ref, ours, retain_graph=True)
    kl_only = torch.autograd.grad(kl_ref, ours, allow_unused=True)
    wrong = [k for k in range(len(names)) if not _same_gradient(got[k], expected[k])]
    if not wrong:
        return None
    decoder = [names[k] for k in wrong if names[k].startswith("decoder")]
    if decoder:
        return (
            f"Right values, but the gradient that reaches {' and '.join(decoder)} is not the loss's: "
            "part of the computation was cut from its graph (.detach(), torch.no_grad(), .data), so "
            "training would not change those weights as it should."
        )
    cut = [names[k] for k in wrong if kl_only[k] is not None and _same_gradient(got[k], kl_only[k])]
    if cut:
        return RECONSTRUCTION_CUT.format(layers=", ".join(cut))
    return (
        f"Right values, but the gradient that reaches {', '.join(names[k] for k in wrong)} is not the "
        "loss's: part of the computation was cut from its graph (.detach(), torch.no_grad(), .data), "
        "or computed from numbers rather than tensors."
    )


@never_raises
def check_vae_loss(answer: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: the negative ELBO in nats per image (sum over pixels and latents, mean over
    images), as a tensor that carries gradient to the logits, mu and logvar."""
    cases = _vae_cases()
    diagnose = saturation_diagnosis(answer, cases, _loss(), _REDUCTION_MISTAKES)
    result = run_check("vae_loss", answer, _loss(), cases, _LOSS_MISTAKES, diagnose=diagnose)
    if not result.passed:
        return result
    x, logits, mu, logvar = cases[1]
    inputs = {name: t.clone().requires_grad_() for name, t in [("logits", logits), ("mu", mu), ("logvar", logvar)]}
    with warnings.catch_warnings():  # .item() of a tensor that requires grad warns; the hint says more
        warnings.simplefilter("ignore")
        loss = answer(x.clone(), *inputs.values())
    return _loss_carries_gradient("vae_loss", loss, inputs) or result


@never_raises
def check_log_mean_exp(answer: Callable[[Tensor], Tensor]) -> CheckResult:
    """Exercise: ``log_mean_exp(log_w) -> [B]``: log(mean_k exp(log_w[k])) over dim 0, stably."""
    g = torch.Generator().manual_seed(10)
    # Columns of very different scales: one maximum for the whole tensor is not enough.
    scales = torch.cat([torch.randn(40, 1, generator=g) * 2 - 1000.0, torch.randn(40, 1, generator=g) - 10.0], 1)
    cases = [
        (torch.randn(50, 3, generator=g) * 3 - 100.0,),
        (torch.randn(20, 2, generator=g) - 900.0,),  # exp underflows to 0
        (scales,),
    ]

    def reference(log_w):
        return torch.logsumexp(log_w, dim=0) - math.log(len(log_w))

    mistakes = [
        Mistake(
            lambda lw: torch.logsumexp(lw, dim=0),
            "Close: that is the log of the *sum*. Subtract log(K) to get the log of the mean.",
        ),
        Mistake(
            lambda lw: lw.mean(0),
            "That is the mean of the logs: by Jensen's inequality it is below the log of the mean "
            "(it is the ELBO again). Use torch.logsumexp.",
        ),
        Mistake(
            lambda lw: torch.logsumexp(lw, dim=1) - math.log(lw.shape[1]),
            "Combine the K samples, which run along dim 0: one value per image.",
        ),
        Mistake(
            lambda lw: torch.logsumexp(lw, dim=0) - math.log(lw.shape[1]),
            "You subtracted the log of the number of columns, log_w.shape[1]. The mean is over the K "
            "samples, along dim 0: subtract log(K), K = log_w.shape[0].",
        ),
        Mistake(
            lambda lw: torch.logsumexp(lw, dim=0) / len(lw),
            "Dividing the log by K is not the log of the mean: the 1/K inside the log becomes -log(K) outside it.",
        ),
        Mistake(
            lambda lw: torch.logsumexp(lw - lw.max(0).values, dim=0) - math.log(len(lw)),
            "You subtracted the maximum before exponentiating, which is right, but never added it "
            "back: log mean exp(w) = m + log mean exp(w - m).",
        ),
        Mistake(
            lambda lw: reference(lw)[None],
            "Return one value per column, shape [B]: drop the dimension you kept (keepdim=True leaves [1, B]).",
        ),
    ]
    _, _, mixed = cases

    def diagnose(args, got):
        if args is mixed and isinstance(got, Tensor) and not torch.isfinite(got).all():
            return (
                "Right when all the columns are alike, inf or NaN when they differ (here one column "
                "near -1000, the other near -10): one maximum for the whole tensor leaves exp(-990) "
                "in the first column, which underflows to 0. Subtract each column's own maximum "
                "(over dim 0, keepdim=True), or use torch.logsumexp."
            )
        return None

    hint = (
        "Your result contains inf or NaN: exp(-900) underflows to 0 and its log is -inf. "
        "Subtract the maximum before exponentiating, or use torch.logsumexp."
    )
    return run_check(
        "log_mean_exp",
        answer,
        reference,
        cases,
        mistakes,
        non_finite_hint=hint,
        diagnose=diagnose,
        raised=math_or_torch,
    )


@never_raises
def check_kl_warmup(answer: Callable[[int, int, float], float]) -> CheckResult:
    """Exercise: ``warmup_beta(step, warmup_steps, beta)``: rises linearly from 0 to beta, then
    stays; with ``warmup_steps = 0`` (no warm-up), beta from step 0.  A Python float."""

    def reference(step, warmup_steps, beta):
        return beta if warmup_steps == 0 else beta * min(1.0, step / warmup_steps)

    def many(fn):
        def run(steps, warmup, beta):
            values = tuple(fn(s, warmup, beta) for s in steps)
            return None if any(v is None for v in values) else values  # None: a missing return

        return run

    def numbers(fn):
        return lambda steps, warmup, beta: tuple(float(fn(s, warmup, beta)) for s in steps)

    cases = [([0, 250, 500, 1000, 3000], 1000, 1.0), ([0, 10, 20, 40], 20, 4.0), ([0, 1, 5], 0, 2.0)]
    mistakes = [
        Mistake(
            numbers(lambda s, w, b: b * s / w),
            "Beta keeps growing after the warm-up: it must stop rising once it reaches beta.",
            "Cap the ramp: beta * min(1, step / warmup_steps).",
        ),
        Mistake(numbers(lambda s, w, b: min(1.0, s / w)), "The ramp ends at 1, not at beta: multiply by beta."),
        Mistake(
            numbers(lambda s, w, b: b * (1 - min(1.0, s / w))),
            "The ramp runs backwards: beta starts at 0 and rises to its full value.",
        ),
        Mistake(
            numbers(lambda s, w, b: b * min(1.0, (s + 1) / w)),
            "Off by one: at step 0 the weight is exactly 0, and it reaches beta at step warmup_steps.",
        ),
        Mistake(
            numbers(lambda s, w, b: b * min(1.0, s // w)),
            "Your weight jumps from 0 to beta at the end of the warm-up: step // warmup_steps is "
            "integer division. Use / for a linear ramp.",
        ),
        Mistake(
            numbers(lambda s, w, b: b * max(1.0, s / w)),
            "You took the larger of 1 and step / warmup_steps: beta from step 0, then more. Take the smaller.",
        ),
        Mistake(
            numbers(lambda s, w, b: b * min(1.0, s / max(w, 1))),
            "With warmup_steps = 0 there is no warm-up: the weight is beta from step 0 on. Yours starts at 0.",
        ),
    ]

    def raised(err, args):
        if isinstance(err, ZeroDivisionError) and args[1] == 0:
            return (
                "With warmup_steps = 0 there is no warm-up (the chapter trains that way too): the "
                "weight is beta from step 0 on. Treat that case before you divide by warmup_steps."
            )
        return None

    return run_check("warmup_beta", many(answer), many(reference), cases, mistakes, python_number=True, raised=raised)


# ---------------------------------------------------------------- implement: a VAE from scratch


_LAYERS = {  # the student's layer -> where vaelib's VAE keeps it
    "hidden": ("encoder", 0),
    "to_mu": ("to_mu", None),
    "to_logvar": ("to_logvar", None),
    "decoder_hidden": ("decoder", 0),
    "decoder_out": ("decoder", 2),
}


def _vae_module_outputs(cls, latent_dim: int = 8):
    """Build ``cls(latent_dim)``, give vaelib's VAE its weights, and run both on one batch:
    ``(student, reference, context)``, each of the first two ``(logits, mu, logvar, loss)``;
    the context holds what the hints need (the batch, the noise, the student's model and the
    reference model, a second forward pass of the student's model, the reference's loss and
    KL with their graphs)."""
    model = seeded(lambda: cls(latent_dim))
    g = torch.Generator().manual_seed(11)
    x, eps = torch.rand(5, 784, generator=g), torch.randn(5, latent_dim, generator=g)
    model(x.clone(), eps.clone())  # first: a stub says "not attempted" here
    reference = seeded(lambda: VAE(MLPConfig(input_dim=784, hidden_dims=(400,), latent_dim=latent_dim)))
    copy_layers(model, reference, _LAYERS)  # first: a layer it cannot copy is named before anything runs
    with torch.no_grad():  # mu and logvar of order 1, so that every term of the KL weighs in the loss
        for name, scale in [("to_mu", 1.0), ("to_logvar", 1.0)]:
            layer = getattr(model, name, None)
            if isinstance(getattr(layer, "bias", None), Tensor):
                layer.bias.add_(scale * torch.randn(layer.bias.shape, generator=g))
    logits, mu, logvar = model(x.clone(), eps.clone())
    again = model(x.clone(), eps.clone())[0]
    loss = model.loss(x.clone(), eps.clone())
    copy_layers(model, reference, _LAYERS)
    mu_ref, logvar_ref = reference.encode(x)
    logits_ref = reference.decode(reparameterize(mu_ref, logvar_ref, eps))
    terms = vae_loss(x, logits_ref, mu_ref, logvar_ref)
    expected = tuple(t.detach() for t in (logits_ref, mu_ref, logvar_ref, terms["loss"]))
    context = {
        "x": x,
        "eps": eps,
        "model": model,
        "reference": reference,
        "again": again,
        "loss_ref": terms["loss"],
        "kl_ref": terms["kl"],
    }
    return (logits, mu, logvar, loss), expected, context


# The decoder's known mistakes, for TinyVAE and TinyCVAE alike: (hint, formula), the formula
# from the third failed try on (see core.tell).
DECODER_HINTS = {
    "noise": (
        "Your forward pass gives different logits on every call: it draws noise of its own. Build z "
        "from the eps that forward is given.",
        "z = mu + exp(logvar / 2) * eps.",
    ),
    "variance": (
        "exp(logvar) is the variance sigma^2, not the standard deviation sigma that scales the noise.",
        "sigma = exp(logvar / 2).",
    ),
    "mu": (
        "You decoded mu itself: the decoder takes the sample z, mu moved by the noise eps scaled by sigma.",
        "z = mu + exp(logvar / 2) * eps.",
    ),
    "sigmoid": ("No sigmoid at the end: the decoder returns logits, which the loss takes.", None),
    "relu": (
        "Your decoder has no ReLU after decoder_hidden: two linear layers in a row are only one linear map.",
        "logits = decoder_out(relu(decoder_hidden(z))).",
    ),
}


def decoder_hint(
    exercise: str, got: Tensor, again, candidates: dict[str, Tensor], fallback: tuple, hints: dict | None = None
) -> str:
    """What is wrong in the logits of a model whose mu and logvar are right: ``again`` is a
    second forward pass's logits, ``candidates`` the logits of each known mistake of
    :data:`DECODER_HINTS` (by its key); ``fallback`` the ``(hint, formula)`` for anything else;
    ``hints`` replaces some of :data:`DECODER_HINTS` (a formula of the exercise's own)."""
    hints = {**DECODER_HINTS, **(hints or {})}
    if isinstance(again, Tensor) and not torch.equal(again.detach(), got.detach()):
        return tell(exercise, *hints["noise"])
    key = next((key for key, wrong in candidates.items() if close(got, wrong)), None)
    return tell(exercise, *(hints[key] if key else fallback))


def _logits_hint(got: Tensor, expected: tuple, context: dict) -> str:
    """What is wrong in the logits of a TinyVAE whose mu and logvar are right."""
    logits, mu, logvar, _ = expected
    decoder, eps = context["reference"].decoder, context["eps"]
    with torch.no_grad():
        candidates = {
            "variance": decoder(mu + logvar.exp() * eps),
            "mu": decoder(mu),
            "sigmoid": torch.sigmoid(logits),
            "relu": decoder[2](decoder[0](reparameterize(mu, logvar, eps))),
        }
    return decoder_hint("vae_module", got, context["again"], candidates, (_VAE_HINTS["the logits"], None))


def _loss_hint(got, expected: tuple, context: dict) -> str:
    """What is wrong in the loss of a TinyVAE whose forward pass is right."""
    logits, mu, logvar, _ = expected
    args = (context["x"], logits, mu, logvar)
    return next(
        (m.hint for m in _LOSS_MISTAKES if close(got, m.wrong(*args))),
        _VAE_HINTS["the loss"],
    )


def _large_logits_hint(context: dict) -> str | None:
    """The loss again, with decoder_out scaled so that the logits reach about +-30, where
    sigmoid rounds to exactly 0 or 1: a hint if the student's loss is wrong there only."""
    model, reference, x, eps = context["model"], context["reference"], context["x"], context["eps"]
    with torch.no_grad():
        scale = 30.0 / model(x.clone(), eps.clone())[0].abs().max()
        model.decoder_out.weight.mul_(scale)
        model.decoder_out.bias.mul_(scale)
        copy_layers(model, reference, _LAYERS)
        loss = model.loss(x.clone(), eps.clone())
        mu, logvar = reference.encode(x)
        expected = vae_loss(x, reference.decode(reparameterize(mu, logvar, eps)), mu, logvar)["loss"]
    if close(loss, expected):
        return None
    if isinstance(loss, Tensor) and not torch.isfinite(loss).all():
        return (
            "Right on moderate logits, inf or NaN on large ones (here up to about 30): where "
            "sigmoid(logits) rounds to exactly 0 or 1, its log is -inf. Compute the loss from the "
            "logits, with the with-logits form of the loss, which never takes log(0)."
        )
    return SATURATED_LOGITS


@never_raises
def check_vae_module(answer) -> CheckResult:
    """Exercise (implement): a class ``TinyVAE(latent_dim)`` with layers ``hidden``
    (784 -> 400), ``to_mu`` and ``to_logvar`` (400 -> d), ``decoder_hidden`` (d -> 400),
    ``decoder_out`` (400 -> 784), ``forward(x, eps) -> (logits, mu, logvar)`` and
    ``loss(x, eps)``, the negative ELBO in nats per image; checked against vaelib's
    ``VAE`` and ``losses.vae_loss`` given the same weights and noise, then its loss's
    gradients against vaelib's, then its loss again on large logits."""
    if answer is None or not isinstance(answer, type):
        return not_a_function("vae_module", answer, what="class")
    try:
        got, expected, context = _vae_module_outputs(answer)
    except NotImplementedError:
        return not_attempted("vae_module")
    except (LayerShapeError, LayerKindError) as err:
        return CheckResult("vae_module", FAIL, str(err))
    except Exception as err:  # noqa: BLE001 - the student's class; report, never raise
        return CheckResult("vae_module", FAIL, f"Your class raised {type(err).__name__}: {err}{where_it_failed(err)}")
    names = ["the logits", "mu", "logvar", "the loss"]
    order = [1, 2, 0, 3]  # the encoder first: a wrong mu makes the logits wrong too
    for k in order:
        name, mine, theirs = names[k], got[k], expected[k]
        problem = difference(mine, theirs)
        if problem is not None:
            if name == "the logits":
                hint = _logits_hint(mine, expected, context)
            elif name == "the loss":
                hint = _loss_hint(mine, expected, context)
            else:
                hint = _VAE_HINTS[name]
            return CheckResult("vae_module", FAIL, f"In {name}: {problem} {hint}")
    loss = got[3]
    cannot_train = _loss_carries_gradient("vae_module", loss, {})
    if cannot_train is not None:
        return CheckResult("vae_module", FAIL, f"In the loss: {cannot_train.message}")
    try:
        hint = gradient_hint(
            context["model"], loss.sum(), context["reference"], context["loss_ref"], context["kl_ref"], _LAYERS
        )
        hint = hint or _large_logits_hint(context)
    except Exception as err:  # noqa: BLE001 - the student's class; report, never raise
        return CheckResult("vae_module", FAIL, f"Your class raised {type(err).__name__}: {err}{where_it_failed(err)}")
    if hint is not None:
        return CheckResult("vae_module", FAIL, f"In the loss: {hint}")
    return CheckResult("vae_module", PASS, "Well done! Your VAE computes exactly what vaelib's does.")


_VAE_HINTS = {
    "the logits": "Decode z = mu + exp(logvar / 2) * eps: decoder_hidden, a ReLU, then decoder_out, "
    "with no sigmoid at the end (the loss takes logits).",
    "mu": "mu = to_mu(relu(hidden(x))).",
    "logvar": "logvar = to_logvar(relu(hidden(x))), the same hidden features as mu.",
    "the loss": "The loss is BCE summed over pixels plus the KL summed over latent dimensions, "
    "averaged over the images of the batch.",
}


# ---------------------------------------------------------------- derive: MSE is a Gaussian likelihood


def _gaussian_nll(x, x_hat, sigma):
    return ((x - x_hat) ** 2).sum(1) / (2 * sigma**2) + 0.5 * x.shape[1] * math.log(2 * math.pi * sigma**2)


@never_raises
def check_gaussian_nll(answer: Callable[[Tensor, Tensor, float], Tensor]) -> CheckResult:
    """Exercise (derive): ``gaussian_nll(x, x_hat, sigma) -> [B]``, the negative log-density
    of images ``x`` under N(x_hat, sigma^2 I), in nats per image."""
    g = torch.Generator().manual_seed(13)
    x, x_hat = torch.rand(4, 784, generator=g), torch.rand(4, 784, generator=g)
    cases = [(x, x_hat, 0.1), (x, x_hat, math.sqrt(0.5)), (x[:, :10], x_hat[:, :10], 2.0)]

    def squared(x, xh):
        return ((x - xh) ** 2).sum(1)

    def constant(x, s):
        return 0.5 * x.shape[1] * math.log(2 * math.pi * s**2)

    mistakes = [
        Mistake(
            lambda x, xh, s: squared(x, xh) / (2 * s**2),
            "Right up to a constant: a negative log-density in nats keeps the Gaussian's normalizing "
            "constant, the factor in front of the exp, once for every pixel.",
            "For D pixels it adds D/2 log(2 pi sigma^2).",
        ),
        Mistake(
            lambda x, xh, s: squared(x, xh) / (2 * s) + constant(x, s),
            "Divide the squared error by 2 sigma^2, the variance, not by 2 sigma.",
        ),
        Mistake(
            lambda x, xh, s: squared(x, xh) + constant(x, s),
            "The squared error is weighted: log N has -(x - x_hat)^2 / (2 sigma^2). Divide by 2 sigma^2.",
        ),
        Mistake(
            lambda x, xh, s: _gaussian_nll(x, xh, s) / x.shape[1],
            "Sum over the pixels: a log-likelihood of an image is the sum over its pixels.",
        ),
        Mistake(
            lambda x, xh, s: _gaussian_nll(x, xh, s).mean(),
            "You averaged over the images. Return one number per image, shape [B].",
        ),
        Mistake(
            lambda x, xh, s: -_gaussian_nll(x, xh, s),
            "The sign is flipped: that is the log-density. The exercise asks for its negative, a loss.",
        ),
        Mistake(
            lambda x, xh, s: squared(x, xh) / (2 * s**2) + x.shape[1] * math.log(s),
            "Your normalizing constant has no 2 pi. Go back to the density of chapter 2: what stands "
            "in front of the exp?",
        ),
        Mistake(
            lambda x, xh, s: squared(x, xh) / (2 * s**2) + 0.5 * x.shape[1] * math.log(2 * math.pi * s),
            "Inside the constant's log goes the variance, sigma^2, not sigma: the density has "
            "1 / sqrt(2 pi sigma^2) in front.",
        ),
        Mistake(
            lambda x, xh, s: squared(x, xh) / (2 * s**2) + 2 * constant(x, s),
            "Your constant is twice too large: the density has 1 / *sqrt*(2 pi sigma^2) in front, "
            "and the square root halves the log.",
        ),
        Mistake(
            lambda x, xh, s: squared(x, xh) / (2 * s**2) + constant(x, s) / x.shape[1],
            "The constant comes once per *pixel*: D 1-D Gaussians, D normalizers.",
        ),
    ]

    def diagnose(args, got):
        """The right squared error plus c/2 log(2 pi sigma^2) for a whole number c that is not D."""
        x, xh, s = args
        counted = (got - squared(x, xh) / (2 * s**2)) / (0.5 * math.log(2 * math.pi * s**2))  # [B]
        c = round(counted[0].item())
        if c < 1 or c == x.shape[1] or not torch.allclose(counted, torch.full_like(counted, c), atol=1e-3):
            return None
        n, d = x.shape
        why = {
            n: "the number of images, x.shape[0]",
            n * d: "every pixel of the batch (x.numel()), not of one image",
            784: "an MNIST image's pixels, fixed: these images have fewer",
        }.get(c, "not the number of pixels of an image")
        return (
            f"Your squared error is right, but your constant counts D = {c}: {why}. Each image of "
            f"this case has D = x.shape[1] = {d} pixels, one normalizer each: take D from x."
        )

    return run_check("gaussian_nll", answer, _gaussian_nll, cases, mistakes, raised=math_or_torch, diagnose=diagnose)


# ---------------------------------------------------------------- derive: the ELBO's gap is the KL to the posterior


def _log_normal(x: Tensor, mean: Tensor, var: Tensor) -> Tensor:
    return -0.5 * torch.log(2 * math.pi * var) - (x - mean) ** 2 / (2 * var)


def _kl_normal(m1: Tensor, t1: Tensor, m2: Tensor, t2: Tensor) -> Tensor:
    """KL(N(m1, t1^2) || N(m2, t2^2)), with standard deviations t1, t2."""
    return torch.log(t2 / t1) + (t1**2 + (m1 - m2) ** 2) / (2 * t2**2) - 0.5


def _posterior(x, w, b, s) -> tuple[Tensor, Tensor]:
    """The mean and the standard deviation of p(z | x) in the 1-D linear-Gaussian model."""
    return w * (x - b) / (w**2 + s**2), torch.sqrt(s**2 / (w**2 + s**2))


def _log_px(x, w, b, s) -> Tensor:
    return _log_normal(x, b, w**2 + s**2)


def _expected_log_lik(x, w, b, s, m, t) -> Tensor:
    """E_q[log N(x; w z + b, s^2)] for q = N(m, t^2)."""
    return -0.5 * torch.log(2 * math.pi * s**2) - ((x - b - w * m) ** 2 + w**2 * t**2) / (2 * s**2)


def _prior_kl(m, t) -> Tensor:
    return 0.5 * (m**2 + t**2 - 1 - torch.log(t**2))


def _elbo(x, w, b, s, m, t) -> Tensor:
    return _expected_log_lik(x, w, b, s, m, t) - _prior_kl(m, t)


def _posterior_kl(x, w, b, s, m, t) -> Tensor:
    return _kl_normal(m, t, *_posterior(x, w, b, s))


def _elbo_cases() -> list[tuple[Tensor, ...]]:
    """Elementwise arguments ``(x, w, b, s, m, t)``: random models and q's, then q = the posterior."""
    g = torch.Generator().manual_seed(19)

    def draw(*shape, scale=1.0, shift=0.0, positive=False):
        values = torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift
        return values.abs() + 0.3 if positive else values

    n = 6
    x, w, b, s = draw(n, scale=2.0), draw(n, scale=1.5), draw(n), draw(n, scale=0.5, positive=True)
    m, t = draw(n), draw(n, scale=0.5, positive=True)
    x2, w2, b2, s2 = draw(n, scale=3.0), draw(n, scale=0.7), draw(n, scale=2.0), draw(n, positive=True)
    return [
        (x, w, b, s, m, t),
        (x2, w2, b2, s2, *_posterior(x2, w2, b2, s2)),  # q = p(z | x): the bound is tight
        (x2, w2, b2, s2, draw(n, scale=2.0), draw(n, scale=2.0, positive=True)),
    ]


_ELBO_MISTAKES = [
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t) + _prior_kl(m, t),
        "The KL to the prior enters the ELBO with a minus: it is what the code costs, subtracted "
        "from the expected log-likelihood.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: -_elbo(x, w, b, s, m, t),
        "The sign is flipped: that is the loss, -ELBO. Return the ELBO itself, a lower bound on log p(x).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, 0 * t) - _prior_kl(m, t),
        "E_q[(x - b - w z)^2] is not (x - b - w m)^2: z varies under q, and its spread adds a term.",
        "E_q[(x - b - w z)^2] = (x - b - w m)^2 + w^2 t^2, since E_q[(z - m)^2] = t^2.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t.sqrt()) - _prior_kl(m, t.sqrt()),
        "t is q's standard deviation, not its variance: its square t^2 goes where a variance "
        "belongs, in the expected squared error (w^2 t^2) and in the KL.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t.sqrt()) - _prior_kl(m, t),
        "t is q's standard deviation: the variance of w z under q is w^2 t^2, not w^2 t.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t) - _prior_kl(m, t.sqrt()),
        "t is q's standard deviation: the KL to N(0, 1) has the variance t^2 (and its log), not t.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s.sqrt(), m, t) - _prior_kl(m, t),
        "s is the standard deviation of p(x | z): its variance s^2 divides the squared error and "
        "goes inside the log of the normalizer.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _elbo(x, w, b, s, m, t) + 0.5 * math.log(2 * math.pi),
        "You left out the log(2 pi) of the normalizer: log N(x; mean, s^2) = -log(2 pi s^2) / 2 - ...",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _elbo(x, w, b, s, m, t) + 0.5 * torch.log(2 * math.pi * s**2),
        "You left out the normalizer of p(x | z), -log(2 pi s^2) / 2: without it the ELBO is not in "
        "nats, and cannot meet log p(x).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: (
            _expected_log_lik(x, w, b, s, m, t) - _prior_kl(m, t) - _posterior_kl(x, w, b, s, m, t)
        ),
        "You subtracted the KL to the posterior, which is what the ELBO misses of log p(x). The "
        "ELBO subtracts the KL to the *prior*, N(0, 1).",
    ),
]

_POSTERIOR_KL_MISTAKES = [
    Mistake(
        lambda x, w, b, s, m, t: _prior_kl(m, t),
        "That is the KL to the prior, p(z) = N(0, 1). The gap between the ELBO and log p(x) is the "
        "KL to the *posterior*, p(z | x), whose mean and variance the exercise gives.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _kl_normal(*_posterior(x, w, b, s), m, t),
        "That is KL(p(z | x) || q), the other direction: the KL is not symmetric. The gap is KL(q || p(z | x)).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _kl_normal(m, t, _posterior(x, w, b, s)[0], _posterior(x, w, b, s)[1] ** 2),
        "s^2 / (w^2 + s^2) is the posterior's *variance*; chapter 2's KL of two Gaussians takes "
        "standard deviations (or put the variance where sigma^2 appears).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _kl_normal(m, t.sqrt(), *_posterior(x, w, b, s)),
        "t is q's standard deviation, not its variance.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: -_posterior_kl(x, w, b, s, m, t),
        "The sign is flipped: a KL divergence is never negative.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _posterior_kl(x, w, b, s, m, t) + 0.5,
        "You are missing the -1/2 of the KL of two Gaussians: with q = p(z | x) the KL must be 0.",
    ),
]


FROM_THE_IDENTITY = (
    "Your posterior_kl calls your elbo: written as log p(x) - ELBO, it makes the identity true by "
    "construction, and the check would prove nothing. Write KL(q || p(z | x)) from chapter 2's "
    "KL between two Gaussians, with the posterior's mean and variance that the exercise gives."
)


def _named(result: CheckResult, function: str) -> CheckResult:
    """``result`` of one of the exercise's two functions, its failure message naming which."""
    if result.status != FAIL:
        return result
    return CheckResult("elbo_identity", FAIL, f"In {function}: {result.message}")


@never_raises
def check_elbo_identity(elbo, posterior_kl=None) -> CheckResult:
    """Exercise (derive): on the model p(z) = N(0, 1), p(x | z) = N(w z + b, s^2), whose marginal
    N(b, w^2 + s^2) and posterior are known, ``elbo(x, w, b, s, m, t)`` (the ELBO of
    q = N(m, t^2), in closed form) and ``posterior_kl(x, w, b, s, m, t)`` (KL(q || p(z | x))),
    elementwise; checked against the closed forms, then the identity
    log p(x) = ELBO + KL(q || p(z | x)) is verified with the student's functions, tight at
    q = p(z | x)."""
    cases = _elbo_cases()
    for name, function in [("elbo", elbo), ("posterior_kl", posterior_kl)]:
        if function is None or not callable(function):
            return not_a_function("elbo_identity", function, what=f"function {name}")
    first = _named(
        run_check("elbo_identity", elbo, _elbo, cases, _ELBO_MISTAKES, tolerance=1e-6, raised=math_or_torch), "elbo"
    )
    if not first.passed:
        return first
    second = run_check(
        "elbo_identity",
        posterior_kl,
        _posterior_kl,
        cases,
        _POSTERIOR_KL_MISTAKES,
        tolerance=1e-6,
        raised=math_or_torch,
    )
    if second.status == NOT_ATTEMPTED:
        return CheckResult(
            "elbo_identity",
            NOT_ATTEMPTED,
            "Your elbo is right. Now write posterior_kl in its cell, then run this check again.",
        )
    if not second.passed:
        return _named(second, "posterior_kl")
    if calls(posterior_kl, cases[0], elbo):
        return CheckResult("elbo_identity", FAIL, FROM_THE_IDENTITY)
    # Both right: the identity, with the student's own functions.
    gaps = []
    for x, w, b, s, m, t in cases:
        total = torch.as_tensor(elbo(x, w, b, s, m, t)) + torch.as_tensor(posterior_kl(x, w, b, s, m, t))
        gaps.append((total - _log_px(x, w, b, s)).abs().max().item())
    x, w, b, s, m, t = cases[1]
    tight = (torch.as_tensor(elbo(x, w, b, s, m, t)) - _log_px(x, w, b, s)).abs().max().item()
    if max(gaps) > 1e-6 or tight > 1e-6:
        return CheckResult("elbo_identity", FAIL, "Your ELBO plus your KL does not add up to log p(x).")
    return CheckResult(
        "elbo_identity",
        PASS,
        f"Well done! On {sum(len(c[0]) for c in cases)} pairs of x and q, your ELBO plus your KL to the "
        f"posterior equals log N(x; b, w^2 + s^2) to {max(gaps):.0e} nats; at q = p(z | x) the KL is 0 "
        "and the ELBO is log p(x) itself: the bound is tight.",
    )


# ---------------------------------------------------------------- predict: MSE with another sigma


def mse_sigma_experiment(train_x: Tensor, test_x: Tensor, sigmas=(1.0, 0.3, 0.1), epochs: int = 2) -> dict:
    """The test KL (nats per image) of a small Gaussian-pixel VAE for each sigma, briefly trained."""
    from ..metrics import elbo
    from ..train import fit

    kls = {}
    for sigma in sigmas:
        model = seeded(lambda: VAE(MLPConfig(hidden_dims=(200,), latent_dim=10)))
        objective = VAEObjective(reconstruction="mse", sigma=sigma)
        fit(model, objective, train_x, epochs=epochs, device="cpu", progress=False)
        kls[sigma] = elbo(model, test_x, reconstruction="mse", sigma=sigma)["kl"]
    return kls


@never_raises
def check_mse_sigma_prediction(answer, train_x: Tensor, test_x: Tensor) -> CheckResult:
    """Exercise (predict): where the KL of an MSE VAE with sigma = 0.3 falls:
    "below both", "between" or "above both" of the KLs with sigma = 1 and 0.1."""
    answer = read_answer("mse_sigma_prediction", answer, ["below both", "between", "above both"])
    if isinstance(answer, CheckResult):
        return answer
    kls = mse_sigma_experiment(train_x, test_x)
    low, high = min(kls[1.0], kls[0.1]), max(kls[1.0], kls[0.1])
    correct = "between" if low <= kls[0.3] <= high else ("below both" if kls[0.3] < low else "above both")
    report = "Measured KL: " + ", ".join(f"sigma = {s:g}: {kl:.1f}" for s, kl in kls.items()) + " nats."

    def hint(answer):
        return (
            f"Not what the run shows. {report} A smaller sigma makes each squared error cost more "
            "against the KL: what does the model buy with the KL then?"
        )

    return with_report(answer_check("mse_sigma_prediction", answer, correct, hint), report)
