"""Checks of chapter 1, Autoencoders (``book/01_autoencoders.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..metrics import roc_auc, standardize
from .core import CheckResult, Mistake, run_check

__all__ = ["check_reconstruction_error", "check_roc_auc", "check_standardize"]


def _reconstruction_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(5, 784, generator=g)
    x_binary = (torch.rand(3, 784, generator=g) > 0.7).float()
    return [
        (x, torch.randn(5, 784, generator=g) * 3),
        (x_binary, torch.randn(3, 784, generator=g) * 8),  # large logits: log(0) traps
    ]


def check_reconstruction_error(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``reconstruction_error(x, logits) -> [B]``, BCE in nats per image."""

    def reference(x, logits):
        return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)

    mistakes = [
        Mistake(
            lambda x, logits: reference(x, logits) / 784,
            "You averaged over the 784 pixels. Sum them: the error is in nats per *image*.",
        ),
        Mistake(
            lambda x, logits: reference(x, logits).mean() / 784,
            "You averaged over everything, pixels and images (the default reduction='mean'). "
            "Use reduction='none', sum over the pixels, and return one number per image, shape [B].",
        ),
        Mistake(
            lambda x, logits: reference(x, logits).mean(),
            "You returned one number for the whole batch. Return one error per image, shape [B].",
        ),
        Mistake(
            lambda x, logits: reference(x, logits).sum(),
            "You summed over the batch too. Return one error per image, shape [B].",
        ),
        Mistake(
            lambda x, logits: -reference(x, logits),
            "The sign is flipped: an error is a negative log-likelihood, never below zero.",
        ),
        Mistake(
            lambda x, logits: ((torch.sigmoid(logits) - x) ** 2).sum(1),
            "That is the squared error. The decoder models each pixel as a Bernoulli "
            "probability: use binary cross-entropy.",
        ),
        Mistake(
            lambda x, logits: F.binary_cross_entropy(logits.clamp(0, 1), x, reduction="none").sum(1),
            "The decoder returns logits, not probabilities: apply a sigmoid first, or better, "
            "use F.binary_cross_entropy_with_logits.",
        ),
    ]
    log_zero = (
        "Your result contains inf or NaN: where sigmoid(logits) rounds to exactly 0 or 1, "
        "its log is -inf. Compute the loss from the logits with "
        "F.binary_cross_entropy_with_logits, which never takes log(0)."
    )
    return run_check("reconstruction_error", answer, reference, _reconstruction_cases(), mistakes, log_zero)


def _auc_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(2)
    normal = torch.randn(200, generator=g) + 100
    anomalous = torch.randn(150, generator=g) * 2 + 102
    tied_normal = torch.tensor([1.0, 2.0, 2.0, 3.0, 5.0])
    tied_anomalous = torch.tensor([2.0, 3.0, 4.0, 5.0])
    return [(normal, anomalous), (tied_normal, tied_anomalous)]


def check_roc_auc(answer: Callable[[Tensor, Tensor], float]) -> CheckResult:
    """Exercise: ``roc_auc(errors_normal, errors_anomalous) -> float``."""

    def pairwise(normal, anomalous, tie):
        diff = anomalous[:, None] - normal[None, :]
        return ((diff > 0).double() + tie * (diff == 0).double()).mean().item()

    mistakes = [
        Mistake(
            lambda n, a: 1 - roc_auc(n, a),
            "You computed the chance that a *normal* image scores higher. An anomaly should "
            "have the larger error: count pairs where the anomalous score is above the normal one.",
        ),
        Mistake(
            lambda n, a: pairwise(n, a, 0.0), "Close: ties count as one half, so that a useless score gets exactly 0.5."
        ),
        Mistake(lambda n, a: pairwise(n, a, 1.0), "Close: a tie is not a win. Count ties as one half."),
    ]
    return run_check("roc_auc", answer, lambda n, a: roc_auc(n, a), _auc_cases(), mistakes)


def _standardize_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(3)
    train = torch.randn(50, 4, generator=g) * torch.tensor([1.0, 5.0, 0.1, 2.0]) + 3
    test = torch.randn(20, 4, generator=g) * 2 - 1
    return [(train, test)]


def check_standardize(answer: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]) -> CheckResult:
    """Exercise: ``standardize(train, test) -> (train_scaled, test_scaled)`` per feature."""

    def own_stats(train, test):
        return standardize(train, train)[0], standardize(test, test)[0]

    def global_stats(train, test):
        mean, std = train.mean(), train.std()
        return (train - mean) / std, (test - mean) / std

    mistakes = [
        Mistake(
            own_stats,
            "You scaled the test set with its own mean and std. A model in use never sees "
            "the test set's statistics: scale both sets with the *training* mean and std.",
        ),
        Mistake(
            global_stats,
            "You used one mean and one std for all features. Compute them per feature "
            "(per column): train.mean(dim=0), train.std(dim=0).",
        ),
        Mistake(
            lambda train, test: (train - train.mean(0), test - train.mean(0)),
            "You centred the features but did not divide by the standard deviation.",
        ),
    ]
    return run_check("standardize", answer, standardize, _standardize_cases(), mistakes)
