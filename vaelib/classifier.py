"""A small MNIST classifier: the judge of the digits a conditional VAE draws.

Does a digit that chapter 7's conditional VAE drew when asked for a 7 look
like a 7?  A :class:`Classifier` trained on real MNIST digits (with
``train.fit(..., train_y=...)`` and :func:`classification_loss`) answers
for each image (:func:`predict`), and :func:`accuracy_by_class` sums the
answers up per digit.  (How much a *code* tells about the digit is the
other question of the chapter: :func:`vaelib.metrics.linear_probe_accuracy`.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import cache
from ._validate import check_int, check_number
from .batched import per_image
from .data import IMAGE_DIM, check_labels, flatten_images
from .settings import budget, fast_mode
from .settings import device as default_device
from .train import fit

__all__ = [
    "JUDGE_EPOCHS",
    "Classifier",
    "accuracy_by_class",
    "classification_loss",
    "confident_share",
    "judge",
    "judge_confidence",
    "predict",
    "train_judge",
]

#: How long the book's judge trains, at full settings: two epochs take it to
#: about 98 % on the real test digits.
JUDGE_EPOCHS = 2


class Classifier(nn.Module):
    """A small convolutional classifier of 28x28 images: ``[B, 784]`` -> logits ``[B, num_classes]``.

    Two blocks of a 3x3 convolution (16, then 32 channels), a ReLU and a 2x2
    max-pool take the image from 28x28 to 7x7; a hidden layer of 128 units and
    a linear layer give the logits.  About 0.2 M weights: a few epochs on a
    CPU take it to about 99 % test accuracy on MNIST.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        check_int("num_classes", num_classes, minimum=2)
        self.num_classes = num_classes
        self.layers = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 14 x 14
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 7 x 7
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 128),
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        """Images ``[B, 784]`` (or ``[B, 1, 28, 28]``), pixels in [0, 1] -> logits ``[B, num_classes]``."""
        return self.layers(flatten_images(x, IMAGE_DIM))


def classification_loss(model: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """The loss that ``train.fit(..., train_y=...)`` minimizes for a classifier.

    ``{"loss": cross-entropy in nats per image, "error": the fraction of the
    batch classified wrong}``; the error is reported, not differentiated.
    """
    logits = model(x)  # [B, K]
    loss = F.cross_entropy(logits, y)
    error = (logits.argmax(dim=1) != y).float().mean()
    return {"loss": loss, "error": error.detach()}


def predict(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """The label the classifier gives each image ``x`` ``[N, 784]``: int64 ``[N]``, on the CPU.

    Runs in batches on the model's device, in eval mode (then back to the model's mode).
    """
    return per_image(model, lambda batch: model(batch).argmax(dim=1), x, batch_size=batch_size)


def accuracy_by_class(predicted: Tensor, y: Tensor, num_classes: int = 10) -> Tensor:
    """The fraction of each true class that was ``predicted`` right: ``[num_classes]``.

    A class with no examples gets NaN, not a made-up number.
    """
    check_labels("y", y, len(y))
    check_labels("predicted", predicted, len(y))
    y, right = y.cpu(), (predicted.cpu() == y.cpu()).float()
    counts = torch.bincount(y, minlength=num_classes).float()
    hits = torch.bincount(y, weights=right, minlength=num_classes)
    return hits / counts  # 0 / 0 = NaN where a class is absent


def train_judge(
    train_x: Tensor,
    train_y: Tensor,
    *,
    epochs: int | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> Classifier:
    """The book's judge: a :class:`Classifier` trained on labelled digits.

    Chapters 4, 5 and 7 each call this with the same arguments, so the same
    judge reads their figures.  ``epochs`` defaults to :data:`JUDGE_EPOCHS`,
    one in fast mode (:func:`vaelib.settings.budget`).  ``seed`` fixes its initial weights and the
    order of its batches; the global random generator is left as it was.
    """
    if epochs is None:
        epochs = budget(epochs=JUDGE_EPOCHS).epochs
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        judge = Classifier()
    fit(
        judge, classification_loss, train_x, train_y=train_y, epochs=epochs, seed=seed, device=device, progress=progress
    )
    return judge


def judge(
    train_x: Tensor,
    train_y: Tensor,
    *,
    trained_in: str,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> Classifier:
    """The judge of :func:`train_judge`, trained once and kept in the model cache.

    The first chapter that asks for it trains it (``trained_in`` names that
    chapter); the later ones load the same weights (:func:`vaelib.cache.load_or_train`),
    in eval mode on ``device``.
    """
    device = torch.device(device) if device is not None else default_device()
    epochs = budget(epochs=JUDGE_EPOCHS).epochs
    seed = 0
    return cache.load_or_train(
        "the judge",
        lambda: train_judge(train_x, train_y, epochs=epochs, seed=seed, device=device, progress=progress),
        Classifier,
        trained_in=trained_in,
        device=device,
        model=Classifier,
        recipe=train_judge,
        epochs=epochs,
        seed=seed,
        data=[train_x, train_y],
        fast=fast_mode(),
        device_kind=device,
    )


def judge_confidence(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> tuple[Tensor, Tensor]:
    """The judge's label for each image ``x`` ``[N, 784]``, and its probability: ``([N] int64, [N] float)``.

    Both on the CPU; the model runs in batches on its device, in eval mode.

    The probability is the largest of the judge's softmax outputs: near 1 when
    the image looks like one digit, lower for a blend of digits or a smudge.
    """

    def label_and_probability(batch: Tensor) -> tuple[Tensor, Tensor]:
        top, label = torch.softmax(model(batch), dim=1).max(dim=1)  # [B] each
        return label, top

    return per_image(model, label_and_probability, x, batch_size=batch_size)


def confident_share(model: nn.Module, x: Tensor, threshold: float = 0.9) -> float:
    """The fraction of images ``x`` ``[N, 784]`` that the judge labels with probability ``threshold`` or more.

    The book's measure of "looks like a digit": about 0.94 on real test
    digits, lower for samples that are blends or smudges.  It says nothing
    about *which* digits: a sampler that draws only 1s can score high.
    """
    check_number("threshold", threshold, positive=True)
    if threshold > 1:
        raise ValueError(f"threshold must be a probability in (0, 1], got {threshold!r}")
    _, probs = judge_confidence(model, x)
    return (probs >= threshold).float().mean().item()
