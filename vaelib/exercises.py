"""Checks for the exercise cells of every chapter.

A check takes the student's function, runs it on inputs it makes itself, and
compares the result with a reference.  It never raises: it returns a
:class:`CheckResult` whose text is a pass, a specific hint for a known
mistake, the student's value beside the expected one, or "not attempted yet"
while the function still raises ``NotImplementedError``.  The notebook shows
that text, and keeps running top to bottom whatever the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

import math

from .gaussian import gaussian_kl, reparameterize
from .latent import lerp, prior_quantile_grid, slerp
from .losses import vae_loss
from .metrics import roc_auc, standardize

__all__ = [
    "CheckResult",
    "check_gaussian_kl",
    "check_kl_monte_carlo",
    "check_beta_trend",
    "check_kl_warmup",
    "check_lerp",
    "check_mig_from_mi",
    "check_quantile_grid",
    "check_slerp",
    "check_traversal_factor",
    "check_log_mean_exp",
    "check_log_normal",
    "check_logvar_gradient",
    "check_reconstruction_error",
    "check_reparameterize",
    "check_roc_auc",
    "check_score_function",
    "check_standardize",
    "check_vae_loss",
]

PASS, FAIL, NOT_ATTEMPTED = "pass", "fail", "not attempted"
_VERDICTS = {PASS: "passed.", FAIL: "not yet right.", NOT_ATTEMPTED: "not attempted yet."}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of an exercise check: ``status`` and a ``message`` for the student."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def __repr__(self) -> str:  # what the notebook shows
        return f"{self.exercise}: {_VERDICTS[self.status]} {self.message}"

    __str__ = __repr__


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and the hint that a student who made it needs."""

    wrong: Callable
    hint: str


def _close(a, b, rtol: float = 1e-4, atol: float = 1e-4) -> bool:
    if isinstance(a, (list, tuple)) and not isinstance(b, (list, tuple)):
        return False
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        return a.shape == b.shape and torch.allclose(a, b, rtol=rtol, atol=atol)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b))
    try:
        return abs(float(a) - float(b)) <= atol + rtol * abs(float(b))
    except (TypeError, ValueError):
        return False


def _show(value) -> str:
    if isinstance(value, Tensor):
        flat = value.detach().flatten()[:4].tolist()
        more = ", ..." if value.numel() > 4 else ""
        return f"tensor of shape {list(value.shape)}: [{', '.join(f'{v:.4g}' for v in flat)}{more}]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def _check(
    exercise: str,
    answer: Callable,
    reference: Callable,
    cases: Sequence[tuple],
    mistakes: Sequence[Mistake] = (),
    non_finite_hint: str | None = None,
    tolerance: float = 1e-4,
) -> CheckResult:
    """Run ``answer`` on each case; compare with ``reference``, then with ``mistakes``.

    ``tolerance`` (relative and absolute) is loose for stochastic exercises.
    """
    if not callable(answer):
        return CheckResult(exercise, FAIL, f"Pass your function itself, not a {type(answer).__name__}.")
    for args in cases:
        try:
            got = answer(*args)
        except NotImplementedError:
            return CheckResult(exercise, NOT_ATTEMPTED, "Write your code in its cell, then run this check again.")
        except Exception as err:  # the student's bug; report it, never raise it
            return CheckResult(exercise, FAIL, f"Your function raised {type(err).__name__}: {err}")
        expected = reference(*args)
        if non_finite_hint and isinstance(got, Tensor) and not torch.isfinite(got).all():
            return CheckResult(exercise, FAIL, non_finite_hint)
        if _close(got, expected, tolerance, tolerance):
            continue
        for mistake in mistakes:
            if _close(got, mistake.wrong(*args), tolerance, tolerance):
                return CheckResult(exercise, FAIL, mistake.hint)
        return CheckResult(exercise, FAIL, f"Expected {_show(expected)}; yours gave {_show(got)}.")
    return CheckResult(exercise, PASS, "Well done!")


# -- Chapter 1: Autoencoders ------------------------------------------------


def _reconstruction_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(5, 784, generator=g)
    x_binary = (torch.rand(3, 784, generator=g) > 0.7).float()
    return [
        (x, torch.randn(5, 784, generator=g) * 3),
        (x_binary, torch.randn(3, 784, generator=g) * 8),  # large logits: log(0) traps
    ]


