"""Checks of chapter 3, the reparameterization trick (``book/03_reparameterization.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..gaussian import reparameterize, reparameterized_gradient, score_function_gradient
from .drivers import answer_check, read_answer, run_check
from .results import FAIL, CheckResult, Mistake, never_raises, tell, with_report
from .student_code import math_or_torch, names_used

__all__ = [
    "check_constant_shift_prediction",
    "check_reparameterize",
    "check_score_function",
    "check_softplus_gradient",
    "constant_shift_experiment",
]


SQRT_OF_LOGVAR = "logvar is a *log*: undo it with exp, not with a square root."
NAN_Z = "Your z is NaN wherever logvar is negative: a square root of a negative number."


@never_raises
def check_reparameterize(answer: Callable[[Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``reparameterize(mu, logvar, eps) -> z = mu + sigma * eps``, with the noise
    ``eps`` given, and gradients that reach ``mu`` and ``logvar`` (the point of the trick)."""
    g = torch.Generator().manual_seed(6)
    cases = [tuple(torch.randn(4, 3, generator=g) for _ in range(3))]
    mistakes = [
        Mistake(
            lambda mu, lv, eps: mu + lv.exp() * eps,
            "exp(logvar) is the variance sigma^2, not the standard deviation.",
            "sigma = exp(0.5 * logvar).",
        ),
        Mistake(lambda mu, lv, eps: mu + lv * eps, "logvar is log(sigma^2), not sigma: undo the log, and the square."),
        Mistake(lambda mu, lv, eps: mu + torch.sqrt(lv.abs()) * eps, SQRT_OF_LOGVAR),
        Mistake(
            lambda mu, lv, eps: mu + torch.exp(-0.5 * lv) * eps,
            "exp(-logvar / 2) is 1 / sigma: the sign in the exponent is flipped.",
        ),
        Mistake(lambda mu, lv, eps: mu.clone(), "You returned mu: the sample needs the noise, z = mu + sigma * eps."),
        Mistake(
            lambda mu, lv, eps: mu - torch.exp(0.5 * lv) * eps,
            "z = mu + sigma * eps, with a plus. (mu - sigma * eps has the same distribution, but it is "
            "not the sample this eps gives.)",
        ),
        Mistake(
            lambda mu, lv, eps: mu * eps + (0.5 * lv).exp(),
            "mu and sigma swapped roles: the noise is scaled by sigma and shifted by mu.",
        ),
    ]

    def diagnose(args, got):
        """NaN where logvar < 0: a square root of logvar.  New noise on every call: the answer
        ignored the eps it was given."""
        if isinstance(got, Tensor) and torch.isnan(got).any():
            if bool((args[1][torch.isnan(got)] < 0).all()):  # NaN only where logvar is negative
                return f"{NAN_Z} {SQRT_OF_LOGVAR}"
            return None
        again = answer(*(a.clone() for a in args))
        if isinstance(got, Tensor) and isinstance(again, Tensor) and not torch.equal(got, again):
            return (
                "Your function returns a different z on every call: it draws noise of its own "
                "(torch.randn, torch.normal or a distribution's .sample()). Use the eps it is "
                "given: z = mu + sigma * eps."
            )
        return None

    result = run_check("reparameterize", answer, reparameterize, cases, mistakes, diagnose=diagnose)
    if not result.passed:
        return result
    return _gradients_reach_mu_and_logvar(answer, *cases[0]) or result


