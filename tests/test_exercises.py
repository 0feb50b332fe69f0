"""Each check passes its reference solution, fails known-wrong answers with the
right hint, says "not attempted" for the stub, and never raises."""

import math

import pytest
import torch
import torch.nn.functional as F

from vaelib import exercises, latent
from vaelib.exercises import latent_space


def stub(*args):
    raise NotImplementedError


def crashes(*args):
    return args[0].nonexistent


def assert_common_behaviour(check, solution):
    assert check(solution).passed
    assert check(stub).status == "not attempted" and "not attempted" in repr(check(stub))
    result = check(crashes)
    assert result.status == "fail" and "AttributeError" in result.message
    assert check(42).status == "fail"
    assert repr(check(solution)).endswith(": passed. Well done!")


# -- reconstruction_error ---------------------------------------------------


def reconstruction_solution(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


def test_reconstruction_error_check():
    assert_common_behaviour(exercises.check_reconstruction_error, reconstruction_solution)


def test_reconstruction_error_by_probabilities_meets_log_zero():
    def via_probabilities(x, logits):  # right formula, unstable: log(0) for large logits
        p = torch.sigmoid(logits)
        return -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)

    result = exercises.check_reconstruction_error(via_probabilities)
    assert result.status == "fail" and "inf or NaN" in result.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, logits: reconstruction_solution(x, logits) / 784, "averaged over the 784 pixels"),
        (lambda x, logits: F.binary_cross_entropy_with_logits(logits, x), "averaged over everything"),
        (lambda x, logits: reconstruction_solution(x, logits).mean(), "one number for the whole batch"),
        (lambda x, logits: reconstruction_solution(x, logits).sum(), "summed over the batch"),
        (lambda x, logits: -reconstruction_solution(x, logits), "sign is flipped"),
        (lambda x, logits: ((torch.sigmoid(logits) - x) ** 2).sum(1), "squared error"),
        (lambda x, logits: F.binary_cross_entropy(logits.clamp(0, 1), x, reduction="none").sum(1), "returns logits"),
        (lambda x, logits: torch.zeros(len(x)), "Expected tensor of shape [5]"),
    ],
)
def test_reconstruction_error_hints(wrong, hint):
    result = exercises.check_reconstruction_error(wrong)
    assert result.status == "fail" and hint in result.message


# -- roc_auc ----------------------------------------------------------------


def auc_solution(normal, anomalous):
    diff = anomalous[:, None] - normal[None, :]
    return ((diff > 0).float() + 0.5 * (diff == 0).float()).mean().item()


def test_roc_auc_check():
    assert_common_behaviour(exercises.check_roc_auc, auc_solution)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, a: 1 - auc_solution(n, a), "chance that a *normal* image scores higher"),
        (lambda n, a: (a[:, None] > n[None, :]).float().mean().item(), "ties count as one half"),
        (lambda n, a: (a[:, None] >= n[None, :]).float().mean().item(), "a tie is not a win"),
        (lambda n, a: 0.5, "Expected 0.8"),
    ],
)
def test_roc_auc_hints(wrong, hint):
    result = exercises.check_roc_auc(wrong)
    assert result.status == "fail" and hint in result.message


# -- standardize ------------------------------------------------------------


def standardize_solution(train, test):
    mean, std = train.mean(0), train.std(0)
    return (train - mean) / std, (test - mean) / std


def test_standardize_check():
    assert_common_behaviour(exercises.check_standardize, standardize_solution)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda tr, te: ((tr - tr.mean(0)) / tr.std(0), (te - te.mean(0)) / te.std(0)), "its own mean and std"),
        (lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / tr.std()), "one mean and one std"),
        (lambda tr, te: (tr - tr.mean(0), te - tr.mean(0)), "did not divide"),
        (lambda tr, te: (tr, te), "Expected ("),
    ],
)
def test_standardize_hints(wrong, hint):
    result = exercises.check_standardize(wrong)
    assert result.status == "fail" and hint in result.message


# -- Chapters 2-4 -------------------------------------------------------------


def log_normal_solution(x, mu, sigma):
    return -0.5 * math.log(2 * math.pi) - math.log(sigma) - 0.5 * ((x - mu) / sigma) ** 2


