"""Every figure of the book.  Each function returns a matplotlib ``Figure``.

One module per kind of figure; every function is re-exported here, so a
chapter calls ``plotting.image_grid(...)`` without knowing which holds it:

- ``images``: grids and rows of images, reconstructions, latent traversals
- ``diagrams``: the architectures of the autoencoder and of the VAE
- ``gaussians``: Gaussian densities, in one dimension and in two
- ``latent_space``: codes and posteriors in the latent plane, the norms of
  codes along a path, the activity of each latent dimension, the prior
  against the aggregate posterior
- ``measurements``: numbers measured against a setting (training curves,
  estimators, accuracies, a β sweep) and distributions of per-image errors
"""

from .diagrams import autoencoder_diagram, vae_diagram
from .gaussians import diagonal_gaussian, normal_curve
from .images import image_grid, image_rows, reconstructions, traversals
from .latent_space import (
    code_on_the_map,
    latent_activity,
    latent_scatter,
    path_norms,
    posterior_ellipses,
    prior_and_codes,
)
from .measurements import (
    accuracy_by_class,
    beta_sweep,
    error_histograms,
    estimator_variance,
    kl_error_scaling,
    loss_curves,
    per_epoch,
)

__all__ = [
    "accuracy_by_class",
    "autoencoder_diagram",
    "beta_sweep",
    "code_on_the_map",
    "diagonal_gaussian",
    "error_histograms",
    "estimator_variance",
    "kl_error_scaling",
    "latent_activity",
    "normal_curve",
    "path_norms",
    "per_epoch",
    "posterior_ellipses",
    "prior_and_codes",
    "vae_diagram",
    "image_grid",
    "image_rows",
    "latent_scatter",
    "loss_curves",
    "reconstructions",
    "traversals",
]