def check_reconstruction_error(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``reconstruction_error(x, logits) -> [B]``, BCE in nats per image."""

    def reference(x, logits):
        return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)

    mistakes = [
        Mistake(lambda x, l: reference(x, l) / 784,
                "You averaged over the 784 pixels. Sum them: the error is in nats per *image*."),
        Mistake(lambda x, l: reference(x, l).mean() / 784,
                "You averaged over everything, pixels and images (the default reduction='mean'). "
                "Use reduction='none', sum over the pixels, and return one number per image, shape [B]."),
        Mistake(lambda x, l: reference(x, l).mean(),
                "You returned one number for the whole batch. Return one error per image, shape [B]."),
        Mistake(lambda x, l: reference(x, l).sum(),
                "You summed over the batch too. Return one error per image, shape [B]."),
        Mistake(lambda x, l: -reference(x, l),
                "The sign is flipped: an error is a negative log-likelihood, never below zero."),
        Mistake(lambda x, l: ((torch.sigmoid(l) - x) ** 2).sum(1),
                "That is the squared error. The decoder models each pixel as a Bernoulli "
                "probability: use binary cross-entropy."),
        Mistake(lambda x, l: F.binary_cross_entropy(l.clamp(0, 1), x, reduction="none").sum(1),
                "The decoder returns logits, not probabilities: apply a sigmoid first, or better, "
                "use F.binary_cross_entropy_with_logits."),
    ]
    log_zero = (
        "Your result contains inf or NaN: where sigmoid(logits) rounds to exactly 0 or 1, "
        "its log is -inf. Compute the loss from the logits with "
        "F.binary_cross_entropy_with_logits, which never takes log(0)."
    )
    return _check("reconstruction_error", answer, reference, _reconstruction_cases(), mistakes, log_zero)


def _auc_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(2)
    normal = torch.randn(200, generator=g) + 100
    anomalous = torch.randn(150, generator=g) * 2 + 102
    tied_normal = torch.tensor([1.0, 2.0, 2.0, 3.0, 5.0])
    tied_anomalous = torch.tensor([2.0, 3.0, 4.0, 5.0])
    return [(normal, anomalous), (tied_normal, tied_anomalous)]


def check_roc_auc(answer: Callable[[Tensor, Tensor], float]) -> CheckResult:
    """Exercise: ``roc_auc(errors_normal, errors_anomalous) -> float``."""

    def pairwise(normal, anomalous, tie):
        diff = anomalous[:, None] - normal[None, :]
        return ((diff > 0).double() + tie * (diff == 0).double()).mean().item()

    mistakes = [
        Mistake(lambda n, a: 1 - roc_auc(n, a),
                "You computed the chance that a *normal* image scores higher. An anomaly should "
                "have the larger error: count pairs where the anomalous score is above the normal one."),
        Mistake(lambda n, a: pairwise(n, a, 0.0),
                "Close: ties count as one half, so that a useless score gets exactly 0.5."),
        Mistake(lambda n, a: pairwise(n, a, 1.0),
                "Close: a tie is not a win. Count ties as one half."),
    ]
    return _check("roc_auc", answer, lambda n, a: roc_auc(n, a), _auc_cases(), mistakes)


def _standardize_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(3)
    train = torch.randn(50, 4, generator=g) * torch.tensor([1.0, 5.0, 0.1, 2.0]) + 3
    test = torch.randn(20, 4, generator=g) * 2 - 1
    return [(train, test)]


def check_standardize(answer: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]) -> CheckResult:
    """Exercise: ``standardize(train, test) -> (train_scaled, test_scaled)`` per feature."""

    def own_stats(train, test):
        return standardize(train, train)[0], standardize(test, test)[0]

    def global_stats(train, test):
        mean, std = train.mean(), train.std()
        return (train - mean) / std, (test - mean) / std

    mistakes = [
        Mistake(own_stats,
                "You scaled the test set with its own mean and std. A model in use never sees "
                "the test set's statistics: scale both sets with the *training* mean and std."),
        Mistake(global_stats,
                "You used one mean and one std for all features. Compute them per feature "
                "(per column): train.mean(dim=0), train.std(dim=0)."),
        Mistake(lambda train, test: (train - train.mean(0), test - train.mean(0)),
                "You centred the features but did not divide by the standard deviation."),
    ]
    return _check("standardize", answer, standardize, _standardize_cases(), mistakes)


# -- Chapter 2: Gaussian distributions --------------------------------------


def check_log_normal(answer: Callable[[Tensor, float, float], Tensor]) -> CheckResult:
    """Exercise: ``log_normal(x, mu, sigma) -> log N(x; mu, sigma^2)``, elementwise."""
    x = torch.linspace(-3, 4, 15)
    cases = [(x, 0.0, 1.0), (x, 1.5, 0.5), (x, -1.0, 2.0)]

    def reference(x, mu, sigma):
        return -0.5 * math.log(2 * math.pi) - math.log(sigma) - 0.5 * ((x - mu) / sigma) ** 2

    mistakes = [
        Mistake(lambda x, m, s: reference(x, m, s).exp(),
                "That is the density itself. Take its log: the log turns the product into a sum."),
        Mistake(lambda x, m, s: reference(x, m, s) + 0.5 * math.log(2 * math.pi),
                "You left out the constant -log(2 pi) / 2. It does not matter for gradients, but a "
                "log-likelihood in nats needs it."),
        Mistake(lambda x, m, s: reference(x, m, s) + math.log(s),
                "You left out -log(sigma): the normalizing constant depends on sigma, and without it "
                "wide Gaussians look better than they are."),
        Mistake(lambda x, m, s: -0.5 * math.log(2 * math.pi) - math.log(s) - 0.5 * (x - m) ** 2 / s,
                "Divide the squared distance by sigma squared, the variance, not by sigma."),
        Mistake(lambda x, m, s: -0.5 * math.log(2 * math.pi) - 2 * math.log(s) - 0.5 * ((x - m) / s) ** 2,
                "The normalizing term is -log(sigma), that is -log(sigma^2) / 2, not -log(sigma^2)."),
    ]
    return _check("log_normal", answer, reference, cases, mistakes)


def _kl_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(4)
    return [(torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)),
            (torch.zeros(2, 5), torch.zeros(2, 5))]


def check_gaussian_kl(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``gaussian_kl(mu, logvar) -> [B]``, KL(N(mu, exp(logvar)) || N(0, I))."""

    def per_dim(mu, logvar):
        return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)

    mistakes = [
        Mistake(per_dim, "Right terms, but sum over the latent dimensions: one KL per image, shape [B]."),
        Mistake(lambda mu, lv: per_dim(mu, lv).mean(-1),
                "You averaged over the latent dimensions. The KL of independent dimensions is their *sum*."),
        Mistake(lambda mu, lv: 2 * gaussian_kl(mu, lv), "You are missing the factor 1/2 in front."),
        Mistake(lambda mu, lv: -gaussian_kl(mu, lv), "The sign is flipped: a KL divergence is never negative."),
        Mistake(lambda mu, lv: 0.5 * (mu**2 + lv - 1 - lv).sum(-1),
                "logvar is log(sigma^2): the variance is logvar.exp(), not logvar itself."),
        Mistake(lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(),
                "You summed over the batch too. Return one KL per image, shape [B]."),
    ]
    return _check("gaussian_kl", answer, gaussian_kl, _kl_cases(), mistakes)


