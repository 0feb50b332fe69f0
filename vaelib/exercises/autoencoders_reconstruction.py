"""Checks of chapter 1 (``book/01_autoencoders.ipynb``), exercises 1 and 5: the reconstruction error.

The binary cross-entropy of images under the decoder's logits, in nats per
image (:func:`check_reconstruction_error`), and the floor that no decoder can
go below, the pixels' binary entropy (:func:`check_bce_floor`).  A loss
computed through probabilities is wrong on large logits only:
:func:`saturation_diagnosis` says so, here and for the VAE's loss of chapter 4.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .compare import close
from .drivers import run_check
from .results import CheckResult, Mistake, never_raises

__all__ = ["ROUNDED", "SATURATED_LOGITS", "check_bce_floor", "check_reconstruction_error"]


def _reconstruction_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(5, 784, generator=g)
    x_binary = (torch.rand(3, 784, generator=g) > 0.7).float()
    return [
        # First, large logits (up to about 30), where sigmoid(logits) rounds to exactly 0 or 1:
        # an answer that goes through probabilities is wrong here, and right on moderate logits.
        (x_binary, torch.randn(3, 784, generator=g) * 8),
        (x, torch.randn(5, 784, generator=g) * 3),
    ]


def _bce(x: Tensor, logits: Tensor) -> Tensor:
    """The reference: binary cross-entropy from logits, summed over pixels, ``[B]``."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


_REDUCTION_MISTAKES = [
    Mistake(
        lambda x, logits: _bce(x, logits) / 784,
        "You averaged over the 784 pixels. Sum them: the error is in nats per *image*.",
    ),
    Mistake(
        lambda x, logits: _bce(x, logits).mean() / 784,
        "You averaged over everything, pixels and images (the default reduction='mean'). "
        "Use reduction='none', sum over the pixels, and return one number per image, shape [B].",
    ),
    Mistake(
        lambda x, logits: _bce(x, logits).mean(),
        "You returned one number for the whole batch. Return one error per image, shape [B].",
    ),
    Mistake(
        lambda x, logits: _bce(x, logits).sum(),
        "You summed over the batch too. Return one error per image, shape [B].",
    ),
    Mistake(
        lambda x, logits: F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(0),
        "You summed over the images (dim 0), which leaves one number per pixel. Sum over the "
        "pixels (dim=1): one error per image, shape [B].",
    ),
]

ROUNDED = (
    "In float32, sigmoid rounds a large logit to exactly 1 (or 0), and log(1 - x_hat) becomes log(0), "
    "which is clamped (PyTorch stops it at -100; an epsilon does the same): those pixels' errors come "
    "out wrong. Compute the loss from the logits, with the with-logits form of the loss, exact for any logit."
)
SATURATED_LOGITS = (
    "Right on moderate logits, wrong on large ones (here up to about 30): you went through "
    f"probabilities, sigmoid then BCE. {ROUNDED}"
)


def saturation_diagnosis(answer: Callable, cases: list[tuple], reference: Callable, reductions: list[Mistake]):
    """A ``diagnose`` for losses of logits: wrong on the first case (large logits) only, so the
    answer went through probabilities (sigmoid then BCE); perhaps with a wrong reduction too."""
    saturated, moderate = cases[0], cases[1]

    def diagnose(args, got):
        if args is not saturated or (isinstance(got, Tensor) and not torch.isfinite(got).all()):
            return None
        there = answer(*(a.clone() for a in moderate))
        if close(there, reference(*moderate)):
            return SATURATED_LOGITS
        also = next((m.hint for m in reductions if close(there, m.wrong(*moderate))), None)
        if also is None:
            return None
        return (
            f"Two mistakes. {also} And you went through probabilities, sigmoid then BCE, which is "
            f"wrong on large logits (here up to about 30). {ROUNDED}"
        )

    return diagnose