def gaussian_kl_solution(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


def kl_monte_carlo_solution(mu, logvar, n):
    sigma = torch.exp(0.5 * logvar)
    z = mu + sigma * torch.randn(n, *mu.shape)  # [n, B, d]
    log_q = (-0.5 * math.log(2 * math.pi) - 0.5 * logvar - 0.5 * ((z - mu) / sigma) ** 2).sum(-1)
    log_p = (-0.5 * math.log(2 * math.pi) - 0.5 * z**2).sum(-1)
    return (log_q - log_p).mean(dim=0)


def reparameterize_solution(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def dz_dlogvar_solution(logvar, eps):
    return 0.5 * torch.exp(0.5 * logvar) * eps


def score_function_solution(f, mu, sigma, z):
    return (f(z) * (z - mu) / sigma**2).mean().item()


def vae_loss_solution(x, logits, mu, logvar):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
    return (recon + kl).mean()


def log_mean_exp_solution(log_w):
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def warmup_solution(step, warmup_steps, beta):
    return beta * min(1.0, step / warmup_steps)


SOLVED = [
    (exercises.check_log_normal, log_normal_solution),
    (exercises.check_gaussian_kl, gaussian_kl_solution),
    (exercises.check_kl_monte_carlo, kl_monte_carlo_solution),
    (exercises.check_reparameterize, reparameterize_solution),
    (exercises.check_logvar_gradient, dz_dlogvar_solution),
    (exercises.check_score_function, score_function_solution),
    (exercises.check_vae_loss, vae_loss_solution),
    (exercises.check_log_mean_exp, log_mean_exp_solution),
    (exercises.check_kl_warmup, warmup_solution),
]


@pytest.mark.parametrize("check, solution", SOLVED, ids=lambda v: getattr(v, "__name__", ""))
def test_checks_of_chapters_2_to_4(check, solution):
    torch.manual_seed(0)
    assert_common_behaviour(check, solution)


WRONG = [
    (exercises.check_log_normal, lambda x, m, s: log_normal_solution(x, m, s).exp(), "density itself"),
    (exercises.check_log_normal, lambda x, m, s: log_normal_solution(x, m, s) + math.log(s), "-log(sigma)"),
    (exercises.check_log_normal, lambda x, m, s: -math.log(s) - 0.5 * ((x - m) / s) ** 2, "constant -log(2 pi)"),
    (
        exercises.check_log_normal,
        lambda x, m, s: -0.5 * math.log(2 * math.pi) - math.log(s) - 0.5 * (x - m) ** 2 / s,
        "not by sigma",
    ),
    (exercises.check_gaussian_kl, lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv), "sum over the latent"),
    (exercises.check_gaussian_kl, lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).mean(1), "averaged over the latent"),
    (exercises.check_gaussian_kl, lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(1), "factor 1/2"),
    (exercises.check_gaussian_kl, lambda mu, lv: 0.5 * (mu**2 + lv - 1 - lv).sum(1), "not logvar itself"),
    (exercises.check_gaussian_kl, lambda mu, lv: -gaussian_kl_solution(mu, lv), "never negative"),
    (exercises.check_kl_monte_carlo, lambda mu, lv, n: -kl_monte_carlo_solution(mu, lv, n), "sign is flipped"),
    (exercises.check_reparameterize, lambda mu, lv, eps: mu + lv.exp() * eps, "the variance sigma^2"),
    (exercises.check_reparameterize, lambda mu, lv, eps: mu + lv * eps, "not sigma"),
    (exercises.check_reparameterize, lambda mu, lv, eps: mu, "You returned mu"),
    (exercises.check_logvar_gradient, lambda lv, eps: torch.exp(0.5 * lv) * eps, "lost the 1/2"),
    (exercises.check_logvar_gradient, lambda lv, eps: torch.ones_like(lv), "dz/dmu"),
    (exercises.check_score_function, lambda f, mu, s, z: (f(z) * (z - mu) / s).mean().item(), "divide by the variance"),
    (exercises.check_score_function, lambda f, mu, s, z: (2 * z).mean().item(), "pathwise"),
    (
        exercises.check_vae_loss,
        lambda x, logits, mu, lv: F.binary_cross_entropy_with_logits(logits, x) + gaussian_kl_solution(mu, lv).mean(),
        "784 times too small",
    ),
    (
        exercises.check_vae_loss,
        lambda x, logits, mu, lv: vae_loss_solution(x, logits, mu, lv) * len(x),
        "summed over the batch",
    ),
    (
        exercises.check_vae_loss,
        lambda x, logits, mu, lv: F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1).mean(),
        "left out the KL",
    ),
    (exercises.check_log_mean_exp, lambda lw: torch.log(torch.exp(lw).mean(0)), "inf or NaN"),
    (exercises.check_log_mean_exp, lambda lw: torch.logsumexp(lw, 0), "Subtract log(K)"),
    (exercises.check_log_mean_exp, lambda lw: lw.mean(0), "Jensen"),
    (exercises.check_kl_warmup, lambda s, w, b: b * s / w, "cap it at beta"),
    (exercises.check_kl_warmup, lambda s, w, b: min(1.0, s / w), "multiply by beta"),
]


@pytest.mark.parametrize("check, wrong, hint", WRONG)
def test_known_mistakes_of_chapters_2_to_4_get_their_hint(check, wrong, hint):
    torch.manual_seed(0)
    result = check(wrong)
    assert result.status == "fail" and hint in result.message, result.message


# -- Chapters 5 and 6 -----------------------------------------------------------


def lerp_solution(z0, z1, steps):
    t = torch.linspace(0, 1, steps)[:, None]
    return (1 - t) * z0 + t * z1


def slerp_solution(z0, z1, steps):
    t = torch.linspace(0, 1, steps)[:, None]
    u0, u1 = z0 / z0.norm(), z1 / z1.norm()
    omega = torch.arccos((u0 * u1).sum().clamp(-1, 1))
    direction = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
    return direction * ((1 - t) * z0.norm() + t * z1.norm())


