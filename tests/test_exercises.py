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
    assert ": passed. Well done!" in repr(check(solution))


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
        (lambda x, logits: torch.zeros(len(x)), "At index (0,): expected"),
        (lambda x, logits: reconstruction_solution(x, logits)[:, None], "shape [5]; yours has shape [5, 1]"),
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
        (lambda tr, te: (tr, te), "In value 1 of the 2 you return: At index (0, 0)"),
        (lambda tr, te: standardize_solution(tr, te)[0], "Return 2 values, as a tuple"),
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
    # The hint names what was mispredicted, without giving the answer away.
    assert wrong.status == "fail" and "prediction for recon does not match" in wrong.message
    assert "kl" not in wrong.message.split("match")[0] and "up" not in wrong.message
    assert exercises.check_beta_trend({"recon": "up"}, betas, recon, kl).status == "fail"


def test_uncaptured_factor_check_finds_the_factor_no_latent_tells_about():
    grids = torch.meshgrid(torch.arange(3), torch.arange(4), torch.arange(5), indexing="ij")
    factors = torch.stack([g.flatten() for g in grids], dim=1)
    codes = torch.stack([factors[:, 2].float(), factors[:, 0].float()], dim=1)  # nothing follows "b"
    names = ("a", "b", "c")
    assert exercises.check_uncaptured_factor(None, codes, factors, names).status == "not attempted"
    assert exercises.check_uncaptured_factor(" B", codes, factors, names).passed
    wrong = exercises.check_uncaptured_factor("c", codes, factors, names)
    assert wrong.status == "fail" and "latent z1 tells 100% of what there is to know about c" in wrong.message
    message = exercises.check_uncaptured_factor("size", codes, factors, names).message
    assert 'Answer with "a" or "b" or "c"' in message and "'size'" in message


def test_the_slerp_check_accepts_shoemakes_classic_form_and_says_how_it_differs():
    result = exercises.check_slerp(latent_space.shoemake_slerp)
    assert result.passed and "Shoemake" in result.message and "|z0| = |z1|" in result.message
    # For two codes of one norm, the classic form and the book's variant are the same path.
    z0, z1 = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    assert torch.allclose(latent_space.shoemake_slerp(z0, z1, 5), latent.slerp(z0, z1, 5), atol=1e-6)


# -- chapter 7 ------------------------------------------------------------------------


class TinyCVAE(torch.nn.Module):
    """The solution of chapter 7's first exercise."""

    def __init__(self, latent_dim=4, label_first=False, decoder_sees_label=True):
        super().__init__()
        self.label_first = label_first
        self.decoder_sees_label = decoder_sees_label
        self.hidden = torch.nn.Linear(794, 400)
        self.to_mu, self.to_logvar = torch.nn.Linear(400, latent_dim), torch.nn.Linear(400, latent_dim)
        self.decoder_hidden = torch.nn.Linear(latent_dim + 10 * decoder_sees_label, 400)
        self.decoder_out = torch.nn.Linear(400, 784)

    def forward(self, x, y, eps):
        label = torch.nn.functional.one_hot(y, 10).float()
        inputs = [label, x] if self.label_first else [x, label]
        h = torch.relu(self.hidden(torch.cat(inputs, 1)))
        mu, logvar = self.to_mu(h), self.to_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        code = torch.cat([z, label], 1) if self.decoder_sees_label else z
        return self.decoder_out(torch.relu(self.decoder_hidden(code))), mu, logvar


def test_the_cvae_module_check_passes_the_solution_and_points_at_the_half_that_is_wrong():
    assert exercises.check_cvae_module(TinyCVAE).passed

    class LabelFirst(TinyCVAE):
        def __init__(self, latent_dim=4):
            super().__init__(latent_dim, label_first=True)

    class BlindDecoder(TinyCVAE):
        def __init__(self, latent_dim=4):
            super().__init__(latent_dim, decoder_sees_label=False)

    wrong = exercises.check_cvae_module(LabelFirst)
    assert wrong.status == "fail" and wrong.message.startswith("In mu:") and "after the 784 pixels" in wrong.message
    blind = exercises.check_cvae_module(BlindDecoder)
    assert (
        blind.status == "fail"
        and "decoder_hidden maps 6 inputs to 400 outputs; it should map 16" in blind.message
        and "10 inputs" in blind.message
    )
    assert "Pass your class itself" in exercises.check_cvae_module(TinyCVAE(4)).message


