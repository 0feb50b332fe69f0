"""Checks of chapter 6, beta-VAE and disentanglement (``book/06_beta_vae.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ..metrics import factor_shares, mig
from .drivers import answer_check, read_answer, run_check
from .results import PASS, CheckResult, Mistake, never_raises

__all__ = [
    "check_beta_trend",
    "check_expected_mig",
    "check_mig_from_mi",
    "check_uncaptured_factor",
    "duplicated_code",
]


def _mig_cases() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(12)
    mi = torch.rand(6, 4, generator=g) * 2
    # a factor copied into two latents: a tie at the top, whose gap is 0 (Exercise 4's case)
    tied = torch.tensor([[1.0, 0.2], [1.0, 0.1], [0.3, 0.9]])
    return [(mi, torch.tensor([1.1, 2.0, 2.3, 3.0])), (tied, torch.tensor([1.0, 1.2]))]


def _distinct_runner_up(mi: Tensor, entropy: Tensor) -> float:
    """A wrong MIG: each factor's largest mutual information minus the next *different* value."""
    gaps = []
    for k in range(mi.shape[1]):
        values = mi[:, k].unique().sort(descending=True).values
        gaps.append((values[0] - values[min(1, len(values) - 1)]) / entropy[k])
    return torch.stack(gaps).mean().item()


@never_raises
def check_mig_from_mi(answer: Callable[[Tensor, Tensor], float]) -> CheckResult:
    """Exercise: ``mig_from_mi(mi [d, K], entropy [K]) -> float``."""

    def reference(mi, entropy):
        top = mi.topk(2, dim=0).values  # [2, K]
        return ((top[0] - top[1]) / entropy).mean().item()

    mistakes = [
        Mistake(
            lambda mi, h: ((mi.max(0).values - mi.min(0).values) / h).mean().item(),
            "The gap is between the *two largest* mutual informations of each factor, not the largest "
            "and the smallest.",
        ),
        Mistake(
            lambda mi, h: (mi.topk(2, dim=0).values[0] - mi.topk(2, dim=0).values[1]).mean().item(),
            "Divide each factor's gap by its entropy, so that every factor counts on the same 0-1 scale.",
        ),
        Mistake(
            lambda mi, h: ((mi.topk(2, dim=1).values[:, 0] - mi.topk(2, dim=1).values[:, 1]).mean() / h.mean()).item(),
            "Take the top two over the *latents* (dim 0) for each factor, not over factors.",
        ),
        Mistake(
            _distinct_runner_up,
            "Two latents can share the largest mutual information (a factor copied into both): then "
            "the second largest equals the largest and the gap is 0. Take the top two values, ties "
            "included (torch.topk keeps both), not the next different one.",
        ),
        Mistake(
            lambda mi, h: -reference(mi, h),
            "The sign is flipped: each gap is the largest mutual information minus the second largest.",
        ),
        Mistake(
            lambda mi, h: reference(mi, h) * mi.shape[1],
            "You summed the factors' gaps: MIG is their *mean*, a number between 0 and 1.",
        ),
        Mistake(
            lambda mi, h: ((mi.topk(2, dim=0).values[0] - mi.topk(2, dim=0).values[1]) / h.sum()).mean().item(),
            "Divide each factor's gap by *its own* entropy, entropy[k], not by their sum.",
        ),
    ]
    return run_check("mig_from_mi", answer, reference, _mig_cases(), mistakes, python_number=True)


