"""The latent space: codes of whole data sets, paths between codes
(linear and spherical interpolation), traversals, and manifold grids."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._validate import is_int
from .batched import per_image

__all__ = ["encode_dataset", "lerp", "prior_quantile_grid", "slerp", "traversal"]


def encode_dataset(model: nn.Module, x: Tensor, batch_size: int = 1_000, *, labels: Tensor | None = None) -> Tensor:
    """The codes ``model.encode_mean(x)`` of all images ``x`` ``[N, 784]``, as a CPU tensor ``[N, latent_dim]``.

    An autoencoder's code, or the mean ``mu`` of a VAE's q(z|x); for a
    conditional VAE, pass the labels ``[N]``: the means of q(z|x, y).
    Runs in batches on the model's device, in eval mode (then back to the
    model's mode), without gradients.
    """
    return per_image(model, model.encode_mean, x, labels=labels, batch_size=batch_size)


def lerp(z0: Tensor, z1: Tensor, steps: int = 10) -> Tensor:
    """Linear interpolation from ``z0`` to ``z1`` (``[d]`` each): ``[steps, d]``, endpoints included."""
    _check_endpoints(z0, z1, steps)
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)[:, None]  # [steps, 1]
    return (1 - t) * z0 + t * z1


def slerp(z0: Tensor, z1: Tensor, steps: int = 10) -> Tensor:
    """Spherical interpolation from ``z0`` to ``z1``: ``[steps, d]``, endpoints included.

    Moves along the great circle between the two directions while the norm
    goes linearly from ``|z0|`` to ``|z1|``.  Under a Gaussian prior in many
    dimensions almost all the mass lies near the sphere of radius sqrt(d); the
    midpoint of a straight line between two typical codes is much shorter than
    that (an atypical code), the spherical path is not.
    """
    _check_endpoints(z0, z1, steps)
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)[:, None]  # [steps, 1]
    n0, n1 = z0.norm(), z1.norm()
    if n0 == 0 or n1 == 0:
        raise ValueError("slerp needs two nonzero codes: the zero vector has no direction (use lerp)")
    u0, u1 = z0 / n0, z1 / n1
    cos = (u0 * u1).sum().clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if cos < -1 + 1e-6:
        raise ValueError("slerp between opposite codes (z1 = -c * z0) is undefined: every great circle joins them")
    if omega.abs() < 1e-6:  # same direction: the great circle is a point
        directions = u0.expand(steps, -1)
    else:
        directions = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
    return directions * ((1 - t) * n0 + t * n1)


def _check_endpoints(z0: Tensor, z1: Tensor, steps: int) -> None:
    if not isinstance(z0, Tensor) or not isinstance(z1, Tensor):
        raise TypeError(f"z0 and z1 must be torch tensors, got {type(z0).__name__} and {type(z1).__name__}")
    if not (z0.is_floating_point() and z1.is_floating_point()):
        raise TypeError(f"z0 and z1 must be floating-point codes, got {z0.dtype} and {z1.dtype}")
    if not bool(torch.isfinite(z0).all() and torch.isfinite(z1).all()):
        raise ValueError("z0 and z1 must be finite (found NaN or inf)")
    if not is_int(steps):
        raise TypeError(f"steps must be an integer, got {steps!r}")
    if z0.dim() != 1 or z0.shape != z1.shape:
        raise ValueError(f"expected two codes of the same shape [d], got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two endpoints), got {steps}")


def traversal(z: Tensor, dim: int, values: Tensor) -> Tensor:
    """Copies of the code ``z`` (``[d]``) with dimension ``dim`` set to each of ``values``: ``[len(values), d]``."""
    if not isinstance(z, Tensor) or z.dim() != 1 or not is_int(dim) or not 0 <= dim < len(z):
        shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(f"expected a code z [d] and an integer dim in 0..d-1, got {shape} and {dim!r}")
    codes = z.repeat(len(values), 1)  # [n, d]
    codes[:, dim] = torch.as_tensor(values, dtype=z.dtype, device=z.device)
    return codes


def prior_quantile_grid(n: int = 15, edge: float = 0.05) -> Tensor:
    """An ``n`` x ``n`` grid of 2-D codes at quantiles ``edge .. 1 - edge`` of N(0, 1): ``[n * n, 2]``.

    Quantiles rather than a uniform grid, so each cell holds equal prior
    mass (Kingma & Welling, 2014, figure 4).  Rows go from high ``z_2`` (top)
    to low, columns from low ``z_1`` (left) to high, as on a plot.
    """
    if n < 2 or not 0 < edge < 0.5:
        raise ValueError(f"need n >= 2 and 0 < edge < 0.5, got n={n}, edge={edge}")
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(edge, 1 - edge, n))  # [n]
    z1 = q.repeat(n)  # columns
    z2 = q.flip(0).repeat_interleave(n)  # rows, top = high
    return torch.stack([z1, z2], dim=1)
