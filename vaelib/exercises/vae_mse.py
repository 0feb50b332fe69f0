"""Checks of chapter 4 (``book/04_vae.ipynb``), exercises 5 and 6: squared error as a Gaussian likelihood.

The negative log-density of images under N(x_hat, sigma^2 I), its normalizer
included (:func:`check_gaussian_nll`), and what the choice of sigma does to the
KL of a VAE trained with it (:func:`check_mse_sigma_prediction`, which runs
the experiment).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..losses import VAEObjective
from ..models import VAE, MLPConfig
from .drivers import answer_check, read_answer, run_check
from .results import CheckResult, Mistake, never_raises, with_report
from .student_code import math_or_torch, seeded

__all__ = ["check_gaussian_nll", "check_mse_sigma_prediction", "mse_sigma_experiment"]


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
