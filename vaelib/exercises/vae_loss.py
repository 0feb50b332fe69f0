"""Checks of chapter 4 (``book/04_vae.ipynb``), exercises 1 to 3: the loss that a VAE trains on.

The negative ELBO in nats per image, as a tensor that carries gradient
(:func:`check_vae_loss`); the stable log-mean-exp that the importance-sampled
log-likelihood needs (:func:`check_log_mean_exp`); the warm-up schedule of the
KL's weight (:func:`check_kl_warmup`).  The loss's known mistakes, and the
test that a loss can train, serve the checks of a whole VAE too
(:mod:`.vae_module`, :mod:`.conditional`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..gaussian import gaussian_kl
from ..losses import vae_loss
from .autoencoders_reconstruction import saturation_diagnosis
from .compare import kind
from .drivers import run_check
from .gaussians import WRONG_KLS
from .results import FAIL, CheckResult, Mistake, never_raises
from .student_code import math_or_torch

__all__ = ["check_kl_warmup", "check_log_mean_exp", "check_vae_loss"]


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


def _loss() -> Callable:
    return lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv)["loss"]


def _averaged(pixels: bool, latents: bool) -> Callable:
    """The loss with a mean where a sum belongs: over pixels, over latent dimensions, or both."""

    def loss(x: Tensor, logits: Tensor, mu: Tensor, lv: Tensor) -> Tensor:
        recon, kl = _recon(x, logits), gaussian_kl(mu, lv)  # [B] each: summed
        recon = recon / logits.shape[1] if pixels else recon
        kl = kl / mu.shape[1] if latents else kl
        return (recon + kl).mean()

    return loss


def _recon(x: Tensor, logits: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


# Wrong losses of a VAE, each with its hint: the loss exercise and the loss of TinyVAE.
_REDUCTION_MISTAKES = [
    Mistake(
        _averaged(pixels=True, latents=False),
        "You averaged the reconstruction over pixels (the default reduction='mean'): it is now "
        "784 times too small next to the KL. Sum over pixels, then average over images.",
    ),
    Mistake(
        _averaged(pixels=False, latents=True),
        "You averaged the KL over the latent dimensions: it is now too small. Sum over latent "
        "dimensions, then average over images.",
    ),
    Mistake(
        _averaged(pixels=True, latents=True),
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
        "Your result contains inf or NaN: exp of these log-weights underflows to 0 and its log is -inf. "
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
