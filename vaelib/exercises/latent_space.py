"""Checks of chapter 5, latent space interpolation (``book/05_latent_space.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..latent import lerp, prior_quantile_grid, slerp
from .compare import close
from .drivers import answer_check, read_answer, run_check
from .results import CheckResult, Mistake, never_raises, with_report
from .student_code import math_or_torch, seeded

__all__ = [
    "beta_spread_experiment",
    "check_beta_spread_prediction",
    "check_lerp",
    "check_midpoint_norm",
    "check_quantile_grid",
    "check_slerp",
    "shoemake_slerp",
]


def _path_cases() -> list[tuple[Tensor, Tensor, int]]:
    g = torch.Generator().manual_seed(11)
    z0, z1 = torch.randn(8, generator=g), torch.randn(8, generator=g) * 2
    return [(z0, z1, 5), (torch.tensor([3.0, 0.0]), torch.tensor([0.0, 1.0]), 3)]


def _broadcast(err: BaseException, args: tuple) -> str | None:
    """A hint for the path whose t and codes do not broadcast: t of shape [steps] times a code [d]."""
    if isinstance(err, RuntimeError) and "must match the size of tensor" in str(err):
        return (
            "t has shape [steps] and a code shape [d]: they do not line up. Give t a second axis, "
            "t[:, None] of shape [steps, 1], so that each t scales a whole code: [steps, d]."
        )
    return None


@never_raises
def check_lerp(answer: Callable[[Tensor, Tensor, int], Tensor]) -> CheckResult:
    """Exercise: ``lerp(z0, z1, steps) -> [steps, d]``, endpoints included."""
    mistakes = [
        Mistake(
            lambda z0, z1, n: torch.stack([(1 - t) * z0 + t * z1 for t in torch.arange(n) / n]),
            "Your path stops one step short of z1: use t = 0, 1/(steps-1), ..., 1 (torch.linspace(0, 1, steps)).",
        ),
        Mistake(
            lambda z0, z1, n: lerp(z1, z0, n),
            "Your path runs backwards: it must start at z0 (t = 0) and end at z1 (t = 1).",
        ),
        Mistake(lambda z0, z1, n: lerp(z0, z1, n).T, "Return one code per row: shape [steps, d]."),
        *[
            Mistake(
                lambda z0, z1, n, k=k: lerp(z0, z1, n + k),
                f"Your path has steps {'-' if k < 0 else '+'} 1 codes: torch.linspace(0, 1, steps) "
                "already counts both endpoints, and gives exactly steps values.",
            )
            for k in (-1, 1)
        ],
        Mistake(
            lambda z0, z1, n: torch.stack([z0 + t * z1 for t in torch.linspace(0, 1, n)]),
            "Your path does not end at z1: as t grows, the weight of z0 must shrink. Mix the two: "
            "each code is a weighted average of z0 and z1, with weights that add up to 1.",
        ),
        Mistake(
            lambda z0, z1, n: torch.stack([t * (z1 - z0) for t in torch.linspace(0, 1, n)]),
            "Your path starts at the origin: t (z1 - z0) is the step from z0, so add it to z0.",
        ),
    ]
    return run_check("lerp", answer, lerp, _path_cases(), mistakes, raised=_broadcast)


@never_raises
def check_slerp(answer: Callable[[Tensor, Tensor, int], Tensor]) -> CheckResult:
    """Exercise: ``slerp(z0, z1, steps) -> [steps, d]``: great-circle direction, linear norm."""

    def unit_circle_only(z0, z1, n):
        path = slerp(z0, z1, n)
        return path / path.norm(dim=1, keepdim=True)

    def fixed_norm(z0, z1, n):
        path = slerp(z0, z1, n)
        return path / path.norm(dim=1, keepdim=True) * z0.norm()

    mistakes = [
        Mistake(
            lerp,
            "That is the straight line (lerp). Move along the great circle: "
            "sin((1-t) omega) u0 + sin(t omega) u1, divided by sin(omega).",
        ),
        Mistake(
            unit_circle_only,
            "The directions are right, but every code has norm 1. Scale each by a "
            "norm that goes linearly from |z0| to |z1|.",
        ),
        Mistake(
            fixed_norm,
            "The directions are right, but the norm stays |z0|. Let it go linearly from "
            "|z0| to |z1|, so the path ends exactly at z1.",
        ),
        Mistake(
            lambda z0, z1, n: _book_slerp(z0, z1, n, divide=False),
            "You left out the division by sin(omega): without it the direction is not a unit "
            "vector between the ends, and the norms sag and bulge.",
        ),
        Mistake(
            lambda z0, z1, n: _book_slerp(z0, z1, n, unit_angle=False),
            "The angle omega is between the *directions*: its cosine is u0 . u1 with u0, u1 the "
            "unit vectors, not the dot product of the codes themselves.",
        ),
        Mistake(
            lambda z0, z1, n: _book_slerp(z0, z1, n, degrees=True),
            "Your angle omega is in degrees: torch.sin and torch.cos take radians, and "
            "torch.arccos already returns radians. Leave omega as arccos gives it.",
        ),
        Mistake(
            lambda z0, z1, n: _book_slerp(z0, z1, n, arange=True),
            "Your path stops one step short of z1: use t = 0, 1/(steps-1), ..., 1 (torch.linspace(0, 1, steps)).",
        ),
    ]
    classic = Mistake(
        shoemake_slerp,
        "You wrote Shoemake's classic slerp, which turns the vectors themselves: "
        "sin((1-t) omega) z0 + sin(t omega) z1, divided by sin(omega). That is right too. "
        "It agrees with the book's variant when |z0| = |z1|; for codes of different "
        "lengths the book's variant moves the norm linearly instead.",
    )
    return run_check("slerp", answer, slerp, _path_cases(), mistakes, accepted=[classic], raised=_broadcast)


def _book_slerp(
    z0: Tensor, z1: Tensor, steps: int, divide=True, unit_angle=True, arange=False, degrees=False
) -> Tensor:
    """The book's slerp, or one of its known wrong variants."""
    t = (torch.arange(steps) / steps if arange else torch.linspace(0, 1, steps))[:, None]
    u0, u1 = z0 / z0.norm(), z1 / z1.norm()
    cosine = (u0 * u1).sum() if unit_angle else (z0 * z1).sum()
    omega = torch.arccos(cosine.clamp(-1, 1))
    if degrees:
        omega = torch.rad2deg(omega)
    direction = torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1
    if divide:
        direction = direction / torch.sin(omega)
    return direction * ((1 - t) * z0.norm() + t * z1.norm())