def conditional_kl_solution(mu, logvar, prior_means, y):
    return 0.5 * ((mu - prior_means[y]) ** 2 + logvar.exp() - 1 - logvar).sum(1)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mu, lv, m, y: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(1), "chapter 4's KL"),
        (lambda mu, lv, m, y: conditional_kl_solution(mu, lv, m, torch.zeros_like(y)), "prior_means[y]"),
        (lambda mu, lv, m, y: 2 * conditional_kl_solution(mu, lv, m, y), "1/2 in front"),
        (lambda mu, lv, m, y: conditional_kl_solution(mu, lv, m, y) / mu.shape[1], "Sum over the latent"),
    ],
)
def test_the_conditional_kl_check_passes_the_solution_and_names_known_mistakes(wrong, hint):
    assert exercises.check_conditional_kl(conditional_kl_solution).passed
    result = exercises.check_conditional_kl(wrong)
    assert result.status == "fail" and hint in result.message, result.message


def test_the_probe_prediction_is_judged_by_the_run(monkeypatch):
    from vaelib.exercises import conditional

    runs = {"lower": {"VAE": 0.45, "CVAE": 0.25}, "about the same": {"VAE": 0.45, "CVAE": 0.43}}
    for truth, measured in runs.items():
        monkeypatch.setattr(conditional, "probe_experiment", lambda *args, m=measured: m)
        assert exercises.check_probe_prediction(truth, None, None, None, None).passed
        wrong = exercises.check_probe_prediction("higher", None, None, None, None)
        assert wrong.status == "fail" and f"VAE codes {measured['VAE']:.0%}" in wrong.message


def test_the_probe_experiment_trains_both_models_on_labelled_images():
    x = torch.rand(200, 784, generator=torch.Generator().manual_seed(0))
    y = torch.arange(200) % 10
    accuracy = exercises.conditional.probe_experiment(x, y, x[:50], y[:50], epochs=1)
    assert set(accuracy) == {"VAE", "CVAE"} and all(0 <= a <= 1 for a in accuracy.values())


def test_feedback_is_wrapped_to_the_books_column():
    from vaelib.exercises import core

    result = core.CheckResult("reconstruction_error", core.NOT_ATTEMPTED, "Write your code in its cell, " * 4)
    lines = repr(result).split("\n")
    assert len(lines) > 1 and all(len(line) <= core.MESSAGE_WIDTH for line in lines)
    assert " ".join(lines).split() == f"reconstruction_error: not attempted yet. {result.message}".split()


# -- every check, handed anything ----------------------------------------------


def _images(n, seed):
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))


def _context(name):
    """The extra arguments a check needs besides the answer (data of its experiment)."""
    labels = torch.arange(300) % 10
    contexts = {
        "check_code_size_prediction": (_images(300, 1), labels, _images(100, 2), labels[:100]),
        "check_mse_sigma_prediction": (_images(300, 1), _images(100, 2)),
        "check_beta_spread_prediction": (_images(300, 1), _images(100, 2)),
        "check_probe_prediction": (_images(300, 1), labels, _images(100, 2), labels[:100]),
        "check_beta_trend": ([0.5, 1.0, 2.0], [30.0, 35.0, 40.0], [15.0, 11.0, 8.0]),
        "check_uncaptured_factor": (
            torch.randn(60, 3),
            torch.stack([torch.arange(60) % 3, torch.arange(60) % 4], 1),
            ["shape", "x"],
        ),
    }
    return contexts.get(name, ())


def _raises_value_error(*args):
    raise ValueError("a bug of the student's")


BAD_ANSWERS = {
    "None": None,
    "a function that forgot return": lambda *args: None,
    "a function that raises": _raises_value_error,
    "a number": 42,
    "a string in odd case": "  Up ",
    "a function returning a string": lambda *args: "up",
    "a function returning the wrong shape": lambda *args: torch.zeros(3, 3),
    "a function returning NaN": lambda *args: torch.full((1,), float("nan")),
    "a function returning a list": lambda *args: [1.0, 2.0],
    "a dict with other keys": {"a": "up"},
    "a class that cannot be built": type("Broken", (), {"__init__": _raises_value_error}),
}