def _gradients_reach_mu_and_logvar(answer: Callable, mu: Tensor, logvar: Tensor, eps: Tensor) -> CheckResult | None:
    """A failure if the sample ``answer`` returns carries no gradient to mu or logvar (None if it does)."""
    mu, logvar = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    z = answer(mu, logvar, eps.clone())
    cut = (
        "Right values, but {what}: you detached the sample (.detach(), .data, torch.no_grad(), "
        "a new tensor built from its numbers, or a distribution's .sample()). The whole point of "
        "the trick is that gradients flow through z = mu + sigma * eps, so compute it with "
        "tensor operations on mu and logvar."
    )
    if not isinstance(z, Tensor) or not z.requires_grad:
        return CheckResult("reparameterize", FAIL, cut.format(what="no gradient reaches mu or logvar"))
    grad_mu, grad_logvar = torch.autograd.grad(z.sum(), [mu, logvar], allow_unused=True)
    for name, grad in [("mu", grad_mu), ("logvar", grad_logvar)]:
        if grad is None or not grad.abs().sum() > 0:
            return CheckResult("reparameterize", FAIL, cut.format(what=f"no gradient reaches {name}"))
    return None


def _softplus_gradient(s: Tensor, eps: Tensor) -> Tensor:
    """dz/ds for z = mu + softplus(s) * eps, by autograd."""
    s = s.detach().clone().requires_grad_()
    z = 0.3 + F.softplus(s) * eps
    (grad,) = torch.autograd.grad(z.sum(), s)
    return grad


