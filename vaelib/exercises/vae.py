"""Checks of chapter 4, the VAE and its loss (``book/04_vae.ipynb``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..gaussian import reparameterize
from ..losses import VAEObjective, vae_loss
from ..models import VAE, MLPConfig
from .core import (
    FAIL,
    PASS,
    CheckResult,
    LayerShapeError,
    Mistake,
    answer_check,
    copy_layers,
    difference,
    never_raises,
    not_a_function,
    not_attempted,
    read_answer,
    run_check,
    seeded,
    where_it_failed,
    with_report,
)

__all__ = [
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
        (
            torch.rand(4, 784, generator=g),
            torch.randn(4, 784, generator=g) * 2,
            torch.randn(4, 5, generator=g),
            torch.randn(4, 5, generator=g) * 0.3,
        )
    ]


@never_raises
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
            "Your KL term has the wrong sign. The loss is -ELBO = reconstruction + KL, and the KL, "
            "0.5 * sum(mu^2 + exp(logvar) - 1 - logvar), is never negative: note the minus in front "
            "of -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).",
        ),
        Mistake(lambda x, logits, mu, lv: vae_loss(x, logits, mu, lv)["recon"], "You left out the KL term."),
    ]
    return run_check("vae_loss", answer, loss(), _vae_cases(), mistakes)


@never_raises
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


@never_raises
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
    ``(student, reference)``, each ``(logits, mu, logvar, loss)``."""
    model = seeded(lambda: cls(latent_dim))
    g = torch.Generator().manual_seed(11)
    x, eps = torch.rand(5, 784, generator=g), torch.randn(5, latent_dim, generator=g)
    logits, mu, logvar = model(x.clone(), eps.clone())  # first: a stub says "not attempted" here
    loss = model.loss(x.clone(), eps.clone())
    reference = seeded(lambda: VAE(MLPConfig(input_dim=784, hidden_dims=(400,), latent_dim=latent_dim)))
    copy_layers(model, reference, _LAYERS)
    mu_ref, logvar_ref = reference.encode(x)
    logits_ref = reference.decode(reparameterize(mu_ref, logvar_ref, eps))
    loss_ref = vae_loss(x, logits_ref, mu_ref, logvar_ref)["loss"]
    return (logits, mu, logvar, loss), tuple(t.detach() for t in (logits_ref, mu_ref, logvar_ref, loss_ref))


@never_raises
def check_vae_module(answer) -> CheckResult:
    """Exercise (implement): a class ``TinyVAE(latent_dim)`` with layers ``hidden``
    (784 -> 400), ``to_mu`` and ``to_logvar`` (400 -> d), ``decoder_hidden`` (d -> 400),
    ``decoder_out`` (400 -> 784), ``forward(x, eps) -> (logits, mu, logvar)`` and
    ``loss(x, eps)``, the negative ELBO in nats per image; checked against vaelib's
    ``VAE`` and ``losses.vae_loss`` given the same weights and noise."""
    if answer is None or not isinstance(answer, type):
        return not_a_function("vae_module", answer, what="class")
    try:
        got, expected = _vae_module_outputs(answer)
    except NotImplementedError:
        return not_attempted("vae_module")
    except LayerShapeError as err:
        return CheckResult("vae_module", FAIL, str(err))
    except Exception as err:  # noqa: BLE001 - the student's class; report, never raise
        return CheckResult("vae_module", FAIL, f"Your class raised {type(err).__name__}: {err}{where_it_failed(err)}")
    names = ["the logits", "mu", "logvar", "the loss"]
    order = [1, 2, 0, 3]  # the encoder first: a wrong mu makes the logits wrong too
    for k in order:
        name, mine, theirs = names[k], got[k], expected[k]
        problem = difference(mine, theirs)
        if problem is not None:
            return CheckResult("vae_module", FAIL, f"In {name}: {problem} {_VAE_HINTS[name]}")
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
    mistakes = [
        Mistake(
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2),
            "Right up to a constant: add the normalizer, D/2 log(2 pi sigma^2), from the Gaussian's "
            "density; without it the numbers are not nats.",
        ),
        Mistake(
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s) + 0.5 * x.shape[1] * math.log(2 * math.pi * s**2),
            "Divide the squared error by 2 sigma^2, the variance, not by 2 sigma.",
        ),
        Mistake(
            lambda x, xh, s: _gaussian_nll(x, xh, s) / x.shape[1],
            "Sum over the pixels: a log-likelihood of an image is the sum over its pixels.",
        ),
        Mistake(
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2) + x.shape[1] * math.log(s),
            "The constant is D/2 log(2 pi sigma^2): you left out the 2 pi.",
        ),
    ]
    return run_check("gaussian_nll", answer, _gaussian_nll, cases, mistakes)


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
