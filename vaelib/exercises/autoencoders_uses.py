"""Checks of chapter 1 (``book/01_autoencoders.ipynb``), exercises 2, 3 and 6: what an autoencoder is good for.

Its reconstruction error as an anomaly score, summarized by the ROC AUC
(:func:`check_roc_auc`); its codes as features for a classifier, standardized
with the training set's statistics (:func:`check_standardize`); and what a
larger code does to both, the error and the accuracy of a linear probe on the
codes (:func:`check_code_size_prediction`, which runs the experiment).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..losses import autoencoder_loss
from ..metrics import roc_auc, standardize
from ..models import Autoencoder, MLPConfig
from .drivers import answer_check, read_answer, run_check
from .results import CheckResult, Mistake, never_raises, tell, with_report
from .student_code import seeded

__all__ = ["check_code_size_prediction", "check_roc_auc", "check_standardize", "code_size_experiment"]


def _auc_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(2)
    normal = torch.randn(200, generator=g) + 100
    anomalous = torch.randn(150, generator=g) * 2 + 102
    tied_normal = torch.tensor([1.0, 2.0, 2.0, 3.0, 5.0])
    tied_anomalous = torch.tensor([2.0, 3.0, 4.0, 5.0])
    return [(normal, anomalous), (tied_normal, tied_anomalous)]


@never_raises
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
        *[
            Mistake(
                threshold,
                "You compared each anomalous error with one threshold (a summary of the normal "
                "errors). The AUC compares every anomalous error with every normal one: all pairs.",
            )
            for threshold in [
                lambda n, a: (a > n.mean()).double().mean().item(),
                lambda n, a: (a > n.median()).double().mean().item(),
            ]
        ],
    ]
    return run_check("roc_auc", answer, lambda n, a: roc_auc(n, a), _auc_cases(), mistakes, python_number=True)


def _standardize_cases() -> list[tuple[Tensor, Tensor]]:
    """Features of different scales; then the same with a constant feature (column 2), 0 in
    both sets, like an MNIST pixel near the border: its standard deviation is 0."""
    g = torch.Generator().manual_seed(3)
    train = torch.randn(50, 4, generator=g) * torch.tensor([1.0, 5.0, 0.1, 2.0]) + 3
    test = torch.randn(20, 4, generator=g) * 2 - 1
    constant_train, constant_test = train.clone(), test.clone()
    constant_train[:, 2], constant_test[:, 2] = 0.0, 0.0
    return [(train, test), (constant_train, constant_test)]


ZERO_STD = (
    "Right on features that vary, NaN on a feature that is constant on the training set (here "
    "column 2, always 0, like the MNIST pixels near the border): its standard deviation is 0, "
    "and you divided by it (0 / 0 is NaN). Keep that division away from zero, so that a constant "
    "feature comes out as 0.",
    "For example, divide by (std + 1e-6).",
)


@never_raises
def check_standardize(answer: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]) -> CheckResult:
    """Exercise: ``standardize(train, test) -> (train_scaled, test_scaled)`` per feature."""

    def own_stats(train, test):
        return standardize(train, train)[0], standardize(test, test)[0]

    def global_stats(train, test):
        mean, std = train.mean(), train.std()
        return (train - mean) / std, (test - mean) / std

    def pooled(train, test):
        both = torch.cat([train, test])
        mean, std = both.mean(0), both.std(0)
        return (train - mean) / std, (test - mean) / std

    def per_row(train, test):
        def scale(a):
            return (a - a.mean(1, keepdim=True)) / a.std(1, keepdim=True)

        return scale(train), scale(test)

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
        Mistake(
            lambda train, test: ((train - train.mean(0)) / train.var(0), (test - train.mean(0)) / train.var(0)),
            "You divided by the variance. Divide by the standard deviation, its square root: "
            "only then is every feature's spread 1.",
        ),
        Mistake(
            lambda train, test: (train / train.std(0), test / train.std(0)),
            "You divided by the standard deviation but did not subtract the mean first: the features "
            "have spread 1 but are not centred at 0.",
        ),
        Mistake(
            pooled,
            "You computed the mean and std on the training and test sets together. The test set "
            "stands for data the model has not seen: take the statistics from the training set alone.",
        ),
        Mistake(
            per_row,
            "You computed a mean and std per image (per row, dim=1). Standardize each *feature*: "
            "the statistics of each column, over the training images (dim=0).",
        ),
    ]

    def population_std(train, test):
        mean, std = train.mean(dim=0), train.std(dim=0, unbiased=False)
        return (train - mean) / (std + 1e-6), (test - mean) / (std + 1e-6)

    population = Mistake(
        population_std,
        "(You divided by the population standard deviation, unbiased=False; the book's uses the "
        "sample one. Either is right: with many images they barely differ.)",
    )
    cases = _standardize_cases()

    def diagnose(args, got):
        """Right on the first case, NaN or inf on the constant feature: an unguarded division."""
        if args is not cases[1] or not isinstance(got, (tuple, list)):
            return None
        if any(isinstance(part, Tensor) and not torch.isfinite(part).all() for part in got):
            return tell("standardize", *ZERO_STD)
        return None

    return run_check("standardize", answer, standardize, cases, mistakes, accepted=[population], diagnose=diagnose)


# ---------------------------------------------------------------- predict: a larger code


def code_size_experiment(
    train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, sizes: tuple[int, int] = (2, 8), epochs: int = 8
) -> dict[int, dict[str, float]]:
    """Train an autoencoder per code size, briefly; measure its test reconstruction
    error and the linear-probe accuracy of its codes."""
    from ..latent import encode_dataset
    from ..metrics import linear_probe_accuracy, reconstruction_errors
    from ..train import fit

    results = {}
    for size in sizes:
        model = seeded(lambda size=size: Autoencoder(MLPConfig(hidden_dims=(256,), latent_dim=size)))
        fit(model, autoencoder_loss, train_x, epochs=epochs, device="cpu", progress=False)
        accuracy = linear_probe_accuracy(encode_dataset(model, train_x), train_y, encode_dataset(model, test_x), test_y)
        results[size] = {"error": reconstruction_errors(model, test_x).mean().item(), "probe": accuracy}
    return results


@never_raises
def check_code_size_prediction(answer, train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor) -> CheckResult:
    """Exercise (predict): ``{"error": "up"|"down", "probe": "up"|"down"}``: what happens to the
    test reconstruction error and to the linear probe's accuracy when the code grows from 2 to
    8 numbers.  The check runs the experiment (two brief trainings) and compares."""
    answer = read_answer("code_size_prediction", answer, ["up", "down"], keys=["error", "probe"])
    if isinstance(answer, CheckResult):
        return answer
    measured = code_size_experiment(train_x, train_y, test_x, test_y)
    small, large = measured[2], measured[8]
    correct = {k: "up" if large[k] > small[k] else "down" for k in ("error", "probe")}
    report = (
        f"Measured, 2 -> 8 numbers: error {small['error']:.1f} -> {large['error']:.1f} nats, "
        f"probe {small['probe']:.1%} -> {large['probe']:.1%}."
    )

    def hint(answer):
        wrong = " and ".join(k for k in correct if answer[k] != correct[k])
        return f"Your prediction for the {wrong} does not match the run. {report}"

    return with_report(answer_check("code_size_prediction", answer, correct, hint), report)
