"""Checks of chapter 1, Autoencoders (``book/01_autoencoders.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..losses import autoencoder_loss
from ..metrics import roc_auc, standardize
from ..models import Autoencoder, MLPConfig
from .core import (
    CheckResult,
    Mistake,
    answer_check,
    never_raises,
    not_a_function,
    read_answer,
    run_check,
    seeded,
    with_report,
)

__all__ = [
    "check_bce_floor",
    "check_code_size_prediction",
    "check_reconstruction_error",
    "check_roc_auc",
    "check_standardize",
    "check_training_step",
    "code_size_experiment",
]


def _reconstruction_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(5, 784, generator=g)
    x_binary = (torch.rand(3, 784, generator=g) > 0.7).float()
    return [
        (x, torch.randn(5, 784, generator=g) * 3),
        (x_binary, torch.randn(3, 784, generator=g) * 8),  # large logits: log(0) traps
    ]


@never_raises
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
    ]
    return run_check("roc_auc", answer, lambda n, a: roc_auc(n, a), _auc_cases(), mistakes)


def _standardize_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(3)
    train = torch.randn(50, 4, generator=g) * torch.tensor([1.0, 5.0, 0.1, 2.0]) + 3
    test = torch.randn(20, 4, generator=g) * 2 - 1
    return [(train, test)]


@never_raises
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

    def population_std(train, test):
        mean, std = train.mean(dim=0), train.std(dim=0, unbiased=False)
        return (train - mean) / (std + 1e-6), (test - mean) / (std + 1e-6)

    population = Mistake(
        population_std,
        "(You divided by the population standard deviation, unbiased=False; the book's uses the "
        "sample one. Either is right: with many images they barely differ.)",
    )
    return run_check("standardize", answer, standardize, _standardize_cases(), mistakes, accepted=[population])


# ---------------------------------------------------------------- the training step


def _step_batch() -> Tensor:
    return torch.rand(16, 784, generator=torch.Generator().manual_seed(7))


def _losses_of(step: Callable, steps: int = 5) -> Tensor | None:
    """Run ``step(model, optimizer, batch)`` ``steps`` times on a small autoencoder
    made the same way every time; the losses it returned, ``[steps]`` (None if it
    returned None).  PyTorch's global generator is left as it was."""
    model = seeded(lambda: Autoencoder(MLPConfig(hidden_dims=(32,), latent_dim=4)))
    # Plain SGD: unlike Adam, it makes every mistake of a step visible in the losses.
    optimizer = torch.optim.SGD(model.parameters(), lr=3e-3)
    batch = _step_batch()
    losses = []
    for _ in range(steps):
        value = step(model, optimizer, batch)
        if value is None:
            return None
        losses.append(float(value.detach() if isinstance(value, Tensor) else value))
    return torch.tensor(losses)


def reference_training_step(model, optimizer, batch) -> float:
    """One step of gradient descent on the summed BCE, averaged over the batch."""
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="none").sum(1).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


@never_raises
def check_training_step(answer: Callable) -> CheckResult:
    """Exercise: ``training_step(model, optimizer, batch) -> float``: zero_grad, forward,
    loss (nats per image), backward, step; return the loss.  Checked by running it
    five times on a small autoencoder beside the reference step: the losses must
    fall, and match."""
    if answer is None or not callable(answer):
        return not_a_function("training_step", answer)

    def variant(*, zero_grad=True, backward=True, step=True, pixel_mean=False, batch_sum=False):
        def run(model, optimizer, batch):
            if zero_grad:
                optimizer.zero_grad()
            per_pixel = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="none")
            loss = per_pixel.mean() if pixel_mean else per_pixel.sum(1)
            loss = loss.sum() if batch_sum else loss.mean()
            if backward:
                loss.backward()
            if step:
                optimizer.step()
            return loss.item()

        return lambda: _losses_of(run)

    mistakes = [
        Mistake(
            variant(zero_grad=False),
            "Your first step is right, then the losses drift: the gradients pile up from step to step. "
            "Call optimizer.zero_grad() at the start of every step.",
        ),
        Mistake(
            variant(step=False),
            "The loss never changes: the weights never move. Call optimizer.step() after backward().",
        ),
        Mistake(
            variant(backward=False),
            "The loss never changes: without loss.backward() there are no gradients for the optimizer to use.",
        ),
        Mistake(
            variant(pixel_mean=True),
            "Your loss is averaged over the pixels too (784 times too small): sum over the pixels of "
            "an image, then average over the images.",
        ),
        Mistake(
            variant(batch_sum=True),
            "Your loss is summed over the batch: average over the images, so that it is in nats per image.",
        ),
    ]
    result = run_check(
        "training_step",
        lambda: _losses_of(answer),
        lambda: _losses_of(reference_training_step),
        [()],
        mistakes,
        tolerance=2e-5,
    )
    if result.passed:
        losses = _losses_of(answer)
        falling = ", ".join(f"{v:.1f}" for v in losses.tolist())
        return CheckResult("training_step", result.status, f"Well done! Your losses, step by step: {falling}.")
    return result


# ---------------------------------------------------------------- the floor of the BCE


def _floor(x: Tensor) -> Tensor:
    return -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x)).sum(1)


@never_raises
def check_bce_floor(answer: Callable[[Tensor], Tensor]) -> CheckResult:
    """Exercise (derive): ``bce_floor(x) -> [B]``: the smallest summed BCE any decoder
    can reach on images ``x``, reached at p = x: the pixels' summed binary entropy."""
    g = torch.Generator().manual_seed(8)
    grey = torch.rand(4, 784, generator=g)
    binary = (torch.rand(3, 784, generator=g) > 0.8).float()
    mixed = torch.where(torch.rand(2, 784, generator=g) > 0.5, grey[:2], binary[:2])
    cases = [(grey,), (binary,), (mixed,)]
    mistakes = [
        Mistake(
            lambda x: torch.zeros(len(x)),
            "A decoder can reach 0 only on pixels that are exactly 0 or 1. "
            "Set the derivative with respect to p to zero: the best p is x itself. What is the BCE there?",
        ),
        Mistake(lambda x: -_floor(x), "The sign is flipped: a BCE is never negative."),
        Mistake(lambda x: _floor(x) / 784, "Sum over the pixels, as the reconstruction error does: nats per image."),
    ]
    zero_log_zero = (
        "Your result has NaN where a pixel is exactly 0 or 1: log(0) is -inf, and 0 * -inf is NaN. "
        "The limit of p log p as p -> 0 is 0: use torch.xlogy(x, x), which returns 0 there."
    )
    return run_check("bce_floor", answer, _floor, cases, mistakes, zero_log_zero)


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
