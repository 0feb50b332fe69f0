"""Checks for the exercise cells of every chapter.

A check takes the student's function, runs it on inputs it makes itself, and
compares the result with a reference.  It never raises: it returns a
:class:`CheckResult` whose text is a pass, a specific hint for a known
mistake, the student's value beside the expected one, or "not attempted yet"
while the function still raises ``NotImplementedError``.  The notebook shows
that text, and keeps running top to bottom whatever the answer.

Layout: the mechanism that every check shares, in four modules, then the
checks, one module per chapter named after its notebook in ``book/``; a
chapter with many exercises has a module per idea, its name the chapter's
and the idea's:

- ``results``: what a check returns: :class:`CheckResult`, ``Mistake`` (a
  known wrong answer and its hint), ``tell`` (a hint that says more from the
  third failed try on) and ``never_raises``, which every check wears
- ``compare``: the closeness test ``close``, ``difference`` (what is wrong
  with a value, in words), the value display ``show``
- ``student_code``: running and reading the student's code: where it
  failed, its weights copied into vaelib's model, what it calls
- ``drivers``: ``run_check`` for function exercises and ``answer_check``
  for written answers
- ``autoencoders_reconstruction``, ``autoencoders_uses``,
  ``autoencoders_training``: chapter 1 (``01_autoencoders.ipynb``): the
  reconstruction error and its floor; the anomaly score, standardized
  features and the code's size; one training step
- ``gaussians``: chapter 2 (``02_gaussians.ipynb``)
- ``reparameterization``: chapter 3 (``03_reparameterization.ipynb``)
- ``vae_loss``, ``vae_module``, ``vae_mse``, ``vae_elbo``: chapter 4
  (``04_vae.ipynb``): the loss, its log-mean-exp and its warm-up; a VAE
  written from scratch; squared error as a Gaussian likelihood; the ELBO's
  gap
- ``latent_space``: chapter 5 (``05_latent_space.ipynb``)
- ``beta_vae``: chapter 6 (``06_beta_vae.ipynb``)
- ``conditional``: chapter 7 (``07_conditional_vae.ipynb``)
- ``priors``: chapter 8 (``08_better_samples.ipynb``): a mixture prior's
  log-density, the two parts of the KL term, which prior's samples the judge reads best

Every ``check_*`` function is re-exported here, so the notebooks call
``exercises.check_...`` without knowing which module holds it.  A new
chapter's checks go in a new module, re-exported below.
"""

from .autoencoders_reconstruction import check_bce_floor, check_reconstruction_error
from .autoencoders_training import check_training_step
from .autoencoders_uses import check_code_size_prediction, check_roc_auc, check_standardize
from .beta_vae import check_beta_trend, check_expected_mig, check_mig_from_mi, check_uncaptured_factor
from .conditional import check_conditional_kl, check_cvae_module, check_probe_prediction
from .gaussians import (
    check_gaussian_kl,
    check_kl_monte_carlo,
    check_kl_two_gaussians,
    check_log_normal,
    check_samples_prediction,
)
from .latent_space import (
    check_beta_spread_prediction,
    check_lerp,
    check_midpoint_norm,
    check_quantile_grid,
    check_slerp,
)
from .priors import check_mixture_log_prob, check_prior_prediction, check_surgery_parts
from .reparameterization import (
    check_constant_shift_prediction,
    check_reparameterize,
    check_score_function,
    check_softplus_gradient,
)
from .results import CheckResult
from .vae_elbo import check_elbo_identity
from .vae_loss import check_kl_warmup, check_log_mean_exp, check_vae_loss
from .vae_module import check_vae_module
from .vae_mse import check_gaussian_nll, check_mse_sigma_prediction

# Every check of the book, by chapter, in the order the chapter asks them.
__all__ = [
    "CheckResult",
    # chapter 1
    "check_reconstruction_error",
    "check_roc_auc",
    "check_standardize",
    "check_training_step",
    "check_bce_floor",
    "check_code_size_prediction",
    # chapter 2
    "check_log_normal",
    "check_gaussian_kl",
    "check_kl_monte_carlo",
    "check_kl_two_gaussians",
    "check_samples_prediction",
    # chapter 3
    "check_reparameterize",
    "check_softplus_gradient",
    "check_score_function",
    "check_constant_shift_prediction",
    # chapter 4
    "check_vae_loss",
    "check_log_mean_exp",
    "check_kl_warmup",
    "check_vae_module",
    "check_gaussian_nll",
    "check_mse_sigma_prediction",
    "check_elbo_identity",
    # chapter 5
    "check_lerp",
    "check_slerp",
    "check_quantile_grid",
    "check_midpoint_norm",
    "check_beta_spread_prediction",
    # chapter 6
    "check_mig_from_mi",
    "check_beta_trend",
    "check_uncaptured_factor",
    "check_expected_mig",
    # chapter 7
    "check_cvae_module",
    "check_conditional_kl",
    "check_probe_prediction",
    # chapter 8
    "check_mixture_log_prob",
    "check_surgery_parts",
    "check_prior_prediction",
]