CHECKS = [name for name in exercises.__all__ if name.startswith("check_")]


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("label", list(BAD_ANSWERS))
def test_no_check_ever_raises_and_every_failure_reads_as_feedback(name, label):
    """Whatever a student hands in, the check returns a readable failure (or "not attempted")."""
    result = getattr(exercises, name)(BAD_ANSWERS[label], *_context(name))
    assert isinstance(result, exercises.CheckResult)
    assert result.status in {"fail", "not attempted"}, f"{name} accepted {label}: {result}"
    text = repr(result)
    assert len(result.message) > 15 and "Traceback" not in text and "could not be checked" not in text, text


def test_feedback_on_a_tensor_shows_the_first_entry_that_differs_with_its_index():
    def almost(z0, z1, steps):
        path = latent.slerp(z0, z1, steps)
        path[2, 1] += 1.0
        return path

    message = exercises.check_slerp(almost).message
    assert "index (2, 1)" in message and "1 of" in message


def test_a_function_that_raises_is_shown_with_its_line():
    def lerp(z0, z1, steps):
        t = torch.linspace(0, 1, steps)
        return (1 - t) * z0 + t * z1  # forgot [:, None]: shapes do not broadcast

    message = exercises.check_lerp(lerp).message
    assert "RuntimeError" in message and "return (1 - t) * z0 + t * z1" in message


def test_written_answers_ignore_case_and_spaces():
    assert exercises.check_beta_trend({"Recon": " UP", "kl": "Down "}, [1, 2], [1.0, 2.0], [3.0, 2.0]).passed


def test_the_standardize_check_accepts_the_population_standard_deviation():
    def population(train, test):
        mean, std = train.mean(0), train.std(0, unbiased=False)
        return (train - mean) / std, (test - mean) / std

    result = exercises.check_standardize(population)
    assert result.passed and "unbiased=False" in result.message


def test_the_monte_carlo_check_wants_samples_and_uses_n():
    from vaelib import gaussian

    exact = exercises.check_kl_monte_carlo(lambda mu, logvar, n: gaussian.gaussian_kl(mu, logvar))
    assert not exact.passed and "closed form" in exact.message

    def fixed_n(mu, logvar, n):  # ignores n: always 100,000 samples
        z = gaussian.reparameterize(mu.expand(100_000, -1, -1), logvar.expand(100_000, -1, -1))
        return (gaussian.log_normal_diag(z, mu, logvar) - gaussian.log_standard_normal(z)).mean(0)

    ignored = exercises.check_kl_monte_carlo(fixed_n)
    assert not ignored.passed and "more samples" in ignored.message


def test_the_kl_sign_hint_points_at_the_sign_of_the_kl():
    from vaelib import losses

    def minus_kl(x, logits, mu, logvar):
        parts = losses.vae_loss(x, logits, mu, logvar)
        return parts["recon"] - parts["kl"]

    message = exercises.check_vae_loss(minus_kl).message
    assert "wrong sign" in message and "never negative" in message


# -- the new exercises: each passes its solution and names its known mistakes ------


def training_step_solution(model, optimizer, batch):
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="none").sum(1).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def _step(zero_grad=True, step=True, pixel_mean=False):
    def run(model, optimizer, batch):
        if zero_grad:
            optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="none")
        loss = loss.mean() if pixel_mean else loss.sum(1).mean()
        loss.backward()
        if step:
            optimizer.step()
        return loss.item()

    return run


@pytest.mark.parametrize(
    "wrong, hint",
    [(_step(zero_grad=False), "zero_grad"), (_step(step=False), "optimizer.step()"), (_step(pixel_mean=True), "784")],
)
def test_training_step_check(wrong, hint):
    assert_common_behaviour(exercises.check_training_step, training_step_solution)
    result = exercises.check_training_step(wrong)
    assert result.status == "fail" and hint in result.message