@never_raises
def check_beta_trend(answer: dict | None, betas, recon, kl) -> CheckResult:
    """Exercise: predict ``{"recon": "up"|"down", "kl": "up"|"down"}`` as beta grows;
    checked against the sweep's measured numbers."""

    def trend(values):
        return "up" if values[-1] > values[0] else "down"

    correct = {"recon": trend(recon), "kl": trend(kl)}
    answer = read_answer("beta_trend", answer, ["up", "down"], keys=["recon", "kl"])
    if isinstance(answer, CheckResult):
        return answer

    def hint(answer):
        wrong = " and ".join(k for k in correct if answer.get(k) != correct[k])
        return (
            f"Your prediction for {wrong} does not match what the sweep measured. A larger beta makes "
            "each nat of KL more expensive: what does the model then do with the information in its "
            "code, and what does that cost the reconstruction? Then compare the first and last rows."
        )

    return answer_check("beta_trend", answer, correct, hint)


@never_raises
def check_uncaptured_factor(answer: str | None, codes: Tensor, factors: Tensor, names: Sequence[str]) -> CheckResult:
    """Exercise (read a figure): name the factor that no latent of a model captures.

    The right answer is computed from the data: the factor whose best latent
    tells the smallest share of it (mutual information of 20-bin discretized
    mean codes, over the factor's entropy).
    """
    share = factor_shares(codes, factors)  # [d, M]
    best = share.max(dim=0).values.tolist()  # [M]: the best latent's share of each factor
    correct = names[min(range(len(best)), key=best.__getitem__)]
    answer = read_answer("uncaptured_factor", answer, list(names))
    if isinstance(answer, CheckResult):
        return answer

    def hint(answer):
        latent = int(share[:, names.index(answer)].argmax()) + 1
        told = best[names.index(answer)]
        return (
            f"Not quite: latent z{latent} tells {told:.0%} of what there is to know about {answer}, and "
            f"another factor is told less than that by every latent. Of the factors that label no row, "
            f"which changes the fewest pixels per step?"
        )

    return answer_check("uncaptured_factor", answer, correct, hint)


# ---------------------------------------------------------------- derive: the MIG of a duplicated code


def duplicated_code(n_factors: int, n_duplicated: int, values: int = 6) -> tuple[Tensor, Tensor]:
    """Factors (every combination of ``n_factors`` factors with ``values`` values each) and a
    code that copies factor k into latent k, plus a second copy of each of the first
    ``n_duplicated`` factors: ``(codes [N, n_factors + n_duplicated], factors [N, n_factors])``."""
    grids = torch.meshgrid(*[torch.arange(values)] * n_factors, indexing="ij")
    factors = torch.stack([g.flatten() for g in grids], dim=1)  # [values^K, K]
    codes = torch.cat([factors, factors[:, :n_duplicated]], dim=1).float()
    return codes, factors


@never_raises
def check_expected_mig(answer: Callable[[int, int], float]) -> CheckResult:
    """Exercise (derive): ``expected_mig(n_factors, n_duplicated)``: the MIG of a code where
    every factor has a latent that copies it exactly, and ``n_duplicated`` factors have a
    second, identical copy.  Checked against the formula and against ``metrics.mig`` run
    on such codes."""
    cases = [(3, 0), (3, 1), (4, 2), (5, 5)]

    def reference(k, dup):
        return (k - dup) / k

    mistakes = [
        Mistake(lambda k, dup: dup / k, "That is the share of duplicated factors. Their gap is the one that vanishes."),
        Mistake(
            lambda k, dup: 1.0,
            "A second copy of a factor has the same mutual information as the first: what is that factor's gap, then?",
        ),
        Mistake(
            lambda k, dup: (k - dup) / (k + dup), "MIG averages over the factors (M of them), not over the latents."
        ),
        Mistake(lambda k, dup: 0.0 if dup else 1.0, "Only the duplicated factors lose their gap; the others keep 1."),
    ]
    result = run_check("expected_mig", answer, reference, cases, mistakes, python_number=True)
    if not result.passed:
        return result
    codes, factors = duplicated_code(4, 1)
    measured = mig(codes, factors, bins=6)[0]
    return CheckResult(
        "expected_mig",
        PASS,
        f"Well done! metrics.mig agrees: on a code with 4 factors, 1 duplicated, it measures {measured:.3f}.",
    )