@never_raises
def check_softplus_gradient(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise (derive): ``dz_ds(s, eps)``, the derivative of z = mu + softplus(s) * eps with
    respect to s, elementwise, by hand; checked against autograd."""
    g = torch.Generator().manual_seed(7)
    cases = [
        (torch.randn(6, generator=g) * 2, torch.randn(6, generator=g)),
        (torch.tensor([-6.0, 0.0, 6.0]), torch.tensor([1.0, -2.0, 0.5])),
        # large |s|, where the prompt asks what the derivative approaches: e^s overflows from s = 89 on
        (torch.tensor([100.0, 1000.0, -100.0, -1000.0]), torch.tensor([0.5, -1.5, 2.0, 1.0])),
    ]
    large = cases[-1]
    mistakes = [
        Mistake(
            lambda s, eps: F.softplus(s) * eps,
            "That is sigma * eps, the term itself. Differentiate it with respect to s: what is the "
            "derivative of softplus(s) = log(1 + e^s)?",
        ),
        Mistake(
            lambda s, eps: torch.sigmoid(s),
            "The noise eps multiplies sigma in z, so it multiplies the derivative too.",
        ),
        Mistake(
            lambda s, eps: torch.exp(s) * eps,
            "That is the derivative of e^s, not of log(1 + e^s): the chain rule goes through the log too.",
            "d/ds log(1 + e^s) = e^s / (1 + e^s).",
        ),
        Mistake(
            lambda s, eps: torch.sigmoid(-s) * eps,
            "For large s, softplus(s) is about s, so dz/ds must approach eps; yours approaches 0. "
            "Check the chain rule: the derivative of log(u) is u' / u, with u = 1 + e^s.",
        ),
        Mistake(
            lambda s, eps: torch.sigmoid(s) * (1 - torch.sigmoid(s)) * eps,
            "That is the derivative of the sigmoid. Differentiate softplus(s) = log(1 + e^s) itself.",
        ),
        Mistake(
            lambda s, eps: 0.5 * torch.exp(0.5 * s) * eps,
            "That is the chapter's derivative for sigma = exp(logvar / 2). Here sigma = softplus(s) = log(1 + e^s).",
        ),
        Mistake(lambda s, eps: torch.ones_like(s), "That is dz/dmu. Differentiate with respect to s."),
    ]

    def diagnose(args, got):
        """Right for moderate s, inf or NaN for large s: e^s overflowed."""
        if args is large and isinstance(got, Tensor) and not torch.isfinite(got).all():
            return tell("dz_ds", *OVERFLOW)
        return None

    if callable(answer) and names_used(answer) & AUTOGRAD:
        return CheckResult("dz_ds", FAIL, BY_AUTOGRAD)
    return run_check("dz_ds", answer, _softplus_gradient, cases, mistakes, raised=math_or_torch, diagnose=diagnose)


# What a function that differentiates by autograd refers to (torch.autograd.grad,
# .backward() and .grad, torch.func's transforms).
AUTOGRAD = {"autograd", "backward", "grad", "requires_grad", "requires_grad_", "jacrev", "jacfwd", "vjp", "jvp"}
BY_AUTOGRAD = (
    "Your dz_ds asks autograd for the derivative, which is what the check compares against: it "
    "would pass without a derivation. Derive dz/ds by hand with the chain rule and write the "
    "result as a formula in s and eps (autograd is for checking it yourself, outside dz_ds)."
)


OVERFLOW = (
    "Right for moderate s, inf or NaN for large s (here 100 and 1000): e^s overflows float32 from "
    "s = 89 on, and inf / inf is NaN. The function you derived is a well-known one, and torch "
    "has it built in, in a stable form that never computes e^s for a large s.",
    "e^s / (1 + e^s) = 1 / (1 + e^(-s)) = torch.sigmoid(s).",
)


@never_raises
def check_score_function(answer: Callable[[Callable, float, float, Tensor], float]) -> CheckResult:
    """Exercise: ``score_function(f, mu, sigma, z)``: REINFORCE estimate from given samples z,
    as a Python float."""
    g = torch.Generator().manual_seed(8)

    def f(z):
        return z**2

    cases = [
        (f, 1.0, 0.5, 1.0 + 0.5 * torch.randn(50, generator=g, dtype=torch.float64)),
        (f, -2.0, 2.0, -2.0 + 2.0 * torch.randn(50, generator=g, dtype=torch.float64)),
    ]

    def reference(f, mu, sigma, z):
        return (f(z) * (z - mu) / sigma**2).mean().item()

    score = "The score is (z - mu) / sigma^2."
    mistakes = [
        Mistake(
            lambda f, mu, s, z: (f(z) * (z - mu) / s).mean().item(),
            "Your score divides by sigma, but the derivative of log N(z; mu, sigma^2) = "
            "-(z - mu)^2 / (2 sigma^2) + ... with respect to mu does not: divide by the variance.",
            score,
        ),
        Mistake(
            lambda f, mu, s, z: (f(z) * (z - mu)).mean().item(),
            "You left out the 1 / sigma^2 of the score: differentiate log N(z; mu, sigma^2) = "
            "-(z - mu)^2 / (2 sigma^2) + ... with respect to mu.",
            score,
        ),
        Mistake(
            lambda f, mu, s, z: (2 * z).mean().item(),
            "That is the pathwise (reparameterized) gradient, which uses f'(z). The score-function "
            "estimator uses only values f(z), each times the score: the derivative of log q(z) with "
            "respect to mu.",
            score,
        ),
        Mistake(
            lambda f, mu, s, z: f(z).mean().item(),
            "That estimates E[f(z)], not its gradient: multiply each f(z) by the score, the derivative "
            "of log q(z) with respect to mu.",
            score,
        ),
        Mistake(
            lambda f, mu, s, z: -reference(f, mu, s, z),
            "The sign is flipped: differentiate -(z - mu)^2 / (2 sigma^2) with respect to mu once more, "
            "minding the sign that the chain rule brings out of (z - mu).",
            score,
        ),
        Mistake(
            lambda f, mu, s, z: (f(z) * (z - mu) / s**2).sum().item(),
            "You summed over the samples: the estimate is their *mean*, an average of one-sample estimates.",
        ),
        Mistake(
            lambda f, mu, s, z: f(z) * (z - mu) / s**2,
            "Average the one-sample estimates over the samples: return one number.",
        ),
        Mistake(
            lambda f, mu, s, z: ((f(z) - f(z).mean()) * (z - mu) / s**2).mean().item(),
            "You subtracted a baseline, the mean of f(z): a good idea against the variance (and, "
            "with the same samples, slightly biased), but this exercise asks for the plain estimator.",
        ),
    ]
    return run_check("score_function", answer, reference, cases, mistakes, python_number=True)


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
