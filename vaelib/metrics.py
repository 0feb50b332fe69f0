"""Numbers that summarize a model: reconstruction errors, ROC AUC, linear probes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data import batches
from .losses import bce_per_image

__all__ = ["linear_probe_accuracy", "reconstruction_errors", "roc_auc", "standardize"]


@torch.no_grad()
def reconstruction_errors(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """Each image's reconstruction error in nats (BCE summed over pixels), ``[N]``."""
    model.eval()
    device = next(model.parameters()).device
    out = [bce_per_image(model(b.to(device)), b.to(device)).cpu() for b in batches(x, batch_size, shuffle=False)]
    return torch.cat(out)


def roc_auc(scores_negative: Tensor, scores_positive: Tensor) -> float:
    """Area under the ROC curve of a score meant to be higher for positives.

    Equals the probability that a random positive scores above a random
    negative, ties counting one half (the Mann-Whitney statistic): 0.5 is
    chance, 1.0 a perfect separation.
    """
    neg = torch.as_tensor(scores_negative, dtype=torch.float64).flatten()
    pos = torch.as_tensor(scores_positive, dtype=torch.float64).flatten()
    if len(neg) == 0 or len(pos) == 0:
        raise ValueError("roc_auc needs at least one negative and one positive score")
    scores = torch.cat([neg, pos])
    # Average ranks (1-based), ties sharing the mean of their ranks.
    values, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, 0).to(torch.float64)
    mean_rank = ends - (counts.to(torch.float64) - 1) / 2
    ranks = mean_rank[inverse]
    n_pos, n_neg = len(pos), len(neg)
    u = ranks[n_neg:].sum() - n_pos * (n_pos + 1) / 2
    return (u / (n_pos * n_neg)).item()


def standardize(train: Tensor, test: Tensor, eps: float = 1e-6) -> tuple[Tensor, Tensor]:
    """Scale features to zero mean and unit variance using the *training* statistics."""
    mean, std = train.mean(0), train.std(0)
    return (train - mean) / (std + eps), (test - mean) / (std + eps)


def linear_probe_accuracy(
    train_features: Tensor,
    train_labels: Tensor,
    test_features: Tensor,
    test_labels: Tensor,
    *,
    epochs: int = 100,
    lr: float = 0.1,
    seed: int = 0,
) -> float:
    """Test accuracy of a linear (softmax) classifier trained on the features.

    Features ``[N, D]`` are standardized with the training statistics, then a
    multinomial logistic regression is trained full-batch with Adam for
    ``epochs`` steps: the same budget whatever ``D`` is, so codes and raw
    pixels compete on equal terms.
    """
    train_features, test_features = standardize(train_features.float(), test_features.float())
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    torch.manual_seed(seed)
    classifier = nn.Linear(train_features.shape[1], n_classes)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        F.cross_entropy(classifier(train_features), train_labels).backward()
        optimizer.step()
    with torch.no_grad():
        predicted = classifier(test_features).argmax(1)
    return (predicted == test_labels).float().mean().item()
