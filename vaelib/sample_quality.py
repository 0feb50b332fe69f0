"""How good a set of generated digits is, read by the judge (chapter 8).

Three numbers, each blind to something, so the book reads them together:

- the **confident share** (:func:`vaelib.classifier.confident_share`): how
  many images the judge labels with probability 0.9 or more.  It asks
  whether each image looks like *some* digit, not whether the set covers
  them all: a sampler that draws only ones can score high;
- the **evenness** of the judge's labels (:func:`label_evenness`): 1 when
  every digit is drawn equally often, 0 when one digit is drawn always.  It
  asks nothing of each image: smudges spread evenly score high;
- the **judge distance** (:func:`judge_distance`): the Fréchet distance
  between Gaussians fitted to the judge's hidden features of the samples
  and of real test digits, an MNIST cousin of FID (Heusel et al., 2017),
  which uses an Inception network's features of natural images.  It is low
  only when the samples' features have the real digits' mean *and* spread,
  so it sees both poor images and missing digits; but it sees only what the
  judge's features encode, it is biased upward for small sets (compare sets
  of one size), and its values mean nothing next to published FIDs.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ._validate import check_int
from .batched import per_image
from .classifier import confident_share, judge_confidence

__all__ = ["frechet_distance", "judge_distance", "judge_features", "label_evenness", "report"]


def judge_features(judge: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """The judge's hidden features of images ``x`` ``[N, 784]``: ``[N, 128]``, on the CPU.

    The activations of the layer before its logits (after the ReLU): what the
    judge knows of an image just before it names the digit.
    """
    body = judge.layers[:-1]  # every layer but the last linear one
    return per_image(judge, body, x, batch_size=batch_size)


def _mean_and_covariance(features: Tensor) -> tuple[Tensor, Tensor]:
    f = features.double()
    mean = f.mean(dim=0)
    centred = f - mean
    return mean, centred.T @ centred / (len(f) - 1)


def _sqrt_psd(matrix: Tensor) -> Tensor:
    """The square root of a symmetric positive semi-definite matrix, by its eigendecomposition."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: Tensor, b: Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of features ``[N, F]`` and ``[M, F]``.

    ``|m_a - m_b|^2 + tr(C_a + C_b - 2 (C_a^1/2 C_b C_a^1/2)^1/2)``, the
    squared 2-Wasserstein distance between N(m_a, C_a) and N(m_b, C_b);
    0 for identical sets.  Computed in float64 with symmetric
    eigendecompositions (no SciPy).
    """
    for name, features in (("a", a), ("b", b)):
        if not isinstance(features, Tensor) or features.dim() != 2 or len(features) < 2:
            shape = tuple(features.shape) if isinstance(features, Tensor) else type(features).__name__
            raise ValueError(f"{name} must be features [N, F] of at least 2 images, got {shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have as many features each: {a.shape[1]} and {b.shape[1]}")
    mean_a, cov_a = _mean_and_covariance(a)
    mean_b, cov_b = _mean_and_covariance(b)
    root_a = _sqrt_psd(cov_a)
    cross = _sqrt_psd(root_a @ cov_b @ root_a)
    distance = (mean_a - mean_b).pow(2).sum() + torch.trace(cov_a + cov_b - 2 * cross)
    return max(float(distance), 0.0)


def judge_distance(judge: nn.Module, x: Tensor, real: Tensor) -> float:
    """The Fréchet distance between the judge's features of images ``x`` and of real digits ``real``."""
    return frechet_distance(judge_features(judge, x), judge_features(judge, real))


def label_evenness(labels: Tensor, num_classes: int = 10) -> float:
    """How evenly the labels ``[N]`` fall into ``num_classes`` classes: their entropy over ``log(num_classes)``.

    1 when every class is drawn equally often; 0 when every label is the same.
    """
    check_int("num_classes", num_classes, minimum=2)
    if not isinstance(labels, Tensor) or labels.dim() != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty [N] tensor of class indices, got {labels!r}")
    p = torch.bincount(labels.cpu(), minlength=num_classes).double() / len(labels)
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return float(entropy) / math.log(num_classes)


def report(judge: nn.Module, x: Tensor, real: Tensor) -> dict[str, float]:
    """The three measures of images ``x`` ``[N, 784]`` against real test digits ``real``:
    ``{"confident", "evenness", "distance"}``."""
    labels, _ = judge_confidence(judge, x)
    return {
        "confident": confident_share(judge, x),
        "evenness": label_evenness(labels),
        "distance": judge_distance(judge, x, real),
    }
