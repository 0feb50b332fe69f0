"""Checks of chapter 8, why samples disappoint and what does better: a mixture prior's log-density,
the two parts of the ELBO's KL term, and a prediction about the judge."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from ..gaussian import LOG_2PI, log_normal_diag
from ..priors import mixture_log_prob
from .drivers import answer_check, read_answer, run_check
from .results import CheckResult, Mistake, never_raises

__all__ = ["PRIOR_NAMES", "check_mixture_log_prob", "check_prior_prediction", "check_surgery_parts"]


# ---------------------------------------------------------------- implement: the mixture's log-density


def _mixture_cases() -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
    g = torch.Generator().manual_seed(8)
    means, logvars = torch.randn(5, 3, generator=g) * 2, torch.randn(5, 3, generator=g) * 0.5
    logits = torch.randn(5, generator=g) * 2  # unequal weights
    near = torch.randn(7, 3, generator=g) * 2
    far = torch.full((2, 3), 60.0)  # every component's density underflows to 0 here
    return [(near, means, logvars, logits), (far, means, logvars, logits)]


def _components(z: Tensor, means: Tensor, logvars: Tensor) -> Tensor:
    """log N(z; means_k, diag(exp(logvars_k))) of each code and component, ``[B, K]``."""
    return log_normal_diag(z[:, None], means, logvars)


@never_raises
def check_mixture_log_prob(answer: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise: ``mixture_log_prob(z [B, d], means [K, d], logvars [K, d], logits [K]) -> [B]``."""
    mistakes = [
        Mistake(
            lambda z, m, lv, lg: torch.logsumexp(lg + _components(z, m, lv), dim=1),
            "The logits are not the weights' logarithms: the weights are softmax(logits), so add "
            "F.log_softmax(logits, dim=0), whose exponentials sum to 1.",
        ),
        Mistake(
            lambda z, m, lv, lg: torch.logsumexp(F.softmax(lg, 0) + _components(z, m, lv), dim=1),
            "You added the weights themselves: inside the log-sum-exp each term is log w_k + log N_k, the "
            "*logarithm* of the weight.",
        ),
        Mistake(
            lambda z, m, lv, lg: torch.log((F.softmax(lg, 0) * _components(z, m, lv).exp()).sum(1)),
            "Right on nearby codes, but far from every component each density underflows to 0 and the "
            "log of the sum is -inf. Stay in log space: torch.logsumexp.",
        ),
        Mistake(
            lambda z, m, lv, lg: torch.logsumexp(_components(z, m, lv), dim=1) - math.log(len(m)),
            "That weighs every component equally: use the mixture's own weights, softmax(logits).",
        ),
        Mistake(
            lambda z, m, lv, lg: (F.log_softmax(lg, 0) + _components(z, m, lv)).max(dim=1).values,
            "The largest term alone is not the sum: log-sum-exp adds every component's share.",
        ),
        Mistake(
            lambda z, m, lv, lg: torch.logsumexp(
                F.log_softmax(lg, 0) - 0.5 * ((z[:, None] - m).pow(2) / lv.exp()).sum(-1), dim=1
            ),
            "Each Gaussian's log-density needs its normalizing terms too: -0.5 * (log 2 pi + logvar) per "
            "dimension. Without them, narrow and wide components are compared unfairly.",
        ),
        Mistake(
            lambda z, m, lv, lg: torch.logsumexp(
                F.log_softmax(lg, 0) - 0.5 * (LOG_2PI + lv + (z[:, None] - m).pow(2) / (0.5 * lv).exp()).sum(-1), dim=1
            ),
            "You divided the squared distance by the standard deviation: divide by the variance, exp(logvar).",
        ),
        Mistake(
            lambda z, m, lv, lg: torch.logsumexp(
                F.log_softmax(lg, 0)[:, None] - 0.5 * (LOG_2PI + lv + (z[:, None] - m).pow(2) / lv.exp()), dim=1
            ).sum(-1),
            "A mixture of products is not a product of mixtures: sum each component's log-density over the "
            "d dimensions first, then log-sum-exp over the components.",
        ),
    ]
    return run_check(
        "mixture_log_prob",
        answer,
        mixture_log_prob,
        _mixture_cases(),
        mistakes,
        non_finite_hint="Your answer is -inf or NaN where the right one is finite. If that happens only for "
        "codes far from every component, each density underflowed to 0 there: stay in log space, with "
        "torch.logsumexp. If everywhere, look for a log of a negative number or of 0.",
    )


