"""vaelib: the small, tested PyTorch package behind the VAE book.

One module per idea; chapters import what they teach:

- ``settings``: fast mode, device, seeding, each chapter's costly settings
- ``data``: MNIST and Fashion-MNIST as tensors; what a batch of images is
- ``idx``: the raw IDX files, checked before they are read
- ``batched``: batches as index slices, and a model run over them
- ``models``: the autoencoder, the VAE and the conditional VAE, one interface
- ``gaussian``: reparameterization, the closed-form KL, log densities
- ``priors``: priors learned with the VAE, a Gaussian mixture and the VampPrior
- ``aggregate_posterior``: where the codes are, q(z), and ELBO surgery
- ``inference_gaps``: the approximation and amortization gaps of the ELBO
- ``losses``: reconstruction losses and the (beta-)VAE loss, in nats per image
- ``train``: ``fit`` for every model, ``evaluate``
- ``progress``: training's progress bar, in a terminal and in a notebook
- ``checkpoints``: models on disk, checked by their digest
- ``cache``: models trained once and loaded by the chapters after
- ``recipes``: how the book trains the models several chapters share
- ``metrics``: ELBO, importance-sampled log-likelihood, active units, probes
- ``disentanglement``: mutual information of latents and factors, MIG
- ``classifier``: the judge, a small CNN that reads decoded digits
- ``sample_quality``: how good a set of samples is, read by the judge
- ``latent``: codes of data sets, interpolation, traversals, manifold grids
- ``sprites``: procedural sprites with known generative factors
- ``betavae``: chapter 6's beta-VAE recipe and the sweep recorded with it
- ``plotting``: every figure of the book
- ``widgets``: the interactive explorers (ipywidgets, need a kernel)
- ``static``: explorers that run in the static HTML page, without a kernel
- ``exercises``: the checks of the exercise cells
- ``claims``: the checks that hold the text's sentences to the outputs
- ``source``: the package's own code, shown on the page

Importing vaelib, or any of its modules, changes no global setting and
imports only what that module needs: ``from vaelib import gaussian`` brings in
PyTorch, not matplotlib.  The submodules are imported when first used
(``vaelib.plotting`` imports matplotlib then).  The one process-wide setting
the chapters that train make, flushing denormal floats to zero for speed on
x86 CPUs, is an explicit call: :func:`vaelib.settings.flush_denormals`.
"""

import importlib

__version__ = "0.1.0"

__all__ = [
    "aggregate_posterior",
    "batched",
    "betavae",
    "cache",
    "checkpoints",
    "claims",
    "classifier",
    "data",
    "disentanglement",
    "exercises",
    "gaussian",
    "idx",
    "inference_gaps",
    "latent",
    "losses",
    "metrics",
    "models",
    "plotting",
    "priors",
    "progress",
    "recipes",
    "sample_quality",
    "settings",
    "source",
    "sprites",
    "static",
    "train",
    "widgets",
]


def __getattr__(name: str):
    """``vaelib.plotting`` and the like: import the submodule on first use."""
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