def grid_solution(n):
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, n))
    return torch.stack([q.repeat(n), q.flip(0).repeat_interleave(n)], dim=1)


def mig_solution(mi, entropy):
    top = mi.topk(2, dim=0).values
    return ((top[0] - top[1]) / entropy).mean().item()


@pytest.mark.parametrize(
    "check, solution",
    [
        (exercises.check_lerp, lerp_solution),
        (exercises.check_slerp, slerp_solution),
        (exercises.check_quantile_grid, grid_solution),
        (exercises.check_mig_from_mi, mig_solution),
    ],
    ids=["lerp", "slerp", "grid", "mig"],
)
def test_checks_of_chapters_5_and_6(check, solution):
    assert_common_behaviour(check, solution)


@pytest.mark.parametrize(
    "check, wrong, hint",
    [
        (
            exercises.check_lerp,
            lambda z0, z1, n: torch.stack([(1 - t) * z0 + t * z1 for t in torch.arange(n) / n]),
            "one step short",
        ),
        (exercises.check_lerp, lambda z0, z1, n: lerp_solution(z1, z0, n), "runs backwards"),
        (exercises.check_slerp, lerp_solution, "straight line"),
        (
            exercises.check_slerp,
            lambda z0, z1, n: latent.slerp(z0, z1, n) / latent.slerp(z0, z1, n).norm(dim=1, keepdim=True),
            "norm 1",
        ),
        (exercises.check_quantile_grid, lambda n: grid_solution(n)[:, [1, 0]], "swapped"),
        (
            exercises.check_quantile_grid,
            lambda n: torch.stack(
                [torch.linspace(-1.645, 1.645, n).repeat(n), torch.linspace(1.645, -1.645, n).repeat_interleave(n)], 1
            ),
            "evenly spaced",
        ),
        (
            exercises.check_mig_from_mi,
            lambda mi, h: ((mi.max(0).values - mi.min(0).values) / h).mean().item(),
            "two largest",
        ),
        (
            exercises.check_mig_from_mi,
            lambda mi, h: (mi.topk(2, 0).values[0] - mi.topk(2, 0).values[1]).mean().item(),
            "entropy",
        ),
    ],
)
def test_known_mistakes_of_chapters_5_and_6_get_their_hint(check, wrong, hint):
    result = check(wrong)
    assert result.status == "fail" and hint in result.message, result.message


def test_beta_trend_check_reads_the_measured_numbers():
    betas, recon, kl = [0.5, 1, 8], [30.0, 40.0, 60.0], [20.0, 10.0, 3.0]
    assert exercises.check_beta_trend(None, betas, recon, kl).status == "not attempted"
    assert exercises.check_beta_trend({"recon": "up", "kl": "down"}, betas, recon, kl).passed
    wrong = exercises.check_beta_trend({"recon": "down", "kl": "down"}, betas, recon, kl)
    assert wrong.status == "fail" and "recon went from 30.0 (beta = 0.5) to 60.0 (beta = 8)" in wrong.message
    assert "kl went" not in wrong.message
    assert exercises.check_beta_trend({"recon": "up"}, betas, recon, kl).status == "fail"


def test_traversal_factor_check_finds_the_factor_from_the_data():
    grids = torch.meshgrid(torch.arange(3), torch.arange(4), torch.arange(5), indexing="ij")
    factors = torch.stack([g.flatten() for g in grids], dim=1)
    codes = torch.stack([factors[:, 2].float(), factors[:, 0].float()], dim=1)  # latent 0 follows factor "c"
    names = ("a", "b", "c")
    assert exercises.check_traversal_factor(None, codes, factors, 0, names).status == "not attempted"
    assert exercises.check_traversal_factor("c", codes, factors, 0, names).passed
    assert exercises.check_traversal_factor("a", codes, factors, 1, names).passed
    wrong = exercises.check_traversal_factor("b", codes, factors, 0, names)
    assert wrong.status == "fail" and "0.00 nats about b" in wrong.message
    assert "one of" in exercises.check_traversal_factor("size", codes, factors, 0, names).message


def test_the_slerp_check_accepts_shoemakes_classic_form_and_says_how_it_differs():
    result = exercises.check_slerp(latent_space.shoemake_slerp)
    assert result.passed and "Shoemake" in result.message and "|z0| = |z1|" in result.message
    # For two codes of one norm, the classic form and the book's variant are the same path.
    z0, z1 = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    assert torch.allclose(latent_space.shoemake_slerp(z0, z1, 5), latent.slerp(z0, z1, 5), atol=1e-6)


def test_feedback_is_wrapped_to_the_books_column():
    from vaelib.exercises import core

    result = core.CheckResult("reconstruction_error", core.NOT_ATTEMPTED, "Write your code in its cell, " * 4)
    lines = repr(result).split("\n")
    assert len(lines) > 1 and all(len(line) <= core.MESSAGE_WIDTH for line in lines)
    assert " ".join(lines).split() == f"reconstruction_error: not attempted yet. {result.message}".split()