# ---------------------------------------------------------------- derive: the two parts of the KL term


def _discrete_cases() -> list[tuple[Tensor, Tensor]]:
    """(q(z | x_n) as rows ``[N, M]``, p(z) ``[M]``): codes with M values, N images, all in float64."""
    g = torch.Generator().manual_seed(3)
    posteriors = torch.softmax(torch.randn(6, 4, generator=g, dtype=torch.float64) * 2, dim=1)
    prior = torch.softmax(torch.randn(4, generator=g, dtype=torch.float64), dim=0)
    same = torch.full((3, 5), 0.2, dtype=torch.float64)  # every image, one posterior: no information
    return [(posteriors, prior), (same, torch.softmax(torch.arange(5, dtype=torch.float64), 0))]


def _surgery(q: Tensor, p: Tensor) -> tuple[float, float]:
    aggregate = q.mean(dim=0)  # q(z) = (1/N) sum_n q(z | x_n)
    information = (q * (q / aggregate).log()).sum(1).mean().item()
    marginal = (aggregate * (aggregate / p).log()).sum().item()
    return information, marginal


@never_raises
def check_surgery_parts(answer: Callable[[Tensor, Tensor], tuple[float, float]]) -> CheckResult:
    """Exercise (derive): ``surgery_parts(q [N, M], p [M]) -> (mutual_information, marginal_kl)`` for
    a code with M values: the two parts of the average KL term, as Python floats in nats."""
    mistakes = [
        Mistake(
            lambda q, p: ((q * (q / p).log()).sum(1).mean().item(), _surgery(q, p)[1]),
            "Your first number is the whole average KL term, E_x KL(q(z|x) || p(z)). The mutual "
            "information compares each q(z|x) with the aggregate posterior q(z), not with the prior.",
        ),
        Mistake(
            lambda q, p: (_surgery(q, p)[0], (p * (p / q.mean(0)).log()).sum().item()),
            "KL is not symmetric: the marginal part is KL(q(z) || p(z)), the expectation under q(z), not under p(z).",
        ),
        Mistake(
            lambda q, p: (_surgery(q, p)[0] / math.log(2), _surgery(q, p)[1] / math.log(2)),
            "Those are bits: the book measures in nats, with the natural log.",
        ),
        Mistake(
            lambda q, p: ((q * (q / q.mean(0)).log()).sum().item(), _surgery(q, p)[1]),
            "The mutual information averages over the N images (each with weight 1/N); you summed them.",
        ),
        Mistake(
            lambda q, p: _surgery(q, p)[::-1],
            "Right numbers, wrong order: return (mutual_information, marginal_kl).",
        ),
        Mistake(
            lambda q, p: (_surgery(q, p)[0], (q * (q / p).log()).sum(1).mean().item()),
            "Your second number is the whole average KL term again. The marginal part compares the "
            "*average* posterior q(z) with p(z), once; not each q(z|x_n).",
        ),
    ]
    return run_check("surgery_parts", answer, _surgery, _discrete_cases(), mistakes, python_number=True)


# ---------------------------------------------------------------- predict: which prior's samples


#: The three priors of the chapter, as the prediction exercise names them.
PRIOR_NAMES = ("standard", "mixture", "vampprior")


@never_raises
def check_prior_prediction(answer: str | None, confident: Mapping[str, float]) -> CheckResult:
    """Exercise (predict): which prior's samples does the judge label with confidence most often?
    ``confident``: the measured confident share of each prior's samples, keyed by :data:`PRIOR_NAMES`."""
    correct = max(PRIOR_NAMES, key=lambda name: confident[name])
    answer = read_answer("prior_prediction", answer, list(PRIOR_NAMES))
    if isinstance(answer, CheckResult):
        return answer

    def hint(answer):
        if answer == "standard":
            return (
                "Not quite. N(0, I) is where the sampler draws, but not where the encoder put the codes "
                "of real digits: which prior was trained to follow the codes?"
            )
        return (
            f"Not quite: the judge read {confident[answer]:.0%} of the {answer} prior's samples with "
            f"confidence, and {confident[correct]:.0%} of another's. Both learned priors follow the "
            "codes; compare the table's confident shares, then the samples themselves."
        )

    return answer_check("prior_prediction", answer, correct, hint)
