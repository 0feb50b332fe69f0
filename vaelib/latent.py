"""The latent space: encode whole data sets (later chapters add interpolation,
traversals and manifold grids)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .data import batches

__all__ = ["encode_dataset"]


@torch.no_grad()
def encode_dataset(model: nn.Module, x: Tensor, batch_size: int = 1_000) -> Tensor:
    """The codes of all images ``x`` ``[N, 784]``, as a CPU tensor ``[N, latent_dim]``.

    Runs in batches on the model's device, in eval mode, without gradients.
    For a model whose ``encode`` returns several tensors (a VAE's ``mu`` and
    ``logvar``), the first one, the mean, is the code.
    """
    model.eval()
    device = next(model.parameters()).device
    codes = []
    for batch in batches(x, batch_size, shuffle=False):
        z = model.encode(batch.to(device))
        codes.append((z[0] if isinstance(z, tuple) else z).cpu())
    return torch.cat(codes)