@never_raises
def check_reconstruction_error(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``reconstruction_error(x, logits) -> [B]``, BCE in nats per image."""
    cases = _reconstruction_cases()
    mistakes = [
        *_REDUCTION_MISTAKES,
        Mistake(
            lambda x, logits: -_bce(x, logits),
            "The sign is flipped: an error is a negative log-likelihood, never below zero.",
        ),
        Mistake(
            lambda x, logits: F.binary_cross_entropy_with_logits(x, logits, reduction="none").sum(1),
            "The arguments are swapped: F.binary_cross_entropy_with_logits(input, target) takes the "
            "logits first and the images (the target) second.",
        ),
        *[
            Mistake(
                wrong,
                "That is the squared error. The decoder models each pixel as a Bernoulli "
                "probability: use binary cross-entropy.",
            )
            for wrong in [
                lambda x, logits: ((torch.sigmoid(logits) - x) ** 2).sum(1),
                lambda x, logits: ((logits - x) ** 2).sum(1),
            ]
        ],
        *[
            Mistake(
                wrong,
                "F.cross_entropy is the softmax cross-entropy of one class among many (here, one "
                "pixel among 784). Each pixel is a yes/no (Bernoulli) variable of its own: use "
                "the *binary* cross-entropy.",
            )
            for wrong in [
                lambda x, logits: F.cross_entropy(logits, x, reduction="none"),
                lambda x, logits: F.cross_entropy(logits, x),
            ]
        ],
        Mistake(
            lambda x, logits: F.binary_cross_entropy_with_logits(torch.sigmoid(logits), x, reduction="none").sum(1),
            "You applied a sigmoid before a loss that applies its own: the with-logits loss takes the raw logits.",
        ),
        Mistake(
            lambda x, logits: F.binary_cross_entropy(logits.clamp(0, 1), x, reduction="none").sum(1),
            "The decoder returns logits, not probabilities: apply a sigmoid first, or better, "
            "use F.binary_cross_entropy_with_logits.",
        ),
    ]
    diagnose = saturation_diagnosis(answer, cases, _bce, _REDUCTION_MISTAKES)
    log_zero = (
        "Your result contains inf or NaN: where sigmoid(logits) rounds to exactly 0 or 1, "
        "its log is -inf. Compute the loss from the logits with "
        "F.binary_cross_entropy_with_logits, which never takes log(0)."
    )
    return run_check("reconstruction_error", answer, _bce, cases, mistakes, log_zero, diagnose=diagnose)


# ---------------------------------------------------------------- the floor of the BCE


def _floor(x: Tensor) -> Tensor:
    return -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x)).sum(1)


@never_raises
def check_bce_floor(answer: Callable[[Tensor], Tensor]) -> CheckResult:
    """Exercise (derive): ``bce_floor(x) -> [B]``: the smallest summed BCE any decoder
    can reach on images ``x``, reached at x_hat = x: the pixels' summed binary entropy."""
    g = torch.Generator().manual_seed(8)
    grey = torch.rand(4, 784, generator=g)
    binary = (torch.rand(3, 784, generator=g) > 0.8).float()
    mixed = torch.where(torch.rand(2, 784, generator=g) > 0.5, grey[:2], binary[:2])
    cases = [(grey,), (binary,), (mixed,)]
    mistakes = [
        Mistake(
            lambda x: torch.zeros(len(x)),
            "A decoder can reach 0 only on pixels that are exactly 0 or 1. "
            "Set the derivative with respect to x_hat to zero: which x_hat is best for a grey pixel?",
            "The best x_hat is x itself. What is the BCE there?",
        ),
        Mistake(lambda x: -_floor(x), "The sign is flipped: a BCE is never negative."),
        Mistake(lambda x: _floor(x) / 784, "Sum over the pixels, as the reconstruction error does: nats per image."),
        Mistake(
            lambda x: _floor(x) / math.log(2),
            "Those are bits (a log to base 2). The book measures in nats: the natural log, torch.log.",
        ),
        Mistake(
            lambda x: -torch.xlogy(x, x).sum(1),
            "You kept only the term of a white pixel, x log x. A pixel has two outcomes: add the "
            "term of the other one, with 1 - x.",
        ),
        Mistake(
            lambda x: -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x)).sum(0),
            "You summed over the images (dim 0), which leaves one number per pixel. Sum over the "
            "pixels (dim=1): one number per image, shape [B].",
        ),
    ]
    zero_log_zero = (
        "Your result has NaN where a pixel is exactly 0 or 1: log(0) is -inf, and 0 * -inf is NaN. "
        "The limit of x log x as x -> 0 is 0: use torch.xlogy(x, x), which returns 0 there."
    )
    return run_check("bce_floor", answer, _floor, cases, mistakes, zero_log_zero)