def check_kl_monte_carlo(answer: Callable[[Tensor, Tensor, int], Tensor]) -> CheckResult:
    """Exercise: ``kl_monte_carlo(mu, logvar, n) -> [B]``, a sampled estimate of the KL.

    Stochastic, so compared with a tolerance of 0.05 nats at n = 200,000.
    """
    from .gaussian import log_normal_diag, log_standard_normal

    g = torch.Generator().manual_seed(5)
    cases = [(torch.randn(3, 2, generator=g), torch.randn(3, 2, generator=g) * 0.5, 200_000)]

    def sampled(mu, logvar, n, sign_q=1.0, sign_p=1.0):
        z = reparameterize(mu.expand(n, -1, -1), logvar.expand(n, -1, -1))  # [n, B, d]
        return (sign_q * log_normal_diag(z, mu, logvar) - sign_p * log_standard_normal(z)).mean(0)

    mistakes = [
        Mistake(lambda mu, lv, n: -gaussian_kl(mu, lv),
                "The sign is flipped: average log q(z) - log p(z) over samples from q."),
        Mistake(lambda mu, lv, n: sampled(mu, lv, n, sign_p=0.0),
                "You averaged log q(z) alone. The KL is the average of log q(z) - log p(z), "
                "with p = N(0, I)."),
        Mistake(lambda mu, lv, n: -sampled(mu, lv, n, sign_q=0.0),
                "You averaged -log p(z) alone (a cross-entropy). Add log q(z): KL = E_q[log q - log p]."),
    ]
    return _check("kl_monte_carlo", answer, lambda mu, lv, n: gaussian_kl(mu, lv), cases, mistakes,
                  tolerance=0.05)


