"""Checks of chapter 4 (``book/04_vae.ipynb``), exercise 7: the ELBO's gap is the KL to the posterior.

On the 1-D linear-Gaussian model p(z) = N(0, 1), p(x | z) = N(w z + b, s^2),
whose marginal and posterior are known in closed form, the student's ELBO and
KL(q || p(z | x)) are checked against the closed forms, then the identity
log p(x) = ELBO + KL(q || p(z | x)) is verified with the student's own
functions.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .drivers import run_check
from .results import FAIL, NOT_ATTEMPTED, PASS, CheckResult, Mistake, never_raises, not_a_function
from .student_code import calls, math_or_torch

__all__ = ["check_elbo_identity"]


def _log_normal(x: Tensor, mean: Tensor, var: Tensor) -> Tensor:
    return -0.5 * torch.log(2 * math.pi * var) - (x - mean) ** 2 / (2 * var)


def _kl_normal(m1: Tensor, t1: Tensor, m2: Tensor, t2: Tensor) -> Tensor:
    """KL(N(m1, t1^2) || N(m2, t2^2)), with standard deviations t1, t2."""
    return torch.log(t2 / t1) + (t1**2 + (m1 - m2) ** 2) / (2 * t2**2) - 0.5


def _posterior(x, w, b, s) -> tuple[Tensor, Tensor]:
    """The mean and the standard deviation of p(z | x) in the 1-D linear-Gaussian model."""
    return w * (x - b) / (w**2 + s**2), torch.sqrt(s**2 / (w**2 + s**2))


def _log_px(x, w, b, s) -> Tensor:
    return _log_normal(x, b, w**2 + s**2)


def _expected_log_lik(x, w, b, s, m, t) -> Tensor:
    """E_q[log N(x; w z + b, s^2)] for q = N(m, t^2)."""
    return -0.5 * torch.log(2 * math.pi * s**2) - ((x - b - w * m) ** 2 + w**2 * t**2) / (2 * s**2)


def _prior_kl(m, t) -> Tensor:
    return 0.5 * (m**2 + t**2 - 1 - torch.log(t**2))


def _elbo(x, w, b, s, m, t) -> Tensor:
    return _expected_log_lik(x, w, b, s, m, t) - _prior_kl(m, t)


def _posterior_kl(x, w, b, s, m, t) -> Tensor:
    return _kl_normal(m, t, *_posterior(x, w, b, s))


def _elbo_cases() -> list[tuple[Tensor, ...]]:
    """Elementwise arguments ``(x, w, b, s, m, t)``: random models and q's, then q = the posterior."""
    g = torch.Generator().manual_seed(19)

    def draw(*shape, scale=1.0, shift=0.0, positive=False):
        values = torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift
        return values.abs() + 0.3 if positive else values

    n = 6
    x, w, b, s = draw(n, scale=2.0), draw(n, scale=1.5), draw(n), draw(n, scale=0.5, positive=True)
    m, t = draw(n), draw(n, scale=0.5, positive=True)
    x2, w2, b2, s2 = draw(n, scale=3.0), draw(n, scale=0.7), draw(n, scale=2.0), draw(n, positive=True)
    return [
        (x, w, b, s, m, t),
        (x2, w2, b2, s2, *_posterior(x2, w2, b2, s2)),  # q = p(z | x): the bound is tight
        (x2, w2, b2, s2, draw(n, scale=2.0), draw(n, scale=2.0, positive=True)),
    ]


_ELBO_MISTAKES = [
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t) + _prior_kl(m, t),
        "The KL to the prior enters the ELBO with a minus: it is what the code costs, subtracted "
        "from the expected log-likelihood.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: -_elbo(x, w, b, s, m, t),
        "The sign is flipped: that is the loss, -ELBO. Return the ELBO itself, a lower bound on log p(x).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, 0 * t) - _prior_kl(m, t),
        "E_q[(x - b - w z)^2] is not (x - b - w m)^2: z varies under q, and its spread adds a term.",
        "E_q[(x - b - w z)^2] = (x - b - w m)^2 + w^2 t^2, since E_q[(z - m)^2] = t^2.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t.sqrt()) - _prior_kl(m, t.sqrt()),
        "t is q's standard deviation, not its variance: its square t^2 goes where a variance "
        "belongs, in the expected squared error (w^2 t^2) and in the KL.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t.sqrt()) - _prior_kl(m, t),
        "t is q's standard deviation: the variance of w z under q is w^2 t^2, not w^2 t.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s, m, t) - _prior_kl(m, t.sqrt()),
        "t is q's standard deviation: the KL to N(0, 1) has the variance t^2 (and its log), not t.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _expected_log_lik(x, w, b, s.sqrt(), m, t) - _prior_kl(m, t),
        "s is the standard deviation of p(x | z): its variance s^2 divides the squared error and "
        "goes inside the log of the normalizer.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _elbo(x, w, b, s, m, t) + 0.5 * math.log(2 * math.pi),
        "You left out the log(2 pi) of the normalizer: log N(x; mean, s^2) = -log(2 pi s^2) / 2 - ...",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _elbo(x, w, b, s, m, t) + 0.5 * torch.log(2 * math.pi * s**2),
        "You left out the normalizer of p(x | z), -log(2 pi s^2) / 2: without it the ELBO is not in "
        "nats, and cannot meet log p(x).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: (
            _expected_log_lik(x, w, b, s, m, t) - _prior_kl(m, t) - _posterior_kl(x, w, b, s, m, t)
        ),
        "You subtracted the KL to the posterior, which is what the ELBO misses of log p(x). The "
        "ELBO subtracts the KL to the *prior*, N(0, 1).",
    ),
]