def shoemake_slerp(z0: Tensor, z1: Tensor, steps: int = 10) -> Tensor:
    """Shoemake's (1985) slerp applied to the vectors themselves, ``[steps, d]``."""
    t = torch.linspace(0, 1, steps)[:, None]  # [steps, 1]
    omega = torch.arccos(torch.nn.functional.cosine_similarity(z0, z1, dim=0).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


@never_raises
def check_quantile_grid(answer: Callable[[int], Tensor]) -> CheckResult:
    """Exercise: ``grid_codes(n) -> [n * n, 2]``, codes at prior quantiles 0.05 .. 0.95."""

    def uniform(n):
        values = torch.linspace(-1.645, 1.645, n)
        return torch.stack([values.repeat(n), values.flip(0).repeat_interleave(n)], dim=1)

    def probabilities(n):
        p = torch.linspace(0.05, 0.95, n)
        return torch.stack([p.repeat(n), p.flip(0).repeat_interleave(n)], dim=1)

    def unflipped(n):
        grid = prior_quantile_grid(n)
        return torch.stack([grid[:, 0], grid[:, 1].flip(0)], dim=1)

    mistakes = [
        Mistake(
            uniform,
            "Those codes are evenly spaced. Space them by prior probability instead: "
            "torch.distributions.Normal(0, 1).icdf at probabilities 0.05 .. 0.95.",
        ),
        Mistake(unflipped, "The rows run upside down: the top row of the picture has the largest z_2."),
        Mistake(lambda n: prior_quantile_grid(n)[:, [1, 0]], "z_1 and z_2 are swapped: z_1 changes along a row."),
        Mistake(
            probabilities,
            "Those are the probabilities 0.05 .. 0.95 themselves. Turn each into the code that has "
            "that much of the prior below it: the inverse of the normal's CDF, its icdf.",
        ),
    ]

    def diagnose(args, got):
        """The right codes in another order."""
        expected = prior_quantile_grid(*args)
        if not isinstance(got, Tensor) or got.shape != expected.shape or close(got, expected):
            return None
        rows = sorted(map(tuple, got.tolist()))
        if close(torch.tensor(rows), torch.tensor(sorted(map(tuple, expected.tolist())))):
            return (
                "The right codes, in the wrong order. The picture reads row by row from the top (the "
                "largest z_2 first), and within a row from left to right (z_1 growing)."
            )
        return None

    non_finite = (
        "Your grid has infinite codes: the prior's quantile at probability 0 or 1 is -inf or +inf. "
        "Take the probabilities from 0.05 to 0.95."
    )
    return run_check("grid_codes", answer, prior_quantile_grid, [(4,), (7,)], mistakes, non_finite, diagnose=diagnose)


# ---------------------------------------------------------------- derive: how far the straight line sags


@never_raises
def check_midpoint_norm(answer: Callable[[Tensor], Tensor]) -> CheckResult:
    """Exercise (derive): ``midpoint_norm(omega)``: the norm of the midpoint of the straight
    line between two codes of equal norm r at angle ``omega`` (radians), divided by r."""
    omega = torch.linspace(0.1, 3.0, 12)
    mistakes = [
        Mistake(
            lambda w: torch.cos(w),
            "That is cos(omega), the cosine between the codes. Write the midpoint as (z0 + z1) / 2 "
            "and expand its squared norm.",
            "|(z0 + z1) / 2|^2 = (r^2 + r^2 + 2 r^2 cos(omega)) / 4.",
        ),
        Mistake(
            lambda w: torch.cos(torch.deg2rad(w) / 2),
            "omega is already in radians (torch's cos and sin take radians): do not convert it from degrees.",
        ),
        Mistake(
            lambda w: 2 * torch.cos(w / 2),
            "That is the norm of z0 + z1, divided by r. The midpoint is (z0 + z1) / 2: halve it.",
        ),
        Mistake(
            lambda w: torch.sqrt(1 + torch.cos(w)),
            "Close: |(z0 + z1) / 2|^2 divides |z0 + z1|^2 by 4, not by 2 (the square of 1/2).",
        ),
        Mistake(
            lambda w: torch.sin(w / 2),
            "Sine and cosine swapped: at omega = 0 the two codes coincide, and the "
            "midpoint has the full norm, ratio 1.",
        ),
        Mistake(lambda w: (1 + torch.cos(w)) / 2, "That is the squared ratio: take its square root."),
        Mistake(lambda w: torch.full_like(w, 0.5**0.5), "1/sqrt(2) holds only for orthogonal codes, omega = pi/2."),
    ]
    return run_check("midpoint_norm", answer, lambda w: torch.cos(w / 2), [(omega,)], mistakes, raised=math_or_torch)


# ---------------------------------------------------------------- predict: a 2-D VAE with beta = 4


def beta_spread_experiment(train_x: Tensor, test_x: Tensor, betas=(1.0, 4.0), epochs: int = 2) -> dict:
    """The spread (mean over the two axes of the standard deviation) of the test images'
    mean codes in a small 2-D VAE, for each beta, briefly trained."""
    from ..latent import encode_dataset
    from ..losses import VAEObjective
    from ..models import VAE, MLPConfig
    from ..train import fit

    spreads = {}
    for beta in betas:
        model = seeded(lambda: VAE(MLPConfig(hidden_dims=(200,), latent_dim=2)))
        fit(model, VAEObjective(beta=beta), train_x, epochs=epochs, device="cpu", progress=False)
        spreads[beta] = encode_dataset(model, test_x).std(dim=0).mean().item()
    return spreads


@never_raises
def check_beta_spread_prediction(answer, train_x: Tensor, test_x: Tensor) -> CheckResult:
    """Exercise (predict): with beta = 4 instead of 1, is the spread of the 2-D VAE's mean
    codes "smaller" or "larger"?  The check trains both, briefly, and compares."""
    answer = read_answer("beta_spread_prediction", answer, ["smaller", "larger"])
    if isinstance(answer, CheckResult):
        return answer
    spreads = beta_spread_experiment(train_x, test_x)
    correct = "smaller" if spreads[4.0] < spreads[1.0] else "larger"
    report = f"Measured spread of the mean codes: beta = 1: {spreads[1.0]:.2f}, beta = 4: {spreads[4.0]:.2f}."

    def hint(answer):
        return (
            f"Not what the run shows. {report} The KL of each image is 0.5 (mu^2 + sigma^2 - 1 - log sigma^2) "
            "per dimension: which of its terms pulls mu itself toward 0, and what does a heavier weight do to "
            "that pull?"
        )

    return with_report(answer_check("beta_spread_prediction", answer, correct, hint), report)
