"""vaelib: the small, tested PyTorch package behind the VAE book.

One module per concept; chapters import what they teach:

- ``settings``: fast mode, device, seeding, each chapter's costly settings
- ``data``: MNIST and Fashion-MNIST as tensors, batches as index slices
- ``models``: the autoencoder, the VAE and the convolutional VAE
- ``gaussian``: reparameterization, the closed-form KL, log densities
- ``losses``: reconstruction losses and the (beta-)VAE loss, in nats per image
- ``train``: ``fit`` for every model, ``evaluate``, checkpoints
- ``metrics``: ELBO, importance-sampled log-likelihood, active units, MIG, ...
- ``latent``: codes of data sets, interpolation, traversals, manifold grids
- ``sprites``: procedural sprites with known generative factors
- ``plotting``: every figure of the book
- ``widgets``: the interactive explorers
- ``exercises``: the checks of the exercise cells
"""

from . import (
    data,
    exercises,
    gaussian,
    latent,
    losses,
    metrics,
    models,
    plotting,
    settings,
    sprites,
    train,
    widgets,
)

__version__ = "0.1.0"

__all__ = [
    "data", "exercises", "gaussian", "latent", "losses", "metrics", "models",
    "plotting", "settings", "sprites", "train", "widgets",
]
