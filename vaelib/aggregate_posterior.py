"""The aggregate posterior q(z): where a VAE's codes really are (chapter 8).

For a data set of N images, q(z) = (1/N) sum_n q(z | x_n), a mixture of the
encoder's N Gaussians.  The sampler draws from the prior p(z) instead; the
two need not agree.  ELBO surgery (Hoffman and Johnson, 2016) splits the
ELBO's average KL term into two parts that say how:

    E_x KL(q(z|x) || p(z))  =  I_q(x; z)  +  KL(q(z) || p(z))

the information the code carries about the image (which a good code needs)
and how far the codes' distribution lies from the prior (which costs the
ELBO and lets prior samples fall where no code is).  :func:`elbo_surgery`
estimates both from one code drawn for each image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._validate import check_int
from .batched import model_device, per_image
from .gaussian import log_normal_diag, log_normal_diag_pairs, reparameterize, standard_normal
from .models import kl_to_prior, log_prior


@dataclass(frozen=True)
class DensityMap:
    """log p(z) and log q(z) of a 2-D latent space on a square grid.

    ``z1``, ``z2``: the grid's coordinates, ``[steps]`` each, low to high;
    ``log_prior``, ``log_aggregate``: ``[steps, steps]``, row i at ``z2[i]``,
    column j at ``z1[j]`` (as ``plt.contour(z1, z2, values)`` reads them).
    """

    z1: Tensor
    z2: Tensor
    log_prior: Tensor
    log_aggregate: Tensor

    def codes(self) -> Tensor:
        """The grid's points, ``[steps * steps, 2]``, in the order of the flattened maps."""
        return _grid(self.z1, self.z2)


def _grid(z1: Tensor, z2: Tensor) -> Tensor:
    """The points of the grid ``z1`` x ``z2``, row by row (a row: one value of z2), ``[len(z2) * len(z1), 2]``."""
    rows, columns = torch.meshgrid(z2, z1, indexing="ij")
    return torch.stack([columns.flatten(), rows.flatten()], dim=1)


__all__ = ["DensityMap", "density_map", "elbo_surgery", "holes", "log_density", "posteriors"]


def posteriors(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> tuple[Tensor, Tensor]:
    """``(mu, logvar)`` of q(z | x_n) for every image, ``[N, d]`` each, on the CPU."""
    return per_image(model, model.encode, x, batch_size=batch_size)


@torch.no_grad()
def log_density(z: Tensor, mu: Tensor, logvar: Tensor, chunk: int = 500) -> Tensor:
    """log q(z) of codes ``z`` ``[M, d]`` under the mixture of the N posteriors ``mu``, ``logvar`` ``[N, d]``: ``[M]``.

    ``log q(z) = logsumexp_n log N(z; mu_n, diag(exp(logvar_n))) - log N``,
    exact for this mixture (every component is summed, none sampled), in
    chunks of ``chunk`` codes so that memory stays at ``chunk * N``.
    """
    check_int("chunk", chunk)
    if len(mu) == 0:
        raise ValueError("the aggregate posterior needs the posteriors of at least one image, got none")
    parts = []
    for start in range(0, len(z), chunk):
        per_component = log_normal_diag_pairs(z[start : start + chunk], mu, logvar)  # [chunk, N]
        parts.append(torch.logsumexp(per_component, dim=1) - math.log(len(mu)))
    return torch.cat(parts) if parts else z.new_zeros(0)


@torch.no_grad()
def elbo_surgery(model: nn.Module, x: Tensor, *, seed: int = 0) -> dict[str, float]:
    """The average KL term on images ``x`` and its two parts, in nats per image (Hoffman and Johnson, 2016).

    Returns ``{"kl", "mutual_information", "marginal_kl", "log_n"}``.  One code
    z_n ~ q(z | x_n) per image (drawn from a generator seeded with ``seed``);
    q(z) is the aggregate posterior of these N images, evaluated exactly
    (:func:`log_density`).  Then

    - ``mutual_information`` = mean_n [log q(z_n | x_n) - log q(z_n)], an
      estimate of I_q(x; z) for the data set of these N images.  It can never
      exceed ``log_n`` = log N: the data set has only N images to tell
      apart, so with a code as informative as a 20-D VAE's the estimate sits
      near log N and says more about N than about the code;
    - ``marginal_kl`` = mean_n [log q(z_n) - log p(z_n)], an estimate of
      KL(q(z) || p(z)) with ``model.log_prior``;
    - ``kl`` = the average KL term, ``model.kl_to_prior`` (closed form for
      N(0, I)); for a learned prior it is estimated from the same codes, and
      ``kl`` = ``mutual_information + marginal_kl`` exactly.

    Both parts are single-sample Monte Carlo estimates: their noise falls as
    1 / sqrt(N).  The cost grows as N squared.
    """
    mu, logvar = (part.to(model_device(model)) for part in posteriors(model, x))
    eps = standard_normal(mu.shape, torch.Generator().manual_seed(seed), device=mu.device)
    z = reparameterize(mu, logvar, eps)  # [N, d]: one code per image
    log_q_z = log_density(z, mu, logvar)  # [N]
    log_q_z_given_x = log_normal_diag(z, mu, logvar)  # [N]
    return {
        "kl": kl_to_prior(model, mu, logvar, z).mean().item(),
        "mutual_information": (log_q_z_given_x - log_q_z).mean().item(),
        "marginal_kl": (log_q_z - log_prior(model, z)).mean().item(),
        "log_n": math.log(len(x)),
    }


@torch.no_grad()
def density_map(model: nn.Module, x: Tensor, *, extent: float = 3.5, steps: int = 71) -> DensityMap:
    """The prior's and the aggregate posterior's log-densities over [-extent, extent]^2 of a 2-D latent space.

    q(z) is the mixture of the posteriors of the images ``x`` (:func:`log_density`).
    """
    check_int("steps", steps, minimum=2)
    if getattr(model, "latent_dim", None) != 2:
        raise ValueError(f"a density map needs a model with a 2-D latent space, got latent_dim={model.latent_dim}")
    mu, logvar = posteriors(model, x)
    axis = torch.linspace(-extent, extent, steps)
    grid = _grid(axis, axis)  # [steps^2, 2]
    log_q = log_density(grid, mu, logvar).reshape(steps, steps)
    log_p = log_prior(model, grid.to(model_device(model))).cpu().reshape(steps, steps)
    return DensityMap(axis, axis, log_p, log_q)


def holes(density: DensityMap, n: int = 6, *, within: float = 2.0, spacing: float = 0.75) -> Tensor:
    """``n`` places where the prior is high and the codes are few: ``[n, 2]``, the emptiest first.

    Among the grid points whose log p(z) is within ``within`` nats of the
    prior's peak (for N(0, I) in two dimensions, ``within=2`` is the disc
    |z| <= 2, which holds 86 % of the prior's draws), the points with the
    largest log p(z) - log q(z), each at least ``spacing`` from those chosen
    before it.
    """
    check_int("n", n)
    codes = density.codes()
    log_p, log_q = density.log_prior.flatten(), density.log_aggregate.flatten()
    candidates = (log_p >= log_p.max() - within).nonzero().flatten()
    order = candidates[(log_p - log_q)[candidates].argsort(descending=True)]
    chosen: list[Tensor] = []
    for i in order.tolist():
        if all((codes[i] - c).norm() >= spacing for c in chosen):
            chosen.append(codes[i])
            if len(chosen) == n:
                break
    return torch.stack(chosen)
