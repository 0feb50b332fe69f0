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
from .data import batches
from .gaussian import gaussian_kl_per_dim, log_normal_diag, log_standard_normal, reparameterize
from .latent import encode_dataset
from .losses import bce_per_image, vae_loss
from .models import evaluating, model_device

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


@torch.no_grad()
def reconstruction_errors(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """Each image's reconstruction error in nats (BCE summed over pixels), ``[N]``.

    The reconstruction is decoded from the code ``encode_mean(x)``.
    """
    device = model_device(model)
    out = []
    with evaluating(model):
        for batch in batches(x, batch_size, shuffle=False):
            batch = batch.to(device)
            out.append(bce_per_image(model.decode(model.encode_mean(batch)), batch).cpu())
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
    reconstruction term averaged over ``n_samples`` codes per image.
    ``-elbo`` is the test loss that papers report.  The codes are drawn from
    a generator seeded with ``seed``; the global generator is not touched.
    """
    check_int("n_samples", n_samples)
    device = model_device(model)
    generator = torch.Generator().manual_seed(seed)
    totals = {"recon": 0.0, "kl": 0.0}
    with evaluating(model):
        for batch in batches(x, batch_size, shuffle=False):
            batch = batch.to(device)
            mu, logvar = model.encode(batch)
            for _ in range(n_samples):
                eps = torch.randn(mu.shape, generator=generator).to(device)  # [B, d]
                logits = model.decode(reparameterize(mu, logvar, eps))
                parts = vae_loss(batch, logits, mu, logvar, reconstruction=reconstruction, sigma=sigma)
                totals["recon"] += parts["recon"].item() * len(batch) / n_samples
                totals["kl"] += parts["kl"].item() * len(batch) / n_samples
    recon, kl = totals["recon"] / len(x), totals["kl"] / len(x)
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
) -> Tensor:
    """An estimate of log p(x) for each image, ``[N]`` nats, with ``k`` importance samples.

    ``log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log k``
    with ``z_k ~ q(z|x)`` (Burda et al., 2016).  In expectation it lies
    between the ELBO (k = 1) and the true log-likelihood, and rises toward
    the latter as ``k`` grows.  The ``k`` samples are drawn ``chunk`` at a
    time and combined with a running log-sum-exp, so memory stays bounded.

    ``log_likelihood(decoder_output, x) -> [N]`` is log p(x|z); by default
    Bernoulli pixels, ``-bce_per_image``.
    """
    for name, value in [("k", k), ("chunk", chunk), ("batch_size", batch_size)]:
        check_int(name, value)
    with evaluating(model):
        return _importance_sampled(model, x, k, batch_size, chunk, log_likelihood or _bernoulli_log_likelihood, seed)


def _bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    return -bce_per_image(logits, x)


def _importance_sampled(model, x, k, batch_size, chunk, log_likelihood, seed) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    device = model_device(model)
    out = []
    for batch in batches(x, batch_size, shuffle=False):
        batch = batch.to(device)  # [B, 784]
        mu, logvar = model.encode(batch)  # [B, d] each
        running = torch.full((len(batch),), -math.inf, dtype=torch.float64, device=device)
        for start in range(0, k, chunk):
            m = min(chunk, k - start)
            eps = torch.randn(m, *mu.shape, generator=generator).to(device)  # [m, B, d]
            z = reparameterize(mu.expand(m, -1, -1), logvar.expand(m, -1, -1), eps)  # [m, B, d]
            logits = model.decode(z.reshape(-1, z.shape[-1]))  # [m*B, 784]
            targets = batch.expand(m, -1, -1).reshape(-1, batch.shape[-1])  # [m*B, 784]
            log_px_z = log_likelihood(logits, targets)  # [m*B]
            log_w = log_px_z.reshape(m, -1) + log_standard_normal(z) - log_normal_diag(z, mu, logvar)  # [m, B]
            running = torch.logaddexp(running, torch.logsumexp(log_w.double(), dim=0))
        out.append((running - math.log(k)).float().cpu())
    return torch.cat(out)


@torch.no_grad()
def active_units(model: nn.Module, x: Tensor, threshold: float = 0.01, batch_size: int = 1_000) -> tuple[int, Tensor]:
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
    device = model_device(model)
    total = torch.zeros(model.latent_dim)
    with evaluating(model):
        for batch in batches(x, batch_size, shuffle=False):
            mu, logvar = model.encode(batch.to(device))
            total += gaussian_kl_per_dim(mu, logvar).sum(0).cpu()  # [d]
    return total / len(x)


def _discretize(codes: Tensor, bins: int) -> Tensor:
    """Each column of ``codes`` ``[N, d]`` cut into ``bins`` equal-width bins: int ``[N, d]``."""
    low, high = codes.min(0).values, codes.max(0).values
    width = (high - low).clamp_min(1e-12) / bins
    return ((codes - low) / width).floor().clamp(0, bins - 1).long()


def discrete_mutual_information(a: Tensor, b: Tensor) -> float:
    """Mutual information in nats between two integer labelings ``[N]``, from their counts."""
    a, b = torch.unique(a, return_inverse=True)[1], torch.unique(b, return_inverse=True)[1]
    joint = torch.zeros(int(a.max()) + 1, int(b.max()) + 1, dtype=torch.float64)
    joint.index_put_((a, b), torch.ones(len(a), dtype=torch.float64), accumulate=True)
    joint /= len(a)
    pa, pb = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
    nonzero = joint > 0
    return (joint[nonzero] * (joint[nonzero] / (pa * pb)[nonzero]).log()).sum().item()


def _check_codes_and_factors(codes: Tensor, factors: Tensor, bins: int) -> None:
    if not isinstance(codes, Tensor) or not isinstance(factors, Tensor):
        raise TypeError("codes and factors must be torch tensors")
    if codes.dim() != 2 or factors.dim() != 2 or len(codes) != len(factors):
        raise ValueError(
            f"expected codes [N, d] and factors [N, K] with the same N, got {tuple(codes.shape)} and "
            f"{tuple(factors.shape)}"
        )
    if len(codes) == 0:
        raise ValueError("codes and factors are empty: MIG needs at least one image")
    if not codes.is_floating_point() or not bool(torch.isfinite(codes).all()):
        raise ValueError("codes must be finite floating-point numbers (found NaN, inf or an integer dtype)")
    if factors.is_floating_point() or factors.is_complex():
        raise TypeError(f"factors must be integer factor indices, got dtype {factors.dtype}")
    check_int("bins", bins, minimum=2)


def latent_factor_information(codes: Tensor, factors: Tensor, bins: int = 20) -> Tensor:
    """Mutual information (nats) of every latent with every factor: ``[d, K]``.

    ``codes`` ``[N, d]`` are discretized into ``bins`` equal-width bins per
    latent; ``factors`` ``[N, K]`` are integer factor values.
    """
    _check_codes_and_factors(codes, factors, bins)
    binned = _discretize(codes.double(), bins)
    return torch.tensor(
        [
            [discrete_mutual_information(binned[:, j], factors[:, k]) for k in range(factors.shape[1])]
            for j in range(codes.shape[1])
        ]
    )


def mig(codes: Tensor, factors: Tensor, bins: int = 20) -> tuple[float, Tensor]:
    """Mutual information gap (Chen et al., 2018), as in disentanglement_lib.

    ``codes``: ``[N, d]`` mean codes E[z | x]; ``factors``: ``[N, K]`` integer
    factor values.  Each latent is discretized into ``bins`` equal-width bins;
    for each factor, the discrete mutual information with every latent is
    computed, and the gap between the two most informative latents is divided
    by the factor's entropy.  Returns ``(mean gap over factors, gaps [K])``:
    near 1 when each factor is captured by one latent alone, near 0 when
    factors are spread over several latents or absent.
    """
    _check_codes_and_factors(codes, factors, bins)
    if codes.shape[1] < 2:
        raise ValueError("MIG needs at least two latent dimensions")
    # [2, K]: per factor, the shares of its two most informative latents
    top = factor_shares(codes, factors, bins).topk(2, dim=0).values
    gaps = (top[0] - top[1]).float()
    return gaps.mean().item(), gaps


def factor_entropies(factors: Tensor) -> Tensor:
    """The entropy in nats of each factor's values, ``factors`` ``[N, K]``: ``[K]`` (float64)."""
    entropies = torch.tensor([discrete_mutual_information(v, v) for v in factors.T])  # H(v) = I(v; v)
    for k, entropy in enumerate(entropies.tolist()):
        if entropy == 0:
            raise ValueError(f"factor {k} takes a single value: its share of information is undefined")
    return entropies


def factor_shares(codes: Tensor, factors: Tensor, bins: int = 20) -> Tensor:
    """How much of each factor every latent tells: ``I(z_j; v_k) / H(v_k)``, ``[d, K]``
    (0: nothing; 1: all there is to know about the factor).  MIG and
    :func:`latent_factors` read this table."""
    return latent_factor_information(codes, factors, bins) / factor_entropies(factors)


def latent_factors(codes: Tensor, factors: Tensor, bins: int = 20) -> tuple[Tensor, Tensor]:
    """What each latent captures: ``(factor [d], gap [d])``.

    ``factor[j]`` is the factor that latent ``j`` tells the largest share of
    (mutual information over the factor's entropy, so that a factor with few
    values counts as much as one with many); ``gap[j]`` is how much larger
    that share is than any other latent's share of the same factor.  A
    positive gap makes ``j`` the factor's best latent, and then it is the
    factor's gap in MIG; a negative gap means another latent captures the
    factor better.
    """
    _check_codes_and_factors(codes, factors, bins)
    if codes.shape[1] < 2:
        raise ValueError("a gap needs at least two latent dimensions")
    share = factor_shares(codes, factors, bins)  # [d, K]
    factor = share.argmax(dim=1)  # [d]
    gap = torch.empty(codes.shape[1], dtype=torch.float64)
    for j, k in enumerate(factor.tolist()):
        others = torch.cat([share[:j, k], share[j + 1 :, k]])
        gap[j] = share[j, k] - others.max()
    return factor, gap.float()