# -- Chapter 3: the reparameterization trick ----------------------------------


def check_reparameterize(answer: Callable[[Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``reparameterize(mu, logvar, eps) -> z = mu + sigma * eps``."""
    g = torch.Generator().manual_seed(6)
    cases = [tuple(torch.randn(4, 3, generator=g) for _ in range(3))]
    mistakes = [
        Mistake(lambda mu, lv, eps: mu + lv.exp() * eps,
                "exp(logvar) is the variance sigma^2. The standard deviation is exp(0.5 * logvar)."),
        Mistake(lambda mu, lv, eps: mu + lv * eps, "logvar is log(sigma^2), not sigma: sigma = exp(0.5 * logvar)."),
        Mistake(lambda mu, lv, eps: mu + torch.sqrt(lv.abs()) * eps,
                "logvar is a *log*: sigma = exp(0.5 * logvar), not the square root of logvar."),
        Mistake(lambda mu, lv, eps: mu.clone(), "You returned mu: the sample needs the noise, z = mu + sigma * eps."),
        Mistake(lambda mu, lv, eps: mu * eps + (0.5 * lv).exp(),
                "mu and sigma swapped roles: the noise is scaled by sigma and shifted by mu."),
    ]
    return _check("reparameterize", answer, reparameterize, cases, mistakes)


def check_logvar_gradient(answer: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``dz_dlogvar(logvar, eps)``: the derivative of z = mu + exp(logvar / 2) * eps."""
    g = torch.Generator().manual_seed(7)
    cases = [(torch.randn(5, generator=g), torch.randn(5, generator=g))]

    def reference(logvar, eps):
        return 0.5 * torch.exp(0.5 * logvar) * eps

    mistakes = [
        Mistake(lambda lv, eps: torch.exp(0.5 * lv) * eps,
                "Chain rule: the derivative of exp(logvar / 2) is exp(logvar / 2) / 2. You lost the 1/2."),
        Mistake(lambda lv, eps: 0.5 * torch.exp(lv) * eps, "sigma is exp(0.5 * logvar), not exp(logvar)."),
        Mistake(lambda lv, eps: torch.ones_like(lv), "That is dz/dmu. Differentiate with respect to logvar."),
        Mistake(lambda lv, eps: 0.5 * torch.exp(0.5 * lv),
                "The noise eps multiplies sigma in z, so it multiplies the derivative too."),
    ]
    return _check("dz_dlogvar", answer, reference, cases, mistakes)


def check_score_function(answer: Callable[[Callable, float, float, Tensor], float]) -> CheckResult:
    """Exercise: ``score_function(f, mu, sigma, z)``: REINFORCE estimate from given samples z."""
    g = torch.Generator().manual_seed(8)
    f = lambda z: z**2  # noqa: E731
    cases = [(f, 1.0, 0.5, 1.0 + 0.5 * torch.randn(50, generator=g, dtype=torch.float64)),
             (f, -2.0, 2.0, -2.0 + 2.0 * torch.randn(50, generator=g, dtype=torch.float64))]

    def reference(f, mu, sigma, z):
        return (f(z) * (z - mu) / sigma**2).mean().item()

    mistakes = [
        Mistake(lambda f, mu, s, z: (f(z) * (z - mu) / s).mean().item(),
                "The score d/dmu log N(z; mu, sigma^2) is (z - mu) / sigma^2: divide by the variance."),
        Mistake(lambda f, mu, s, z: (2 * z).mean().item(),
                "That is the pathwise (reparameterized) gradient, which uses f'(z). The score-function "
                "estimator uses only values f(z), times the score (z - mu) / sigma^2."),
        Mistake(lambda f, mu, s, z: f(z).mean().item(),
                "That estimates E[f(z)], not its gradient: multiply f(z) by the score (z - mu) / sigma^2."),
        Mistake(lambda f, mu, s, z: -reference(f, mu, s, z), "The sign is flipped: the score is (z - mu) / sigma^2."),
    ]
    return _check("score_function", answer, reference, cases, mistakes)


# -- Chapter 4: the VAE and its loss ------------------------------------------


def _vae_cases() -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
    g = torch.Generator().manual_seed(9)
    return [(torch.rand(4, 784, generator=g), torch.randn(4, 784, generator=g) * 2,
             torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g) * 0.3)]


def check_vae_loss(answer: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: the negative ELBO in nats per image (sum over pixels and latents, mean over images)."""

    def loss(**options):
        return lambda x, l, mu, lv: vae_loss(x, l, mu, lv, **options)["loss"]

    def summed_over_batch(x, l, mu, lv):
        return loss()(x, l, mu, lv) * len(x)

    mistakes = [
        Mistake(loss(pixel_reduction="mean"),
                "You averaged the reconstruction over pixels (the default reduction='mean'): it is now "
                "784 times too small next to the KL. Sum over pixels, then average over images."),
        Mistake(loss(latent_reduction="mean"),
                "You averaged the KL over the latent dimensions: it is now too small. Sum over latent "
                "dimensions, then average over images."),
        Mistake(loss(pixel_reduction="mean", latent_reduction="mean"),
                "Both terms are averaged over their dimensions. Sum over pixels and over latent "
                "dimensions; only the batch is averaged."),
        Mistake(summed_over_batch,
                "You summed over the batch: the loss then grows with the batch size. Average over images."),
        Mistake(lambda x, l, mu, lv: vae_loss(x, l, mu, lv)["recon"] - vae_loss(x, l, mu, lv)["kl"],
                "The KL is *added* to the reconstruction loss: the loss is -ELBO = reconstruction + KL."),
        Mistake(lambda x, l, mu, lv: vae_loss(x, l, mu, lv)["recon"], "You left out the KL term."),
    ]
    return _check("vae_loss", answer, loss(), _vae_cases(), mistakes)


def check_log_mean_exp(answer: Callable[[Tensor], Tensor]) -> CheckResult:
    """Exercise: ``log_mean_exp(log_w) -> [B]``: log(mean_k exp(log_w[k])) over dim 0, stably."""
    g = torch.Generator().manual_seed(10)
    cases = [(torch.randn(50, 3, generator=g) * 3 - 100.0,),
             (torch.randn(20, 2, generator=g) - 900.0,)]  # exp underflows to 0

    def reference(log_w):
        return torch.logsumexp(log_w, dim=0) - math.log(len(log_w))

    mistakes = [
        Mistake(lambda lw: torch.logsumexp(lw, dim=0),
                "Close: that is the log of the *sum*. Subtract log(K) to get the log of the mean."),
        Mistake(lambda lw: lw.mean(0),
                "That is the mean of the logs: by Jensen's inequality it is below the log of the mean "
                "(it is the ELBO again). Use torch.logsumexp."),
        Mistake(lambda lw: torch.logsumexp(lw, dim=1) - math.log(lw.shape[1]),
                "Combine the K samples, which run along dim 0: one value per image."),
    ]
    hint = ("Your result contains inf or NaN: exp(-900) underflows to 0 and its log is -inf. "
            "Subtract the maximum before exponentiating, or use torch.logsumexp.")
    return _check("log_mean_exp", answer, reference, cases, mistakes, non_finite_hint=hint)


def check_kl_warmup(answer: Callable[[int, int, float], float]) -> CheckResult:
    """Exercise: ``warmup_beta(step, warmup_steps, beta)``: rises linearly from 0 to beta, then stays."""

    def reference(step, warmup_steps, beta):
        return beta * min(1.0, step / warmup_steps)

    def many(fn):
        return lambda steps, warmup, beta: tuple(float(fn(s, warmup, beta)) for s in steps)

    cases = [([0, 250, 500, 1000, 3000], 1000, 1.0), ([0, 10, 20, 40], 20, 4.0)]
    mistakes = [
        Mistake(many(lambda s, w, b: b * s / w),
                "Beta keeps growing after the warm-up: cap it at beta (min(1, step / warmup_steps))."),
        Mistake(many(lambda s, w, b: min(1.0, s / w)),
                "The ramp ends at 1, not at beta: multiply by beta."),
        Mistake(many(lambda s, w, b: b * (1 - min(1.0, s / w))),
                "The ramp runs backwards: beta starts at 0 and rises to its full value."),
    ]
    return _check("warmup_beta", many(answer), many(reference), cases, mistakes)


# -- Chapter 5: latent space interpolation ------------------------------------


def _path_cases() -> list[tuple[Tensor, Tensor, int]]:
    g = torch.Generator().manual_seed(11)
    z0, z1 = torch.randn(8, generator=g), torch.randn(8, generator=g) * 2
    return [(z0, z1, 5), (torch.tensor([3.0, 0.0]), torch.tensor([0.0, 1.0]), 3)]


def check_lerp(answer: Callable[[Tensor, Tensor, int], Tensor]) -> CheckResult:
    """Exercise: ``lerp(z0, z1, steps) -> [steps, d]``, endpoints included."""
    mistakes = [
        Mistake(lambda z0, z1, n: torch.stack([(1 - t) * z0 + t * z1 for t in torch.arange(n) / n]),
                "Your path stops one step short of z1: use t = 0, 1/(steps-1), ..., 1 (torch.linspace(0, 1, steps))."),
        Mistake(lambda z0, z1, n: lerp(z1, z0, n),
                "Your path runs backwards: it must start at z0 (t = 0) and end at z1 (t = 1)."),
        Mistake(lambda z0, z1, n: lerp(z0, z1, n).T, "Return one code per row: shape [steps, d]."),
    ]
    return _check("lerp", answer, lerp, _path_cases(), mistakes)


def check_slerp(answer: Callable[[Tensor, Tensor, int], Tensor]) -> CheckResult:
    """Exercise: ``slerp(z0, z1, steps) -> [steps, d]``: great-circle direction, linear norm."""

    def unit_circle_only(z0, z1, n):
        path = slerp(z0, z1, n)
        return path / path.norm(dim=1, keepdim=True)

    def fixed_norm(z0, z1, n):
        path = slerp(z0, z1, n)
        return path / path.norm(dim=1, keepdim=True) * z0.norm()

    mistakes = [
        Mistake(lerp, "That is the straight line (lerp). Move along the great circle: "
                      "sin((1-t) omega) u0 + sin(t omega) u1, divided by sin(omega)."),
        Mistake(unit_circle_only, "The directions are right, but every code has norm 1. Scale each by a "
                                  "norm that goes linearly from |z0| to |z1|."),
        Mistake(fixed_norm, "The directions are right, but the norm stays |z0|. Let it go linearly from "
                            "|z0| to |z1|, so the path ends exactly at z1."),
    ]
    return _check("slerp", answer, slerp, _path_cases(), mistakes)


def check_quantile_grid(answer: Callable[[int], Tensor]) -> CheckResult:
    """Exercise: ``grid_codes(n) -> [n * n, 2]``, codes at prior quantiles 0.05 .. 0.95."""

    def uniform(n):
        values = torch.linspace(-1.645, 1.645, n)
        return torch.stack([values.repeat(n), values.flip(0).repeat_interleave(n)], dim=1)

    def unflipped(n):
        grid = prior_quantile_grid(n)
        return torch.stack([grid[:, 0], grid[:, 1].flip(0)], dim=1)

    mistakes = [
        Mistake(uniform, "Those codes are evenly spaced. Space them by prior probability instead: "
                         "torch.distributions.Normal(0, 1).icdf at probabilities 0.05 .. 0.95."),
        Mistake(unflipped, "The rows run upside down: the top row of the picture has the largest z_2."),
        Mistake(lambda n: prior_quantile_grid(n)[:, [1, 0]], "z_1 and z_2 are swapped: z_1 changes along a row."),
    ]
    return _check("grid_codes", answer, prior_quantile_grid, [(4,), (7,)], mistakes)


# -- Chapter 6: beta-VAE and disentanglement ----------------------------------


def _mig_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(12)
    mi = torch.rand(6, 4, generator=g) * 2
    return [(mi, torch.tensor([1.1, 2.0, 2.3, 3.0]))]


def check_mig_from_mi(answer: Callable[[Tensor, Tensor], float]) -> CheckResult:
    """Exercise: ``mig_from_mi(mi [d, K], entropy [K]) -> float``."""

    def reference(mi, entropy):
        top = mi.topk(2, dim=0).values  # [2, K]
        return ((top[0] - top[1]) / entropy).mean().item()

    mistakes = [
        Mistake(lambda mi, h: ((mi.max(0).values - mi.min(0).values) / h).mean().item(),
                "The gap is between the *two largest* mutual informations of each factor, not the largest "
                "and the smallest."),
        Mistake(lambda mi, h: (mi.topk(2, dim=0).values[0] - mi.topk(2, dim=0).values[1]).mean().item(),
                "Divide each factor's gap by its entropy, so that every factor counts on the same 0-1 scale."),
        Mistake(lambda mi, h: ((mi.topk(2, dim=1).values[:, 0] - mi.topk(2, dim=1).values[:, 1]).mean()
                               / h.mean()).item(),
                "Take the top two over the *latents* (dim 0) for each factor, not over factors."),
    ]
    return _check("mig_from_mi", answer, reference, _mig_cases(), mistakes)


def _answer_check(exercise: str, answer, correct, hint) -> CheckResult:
    if answer is None or answer is ...:
        return CheckResult(exercise, NOT_ATTEMPTED, "Set your answer in its cell, then run this check again.")
    if answer == correct:
        return CheckResult(exercise, PASS, "Well done!")
    return CheckResult(exercise, FAIL, hint(answer))


def check_beta_trend(answer: dict | None, betas, recon, kl) -> CheckResult:
    """Exercise: predict ``{"recon": "up"|"down", "kl": "up"|"down"}`` as beta grows;
    checked against the sweep's measured numbers."""
    def trend(values):
        return "up" if values[-1] > values[0] else "down"

    correct = {"recon": trend(recon), "kl": trend(kl)}
    if isinstance(answer, dict) and set(answer) != {"recon", "kl"}:
        return CheckResult("beta_trend", FAIL, 'Answer with a dict with the keys "recon" and "kl".')

    measured = {"recon": recon, "kl": kl}

    def hint(answer):
        wrong = [k for k in measured if answer.get(k) != correct[k]]
        details = "; ".join(f"{k} went from {measured[k][0]:.1f} (beta = {betas[0]:g}) to "
                            f"{measured[k][-1]:.1f} (beta = {betas[-1]:g})" for k in wrong)
        return f"Look at the table again: {details}. A larger beta makes each nat of KL more expensive."

    return _answer_check("beta_trend", answer if answer is None else dict(answer), correct, hint)


def check_traversal_factor(answer: str | None, codes: Tensor, factors: Tensor, dim: int,
                           names: Sequence[str]) -> CheckResult:
    """Exercise: name the factor that latent ``dim`` captures in a traversal figure.

    The right answer is the factor with the largest mutual information with
    that latent (20-bin discretized mean codes), computed from the data.
    """
    from .metrics import latent_factor_information

    mi = latent_factor_information(codes[:, dim:dim + 1], factors)[0].tolist()  # [K]
    correct = names[max(range(len(mi)), key=mi.__getitem__)]
    if answer is not None and answer not in names:
        return CheckResult("traversal_factor", FAIL, f"Answer with one of {list(names)}.")

    def hint(answer):
        return (f"Not quite: this latent carries {mi[names.index(answer)]:.2f} nats about {answer}, "
                f"but more about another factor. Look at what changes along its row, and what stays.")

    return _answer_check("traversal_factor", answer, correct, hint)
