"""Numbers that summarize a model: reconstruction errors, ROC AUC, linear
probes; for VAEs the test ELBO, an importance-sampled log-likelihood and the
number of active latent units.  Every likelihood is in nats per image."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._validate import check_int, check_number
from .batched import model_device, per_image
from .disentanglement import (
    discrete_mutual_information,
    factor_entropies,
    factor_shares,
    latent_factor_information,
    latent_factors,
    mig,
)
from .gaussian import (
    gaussian_kl_per_dim,
    log_normal_diag,
    reparameterize,
    standard_normal,
)
from .latent import encode_dataset
from .losses import _check_options, bce_per_image, reconstruction_nll
from .models import kl_to_prior, log_prior

__all__ = [
    "active_units",
    "discrete_mutual_information",
    "mig",
    "elbo",
    "factor_entropies",
    "factor_shares",
    "importance_sampled_log_likelihood",
    "kl_per_dimension",
    "latent_factor_information",
    "latent_factors",
    "linear_probe_accuracy",
    "reconstruction_errors",
    "roc_auc",
    "standardize",
    "stroke_style",
]


def stroke_style(images: Tensor) -> Tensor:
    """Two numbers of handwriting style per square image: ``[N, 2]``, ink and slant.

    ``ink``: the sum of the pixel values (how much ink: thick or bold strokes
    have more).  ``slant``: how far the ink leans, the slope of its columns
    against its rows through the ink's centre, weighted by the pixels;
    positive when the top leans right, as in italics (0 for an upright stroke;
    1 for a lean of 45 degrees).  Images ``[N, side * side]`` with pixel
    values (or probabilities) in [0, 1].
    """
    images = torch.as_tensor(images).detach().float()
    side = math.isqrt(images[0].numel()) if len(images) else 0
    images = images.reshape(len(images), side, side)
    rows = torch.arange(side, dtype=torch.float32)[:, None]  # [side, 1], growing downwards
    cols = torch.arange(side, dtype=torch.float32)[None, :]  # [1, side]
    ink = images.sum(dim=(1, 2))  # [N]
    total = ink.clamp_min(1e-6)[:, None, None]
    row_centre = (images * rows).sum(dim=(1, 2), keepdim=True) / total
    col_centre = (images * cols).sum(dim=(1, 2), keepdim=True) / total
    dr, dc = rows - row_centre, cols - col_centre  # [N, side, side] each, by broadcasting
    slant = -(images * dr * dc).sum(dim=(1, 2)) / (images * dr * dr).sum(dim=(1, 2)).clamp_min(1e-6)
    return torch.stack([ink, slant], dim=1)


def reconstruction_errors(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """Each image's reconstruction error in nats (BCE summed over pixels), ``[N]``.

    The reconstruction is decoded from the code ``encode_mean(x)``.
    """

    def errors(batch: Tensor) -> Tensor:
        return bce_per_image(model.decode(model.encode_mean(batch)), batch)

    return per_image(model, errors, x, batch_size=batch_size)


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
    if not (torch.isfinite(neg).all() and torch.isfinite(pos).all()):
        raise ValueError("roc_auc got NaN or infinite scores")
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
    standardize_features: bool = True,
) -> float:
    """Test accuracy of a linear (softmax) classifier trained on the features.

    Features ``[N, D]`` are standardized with the training statistics (unless
    ``standardize_features=False``, for features already on one common scale,
    such as pixels in [0, 1]: standardizing a pixel that is almost always 0
    blows up its rare ink), then a multinomial logistic regression is trained
    full-batch with Adam for ``epochs`` steps: the same budget whatever ``D`` is, so codes and raw
    pixels compete on equal terms.  The weights start at zero (the problem is
    convex), so the result involves no randomness.
    """
    if len(train_features) != len(train_labels) or len(test_features) != len(test_labels):
        raise ValueError(
            f"features and labels must pair up: train {len(train_features)} vs {len(train_labels)}, "
            f"test {len(test_features)} vs {len(test_labels)}"
        )
    train_features, test_features = train_features.float(), test_features.float()
    if standardize_features:
        train_features, test_features = standardize(train_features, test_features)
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    weight = torch.zeros(train_features.shape[1], n_classes, requires_grad=True)  # [D, classes]
    bias = torch.zeros(n_classes, requires_grad=True)
    optimizer = torch.optim.Adam([weight, bias], lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        F.cross_entropy(train_features @ weight + bias, train_labels).backward()
        optimizer.step()
    with torch.no_grad():
        predicted = (test_features @ weight + bias).argmax(1)
    return (predicted == test_labels).float().mean().item()


@torch.no_grad()
def elbo(
    model: nn.Module,
    x: Tensor,
    *,
    n_samples: int = 1,
    batch_size: int = 1_000,
    reconstruction: str = "bce",
    sigma: float = 0.1,
    seed: int = 0,
) -> dict[str, float]:
    """The evidence lower bound of a VAE on images ``x``, in nats per image.

    Returns ``{"elbo", "recon", "kl"}`` averaged over images, with the
    reconstruction term averaged over ``n_samples`` codes per image (and
    the KL term too where the model estimates it from the codes, as a
    learned prior of :mod:`vaelib.priors` does; for N(0, I) it is exact).
    ``-elbo`` is the test loss that papers report.  The codes are drawn from
    a generator seeded with ``seed``; the global generator is not touched.
    """
    check_int("n_samples", n_samples)
    _check_options(1.0, reconstruction, sigma)
    generator = torch.Generator().manual_seed(seed)
    device = model_device(model)

    def parts(batch: Tensor) -> tuple[Tensor, Tensor]:  # each image's reconstruction and KL terms, [B] each
        mu, logvar = model.encode(batch)
        recon, kl = torch.zeros(len(batch), device=device), torch.zeros(len(batch), device=device)
        for _ in range(n_samples):
            z = reparameterize(mu, logvar, standard_normal(mu.shape, generator, device=device))  # [B, d]
            recon += reconstruction_nll(model.decode(z), batch, reconstruction, sigma)
            kl += kl_to_prior(model, mu, logvar, z)  # closed form for N(0, I); estimated from z for a learned prior
        return recon / n_samples, kl / n_samples

    recon, kl = (part.mean().item() for part in per_image(model, parts, x, batch_size=batch_size))
    return {"elbo": -(recon + kl), "recon": recon, "kl": kl}


@torch.no_grad()
def importance_sampled_log_likelihood(
    model: nn.Module,
    x: Tensor,
    *,
    k: int = 1_000,
    batch_size: int = 100,
    chunk: int = 100,
    log_likelihood: Callable[[Tensor, Tensor], Tensor] | None = None,
    seed: int = 0,
    posteriors: tuple[Tensor, Tensor] | None = None,
) -> Tensor:
    """An estimate of log p(x) for each image, ``[N]`` nats, with ``k`` importance samples.

    ``log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log k``
    with ``z_k ~ q(z|x)`` (Burda et al., 2016).  In expectation it lies
    between the ELBO (k = 1) and the true log-likelihood, and rises toward
    the latter as ``k`` grows.  The ``k`` samples are drawn ``chunk`` at a
    time and combined with a running log-sum-exp, so memory stays bounded.

    ``log_likelihood(decoder_output, x) -> [N]`` is log p(x|z); by default
    Bernoulli pixels, ``-bce_per_image``.  ``posteriors``, ``(mu, logvar)``
    ``[N, d]`` each, replaces the encoder's q(z|x) as the proposal with each
    image's own Gaussian (one optimized for it, say); any proposal gives an
    estimate that is a lower bound in expectation, a better one a tighter bound.
    """
    for name, value in [("k", k), ("chunk", chunk), ("batch_size", batch_size)]:
        check_int(name, value)
    log_likelihood = log_likelihood or _bernoulli_log_likelihood
    generator = torch.Generator().manual_seed(seed)
    device = model_device(model)
    rows = None
    if posteriors is not None:
        if posteriors[0].shape != posteriors[1].shape or posteriors[0].dim() != 2 or len(posteriors[0]) != len(x):
            raise ValueError(
                f"posteriors must be (mu, logvar), [N, d] each for the N = {len(x)} images, "
                f"got {tuple(posteriors[0].shape)} and {tuple(posteriors[1].shape)}"
            )
        posteriors = tuple(p.to(device) for p in posteriors)
        rows = torch.arange(len(x))  # each batch carries its images' row numbers, to find their proposals

    def log_px(batch: Tensor, index: Tensor | None = None) -> Tensor:  # [B, 784] -> [B]
        mu, logvar = model.encode(batch) if index is None else (p[index] for p in posteriors)  # [B, d] each
        running = torch.full((len(batch),), -math.inf, dtype=torch.float64, device=device)
        for start in range(0, k, chunk):
            m = min(chunk, k - start)
            eps = standard_normal((m, *mu.shape), generator, device=device)  # [m, B, d]
            z = reparameterize(mu.expand(m, -1, -1), logvar.expand(m, -1, -1), eps)  # [m, B, d]
            logits = model.decode(z.reshape(-1, z.shape[-1]))  # [m*B, 784]
            targets = batch.expand(m, -1, -1).reshape(-1, batch.shape[-1])  # [m*B, 784]
            log_px_z = log_likelihood(logits, targets)  # [m*B]
            log_w = log_px_z.reshape(m, -1) + log_prior(model, z) - log_normal_diag(z, mu, logvar)  # [m, B]
            running = torch.logaddexp(running, torch.logsumexp(log_w.double(), dim=0))
        return (running - math.log(k)).float()

    return per_image(model, log_px, x, labels=rows, batch_size=batch_size)


def _bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    return -bce_per_image(logits, x)


#: A latent dimension is active when the variance of its mean code across images exceeds this.
ACTIVE_THRESHOLD = 0.01


def active_units(
    model: nn.Module, x: Tensor, threshold: float = ACTIVE_THRESHOLD, batch_size: int = 1_000
) -> tuple[int, Tensor]:
    """How many latent dimensions the VAE uses: ``(count, variances [d])``.

    A dimension is active when its posterior mean moves with the input:
    ``Var_x(E_q[z_j | x]) > threshold`` (Burda et al., 2016).  An inactive
    dimension has collapsed to the prior, whatever the image.
    """
    check_number("threshold", threshold, positive=False)
    codes = encode_dataset(model, x, batch_size)  # [N, d]
    if len(codes) < 2:
        raise ValueError(f"active units need at least 2 images to measure a variance, got {len(codes)}")
    variances = codes.var(dim=0)  # [d]: over images, of the mean codes
    return int((variances > threshold).sum()), variances


@torch.no_grad()
def kl_per_dimension(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """Each latent dimension's share of the KL term, averaged over images: ``[d]`` nats.

    Sums to the KL of the loss; a dimension near 0 carries no information.
    """

    def kl_terms(batch: Tensor) -> Tensor:  # [B, d]
        return gaussian_kl_per_dim(*model.encode(batch))

    return per_image(model, kl_terms, x, batch_size=batch_size).mean(dim=0)