def test_bce_floor_check():
    solution = lambda x: -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x)).sum(1)  # noqa: E731
    assert_common_behaviour(exercises.check_bce_floor, solution)
    naive = exercises.check_bce_floor(lambda x: -(x * x.log() + (1 - x) * (1 - x).log()).sum(1))
    assert "xlogy" in naive.message
    assert "derivative" in exercises.check_bce_floor(lambda x: torch.zeros(len(x))).message


def test_kl_two_gaussians_check():
    def solution(m1, s1, m2, s2):
        return torch.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5

    assert_common_behaviour(exercises.check_kl_two_gaussians, solution)
    assert "other direction" in exercises.check_kl_two_gaussians(lambda a, b, c, d: solution(c, d, a, b)).message
    assert "-1/2" in exercises.check_kl_two_gaussians(lambda *a: solution(*a) + 0.5).message


def test_vae_module_check():
    import torch.nn as nn

    class TinyVAE(nn.Module):
        def __init__(self, latent_dim=20):
            super().__init__()
            self.hidden = nn.Linear(784, 400)
            self.to_mu, self.to_logvar = nn.Linear(400, latent_dim), nn.Linear(400, latent_dim)
            self.decoder_hidden, self.decoder_out = nn.Linear(latent_dim, 400), nn.Linear(400, 784)

        def forward(self, x, eps):
            h = F.relu(self.hidden(x))
            mu, logvar = self.to_mu(h), self.to_logvar(h)
            z = mu + torch.exp(0.5 * logvar) * eps
            return self.decoder_out(F.relu(self.decoder_hidden(z))), mu, logvar

        def loss(self, x, eps):
            logits, mu, logvar = self(x, eps)
            recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
            return (recon + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)).mean()

    class VarianceForSigma(TinyVAE):
        def forward(self, x, eps):
            h = F.relu(self.hidden(x))
            mu, logvar = self.to_mu(h), self.to_logvar(h)
            return self.decoder_out(F.relu(self.decoder_hidden(mu + logvar.exp() * eps))), mu, logvar

    class MeanOverPixels(TinyVAE):
        def loss(self, x, eps):
            logits, mu, logvar = self(x, eps)
            return (
                F.binary_cross_entropy_with_logits(logits, x) + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1).mean()
            )

    assert exercises.check_vae_module(TinyVAE).passed
    assert "In the logits" in exercises.check_vae_module(VarianceForSigma).message
    assert "In the loss" in exercises.check_vae_module(MeanOverPixels).message
    assert "Pass your class itself" in exercises.check_vae_module(TinyVAE(4)).message


def test_gaussian_nll_check():
    def solution(x, x_hat, sigma):
        return ((x - x_hat) ** 2).sum(1) / (2 * sigma**2) + 0.5 * x.shape[1] * math.log(2 * math.pi * sigma**2)

    assert_common_behaviour(exercises.check_gaussian_nll, solution)
    no_constant = exercises.check_gaussian_nll(lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2))
    assert "normalizer" in no_constant.message


def test_midpoint_norm_and_expected_mig_checks():
    assert_common_behaviour(exercises.check_midpoint_norm, lambda w: torch.cos(w / 2))
    assert "square root" in exercises.check_midpoint_norm(lambda w: (1 + torch.cos(w)) / 2).message
    assert_common_behaviour(exercises.check_expected_mig, lambda k, dup: (k - dup) / k)
    assert "metrics.mig agrees" in exercises.check_expected_mig(lambda k, dup: (k - dup) / k).message
    assert "same mutual information" in exercises.check_expected_mig(lambda k, dup: 1.0).message


def test_prediction_checks_compare_with_the_run():
    assert exercises.check_samples_prediction(100).passed
    ten = exercises.check_samples_prediction(10)
    assert not ten.passed and "more samples" in ten.message and "Measured" in ten.message
    assert exercises.check_constant_shift_prediction({"score": "up", "reparam": "same"}).passed
    assert not exercises.check_constant_shift_prediction({"score": "same", "reparam": "same"}).passed


def test_kind_names_a_value_with_the_right_article():
    from vaelib.exercises import core

    assert core.kind(3) == "an int" and core.kind("up") == "a str" and core.kind(None) == "None"
    assert core.kind(torch.zeros(2, 3)) == "a tensor of shape [2, 3]"
