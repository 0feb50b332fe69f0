"""Checks of chapter 1, Autoencoders (``book/01_autoencoders.ipynb``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..losses import autoencoder_loss
from ..metrics import roc_auc, standardize
from ..models import Autoencoder, MLPConfig
from .core import (
    FAIL,
    PASS,
    CheckResult,
    Mistake,
    answer_check,
    close,
    kind,
    never_raises,
    not_a_function,
    not_a_python_number,
    not_attempted,
    read_answer,
    run_check,
    seeded,
    tell,
    where_it_failed,
    with_report,
)

__all__ = [
    "ROUNDED",
    "SATURATED_LOGITS",
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


def _copy_case(args: tuple) -> tuple:
    return tuple(a.clone() if isinstance(a, Tensor) else a for a in args)


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


# ---------------------------------------------------------------- the training step


def _step_batch() -> Tensor:
    return torch.rand(16, 784, generator=torch.Generator().manual_seed(7))


def _run_steps(step: Callable, steps: int = 5) -> tuple[list, list[list[str]]]:
    """Run ``step(model, optimizer, batch)`` ``steps`` times on a small autoencoder made the
    same way every time: what each call returned, and what each call did, in order
    ("zero_grad", "backward", "step").  PyTorch's global generator is left as it was."""
    model = seeded(lambda: Autoencoder(MLPConfig(hidden_dims=(32,), latent_dim=4)))
    # Plain SGD: unlike Adam, it makes every mistake of a step visible in the losses.
    optimizer = torch.optim.SGD(model.parameters(), lr=3e-3)
    calls: list[list[str]] = []

    def record(event: str, then: Callable) -> Callable:
        def run(*args, **kwargs):
            if calls and (event != "backward" or calls[-1][-1:] != ["backward"]):
                calls[-1].append(event)
            return then(*args, **kwargs)

        return run

    optimizer.zero_grad = record("zero_grad", optimizer.zero_grad)
    model.zero_grad = record("zero_grad", model.zero_grad)
    optimizer.step = record("step", optimizer.step)
    for parameter in model.parameters():
        parameter.register_post_accumulate_grad_hook(record("backward", lambda p: None))
    batch = _step_batch()
    returned = []
    for _ in range(steps):
        calls.append([])
        returned.append(step(model, optimizer, batch))
    return returned, calls


def _losses(values: list) -> Tensor | None:
    """The losses a step returned, as numbers (None if it returned None)."""
    if any(v is None for v in values):
        return None
    return torch.tensor([float(v.detach() if isinstance(v, Tensor) else v) for v in values])


def reference_training_step(model, optimizer, batch) -> float:
    """One step of gradient descent on the summed BCE, averaged over the batch."""
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="none").sum(1).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def _order_hint(calls: list[list[str]]) -> str | None:
    """What is wrong with the order of the parts of a step, from what each call did; None if nothing."""
    done = [event for call in calls for event in call]
    if "step" not in done:
        return "The loss never changes: the weights never move. Call optimizer.step() after backward()."
    if "backward" not in done:
        return "The loss never changes: without loss.backward() there are no gradients for the optimizer to use."
    first = calls[0]
    if "backward" in first and first.index("step") < first.index("backward"):
        return (
            "You call optimizer.step() before loss.backward(): the optimizer moves the weights "
            "before this step's gradients exist. Backpropagate first, then step."
        )
    if "backward" in first:
        between = first[first.index("backward") : first.index("step")]
        if "zero_grad" in between:
            return (
                "You call optimizer.step() after backward(), but you clear the gradients in between: "
                "zero_grad() wipes what backward() just computed, so step() has nothing to apply "
                "and the weights never move. Clear the old gradients at the start of the step, "
                "before the forward pass."
            )
    if "zero_grad" not in done:
        return (
            "Your first step is right, then the losses drift: the gradients pile up from step to step. "
            "Call optimizer.zero_grad() at the start of every step."
        )
    return None


@never_raises
def check_training_step(answer: Callable) -> CheckResult:
    """Exercise: ``training_step(model, optimizer, batch) -> float``: zero_grad, forward,
    loss (nats per image), backward, step; return the loss.  Checked by running it
    five times on a small autoencoder beside the reference step: the losses must
    fall, and match; what the step called, in which order, names a mistake."""
    if answer is None or not callable(answer):
        return not_a_function("training_step", answer)

    def variant(*, pixel_mean=False, batch_sum=False, squared=False):
        def run(model, optimizer, batch):
            optimizer.zero_grad()
            logits = model(batch)
            if squared:
                per_pixel = (torch.sigmoid(logits) - batch) ** 2
            else:
                per_pixel = F.binary_cross_entropy_with_logits(logits, batch, reduction="none")
            loss = per_pixel.mean() if pixel_mean else per_pixel.sum(1)
            loss = loss.sum() if batch_sum else loss.mean()
            loss.backward()
            optimizer.step()
            return loss.item()

        return lambda: _losses(_run_steps(run)[0])

    try:
        returned, calls = _run_steps(answer)
    except NotImplementedError:
        return not_attempted("training_step")
    except Exception as err:  # noqa: BLE001 - the student's bug; report it, never raise it
        return CheckResult(
            "training_step", FAIL, f"Your function raised {type(err).__name__}: {err}{where_it_failed(err)}"
        )
    try:
        losses = _losses(returned)
    except Exception:  # noqa: BLE001 - values that are not numbers
        return CheckResult(
            "training_step", FAIL, f"Return the loss as a float (loss.item()); yours returned {kind(returned[0])}."
        )
    expected = _losses(_run_steps(reference_training_step)[0])
    if losses is not None and close(losses, expected, 2e-5, 2e-5):
        wrong_type = not_a_python_number(returned)
        if wrong_type:
            graph = any(isinstance(v, Tensor) and v.requires_grad for v in returned)
            why = (
                " A loss tensor holds on to its graph, the memory of the whole forward pass, for as "
                "long as you keep it: a list of them grows step by step."
                if graph
                else ""
            )
            return CheckResult(
                "training_step",
                FAIL,
                f"Right losses, but return the loss as a Python float, loss.item(), as the exercise "
                f"asks; yours returned {kind(returned[0])}.{why}",
            )
        falling = ", ".join(f"{v:.1f}" for v in losses.tolist())
        return CheckResult("training_step", PASS, f"Well done! Your losses, step by step: {falling}.")
    if losses is not None:
        order = _order_hint(calls)
        if order is not None:
            return CheckResult("training_step", FAIL, order)
    mistakes = [
        Mistake(
            variant(pixel_mean=True),
            "Your loss is averaged over the pixels too (784 times too small): sum over the pixels of "
            "an image, then average over the images.",
        ),
        Mistake(
            variant(batch_sum=True),
            "Your loss is summed over the batch: average over the images, so that it is in nats per image.",
        ),
        Mistake(
            variant(squared=True),
            "Your loss is the squared error. The autoencoder's decoder returns logits of Bernoulli "
            "pixels: use the binary cross-entropy from the logits, as the chapter's step does.",
        ),
    ]
    return run_check("training_step", lambda: losses, lambda: expected, [()], mistakes, tolerance=2e-5)


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
