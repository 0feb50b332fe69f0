"""vaelib: the small, tested PyTorch package behind the VAE book.

One module per concept; chapters import what they teach:

- ``settings``: fast mode, device, seeding, each chapter's costly settings
- ``data``: MNIST and Fashion-MNIST as tensors, batches as index slices
- ``models``: the autoencoder and the VAE, with one interface
- ``gaussian``: reparameterization, the closed-form KL, log densities
- ``losses``: reconstruction losses and the (beta-)VAE loss, in nats per image
- ``train``: ``fit`` for every model, ``evaluate``
- ``checkpoints``: models on disk, checked by their digest
- ``cache``: models trained once and loaded by the chapters after
- ``metrics``: ELBO, importance-sampled log-likelihood, active units, MIG, ...
- ``latent``: codes of data sets, interpolation, traversals, manifold grids
- ``sprites``: procedural sprites with known generative factors
- ``betavae``: chapter 6's beta-VAE recipe and the sweep recorded with it
- ``plotting``: every figure of the book
- ``widgets``: the interactive explorers (ipywidgets, need a kernel)
- ``static``: explorers that run in the static HTML page, without a kernel
- ``exercises``: the checks of the exercise cells
- ``claims``: the checks that hold the text's sentences to the outputs
- ``source``: the package's own code, shown on the page

Importing vaelib changes one global PyTorch setting: denormal floating-point
numbers are flushed to zero on the CPU (``torch.set_flush_denormal(True)``,
in ``settings``).  Training drives some gradients into that range, where x86
CPUs compute many times slower; flushing keeps every epoch as fast as the
first.  It changes results only below about 1e-38.  To undo it, call
``torch.set_flush_denormal(False)`` after the import.
"""

from . import (
    betavae,
    cache,
    checkpoints,
    claims,
    data,
    exercises,
    gaussian,
    latent,
    losses,
    metrics,
    models,
    plotting,
    settings,
    source,
    sprites,
    static,
    train,
    widgets,
)

__version__ = "0.1.0"

__all__ = [
    "betavae",
    "cache",
    "checkpoints",
    "claims",
    "data",
    "exercises",
    "gaussian",
    "latent",
    "losses",
    "metrics",
    "models",
    "plotting",
    "settings",
    "source",
    "sprites",
    "static",
    "train",
    "widgets",
]
