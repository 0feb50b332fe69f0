"""Checks of chapter 3, the reparameterization trick (``book/03_reparameterization.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..gaussian import reparameterize, reparameterized_gradient, score_function_gradient
from .core import CheckResult, Mistake, answer_check, never_raises, read_answer, run_check, with_report

__all__ = [
    "check_constant_shift_prediction",
    "check_logvar_gradient",
    "check_reparameterize",
    "check_score_function",
    "constant_shift_experiment",
]


@never_raises
def check_reparameterize(answer: Callable[[Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``reparameterize(mu, logvar, eps) -> z = mu + sigma * eps``."""
    g = torch.Generator().manual_seed(6)
    cases = [tuple(torch.randn(4, 3, generator=g) for _ in range(3))]
    mistakes = [
        Mistake(
            lambda mu, lv, eps: mu + lv.exp() * eps,
            "exp(logvar) is the variance sigma^2. The standard deviation is exp(0.5 * logvar).",
        ),
        Mistake(lambda mu, lv, eps: mu + lv * eps, "logvar is log(sigma^2), not sigma: sigma = exp(0.5 * logvar)."),
        Mistake(
            lambda mu, lv, eps: mu + torch.sqrt(lv.abs()) * eps,
            "logvar is a *log*: sigma = exp(0.5 * logvar), not the square root of logvar.",
        ),
        Mistake(lambda mu, lv, eps: mu.clone(), "You returned mu: the sample needs the noise, z = mu + sigma * eps."),
        Mistake(
            lambda mu, lv, eps: mu * eps + (0.5 * lv).exp(),
            "mu and sigma swapped roles: the noise is scaled by sigma and shifted by mu.",
        ),
    ]
    return run_check("reparameterize", answer, reparameterize, cases, mistakes)


@never_raises
def check_logvar_gradient(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``dz_dlogvar(logvar, eps)``: the derivative of z = mu + exp(logvar / 2) * eps."""
    g = torch.Generator().manual_seed(7)
    cases = [(torch.randn(5, generator=g), torch.randn(5, generator=g))]

    def reference(logvar, eps):
        return 0.5 * torch.exp(0.5 * logvar) * eps

    mistakes = [
        Mistake(
            lambda lv, eps: torch.exp(0.5 * lv) * eps,
            "Chain rule: the derivative of exp(logvar / 2) is exp(logvar / 2) / 2. You lost the 1/2.",
        ),
        Mistake(lambda lv, eps: 0.5 * torch.exp(lv) * eps, "sigma is exp(0.5 * logvar), not exp(logvar)."),
        Mistake(lambda lv, eps: torch.ones_like(lv), "That is dz/dmu. Differentiate with respect to logvar."),
        Mistake(
            lambda lv, eps: 0.5 * torch.exp(0.5 * lv),
            "The noise eps multiplies sigma in z, so it multiplies the derivative too.",
        ),
    ]
    return run_check("dz_dlogvar", answer, reference, cases, mistakes)


@never_raises
def check_score_function(answer: Callable[[Callable, float, float, Tensor], float]) -> CheckResult:
    """Exercise: ``score_function(f, mu, sigma, z)``: REINFORCE estimate from given samples z."""
    g = torch.Generator().manual_seed(8)

    def f(z):
        return z**2

    cases = [
        (f, 1.0, 0.5, 1.0 + 0.5 * torch.randn(50, generator=g, dtype=torch.float64)),
        (f, -2.0, 2.0, -2.0 + 2.0 * torch.randn(50, generator=g, dtype=torch.float64)),
    ]

    def reference(f, mu, sigma, z):
        return (f(z) * (z - mu) / sigma**2).mean().item()

    mistakes = [
        Mistake(
            lambda f, mu, s, z: (f(z) * (z - mu) / s).mean().item(),
            "The score d/dmu log N(z; mu, sigma^2) is (z - mu) / sigma^2: divide by the variance.",
        ),
        Mistake(
            lambda f, mu, s, z: (2 * z).mean().item(),
            "That is the pathwise (reparameterized) gradient, which uses f'(z). The score-function "
            "estimator uses only values f(z), times the score (z - mu) / sigma^2.",
        ),
        Mistake(
            lambda f, mu, s, z: f(z).mean().item(),
            "That estimates E[f(z)], not its gradient: multiply f(z) by the score (z - mu) / sigma^2.",
        ),
        Mistake(lambda f, mu, s, z: -reference(f, mu, s, z), "The sign is flipped: the score is (z - mu) / sigma^2."),
    ]
    return run_check("score_function", answer, reference, cases, mistakes)


# ---------------------------------------------------------------- predict: add a constant to f


def constant_shift_experiment(shift: float = 10.0, n: int = 16, repeats: int = 500) -> dict[str, tuple[float, float]]:
    """The variance of each gradient estimator of d/dmu E[f(z)] for f(z) = z^2 and
    for f(z) = z^2 + ``shift`` (mu = 1.5, sigma = 1, ``n`` samples per estimate):
    ``{"score": (before, after), "reparam": (before, after)}``."""
    estimators = {"score": score_function_gradient, "reparam": reparameterized_gradient}
    variances = {}
    for name, estimator in estimators.items():
        pair = []
        for offset in (0.0, shift):

            def f(z, offset=offset):
                return z**2 + offset

            generator = torch.Generator().manual_seed(0)  # the same draws for both functions
            values = torch.tensor([estimator(f, 1.5, 1.0, n, generator) for _ in range(repeats)])
            pair.append(values.var().item())
        variances[name] = tuple(pair)
    return variances


@never_raises
def check_constant_shift_prediction(answer) -> CheckResult:
    """Exercise (predict): ``{"score": ..., "reparam": ...}``, each "up", "down" or "same":
    what adding 10 to f does to the variance of each estimator.  The check measures it."""
    answer = read_answer("constant_shift_prediction", answer, ["up", "down", "same"], keys=["score", "reparam"])
    if isinstance(answer, CheckResult):
        return answer
    measured = constant_shift_experiment()

    def verdict(before, after):
        return "same" if abs(after / before - 1) < 0.1 else ("up" if after > before else "down")

    correct = {name: verdict(*pair) for name, pair in measured.items()}
    report = (
        "Measured variances, f = z^2 -> z^2 + 10: "
        + "; ".join(f"{name} {before:.3g} -> {after:.3g}" for name, (before, after) in measured.items())
        + "."
    )

    def hint(answer):
        wrong = " and ".join(k for k in correct if answer[k] != correct[k])
        return (
            f"Your prediction for {wrong} does not match the run. {report} Which estimator uses f's "
            "values, and which only its derivative?"
        )

    return with_report(answer_check("constant_shift_prediction", answer, correct, hint), report)
