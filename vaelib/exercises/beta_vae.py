"""Checks of chapter 6, beta-VAE and disentanglement (``book/06_beta_vae.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ..metrics import latent_factor_information
from .core import FAIL, CheckResult, Mistake, answer_check, run_check

__all__ = ["check_mig_from_mi", "check_beta_trend", "check_traversal_factor"]


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
    ]
    return run_check("mig_from_mi", answer, reference, _mig_cases(), mistakes)


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
        details = "; ".join(
            f"{k} went from {measured[k][0]:.1f} (beta = {betas[0]:g}) to {measured[k][-1]:.1f} (beta = {betas[-1]:g})"
            for k in wrong
        )
        return f"Look at the table again: {details}. A larger beta makes each nat of KL more expensive."

    return answer_check("beta_trend", answer if answer is None else dict(answer), correct, hint)


def check_traversal_factor(
    answer: str | None, codes: Tensor, factors: Tensor, dim: int, names: Sequence[str]
) -> CheckResult:
    """Exercise: name the factor that latent ``dim`` captures in a traversal figure.

    The right answer is the factor with the largest mutual information with
    that latent (20-bin discretized mean codes), computed from the data.
    """
    mi = latent_factor_information(codes[:, dim : dim + 1], factors)[0].tolist()  # [K]
    correct = names[max(range(len(mi)), key=mi.__getitem__)]
    if answer is not None and answer not in names:
        return CheckResult("traversal_factor", FAIL, f"Answer with one of {list(names)}.")

    def hint(answer):
        return (
            f"Not quite: this latent carries {mi[names.index(answer)]:.2f} nats about {answer}, "
            f"but more about another factor. Look at what changes along its row, and what stays."
        )

    return answer_check("traversal_factor", answer, correct, hint)