_POSTERIOR_KL_MISTAKES = [
    Mistake(
        lambda x, w, b, s, m, t: _prior_kl(m, t),
        "That is the KL to the prior, p(z) = N(0, 1). The gap between the ELBO and log p(x) is the "
        "KL to the *posterior*, p(z | x), whose mean and variance the exercise gives.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _kl_normal(*_posterior(x, w, b, s), m, t),
        "That is KL(p(z | x) || q), the other direction: the KL is not symmetric. The gap is KL(q || p(z | x)).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _kl_normal(m, t, _posterior(x, w, b, s)[0], _posterior(x, w, b, s)[1] ** 2),
        "s^2 / (w^2 + s^2) is the posterior's *variance*; chapter 2's KL of two Gaussians takes "
        "standard deviations (or put the variance where sigma^2 appears).",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _kl_normal(m, t.sqrt(), *_posterior(x, w, b, s)),
        "t is q's standard deviation, not its variance.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: -_posterior_kl(x, w, b, s, m, t),
        "The sign is flipped: a KL divergence is never negative.",
    ),
    Mistake(
        lambda x, w, b, s, m, t: _posterior_kl(x, w, b, s, m, t) + 0.5,
        "You are missing the -1/2 of the KL of two Gaussians: with q = p(z | x) the KL must be 0.",
    ),
]


FROM_THE_IDENTITY = (
    "Your posterior_kl calls your elbo: written as log p(x) - ELBO, it makes the identity true by "
    "construction, and the check would prove nothing. Write KL(q || p(z | x)) from chapter 2's "
    "KL between two Gaussians, with the posterior's mean and variance that the exercise gives."
)


def _named(result: CheckResult, function: str) -> CheckResult:
    """``result`` of one of the exercise's two functions, its failure message naming which."""
    if result.status != FAIL:
        return result
    return CheckResult("elbo_identity", FAIL, f"In {function}: {result.message}")


@never_raises
def check_elbo_identity(elbo, posterior_kl=None) -> CheckResult:
    """Exercise (derive): on the model p(z) = N(0, 1), p(x | z) = N(w z + b, s^2), whose marginal
    N(b, w^2 + s^2) and posterior are known, ``elbo(x, w, b, s, m, t)`` (the ELBO of
    q = N(m, t^2), in closed form) and ``posterior_kl(x, w, b, s, m, t)`` (KL(q || p(z | x))),
    elementwise; checked against the closed forms, then the identity
    log p(x) = ELBO + KL(q || p(z | x)) is verified with the student's functions, tight at
    q = p(z | x)."""
    cases = _elbo_cases()
    for name, function in [("elbo", elbo), ("posterior_kl", posterior_kl)]:
        if function is None or not callable(function):
            return not_a_function("elbo_identity", function, what=f"function {name}")
    first = _named(
        run_check("elbo_identity", elbo, _elbo, cases, _ELBO_MISTAKES, tolerance=1e-6, raised=math_or_torch), "elbo"
    )
    if not first.passed:
        return first
    second = run_check(
        "elbo_identity",
        posterior_kl,
        _posterior_kl,
        cases,
        _POSTERIOR_KL_MISTAKES,
        tolerance=1e-6,
        raised=math_or_torch,
    )
    if second.status == NOT_ATTEMPTED:
        return CheckResult(
            "elbo_identity",
            NOT_ATTEMPTED,
            "Your elbo is right. Now write posterior_kl in its cell, then run this check again.",
        )
    if not second.passed:
        return _named(second, "posterior_kl")
    if calls(posterior_kl, cases[0], elbo):
        return CheckResult("elbo_identity", FAIL, FROM_THE_IDENTITY)
    # Both right: the identity, with the student's own functions.
    gaps = []
    for x, w, b, s, m, t in cases:
        total = torch.as_tensor(elbo(x, w, b, s, m, t)) + torch.as_tensor(posterior_kl(x, w, b, s, m, t))
        gaps.append((total - _log_px(x, w, b, s)).abs().max().item())
    x, w, b, s, m, t = cases[1]
    tight = (torch.as_tensor(elbo(x, w, b, s, m, t)) - _log_px(x, w, b, s)).abs().max().item()
    if max(gaps) > 1e-6 or tight > 1e-6:
        return CheckResult("elbo_identity", FAIL, "Your ELBO plus your KL does not add up to log p(x).")
    return CheckResult(
        "elbo_identity",
        PASS,
        f"Well done! On {sum(len(c[0]) for c in cases)} pairs of x and q, your ELBO plus your KL to the "
        f"posterior equals log N(x; b, w^2 + s^2) to {max(gaps):.0e} nats; at q = p(z | x) the KL is 0 "
        "and the ELBO is log p(x) itself: the bound is tight.",
    )
