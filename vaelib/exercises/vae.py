"""Checks of chapter 4, the VAE and its loss (``book/04_vae.ipynb``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..losses import vae_loss
from .core import CheckResult, Mistake, run_check

__all__ = ["check_vae_loss", "check_log_mean_exp", "check_kl_warmup"]


def _vae_cases() -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
    g = torch.Generator().manual_seed(9)
    return [
        (
            torch.rand(4, 784, generator=g),
            torch.randn(4, 784, generator=g) * 2,
            torch.randn(4, 5, generator=g),
            torch.randn(4, 5, generator=g) * 0.3,
        )
    ]


def check_vae_loss(answer: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: the negative ELBO in nats per image (sum over pixels and latents, mean over images)."""

    def loss(**options):
        return lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv, **options)["loss"]

    def summed_over_batch(x, logits, mu, lv):
        return loss()(x, logits, mu, lv) * len(x)

    mistakes = [
        Mistake(
            loss(pixel_reduction="mean"),
            "You averaged the reconstruction over pixels (the default reduction='mean'): it is now "
            "784 times too small next to the KL. Sum over pixels, then average over images.",
        ),
        Mistake(
            loss(latent_reduction="mean"),
            "You averaged the KL over the latent dimensions: it is now too small. Sum over latent "
            "dimensions, then average over images.",
        ),
        Mistake(
            loss(pixel_reduction="mean", latent_reduction="mean"),
            "Both terms are averaged over their dimensions. Sum over pixels and over latent "
            "dimensions; only the batch is averaged.",
        ),
        Mistake(
            summed_over_batch,
            "You summed over the batch: the loss then grows with the batch size. Average over images.",
        ),
        Mistake(
            lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv)["recon"] - vae_loss(x, logits, mu, lv)["kl"],
            "The KL is *added* to the reconstruction loss: the loss is -ELBO = reconstruction + KL.",
        ),
        Mistake(lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv)["recon"], "You left out the KL term."),
    ]
    return run_check("vae_loss", answer, loss(), _vae_cases(), mistakes)


def check_log_mean_exp(answer: Callable[[Tensor], Tensor]) -> CheckResult:
    """Exercise: ``log_mean_exp(log_w) -> [B]``: log(mean_k exp(log_w[k])) over dim 0, stably."""
    g = torch.Generator().manual_seed(10)
    cases = [
        (torch.randn(50, 3, generator=g) * 3 - 100.0,),
        (torch.randn(20, 2, generator=g) - 900.0,),  # exp underflows to 0
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
    ]
    hint = (
        "Your result contains inf or NaN: exp(-900) underflows to 0 and its log is -inf. "
        "Subtract the maximum before exponentiating, or use torch.logsumexp."
    )
    return run_check("log_mean_exp", answer, reference, cases, mistakes, non_finite_hint=hint)


def check_kl_warmup(answer: Callable[[int, int, float], float]) -> CheckResult:
    """Exercise: ``warmup_beta(step, warmup_steps, beta)``: rises linearly from 0 to beta, then stays."""

    def reference(step, warmup_steps, beta):
        return beta * min(1.0, step / warmup_steps)

    def many(fn):
        return lambda steps, warmup, beta: tuple(float(fn(s, warmup, beta)) for s in steps)

    cases = [([0, 250, 500, 1000, 3000], 1000, 1.0), ([0, 10, 20, 40], 20, 4.0)]
    mistakes = [
        Mistake(
            many(lambda s, w, b: b * s / w),
            "Beta keeps growing after the warm-up: cap it at beta (min(1, step / warmup_steps)).",
        ),
        Mistake(many(lambda s, w, b: min(1.0, s / w)), "The ramp ends at 1, not at beta: multiply by beta."),
        Mistake(
            many(lambda s, w, b: b * (1 - min(1.0, s / w))),
            "The ramp runs backwards: beta starts at 0 and rises to its full value.",
        ),
    ]
    return run_check("warmup_beta", many(answer), many(reference), cases, mistakes)
