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

from ._validate import check_int
from .data import IMAGE_DIM, batches, check_labels, flatten_images
from .models import evaluating, model_device

__all__ = ["Classifier", "accuracy_by_class", "classification_loss", "predict"]


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


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """The label the classifier gives each image ``x`` ``[N, 784]``: int64 ``[N]``, on the CPU.

    Runs in batches on the model's device, in eval mode (then back to the model's mode).
    """
    device = model_device(model)
    with evaluating(model):
        labels = [model(batch.to(device)).argmax(dim=1).cpu() for batch in batches(x, batch_size, shuffle=False)]
    return torch.cat(labels)


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
