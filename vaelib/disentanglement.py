"""Disentanglement: how much each latent tells about each known factor of the data.

Chapter 6's measures, on codes ``[N, d]`` and integer factor values
``[N, K]`` (the sprites' shape, scale, rotation, x and y): the mutual
information of every latent with every factor, each factor's share told by
each latent, and the mutual information gap (MIG) that sums it up.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._validate import check_int

__all__ = [
    "discrete_mutual_information",
    "factor_entropies",
    "factor_shares",
    "latent_factor_information",
    "latent_factors",
    "mig",
]


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
