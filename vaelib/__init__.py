"""vaelib: the small, tested PyTorch package behind the VAE book.

One module per concept; chapters import what they teach:

- ``settings``: fast mode, device, seeding, each chapter's costly settings
- ``data``: MNIST and Fashion-MNIST as tensors, batches as index slices
- ``models``: the autoencoder (and, in later chapters, the VAEs)
- ``losses``: reconstruction losses in nats per image
- ``train``: ``fit`` for every model, ``evaluate``, checkpoints
- ``metrics``: reconstruction errors, ROC AUC, linear probes
- ``latent``: codes of whole data sets
- ``plotting``: every figure of the book
- ``exercises``: the checks of the exercise cells
"""

from . import data, exercises, latent, losses, metrics, models, plotting, settings, train

__version__ = "0.1.0"

__all__ = ["data", "exercises", "latent", "losses", "metrics", "models", "plotting", "settings", "train"]
