"""Each check passes its reference solution, fails known-wrong answers with the
right hint, says "not attempted" for the stub, and never raises.

The heart of the file is a catalogue: every exercise of chapters 1 to 7 answered
wrong the way students answer it (a missing return, the wrong sign, a mean for a
sum, sigmoid then BCE, a detached sample, degrees for radians, ...), each with the
phrase its hint must contain.  Then come the notebooks' own solutions, run
against their checks without running the notebooks.
"""

import ast
import json
import math
import re
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import REPO

from vaelib import exercises, gaussian, latent, losses, settings
from vaelib.exercises import compare, latent_space, results, student_code


@pytest.fixture(autouse=True)
def a_fresh_session():
    """Every test starts with no failed tries counted (hints give the idea, not yet the formula)."""
    results.reset_attempts()
    yield
    results.reset_attempts()


def stub(*args):
    raise NotImplementedError


def crashes(*args):
    return args[0].nonexistent


def assert_common_behaviour(check, solution):
    assert check(solution).passed, check(solution)
    assert check(stub).status == "not attempted" and "not attempted" in repr(check(stub))
    result = check(crashes)
    assert result.status == "fail" and "AttributeError" in result.message
    assert check(42).status == "fail"
    assert ": passed. Well done!" in repr(check(solution))


# -- the reference solutions --------------------------------------------------------


def reconstruction_solution(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


def auc_solution(normal, anomalous):
    diff = anomalous[:, None] - normal[None, :]
    return ((diff > 0).float() + 0.5 * (diff == 0).float()).mean().item()


def standardize_solution(train, test):
    mean, std = train.mean(0), train.std(0)
    eps = 1e-6  # a pixel that is always 0 has std 0
    return (train - mean) / (std + eps), (test - mean) / (std + eps)


def training_step_solution(model, optimizer, batch):
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="none").sum(1).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def bce_floor_solution(x):
    return -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x)).sum(1)


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


def kl_two_solution(m1, s1, m2, s2):
    return torch.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def reparameterize_solution(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def dz_ds_solution(s, eps):
    return torch.sigmoid(s) * eps


def score_function_solution(f, mu, sigma, z):
    return (f(z) * (z - mu) / sigma**2).mean().item()


def vae_loss_solution(x, logits, mu, logvar):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
    return (recon + kl).mean()


def log_mean_exp_solution(log_w):
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def warmup_solution(step, warmup_steps, beta):
    if warmup_steps == 0:
        return beta
    return beta * min(1.0, step / warmup_steps)


def gaussian_nll_solution(x, x_hat, sigma):
    return ((x - x_hat) ** 2).sum(1) / (2 * sigma**2) + 0.5 * x.shape[1] * math.log(2 * math.pi * sigma**2)


def elbo_solution(x, w, b, s, m, t):
    squared = (x - b - w * m) ** 2 + w**2 * t**2
    return -0.5 * torch.log(2 * math.pi * s**2) - squared / (2 * s**2) - 0.5 * (m**2 + t**2 - 1 - torch.log(t**2))


def posterior_kl_solution(x, w, b, s, m, t):
    mean, std = w * (x - b) / (w**2 + s**2), torch.sqrt(s**2 / (w**2 + s**2))
    return kl_two_solution(m, t, mean, std)


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


def conditional_kl_solution(mu, logvar, prior_means, y):
    return 0.5 * ((mu - prior_means[y]) ** 2 + logvar.exp() - 1 - logvar).sum(1)


class TinyVAE(nn.Module):
    """The solution of chapter 4's exercise 4; its variants below are students' mistakes."""

    def __init__(self, latent_dim=20):
        super().__init__()
        self.hidden = nn.Linear(784, 400)
        self.to_mu, self.to_logvar = nn.Linear(400, latent_dim), nn.Linear(400, latent_dim)
        self.decoder_hidden, self.decoder_out = nn.Linear(latent_dim, 400), nn.Linear(400, 784)

    def encode(self, x):
        h = F.relu(self.hidden(x))
        return self.to_mu(h), self.to_logvar(h)

    def sample(self, mu, logvar, eps):
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z):
        return self.decoder_out(F.relu(self.decoder_hidden(z)))

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        return self.decode(self.sample(mu, logvar, eps)), mu, logvar

    def kl(self, mu, logvar):
        return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)

    def loss(self, x, eps):
        logits, mu, logvar = self(x, eps)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        return (recon + self.kl(mu, logvar)).mean()


def tiny_vae(**methods):
    """A TinyVAE with some methods written otherwise: a student's variant."""
    return type("TinyVAE", (TinyVAE,), methods)


class TinyCVAE(nn.Module):
    """The solution of chapter 7's first exercise."""

    def __init__(self, latent_dim=4, label_first=False, decoder_sees_label=True):
        super().__init__()
        self.label_first = label_first
        self.decoder_sees_label = decoder_sees_label
        self.hidden = nn.Linear(794, 400)
        self.to_mu, self.to_logvar = nn.Linear(400, latent_dim), nn.Linear(400, latent_dim)
        self.decoder_hidden = nn.Linear(latent_dim + 10 * decoder_sees_label, 400)
        self.decoder_out = nn.Linear(400, 784)

    def forward(self, x, y, eps):
        label = F.one_hot(y, 10).float()
        inputs = [label, x] if self.label_first else [x, label]
        h = torch.relu(self.hidden(torch.cat(inputs, 1)))
        mu, logvar = self.to_mu(h), self.to_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        code = torch.cat([z, label], 1) if self.decoder_sees_label else z
        return self.decoder_out(torch.relu(self.decoder_hidden(code))), mu, logvar


class LabelFirst(TinyCVAE):
    def __init__(self, latent_dim=4):
        super().__init__(latent_dim, label_first=True)


class BlindDecoder(TinyCVAE):
    def __init__(self, latent_dim=4):
        super().__init__(latent_dim, decoder_sees_label=False)


def tiny_cvae(sample=None, encoder_relu=True, decoder_relu=True, sigmoid=False, layers=None):
    """A TinyCVAE written otherwise: its own sample (from mu, logvar, eps), a ReLU left out, a
    sigmoid at the end, or some layers of its own (``layers``: name -> a function of latent_dim)."""

    class Variant(TinyCVAE):
        def __init__(self, latent_dim=4):
            super().__init__(latent_dim)
            for name, make in (layers or {}).items():
                setattr(self, name, make(latent_dim))

        def forward(self, x, y, eps):
            label = F.one_hot(y, 10).float()
            h = self.hidden(torch.cat([x, label], 1))
            h = torch.relu(h) if encoder_relu else h
            mu, logvar = self.to_mu(h), self.to_logvar(h)
            z = sample(mu, logvar, eps) if sample else mu + torch.exp(0.5 * logvar) * eps
            h = self.decoder_hidden(torch.cat([z, label], 1))
            logits = self.decoder_out(torch.relu(h) if decoder_relu else h)
            return (torch.sigmoid(logits) if sigmoid else logits), mu, logvar

    return Variant


def _sequential_hidden(inputs):
    """A student's reading of "hidden: 784 -> 400, followed by a ReLU": the ReLU inside the layer."""

    def init(self, latent_dim=20):
        TinyVAE.__init__(self, latent_dim)
        self.hidden = nn.Sequential(nn.Linear(inputs, 400), nn.ReLU())

    return init


def _sigmoid_bce_loss(self, x, eps):
    logits, mu, logvar = self(x, eps)
    recon = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").sum(1)
    return (recon + self.kl(mu, logvar)).mean()


def _no_bias_out(self, latent_dim=20):
    TinyVAE.__init__(self, latent_dim)
    self.decoder_out = nn.Linear(400, 784, bias=False)


def _kl_from_items(mu, logvar, prior_means, y):
    """A KL rebuilt from numbers: right values, no gradient."""
    out = [
        conditional_kl_solution(mu[i : i + 1], logvar[i : i + 1], prior_means, y[i : i + 1]).item()
        for i in range(len(mu))
    ]
    return torch.tensor(out)


def mixture_solution(z, means, logvars, logits):
    per_component = -0.5 * (math.log(2 * math.pi) + logvars + (z[:, None, :] - means) ** 2 / logvars.exp()).sum(-1)
    return torch.logsumexp(F.log_softmax(logits, dim=0) + per_component, dim=1)


def surgery_solution(q, p):
    aggregate = q.mean(dim=0)
    information = (q * torch.log(q / aggregate)).sum(dim=1).mean()
    marginal = (aggregate * torch.log(aggregate / p)).sum()
    return information.item(), marginal.item()


def _student_components(z, means, logvars):
    """A student's per-component Gaussian log-density, written out: [B, K]."""
    return -0.5 * (math.log(2 * math.pi) + logvars + (z[:, None, :] - means) ** 2 / logvars.exp()).sum(-1)


SOLVED = {
    "check_reconstruction_error": reconstruction_solution,
    "check_roc_auc": auc_solution,
    "check_standardize": standardize_solution,
    "check_training_step": training_step_solution,
    "check_bce_floor": bce_floor_solution,
    "check_log_normal": log_normal_solution,
    "check_gaussian_kl": gaussian_kl_solution,
    "check_kl_monte_carlo": kl_monte_carlo_solution,
    "check_kl_two_gaussians": kl_two_solution,
    "check_reparameterize": reparameterize_solution,
    "check_softplus_gradient": dz_ds_solution,
    "check_score_function": score_function_solution,
    "check_vae_loss": vae_loss_solution,
    "check_log_mean_exp": log_mean_exp_solution,
    "check_kl_warmup": warmup_solution,
    "check_gaussian_nll": gaussian_nll_solution,
    "check_lerp": lerp_solution,
    "check_slerp": slerp_solution,
    "check_quantile_grid": grid_solution,
    "check_midpoint_norm": lambda w: torch.cos(w / 2),
    "check_mig_from_mi": mig_solution,
    "check_expected_mig": lambda k, dup: (k - dup) / k,
    "check_conditional_kl": conditional_kl_solution,
    "check_mixture_log_prob": mixture_solution,
    "check_surgery_parts": surgery_solution,
}


@pytest.mark.parametrize("name", SOLVED)
def test_each_check_passes_its_solution_and_says_not_attempted_for_the_stub(name):
    torch.manual_seed(0)
    assert_common_behaviour(getattr(exercises, name), SOLVED[name])


def test_the_class_checks_pass_their_solutions():
    assert exercises.check_vae_module(TinyVAE).passed
    assert exercises.check_cvae_module(TinyCVAE).passed
    assert exercises.check_vae_module(tiny_vae(forward=stub)).status == "not attempted"


def test_the_elbo_identity_check_passes_the_solution_and_verifies_the_identity():
    check = exercises.check_elbo_identity
    result = check(elbo_solution, posterior_kl_solution)
    assert (
        result.passed and "equals log N(x; b, w^2 + s^2)" in result.message and "the bound is tight" in result.message
    )
    assert check(stub, stub).status == "not attempted"
    half_done = check(elbo_solution, stub)  # the ELBO written, the KL not yet
    assert half_done.status == "not attempted" and "Your elbo is right. Now write posterior_kl" in half_done.message
    assert "In elbo: Your function raised AttributeError" in check(crashes, posterior_kl_solution).message
    assert "In posterior_kl: Your function raised AttributeError" in check(elbo_solution, crashes).message
    assert "Pass your function posterior_kl itself" in check(elbo_solution, 42).message
    # The identity itself, on the reference formulas: log p(x) = ELBO + KL(q || p(z | x)),
    # tight when q is the posterior; the ELBO is below log p(x) for every other q.
    x, w, b, s = torch.tensor([1.5]), torch.tensor([2.0]), torch.tensor([0.3]), torch.tensor([0.5])
    log_px = torch.distributions.Normal(b, torch.sqrt(w**2 + s**2)).log_prob(x)
    mean, std = w * (x - b) / (w**2 + s**2), torch.sqrt(s**2 / (w**2 + s**2))
    for m, t in [(mean, std), (torch.tensor([0.0]), torch.tensor([1.0])), (mean + 0.5, std * 2)]:
        total = elbo_solution(x, w, b, s, m, t) + posterior_kl_solution(x, w, b, s, m, t)
        assert torch.allclose(total, log_px, atol=1e-5)
    assert torch.allclose(elbo_solution(x, w, b, s, mean, std), log_px, atol=1e-5)
    assert elbo_solution(x, w, b, s, mean + 0.5, std) < log_px - 0.1


# -- the catalogue: every exercise answered wrong, as students answer it ---------------
#
# Each entry: what the student did, the answer (a function, a class, or a tuple of the
# arguments for a check that takes several), and the phrases its hint must contain.


def _sig_bce(x, logits, reduction="none"):
    return F.binary_cross_entropy(torch.sigmoid(logits), x, reduction=reduction)


def _step(order="zfbs", returns="item", loss="bce", zero=None):
    """A training step: its parts in ``order`` (zero_grad, forward, backward, step), what it
    returns, its loss (bce, mse, pixel-mean, batch-sum), and model.zero_grad for "m"."""

    def run(model, optimizer, batch):
        value = None
        for part in order:
            if part == "z":
                optimizer.zero_grad()
            elif part == "m":
                model.zero_grad()
            elif part == "f":
                logits = model(batch)
                per_pixel = (
                    (torch.sigmoid(logits) - batch) ** 2
                    if loss == "mse"
                    else F.binary_cross_entropy_with_logits(logits, batch, reduction="none")
                )
                value = {"pixel-mean": per_pixel.mean(), "batch-sum": per_pixel.sum()}.get(
                    loss, per_pixel.sum(1).mean()
                )
            elif part == "b":
                value.backward()
            elif part == "s":
                optimizer.step()
        return {"item": value.item(), "tensor": value, "nothing": None}[returns]

    return run


def _mc(sample_var=False, logq_var=False, reduce="sum"):
    """A Monte Carlo KL estimate, maybe with the variance as sigma, maybe badly reduced."""

    def estimate(mu, logvar, n):
        sigma = logvar.exp() if sample_var else (0.5 * logvar).exp()
        z = mu + sigma * torch.randn(n, *mu.shape)
        s_q = logvar.exp() if logq_var else (0.5 * logvar).exp()
        diff = (-torch.log(s_q) - 0.5 * ((z - mu) / s_q) ** 2) - (-0.5 * z**2)
        return {"sum": diff.sum(-1).mean(0), "none": diff.mean(0), "dim-mean": diff.mean(-1).mean(0)}.get(
            reduce, diff.sum(-1).mean()
        )

    return estimate


def _vae_loss(recon="sum", kl="sum", batch="mean", kl_fn=None, through_sigmoid=False):
    def loss(x, logits, mu, logvar):
        if through_sigmoid:
            r = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none")
        else:
            r = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        k = kl_fn(mu, logvar) if kl_fn else 0.5 * (mu**2 + logvar.exp() - 1 - logvar)
        r = r.mean(1) if recon == "mean" else r.sum(1)
        k = k.mean(1) if kl == "mean" else k.sum(1)
        total = r + k
        return total.sum() if batch == "sum" else total.mean()

    return loss


def _elbo(sign=-1, var_term=True, t_as_var=False, s_as_var=False, two_pi=True, normalizer=True):
    def elbo(x, w, b, s, m, t):
        tt, ss = (t if t_as_var else t**2), (s if s_as_var else s**2)
        squared = (x - b - w * m) ** 2 + (w**2 * tt if var_term else 0)
        log_norm = -0.5 * torch.log((2 * math.pi if two_pi else 1.0) * ss) if normalizer else 0
        return log_norm - squared / (2 * ss) + sign * 0.5 * (m**2 + tt - 1 - torch.log(tt))

    return elbo


def _posterior(x, w, b, s):
    return w * (x - b) / (w**2 + s**2), torch.sqrt(s**2 / (w**2 + s**2))


def _book_slerp(**options):
    return lambda z0, z1, n: latent_space._book_slerp(z0, z1, n, **options)


def _grid(flip_z1=False, flip_z2=True, swap=False, probabilities=(0.05, 0.95)):
    def grid(n):
        q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(*probabilities, n))
        a, b = (q.flip(0) if flip_z1 else q), (q.flip(0) if flip_z2 else q)
        codes = torch.stack([a.repeat(n), b.repeat_interleave(n)], dim=1)
        return codes[:, [1, 0]] if swap else codes

    return grid


def _meshgrid(indexing):
    def grid(n):
        q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, n))
        return torch.stack([g.flatten() for g in torch.meshgrid(q, q.flip(0), indexing=indexing)], 1)

    return grid


L2P = math.log(2 * math.pi)


def _nll_with_d(pixels):
    """The Gaussian NLL with the constant counted over ``pixels(x)`` pixels."""
    return lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2) + 0.5 * pixels(x) * math.log(2 * math.pi * s**2)


STUDENT_ANSWERS = {
    "check_reconstruction_error": [
        ("sigmoid then BCE, summed per image", lambda x, lg: _sig_bce(x, lg).sum(1), "sigmoid then BCE"),
        (
            "sigmoid then BCE with the default mean",
            lambda x, lg: _sig_bce(x, lg, "mean"),
            ("Two mistakes", "averaged over everything", "sigmoid then BCE"),
        ),
        (
            "sigmoid then BCE, mean per image",
            lambda x, lg: _sig_bce(x, lg).mean(1),
            ("Two mistakes", "averaged over the 784 pixels", "sigmoid then BCE"),
        ),
        (
            "sigmoid then a log with an epsilon",
            lambda x, lg: (
                -(x * torch.log(torch.sigmoid(lg) + 1e-8) + (1 - x) * torch.log(1 - torch.sigmoid(lg) + 1e-8)).sum(1)
            ),
            "sigmoid then BCE",
        ),
        (
            "sigmoid then a log, no epsilon",
            lambda x, lg: -(x * torch.sigmoid(lg).log() + (1 - x) * (1 - torch.sigmoid(lg)).log()).sum(1),
            "inf or NaN",
        ),
        ("averaged over pixels", lambda x, lg: reconstruction_solution(x, lg) / 784, "averaged over the 784 pixels"),
        (
            "mean over dim 1",
            lambda x, lg: F.binary_cross_entropy_with_logits(lg, x, reduction="none").mean(1),
            "averaged over the 784 pixels",
        ),
        ("the default reduction", lambda x, lg: F.binary_cross_entropy_with_logits(lg, x), "averaged over everything"),
        ("mean over the batch", lambda x, lg: reconstruction_solution(x, lg).mean(), "one number for the whole batch"),
        (
            "reduction='sum'",
            lambda x, lg: F.binary_cross_entropy_with_logits(lg, x, reduction="sum"),
            "summed over the batch",
        ),
        (
            "summed over dim 0",
            lambda x, lg: F.binary_cross_entropy_with_logits(lg, x, reduction="none").sum(0),
            "summed over the images (dim 0)",
        ),
        ("the sign flipped", lambda x, lg: -reconstruction_solution(x, lg), "sign is flipped"),
        (
            "arguments swapped",
            lambda x, lg: F.binary_cross_entropy_with_logits(x, lg, reduction="none").sum(1),
            "arguments are swapped",
        ),
        ("squared error of probabilities", lambda x, lg: ((torch.sigmoid(lg) - x) ** 2).sum(1), "squared error"),
        ("squared error of logits", lambda x, lg: ((lg - x) ** 2).sum(1), "squared error"),
        ("softmax cross-entropy", lambda x, lg: F.cross_entropy(lg, x, reduction="none"), "softmax cross-entropy"),
        (
            "a sigmoid before the with-logits loss",
            lambda x, lg: F.binary_cross_entropy_with_logits(torch.sigmoid(lg), x, reduction="none").sum(1),
            "applies its own",
        ),
        (
            "logits clamped as probabilities",
            lambda x, lg: F.binary_cross_entropy(lg.clamp(0, 1), x, reduction="none").sum(1),
            "returns logits",
        ),
        ("no return", lambda x, lg: None, "forget to `return`"),
        ("shape [B, 1]", lambda x, lg: reconstruction_solution(x, lg)[:, None], "shape [3]; yours has shape [3, 1]"),
        ("zeros", lambda x, lg: torch.zeros(len(x)), "At index (0,): expected"),
    ],
    "check_roc_auc": [
        ("the normal image's chance", lambda n, a: 1 - auc_solution(n, a), "chance that a *normal* image"),
        ("ties ignored (>)", lambda n, a: (a[:, None] > n[None, :]).float().mean().item(), "ties count as one half"),
        ("ties won (>=)", lambda n, a: (a[:, None] >= n[None, :]).float().mean().item(), "a tie is not a win"),
        ("a threshold at the normal mean", lambda n, a: (a > n.mean()).float().mean().item(), "one threshold"),
        ("a threshold at the normal median", lambda n, a: (a > n.median()).float().mean().item(), "one threshold"),
        (
            "a 0-d tensor, no .item()",
            lambda n, a: ((a[:, None] > n).float() + 0.5 * (a[:, None] == n).float()).mean(),
            ("Return a Python float", ".item()"),
        ),
        ("no mean: the matrix", lambda n, a: (a[:, None] > n[None, :]).float(), "Return one number"),
        ("a constant", lambda n, a: 0.5, "Expected 0.8"),
        ("no return", lambda n, a: None, "forget to `return`"),
    ],
    "check_standardize": [
        (
            "the test set's own statistics",
            lambda tr, te: ((tr - tr.mean(0)) / tr.std(0), (te - te.mean(0)) / te.std(0)),
            "its own mean and std",
        ),
        (
            "one mean and std for all",
            lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / tr.std()),
            "one mean",
        ),
        ("not divided", lambda tr, te: (tr - tr.mean(0), te - tr.mean(0)), "did not divide"),
        (
            "divided by the variance",
            lambda tr, te: ((tr - tr.mean(0)) / tr.var(0), (te - tr.mean(0)) / tr.var(0)),
            "divided by the variance",
        ),
        ("not centred", lambda tr, te: (tr / tr.std(0), te / tr.std(0)), "did not subtract the mean"),
        (
            "statistics of both sets together",
            lambda tr, te: tuple((a - torch.cat([tr, te]).mean(0)) / torch.cat([tr, te]).std(0) for a in (tr, te)),
            "training and test sets together",
        ),
        (
            "per image (dim 1)",
            lambda tr, te: tuple((a - a.mean(1, keepdim=True)) / a.std(1, keepdim=True) for a in (tr, te)),
            "per image (per row, dim=1)",
        ),
        ("unchanged", lambda tr, te: (tr, te), "In value 1 of the 2 you return: At index (0, 0)"),
        ("only the training set", lambda tr, te: standardize_solution(tr, te)[0], "Return 2 values, as a tuple"),
        (
            "no guard against a zero std",
            lambda tr, te: ((tr - tr.mean(0)) / tr.std(0), (te - tr.mean(0)) / tr.std(0)),
            ("constant on the training set", "standard deviation is 0", "you divided by it"),
        ),
    ],
    "check_training_step": [
        ("zero_grad between backward and step", _step("fbzs"), "clear the gradients in between"),
        ("model.zero_grad between backward and step", _step("fbms"), "clear the gradients in between"),
        ("step before backward", _step("zfsb"), "step() before loss.backward()"),
        ("no zero_grad", _step("fbs"), "Call optimizer.zero_grad() at the start"),
        ("no step", _step("zfb"), "Call optimizer.step() after backward()"),
        ("no backward", _step("zfs"), "without loss.backward()"),
        ("the loss tensor returned", _step(returns="tensor"), ("return the loss as a Python float", "graph")),
        ("averaged over pixels", _step(loss="pixel-mean"), "784"),
        ("summed over the batch", _step(loss="batch-sum"), "summed over the batch"),
        ("squared error", _step(loss="mse"), "squared error"),
        ("no return", _step(returns="nothing"), "forget to `return`"),
    ],
    "check_bce_floor": [
        ("zero", lambda x: torch.zeros(len(x)), "derivative"),
        ("the sign flipped", lambda x: -bce_floor_solution(x), "sign is flipped"),
        ("averaged over pixels", lambda x: bce_floor_solution(x) / 784, "Sum over the pixels"),
        ("in bits", lambda x: bce_floor_solution(x) / math.log(2), "bits"),
        ("only x log x", lambda x: -torch.xlogy(x, x).sum(1), "two outcomes"),
        ("summed over dim 0", lambda x: -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x)).sum(0), "dim 0"),
        ("log(0) at black pixels", lambda x: -(x * x.log() + (1 - x) * (1 - x).log()).sum(1), "xlogy"),
    ],
    "check_log_normal": [
        ("the density", lambda x, m, s: log_normal_solution(x, m, s).exp(), "density itself"),
        ("the negative log-density", lambda x, m, s: -log_normal_solution(x, m, s), "that is -log N"),
        ("no -log(2 pi)/2", lambda x, m, s: -math.log(s) - 0.5 * ((x - m) / s) ** 2, "constant -log(2 pi)"),
        ("-log(2 pi) without 1/2", lambda x, m, s: -L2P - math.log(s) - 0.5 * ((x - m) / s) ** 2, "halves the log"),
        ("no -log(sigma)", lambda x, m, s: log_normal_solution(x, m, s) + math.log(s), "-log(sigma)"),
        ("divided by sigma", lambda x, m, s: -0.5 * L2P - math.log(s) - 0.5 * (x - m) ** 2 / s, "not by sigma"),
        ("-log(sigma^2)", lambda x, m, s: -0.5 * L2P - 2 * math.log(s) - 0.5 * ((x - m) / s) ** 2, "not -log(sigma^2)"),
        ("+ the square", lambda x, m, s: -0.5 * L2P - math.log(s) + 0.5 * ((x - m) / s) ** 2, "*subtracts*"),
        ("no 1/2 on the square", lambda x, m, s: -0.5 * L2P - math.log(s) - ((x - m) / s) ** 2, "lost the 1/2"),
        ("sigma taken as the variance", lambda x, m, s: log_normal_solution(x, m, math.sqrt(s)), "as the variance"),
        (
            "Normal(mu, sigma^2)",
            lambda x, m, s: torch.distributions.Normal(m, s**2).log_prob(x),
            "standard deviation as its scale",
        ),
        (
            "torch.log of a number",
            lambda x, m, s: -0.5 * L2P - torch.log(s) - 0.5 * ((x - m) / s) ** 2,
            ("TypeError", "math module"),
        ),
    ],
    "check_gaussian_kl": [
        ("no sum over dimensions", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv), "sum over the latent"),
        ("mean over dimensions", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).mean(1), "averaged over the latent"),
        ("no 1/2", lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(1), "factor 1/2"),
        ("logvar as the variance", lambda mu, lv: 0.5 * (mu**2 + lv - 1 - lv).sum(1), "not logvar itself"),
        ("sigma for the variance", lambda mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 1 - lv).sum(1), "is sigma"),
        ("no -1", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv).sum(1), "KL of N(0, 1) from itself must be 0"),
        ("+ logvar", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 + lv).sum(1), "log term has the wrong sign"),
        ("the sign flipped", lambda mu, lv: -gaussian_kl_solution(mu, lv), "never negative"),
        ("summed over the batch", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(), "summed over the batch"),
        ("mean over the batch", lambda mu, lv: gaussian_kl_solution(mu, lv).mean(), "averaged over the batch"),
        ("summed over dim 0", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(0), "dim 0"),
    ],
    "check_kl_monte_carlo": [
        ("the sign flipped", lambda mu, lv, n: -kl_monte_carlo_solution(mu, lv, n), "sign is flipped"),
        ("the closed form", lambda mu, lv, n: gaussian.gaussian_kl(mu, lv), "closed form"),
        ("the variance as sigma", _mc(sample_var=True, logq_var=True), "the variance, as its spread"),
        ("the variance as sigma, in sampling only", _mc(sample_var=True), "the variance, as its spread"),
        ("no sum over dimensions", _mc(reduce="none"), "sum the log-densities over the latent"),
        ("mean over dimensions", _mc(reduce="dim-mean"), "averaged over the latent dimensions"),
        ("mean over everything", _mc(reduce="all"), "averaged over the rows too"),
        ("no return", lambda mu, lv, n: None, "forget to `return`"),
    ],
    "check_kl_two_gaussians": [
        (
            "sigmas taken as variances",
            lambda m1, s1, m2, s2: kl_two_solution(m1, s1.sqrt(), m2, s2.sqrt()),
            "as variances",
        ),
        ("sigmas squared twice", lambda m1, s1, m2, s2: kl_two_solution(m1, s1**2, m2, s2**2), "squared them once too"),
        ("the other direction", lambda m1, s1, m2, s2: kl_two_solution(m2, s2, m1, s1), "other direction"),
        ("no -1/2", lambda m1, s1, m2, s2: kl_two_solution(m1, s1, m2, s2) + 0.5, "-1/2"),
        (
            "log(sigma1 / sigma2)",
            lambda m1, s1, m2, s2: torch.log(s1 / s2) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5,
            "log term is inverted",
        ),
        (
            "sigma1 for the variance",
            lambda m1, s1, m2, s2: torch.log(s2 / s1) + (s1 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5,
            "not sigma1",
        ),
        (
            "log of the variances, no 1/2",
            lambda m1, s1, m2, s2: torch.log(s2**2 / s1**2) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5,
            "too large by a factor 2",
        ),
        (
            "no 2 under sigma2^2",
            lambda m1, s1, m2, s2: torch.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / s2**2 - 0.5,
            "with its 2",
        ),
        (
            "2 sigma2 for 2 sigma2^2",
            lambda m1, s1, m2, s2: torch.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2) - 0.5,
            "not by 2 sigma2",
        ),
        ("the sign flipped", lambda *a: -kl_two_solution(*a), "never negative"),
        (
            "math.log of a tensor",
            lambda m1, s1, m2, s2: math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5,
            "math function was handed a tensor",
        ),
    ],
    "check_reparameterize": [
        ("the variance for sigma", lambda mu, lv, eps: mu + lv.exp() * eps, "the variance sigma^2"),
        ("logvar for sigma", lambda mu, lv, eps: mu + lv * eps, "not sigma"),
        ("sqrt of logvar", lambda mu, lv, eps: mu + torch.sqrt(lv.abs()) * eps, "not with a square root"),
        (
            "sqrt of logvar, NaN where it is negative",
            lambda mu, lv, eps: mu + torch.sqrt(lv) * eps,
            ("NaN wherever logvar is negative", "not with a square root"),
        ),
        ("exp(-logvar / 2)", lambda mu, lv, eps: mu + torch.exp(-0.5 * lv) * eps, "1 / sigma"),
        ("mu alone", lambda mu, lv, eps: mu, "You returned mu"),
        ("a minus", lambda mu, lv, eps: mu - torch.exp(0.5 * lv) * eps, "with a plus"),
        ("mu and sigma swapped", lambda mu, lv, eps: mu * eps + (0.5 * lv).exp(), "swapped roles"),
        (
            "fresh noise",
            lambda mu, lv, eps: mu + torch.exp(0.5 * lv) * torch.randn_like(mu),
            "different z on every call",
        ),
        (
            "a distribution's .sample()",
            lambda mu, lv, eps: torch.distributions.Normal(mu, torch.exp(0.5 * lv)).sample(),
            "different z on every call",
        ),
        (
            "a detached sample",
            lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach(),
            ("Right values, but no gradient reaches mu or logvar", "detached"),
        ),
        (
            "mu detached",
            lambda mu, lv, eps: mu.detach() + torch.exp(0.5 * lv) * eps,
            "no gradient reaches mu:",
        ),
        (
            "a new tensor from the numbers",
            lambda mu, lv, eps: torch.tensor((mu + torch.exp(0.5 * lv) * eps).tolist()),
            "no gradient reaches mu or logvar",
        ),
    ],
    "check_softplus_gradient": [
        ("softplus itself", lambda s, eps: F.softplus(s) * eps, "the term itself"),
        ("no eps", lambda s, eps: torch.sigmoid(s), "multiplies the derivative too"),
        ("the derivative of e^s", lambda s, eps: torch.exp(s) * eps, "not of log(1 + e^s)"),
        ("1 / (1 + e^s)", lambda s, eps: eps / (1 + torch.exp(s)), "must approach eps"),
        ("sigmoid(-s)", lambda s, eps: torch.sigmoid(-s) * eps, "must approach eps"),
        ("the sigmoid's derivative", lambda s, eps: torch.sigmoid(s) * (1 - torch.sigmoid(s)) * eps, "the sigmoid"),
        ("the chapter's logvar formula", lambda s, eps: 0.5 * torch.exp(0.5 * s) * eps, "chapter's derivative"),
        ("dz/dmu", lambda s, eps: torch.ones_like(s), "dz/dmu"),
        ("math.exp of a tensor", lambda s, eps: math.exp(s) / (1 + math.exp(s)) * eps, "math function"),
        (
            "e^s / (1 + e^s), which overflows",
            lambda s, eps: torch.exp(s) / (1 + torch.exp(s)) * eps,
            ("NaN for large s", "e^s overflows", "built in"),
        ),
    ],
    "check_score_function": [
        ("divided by sigma", lambda f, mu, s, z: (f(z) * (z - mu) / s).mean().item(), "divide by the variance"),
        ("no 1 / sigma^2", lambda f, mu, s, z: (f(z) * (z - mu)).mean().item(), "left out the 1 / sigma^2"),
        ("the pathwise gradient", lambda f, mu, s, z: (2 * z).mean().item(), "pathwise"),
        ("E[f(z)]", lambda f, mu, s, z: f(z).mean().item(), "estimates E[f(z)]"),
        ("the sign flipped", lambda *a: -score_function_solution(*a), "sign is flipped"),
        ("a sum for the mean", lambda f, mu, s, z: (f(z) * (z - mu) / s**2).sum().item(), "summed over the samples"),
        ("no mean", lambda f, mu, s, z: f(z) * (z - mu) / s**2, "return one number"),
        (
            "a baseline",
            lambda f, mu, s, z: ((f(z) - f(z).mean()) * (z - mu) / s**2).mean().item(),
            "baseline",
        ),
        (
            "a 0-d tensor",
            lambda f, mu, s, z: (f(z) * (z - mu) / s**2).mean(),
            ("Return a Python float", "0-d tensor", ".item()"),
        ),
    ],
    "check_vae_loss": [
        ("the prompt's buggy loss", _vae_loss(recon="mean", kl="mean"), "Both terms are averaged"),
        ("only the KL fixed", _vae_loss(recon="mean"), "784 times too small"),
        ("only the reconstruction fixed", _vae_loss(kl="mean"), "averaged the KL over the latent"),
        ("summed over the batch", _vae_loss(batch="sum"), "summed over the batch"),
        (
            "the KL's sign",
            lambda x, logits, mu, lv: vae_loss_solution(x, logits, mu, lv) - 2 * gaussian_kl_solution(mu, lv).mean(),
            "wrong sign",
        ),
        (
            "no KL",
            lambda x, logits, mu, lv: F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1).mean(),
            "left out the KL",
        ),
        ("the ELBO itself", lambda *a: -vae_loss_solution(*a), "that is the ELBO"),
        ("a float (.item())", lambda *a: vae_loss_solution(*a).item(), ("Right value", "not a tensor", ".item()")),
        ("a float (float())", lambda *a: float(vae_loss_solution(*a)), "not a tensor"),
        ("detached", lambda *a: vae_loss_solution(*a).detach(), "carries no gradient"),
        (
            "the KL detached",
            _vae_loss(kl_fn=lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).detach()),
            "no gradient reaches mu and logvar",
        ),
        ("sigmoid then BCE", _vae_loss(through_sigmoid=True), "sigmoid then BCE"),
        (
            "sigmoid then BCE with the default mean",
            lambda x, logits, mu, lv: _sig_bce(x, logits, "mean") + gaussian_kl_solution(mu, lv).mean(),
            ("Two mistakes", "784 times too small", "sigmoid then BCE"),
        ),
        (
            "sigma for the variance in the KL",
            _vae_loss(kl_fn=lambda mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 1 - lv)),
            ("KL term is not", "is sigma"),
        ),
        ("no -1 in the KL", _vae_loss(kl_fn=lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv)), "from itself must be 0"),
        ("+ logvar in the KL", _vae_loss(kl_fn=lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 + lv)), "wrong sign"),
        ("no 1/2 in the KL", _vae_loss(kl_fn=lambda mu, lv: mu**2 + lv.exp() - 1 - lv), "twice too large"),
    ],
    "check_log_mean_exp": [
        ("no stabilization", lambda lw: torch.log(torch.exp(lw).mean(0)), "inf or NaN"),
        (
            "one global maximum",
            lambda lw: lw.max() + torch.log(torch.exp(lw - lw.max()).mean(0)),
            ("one maximum for the whole tensor", "each column's own maximum"),
        ),
        ("no -log K", lambda lw: torch.logsumexp(lw, 0), "Subtract log(K)"),
        ("the mean of the logs", lambda lw: lw.mean(0), "Jensen"),
        ("over dim 1", lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "along dim 0"),
        ("log of the columns", lambda lw: torch.logsumexp(lw, 0) - math.log(lw.shape[1]), "number of columns"),
        ("divided by K", lambda lw: torch.logsumexp(lw, 0) / lw.shape[0], "Dividing the log by K"),
        (
            "the maximum not added back",
            lambda lw: torch.log(torch.exp(lw - lw.max(0, keepdim=True).values).mean(0)),
            "never added it back",
        ),
        ("keepdim", lambda lw: torch.logsumexp(lw, 0, keepdim=True) - math.log(len(lw)), "keepdim=True"),
        ("torch.log of K", lambda lw: torch.logsumexp(lw, 0) - torch.log(lw.shape[0]), "math module"),
    ],
    "check_kl_warmup": [
        ("no cap", lambda s, w, b: b * s / w if w else b, "stop rising"),
        ("no beta", lambda s, w, b: min(1.0, s / w) if w else 1.0, "multiply by beta"),
        ("backwards", lambda s, w, b: b * (1 - min(1.0, s / w)) if w else b, "runs backwards"),
        ("off by one", lambda s, w, b: b * min(1.0, (s + 1) / w) if w else b, "Off by one"),
        ("integer division", lambda s, w, b: b * min(1, s // w) if w else b, "integer division"),
        ("max for min", lambda s, w, b: b * max(1.0, s / w) if w else b, "Take the smaller"),
        (
            "warmup_steps = 0 divides by zero",
            lambda s, w, b: b * min(1.0, s / w),
            ("ZeroDivisionError", "warmup_steps = 0 there is no warm-up"),
        ),
        ("warmup_steps = 0 starts at 0", lambda s, w, b: b * min(1.0, s / max(w, 1)), "Yours starts at 0"),
        (
            "a 0-d tensor",
            lambda s, w, b: b * torch.clamp(torch.tensor(s / w), max=1.0) if w else b,
            ("Return a Python float", ".item()"),
        ),
        ("no return", lambda s, w, b: None, "forget to `return`"),
    ],
    "check_vae_module": [
        (
            "no return in forward",
            tiny_vae(forward=lambda self, x, eps: None),
            "did it forget `return logits, mu, logvar`",
        ),
        (
            "forward returns the logits alone",
            tiny_vae(forward=lambda self, x, eps: TinyVAE.forward(self, x, eps)[0]),
            "returned one tensor",
        ),
        (
            "the variance for sigma",
            tiny_vae(sample=lambda self, mu, lv, eps: mu + lv.exp() * eps),
            ("In the logits", "exp(logvar) is the variance"),
        ),
        ("decoding mu", tiny_vae(sample=lambda self, mu, lv, eps: mu), "You decoded mu itself"),
        (
            "fresh noise",
            tiny_vae(sample=lambda self, mu, lv, eps: mu + torch.exp(0.5 * lv) * torch.randn_like(mu)),
            "draws noise of its own",
        ),
        (
            "a sigmoid at the end",
            tiny_vae(decode=lambda self, z: torch.sigmoid(self.decoder_out(F.relu(self.decoder_hidden(z))))),
            "No sigmoid at the end",
        ),
        (
            "no ReLU in the encoder",
            tiny_vae(encode=lambda self, x: (self.to_mu(self.hidden(x)), self.to_logvar(self.hidden(x)))),
            ("In mu", "relu"),
        ),
        (
            "the loss averaged over pixels",
            tiny_vae(
                loss=lambda self, x, eps: (
                    lambda logits, mu, lv: F.binary_cross_entropy_with_logits(logits, x) + self.kl(mu, lv).mean()
                )(*self(x, eps))
            ),
            ("In the loss", "784 times too small"),
        ),
        (
            "the KL's sign",
            tiny_vae(kl=lambda self, mu, lv: -0.5 * (mu**2 + lv.exp() - 1 - lv).sum(1)),
            ("In the loss", "wrong sign"),
        ),
        (
            "sigma for the variance in the KL",
            tiny_vae(kl=lambda self, mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 1 - lv).sum(1)),
            ("In the loss", "is sigma"),
        ),
        (
            "the loss as a float",
            tiny_vae(loss=lambda self, x, eps: TinyVAE.loss(self, x, eps).item()),
            ("In the loss", "not a tensor"),
        ),
        ("an instance, not the class", TinyVAE(4), "Pass your class itself"),
        (
            "a detached sample",
            tiny_vae(sample=lambda self, mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach()),
            ("In the loss", "no gradient from the reconstruction reaches the encoder", "no .detach()"),
        ),
        (
            "the sample under torch.no_grad()",
            tiny_vae(sample=lambda self, mu, lv, eps: torch.no_grad()(TinyVAE.sample)(self, mu, lv, eps)),
            "no gradient from the reconstruction reaches the encoder",
        ),
        (
            "the logits detached",
            tiny_vae(decode=lambda self, z: TinyVAE.decode(self, z).detach()),
            ("the gradient that reaches decoder_out", "cut from its graph"),
        ),
        ("sigmoid then BCE in the loss", tiny_vae(loss=_sigmoid_bce_loss), ("In the loss", "sigmoid then BCE")),
        (
            "no ReLU in the decoder",
            tiny_vae(decode=lambda self, z: self.decoder_out(self.decoder_hidden(z))),
            ("In the logits", "no ReLU after decoder_hidden"),
        ),
        (
            "hidden as an nn.Sequential with its ReLU",
            tiny_vae(
                __init__=_sequential_hidden(784),
                encode=lambda self, x: (lambda h: (self.to_mu(h), self.to_logvar(h)))(self.hidden(x)),
            ),
            ("Your layer hidden is a Sequential", "must be an nn.Linear (with its bias)", "apply the ReLU in forward"),
        ),
        (
            "decoder_out without a bias",
            tiny_vae(__init__=_no_bias_out),
            ("decoder_out has no bias (bias=False)", "apply the ReLU in forward"),
        ),
    ],
    "check_gaussian_nll": [
        ("no constant", lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2), "normalizing constant"),
        (
            "2 sigma for 2 sigma^2",
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s) + 0.5 * x.shape[1] * math.log(2 * math.pi * s**2),
            "not by 2 sigma",
        ),
        (
            "the squared error not weighted",
            lambda x, xh, s: ((x - xh) ** 2).sum(1) + 0.5 * x.shape[1] * math.log(2 * math.pi * s**2),
            "Divide by 2 sigma^2",
        ),
        ("averaged over pixels", lambda x, xh, s: gaussian_nll_solution(x, xh, s) / x.shape[1], "Sum over the pixels"),
        ("averaged over images", lambda x, xh, s: gaussian_nll_solution(x, xh, s).mean(), "averaged over the images"),
        ("the log-density", lambda x, xh, s: -gaussian_nll_solution(x, xh, s), "that is the log-density"),
        ("no 2 pi", lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2) + x.shape[1] * math.log(s), "no 2 pi"),
        (
            "sigma in the constant",
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2) + 0.5 * x.shape[1] * math.log(2 * math.pi * s),
            "variance, sigma^2, not sigma",
        ),
        (
            "no 1/2 on the constant",
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2) + x.shape[1] * math.log(2 * math.pi * s**2),
            "twice too large",
        ),
        (
            "one constant per image",
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2) + 0.5 * math.log(2 * math.pi * s**2),
            "once per *pixel*",
        ),
        ("D from the batch size", _nll_with_d(lambda x: x.shape[0]), ("counts D = 4", "x.shape[0]")),
        ("D as x.numel()", _nll_with_d(lambda x: x.numel()), ("counts D = 3136", "x.numel()")),
        ("D = 784 written in", _nll_with_d(lambda x: 784), ("counts D = 784", "has D = x.shape[1] = 10")),
        (
            "torch.log of a number",
            lambda x, xh, s: ((x - xh) ** 2).sum(1) / (2 * s**2) + 0.5 * x.shape[1] * torch.log(2 * math.pi * s**2),
            "math module",
        ),
    ],
    "check_elbo_identity": [
        ("the KL to the prior added", (_elbo(sign=1), posterior_kl_solution), ("In elbo", "with a minus")),
        ("the loss, -ELBO", (lambda *a: -elbo_solution(*a), posterior_kl_solution), "that is the loss, -ELBO"),
        ("no variance term", (_elbo(var_term=False), posterior_kl_solution), "z varies under q"),
        ("t taken for the variance", (_elbo(t_as_var=True), posterior_kl_solution), "t is q's standard deviation"),
        ("s taken for the variance", (_elbo(s_as_var=True), posterior_kl_solution), "its variance s^2"),
        ("no log(2 pi)", (_elbo(two_pi=False), posterior_kl_solution), "log(2 pi)"),
        ("no normalizer", (_elbo(normalizer=False), posterior_kl_solution), "normalizer of p(x | z)"),
        (
            "the posterior KL subtracted",
            (lambda *a: elbo_solution(*a) - posterior_kl_solution(*a), posterior_kl_solution),
            "KL to the *prior*",
        ),
        (
            "the prior for the posterior",
            (elbo_solution, lambda x, w, b, s, m, t: 0.5 * (m**2 + t**2 - 1 - torch.log(t**2))),
            ("In posterior_kl", "the KL to the prior"),
        ),
        (
            "the other direction",
            (elbo_solution, lambda x, w, b, s, m, t: kl_two_solution(*_posterior(x, w, b, s), m, t)),
            "other direction",
        ),
        (
            "the posterior's variance for its std",
            (
                elbo_solution,
                lambda x, w, b, s, m, t: kl_two_solution(
                    m, t, _posterior(x, w, b, s)[0], _posterior(x, w, b, s)[1] ** 2
                ),
            ),
            "posterior's *variance*",
        ),
        (
            "q's std taken for a variance",
            (elbo_solution, lambda x, w, b, s, m, t: kl_two_solution(m, t.sqrt(), *_posterior(x, w, b, s))),
            "not its variance",
        ),
        ("the KL's sign", (elbo_solution, lambda *a: -posterior_kl_solution(*a)), "never negative"),
        ("no -1/2", (elbo_solution, lambda *a: posterior_kl_solution(*a) + 0.5), "-1/2"),
        (
            "math.log of a tensor",
            (lambda x, w, b, s, m, t: -0.5 * math.log(2 * math.pi * s**2), posterior_kl_solution),
            "math function",
        ),
    ],
    "check_lerp": [
        (
            "one step short",
            lambda z0, z1, n: torch.stack([(1 - t) * z0 + t * z1 for t in torch.arange(n) / n]),
            "one step short",
        ),
        ("backwards", lambda z0, z1, n: lerp_solution(z1, z0, n), "runs backwards"),
        ("transposed", lambda z0, z1, n: lerp_solution(z0, z1, n).T, "one code per row"),
        ("steps - 1 codes", lambda z0, z1, n: lerp_solution(z0, z1, n - 1), "steps - 1 codes"),
        ("steps + 1 codes", lambda z0, z1, n: lerp_solution(z0, z1, n + 1), "steps + 1 codes"),
        ("no (1 - t)", lambda z0, z1, n: z0 + torch.linspace(0, 1, n)[:, None] * z1, "does not end at z1"),
        ("no z0 +", lambda z0, z1, n: torch.linspace(0, 1, n)[:, None] * (z1 - z0), "starts at the origin"),
        ("t without [:, None]", lambda z0, z1, n: (1 - torch.linspace(0, 1, n)) * z0, "t[:, None]"),
        ("a list", lambda z0, z1, n: list(lerp_solution(z0, z1, n)), "Return a tensor of shape [5, 8]"),
    ],
    "check_slerp": [
        ("the straight line", lerp_solution, "straight line"),
        (
            "unit norm",
            lambda z0, z1, n: latent.slerp(z0, z1, n) / latent.slerp(z0, z1, n).norm(dim=1, keepdim=True),
            "norm 1",
        ),
        (
            "the norm of z0 kept",
            lambda z0, z1, n: latent.slerp(z0, z1, n) / latent.slerp(z0, z1, n).norm(dim=1, keepdim=True) * z0.norm(),
            "norm stays |z0|",
        ),
        ("no division by sin(omega)", _book_slerp(divide=False), "division by sin(omega)"),
        ("the angle of the codes, not their directions", _book_slerp(unit_angle=False), "between the *directions*"),
        ("one step short", _book_slerp(arange=True), "one step short"),
        ("omega in degrees", _book_slerp(degrees=True), "omega is in degrees"),
    ],
    "check_quantile_grid": [
        (
            "evenly spaced",
            lambda n: torch.stack(
                [torch.linspace(-1.645, 1.645, n).repeat(n), torch.linspace(1.645, -1.645, n).repeat_interleave(n)], 1
            ),
            "evenly spaced",
        ),
        ("upside down", _grid(flip_z2=False), "upside down"),
        ("z_1 and z_2 swapped", _grid(swap=True), "swapped"),
        (
            "the probabilities themselves",
            lambda n: torch.stack(
                [torch.linspace(0.05, 0.95, n).repeat(n), torch.linspace(0.95, 0.05, n).repeat_interleave(n)], 1
            ),
            "probabilities 0.05 .. 0.95 themselves",
        ),
        ("quantiles at 0 and 1", _grid(probabilities=(0.0, 1.0)), "infinite codes"),
        ("right to left", _grid(flip_z1=True), "wrong order"),
        ("meshgrid with indexing='ij'", _meshgrid("ij"), "wrong order"),
    ],
    "check_midpoint_norm": [
        ("cos(omega)", torch.cos, "That is cos(omega)"),
        ("sin(omega / 2)", lambda w: torch.sin(w / 2), "Sine and cosine swapped"),
        ("the square", lambda w: (1 + torch.cos(w)) / 2, "square root"),
        ("1 / sqrt(2)", lambda w: torch.full_like(w, 0.5**0.5), "orthogonal"),
        ("degrees converted", lambda w: torch.cos(torch.deg2rad(w) / 2), "already in radians"),
        ("|z0 + z1| / r", lambda w: 2 * torch.cos(w / 2), "halve it"),
        ("divided by 2, not 4", lambda w: torch.sqrt(1 + torch.cos(w)), "by 4, not by 2"),
        ("math.cos of a tensor", lambda w: math.cos(w / 2), "math function"),
    ],
    "check_mig_from_mi": [
        (
            "largest minus smallest",
            lambda mi, h: ((mi.max(0).values - mi.min(0).values) / h).mean().item(),
            "two largest",
        ),
        (
            "not normalized",
            lambda mi, h: (mi.topk(2, 0).values[0] - mi.topk(2, 0).values[1]).mean().item(),
            "entropy",
        ),
        (
            "over factors",
            lambda mi, h: ((mi.topk(2, 1).values[:, 0] - mi.topk(2, 1).values[:, 1]).mean() / h.mean()).item(),
            "over the *latents*",
        ),
        ("the sign flipped", lambda mi, h: -mig_solution(mi, h), "sign is flipped"),
        ("summed over factors", lambda mi, h: mig_solution(mi, h) * mi.shape[1], "summed the factors' gaps"),
        (
            "divided by the total entropy",
            lambda mi, h: ((mi.topk(2, 0).values[0] - mi.topk(2, 0).values[1]) / h.sum()).mean().item(),
            "its own* entropy",
        ),
        (
            "a 0-d tensor",
            lambda mi, h: ((mi.topk(2, 0).values[0] - mi.topk(2, 0).values[1]) / h).mean(),
            "Return a Python float",
        ),
    ],
    "check_expected_mig": [
        ("the share of duplicates", lambda k, dup: dup / k, "share of duplicated"),
        ("always 1", lambda k, dup: 1.0, "same mutual information"),
        ("averaged over latents", lambda k, dup: (k - dup) / (k + dup), "not over the latents"),
        ("all or nothing", lambda k, dup: 0.0 if dup else 1.0, "keep 1"),
        ("a tensor", lambda k, dup: torch.tensor((k - dup) / k), "Return a Python float"),
    ],
    "check_cvae_module": [
        (
            "no return in forward",
            type("TinyCVAE", (TinyCVAE,), {"forward": lambda self, x, y, eps: None}),
            "did it forget `return logits, mu, logvar`",
        ),
        ("the label before the pixels", LabelFirst, ("In mu:", "after the 784 pixels")),
        ("a decoder blind to the label", BlindDecoder, ("it should map 16", "10 inputs")),
        ("an instance, not the class", TinyCVAE(4), "Pass your class itself"),
        (
            "a detached sample",
            tiny_cvae(sample=lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach()),
            ("no gradient from the reconstruction reaches the encoder", "no .detach(), no torch.no_grad()"),
        ),
        ("the variance for sigma", tiny_cvae(sample=lambda mu, lv, eps: mu + lv.exp() * eps), "is the variance"),
        ("decoding mu", tiny_cvae(sample=lambda mu, lv, eps: mu), "You decoded mu itself"),
        (
            "fresh noise",
            tiny_cvae(sample=lambda mu, lv, eps: mu + torch.exp(0.5 * lv) * torch.randn_like(mu)),
            "draws noise of its own",
        ),
        ("a sigmoid at the end", tiny_cvae(sigmoid=True), "No sigmoid at the end"),
        ("no ReLU in the decoder", tiny_cvae(decoder_relu=False), "no ReLU after decoder_hidden"),
        ("no ReLU in the encoder", tiny_cvae(encoder_relu=False), ("In mu:", "no ReLU after hidden")),
        (
            "hidden as an nn.Sequential with its ReLU",
            tiny_cvae(encoder_relu=False, layers={"hidden": lambda d: nn.Sequential(nn.Linear(794, 400), nn.ReLU())}),
            ("Your layer hidden is a Sequential", "apply the ReLU in forward"),
        ),
        (
            "to_mu without a bias",
            tiny_cvae(layers={"to_mu": lambda d: nn.Linear(400, d, bias=False)}),
            ("to_mu has no bias (bias=False)", "must be an nn.Linear (with its bias)"),
        ),
    ],
    "check_conditional_kl": [
        ("chapter 4's KL", lambda mu, lv, m, y: gaussian_kl_solution(mu, lv), "chapter 4's KL"),
        (
            "every image under label 0",
            lambda mu, lv, m, y: conditional_kl_solution(mu, lv, m, torch.zeros_like(y)),
            "prior_means[y]",
        ),
        ("no 1/2", lambda mu, lv, m, y: 2 * conditional_kl_solution(mu, lv, m, y), "1/2 in front"),
        (
            "mean over dimensions",
            lambda mu, lv, m, y: conditional_kl_solution(mu, lv, m, y) / mu.shape[1],
            "Sum over the latent",
        ),
        (
            "exp(logvar) and logvar swapped",
            lambda mu, lv, m, y: 0.5 * ((mu - m[y]) ** 2 + lv - 1 - lv.exp()).sum(1),
            "+ exp(logvar) - logvar",
        ),
        ("rebuilt from .item() values", _kl_from_items, ("Right value", "KL carries no gradient", ".item()")),
        (
            "mu detached",
            lambda mu, lv, m, y: conditional_kl_solution(mu.detach(), lv, m, y),
            "no gradient reaches mu",
        ),
    ],
    "check_mixture_log_prob": [
        (
            "the logits as log-weights",
            lambda z, m, lv, lg: torch.logsumexp(_student_components(z, m, lv) + lg, dim=1),
            "softmax(logits)",
        ),
        (
            "the weights, not their log",
            lambda z, m, lv, lg: torch.logsumexp(_student_components(z, m, lv) + torch.softmax(lg, 0), dim=1),
            "*logarithm* of the weight",
        ),
        (
            "log of a sum of exps",
            lambda z, m, lv, lg: torch.log((torch.softmax(lg, 0) * torch.exp(_student_components(z, m, lv))).sum(1)),
            ("underflows to 0", "torch.logsumexp"),
        ),
        (
            "equal weights",
            lambda z, m, lv, lg: torch.logsumexp(_student_components(z, m, lv), dim=1) - math.log(m.shape[0]),
            "weighs every component equally",
        ),
        (
            "the max",
            lambda z, m, lv, lg: torch.max(_student_components(z, m, lv) + F.log_softmax(lg, 0), dim=1).values,
            "largest term alone",
        ),
        (
            "no normalizing terms",
            lambda z, m, lv, lg: torch.logsumexp(
                F.log_softmax(lg, 0) - ((z[:, None, :] - m) ** 2 / lv.exp()).sum(-1) / 2, dim=1
            ),
            "normalizing terms",
        ),
        (
            "divided by the standard deviation",
            lambda z, m, lv, lg: torch.logsumexp(
                F.log_softmax(lg, 0)
                - 0.5 * (math.log(2 * math.pi) + lv + (z[:, None, :] - m) ** 2 / torch.exp(lv / 2)).sum(-1),
                dim=1,
            ),
            "divide by the variance",
        ),
        (
            "log-sum-exp per dimension",
            lambda z, m, lv, lg: torch.logsumexp(
                F.log_softmax(lg, 0)[:, None]
                - 0.5 * (math.log(2 * math.pi) + lv + (z[:, None, :] - m) ** 2 / lv.exp()),
                dim=1,
            ).sum(-1),
            "product of mixtures",
        ),
    ],
    "check_surgery_parts": [
        (
            "the prior in place of q(z)",
            lambda q, p: ((q * torch.log(q / p)).sum(1).mean().item(), surgery_solution(q, p)[1]),
            "whole average KL term",
        ),
        (
            "KL(p || q(z))",
            lambda q, p: (surgery_solution(q, p)[0], (p * torch.log(p / q.mean(0))).sum().item()),
            "not symmetric",
        ),
        (
            "in bits",
            lambda q, p: tuple(v / math.log(2) for v in surgery_solution(q, p)),
            "bits",
        ),
        (
            "summed over images",
            lambda q, p: ((q * torch.log(q / q.mean(0))).sum().item(), surgery_solution(q, p)[1]),
            "you summed them",
        ),
        ("the order swapped", lambda q, p: surgery_solution(q, p)[::-1], "wrong order"),
        (
            "each posterior against the prior",
            lambda q, p: (surgery_solution(q, p)[0], (q * torch.log(q / p)).sum(1).mean().item()),
            "*average* posterior",
        ),
        (
            "tensors, not floats",
            lambda q, p: tuple(torch.tensor(v) for v in surgery_solution(q, p)),
            "float",
        ),
    ],
}

CATALOGUE = [(name, *entry) for name, entries in STUDENT_ANSWERS.items() for entry in entries]


def hand_in(name, answer):
    """Run the check ``name`` on a student's ``answer`` (a tuple: the check's several arguments)."""
    args = answer if isinstance(answer, tuple) else (answer,)
    return getattr(exercises, name)(*args)


@pytest.mark.parametrize(
    "name, label, answer, hint",
    CATALOGUE,
    ids=[f"{name.removeprefix('check_')}: {label}" for name, label, *_ in CATALOGUE],
)
def test_a_students_mistake_gets_the_hint_that_names_it(name, label, answer, hint):
    torch.manual_seed(0)
    result = hand_in(name, answer)
    assert result.status == "fail", f"{label}: {result}"
    for phrase in [hint] if isinstance(hint, str) else hint:
        assert phrase in result.message, f"{label}: {result.message}"


def test_every_function_exercise_has_five_wrong_answers_or_more_in_the_catalogue():
    function_checks = set(SOLVED) | {"check_vae_module", "check_elbo_identity"}
    few = {
        name: len(STUDENT_ANSWERS.get(name, [])) for name in function_checks if len(STUDENT_ANSWERS.get(name, [])) < 5
    }
    assert not few, few


# -- the cases, one by one ----------------------------------------------------


def test_zero_grad_between_backward_and_step_is_told_apart_from_a_missing_step():
    between = exercises.check_training_step(_step("fbzs")).message
    missing = exercises.check_training_step(_step("zfb")).message
    assert "zero_grad() wipes what backward() just computed" in between and "Call optimizer.step()" not in between
    assert "Call optimizer.step() after backward()" in missing
    # Unusual but right orders pass: zero_grad at the end of the step, or the model's zero_grad.
    assert exercises.check_training_step(_step("fbsz")).passed
    assert exercises.check_training_step(_step("mfbs")).passed


def test_the_most_common_reconstruction_error_gets_its_own_hint():
    """F.binary_cross_entropy(torch.sigmoid(logits), x) is right on moderate logits, wrong on
    saturated ones (PyTorch clamps the log at -100): the hint names that, and the reduction."""
    summed = exercises.check_reconstruction_error(lambda x, logits: _sig_bce(x, logits).sum(1)).message
    assert summed.startswith("Right on moderate logits, wrong on large ones") and "with-logits" in summed
    assert "expected" not in summed  # not a bare numeric mismatch
    default = exercises.check_reconstruction_error(lambda x, logits: _sig_bce(x, logits, "mean")).message
    assert default.startswith("Two mistakes. You averaged over everything") and "sigmoid then BCE" in default


@pytest.mark.parametrize(
    "name, answer, phrase",
    [
        ("check_vae_loss", lambda *a: vae_loss_solution(*a).item(), "not a tensor"),
        ("check_vae_loss", lambda *a: vae_loss_solution(*a).detach(), "carries no gradient"),
        ("check_log_mean_exp", lambda lw: lw.max() + torch.log(torch.exp(lw - lw.max()).mean(0)), "one maximum"),
        ("check_kl_warmup", lambda s, w, b: b * min(1.0, s / w), "warmup_steps = 0"),
        ("check_score_function", lambda f, mu, s, z: (f(z) * (z - mu) / s**2).mean(), ".item()"),
        ("check_reparameterize", lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach(), "no gradient"),
        ("check_roc_auc", lambda n, a: ((a[:, None] > n).float() + 0.5 * (a[:, None] == n).float()).mean(), ".item()"),
        (
            "check_mig_from_mi",
            lambda mi, h: ((mi.topk(2, 0).values[0] - mi.topk(2, 0).values[1]) / h).mean(),
            ".item()",
        ),
        ("check_training_step", _step(returns="tensor"), "Python float"),
        (
            "check_vae_module",
            tiny_vae(kl=lambda self, mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 1 - lv).sum(1)),
            "is sigma",
        ),
        ("check_vae_module", tiny_vae(loss=lambda self, x, eps: TinyVAE.loss(self, x, eps).item()), "not a tensor"),
        (
            "check_vae_module",
            tiny_vae(sample=lambda self, mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach()),
            "no gradient from the reconstruction reaches the encoder",
        ),
        (
            "check_cvae_module",
            tiny_cvae(sample=lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach()),
            "no gradient from the reconstruction reaches the encoder",
        ),
        ("check_vae_module", tiny_vae(loss=_sigmoid_bce_loss), "sigmoid then BCE"),
        ("check_softplus_gradient", lambda s, eps: torch.exp(s) / (1 + torch.exp(s)) * eps, "overflows"),
        (
            "check_standardize",
            lambda tr, te: ((tr - tr.mean(0)) / tr.std(0), (te - tr.mean(0)) / tr.std(0)),
            "standard deviation is 0",
        ),
        ("check_conditional_kl", _kl_from_items, "carries no gradient"),
    ],
    ids=[
        "vae_loss as a float",
        "vae_loss detached",
        "log_mean_exp with one global maximum",
        "warmup_beta dividing by warmup_steps = 0",
        "score_function as a 0-d tensor",
        "reparameterize detached",
        "roc_auc as a 0-d tensor",
        "mig_from_mi as a 0-d tensor",
        "training_step returning the loss tensor",
        "TinyVAE with sigma for the variance in its KL",
        "TinyVAE loss as a float",
        "TinyVAE with a detached sample",
        "TinyCVAE with a detached sample",
        "TinyVAE loss through sigmoid then BCE",
        "softplus gradient that overflows",
        "standardize without a guard against a zero std",
        "conditional_kl rebuilt from .item() values",
    ],
)
def test_wrong_answers_that_used_to_pass_now_fail(name, answer, phrase):
    result = hand_in(name, answer)
    assert result.status == "fail" and phrase in result.message, result.message


def test_a_global_maximum_fails_only_on_columns_of_very_different_scales():
    def global_max(log_w):
        m = log_w.max()
        return m + torch.log(torch.exp(log_w - m).mean(0))

    alike = torch.randn(30, 3) - 100.0
    assert torch.allclose(global_max(alike), log_mean_exp_solution(alike))  # why it used to pass
    scales = torch.stack([torch.randn(30) - 1000.0, torch.randn(30) - 10.0], 1)
    assert torch.isinf(global_max(scales)[0])
    assert "each column's own maximum" in exercises.check_log_mean_exp(global_max).message


def test_the_warm_up_check_tries_no_warm_up_and_the_chapter_uses_it():
    result = exercises.check_kl_warmup(lambda s, w, b: b * min(1.0, s / w))
    assert "ZeroDivisionError" in result.message and "beta from step 0" in result.message
    assert exercises.check_kl_warmup(warmup_solution).passed
    assert losses.VAEObjective(beta=8.0, warmup_steps=0).beta == 8.0  # the chapter's run without warm-up


def test_first_hints_give_the_idea_and_later_ones_the_formula():
    """A hint that would hand over the formula gives the idea on the first tries, and the
    formula from the third failed try of that exercise on; a pass starts the count again."""
    no_cap = lambda s, w, b: b * s / w if w else b  # noqa: E731
    first, second, third = (exercises.check_kl_warmup(no_cap).message for _ in range(3))
    assert "stop rising once it reaches beta" in first and "min(1" not in first and "says more" in first
    assert "min(1" not in second
    assert "beta * min(1, step / warmup_steps)" in third
    assert exercises.check_kl_warmup(warmup_solution).passed
    assert "min(1" not in exercises.check_kl_warmup(no_cap).message  # the count starts again

    def no_constant(x, x_hat, sigma):
        return ((x - x_hat) ** 2).sum(1) / (2 * sigma**2)

    first = exercises.check_gaussian_nll(no_constant).message
    assert "normalizing constant" in first and "2 pi" not in first and "D/2" not in first
    exercises.check_gaussian_nll(no_constant)
    assert "D/2 log(2 pi sigma^2)" in exercises.check_gaussian_nll(no_constant).message
    # Each exercise counts its own tries.
    assert "min(1" not in exercises.check_kl_warmup(no_cap).message


def test_hints_that_would_give_the_score_give_the_idea_first():
    """The score's formula, (z - mu) / sigma^2, is most of the solution: it comes from the third failed try on."""
    wrong_answers = [
        lambda f, mu, s, z: (f(z) * (z - mu) / s).mean().item(),  # divided by sigma
        lambda f, mu, s, z: (f(z) * (mu - z) / s**2).mean().item(),  # (mu - z)
        lambda f, mu, s, z: (2 * z).mean().item(),  # the pathwise estimator
        lambda f, mu, s, z: f(z).mean().item(),  # E[f(z)]
    ]
    for wrong in wrong_answers:
        results.reset_attempts()
        first, second, third = (exercises.check_score_function(wrong).message for _ in range(3))
        assert "(z - mu) / sigma^2" not in first and "(z - mu) / sigma^2" not in second, first
        assert "says more" in first and "The score is (z - mu) / sigma^2." in third


def test_the_overflowing_softplus_gradient_is_told_to_look_for_the_stable_form():
    overflowing = lambda s, eps: torch.exp(s) / (1 + torch.exp(s)) * eps  # noqa: E731
    assert torch.isnan(overflowing(torch.tensor([100.0]), torch.tensor([1.0]))).all()  # why it must fail
    first, second, third = (exercises.check_softplus_gradient(overflowing).message for _ in range(3))
    assert "e^s overflows" in first and "built in" in first
    assert "sigmoid" not in first and "sigmoid" not in second
    assert "torch.sigmoid(s)" in third
    # Stable forms of the same function pass.
    assert exercises.check_softplus_gradient(lambda s, eps: eps / (1 + torch.exp(-s))).passed
    assert exercises.check_softplus_gradient(dz_ds_solution).passed


def test_the_standardize_check_tries_a_constant_feature():
    unguarded = lambda tr, te: ((tr - tr.mean(0)) / tr.std(0), (te - tr.mean(0)) / tr.std(0))  # noqa: E731
    first = exercises.check_standardize(unguarded).message
    assert "standard deviation is 0" in first and "1e-6" not in first
    exercises.check_standardize(unguarded)
    assert "(std + 1e-6)" in exercises.check_standardize(unguarded).message
    # Any guard that leaves a constant feature at 0 passes.
    clamped = lambda tr, te: tuple((a - tr.mean(0)) / tr.std(0).clamp(min=1e-8) for a in (tr, te))  # noqa: E731
    assert exercises.check_standardize(clamped).passed
    where = lambda tr, te: tuple(  # noqa: E731
        (a - tr.mean(0)) / torch.where(tr.std(0) > 0, tr.std(0), torch.ones(())) for a in (tr, te)
    )
    assert exercises.check_standardize(where).passed


def test_the_sqrt_of_a_negative_logvar_is_not_taken_for_fresh_noise():
    message = exercises.check_reparameterize(lambda mu, lv, eps: mu + torch.sqrt(lv) * eps).message
    assert "not with a square root" in message and "different z" not in message


def test_the_tiny_cvae_hints_give_the_idea_first_and_the_code_from_the_third_try():
    for answer, idea, code in [
        (LabelFirst, "after the 784 pixels", "torch.cat([x, F.one_hot(y, 10).float()], dim=1)"),
        (tiny_cvae(encoder_relu=False), "no ReLU after hidden", "relu(hidden(torch.cat("),
        (tiny_cvae(decoder_relu=False), "no ReLU after decoder_hidden", "decoder_out(relu(decoder_hidden(torch.cat("),
        (tiny_cvae(sample=lambda mu, lv, eps: mu + lv.exp() * eps), "is the variance", "sigma = exp(logvar / 2)"),
        (tiny_cvae(sample=lambda mu, lv, eps: mu), "You decoded mu itself", "z = mu + exp(logvar / 2) * eps"),
        (
            tiny_cvae(sample=lambda mu, lv, eps: mu + 2 * torch.exp(0.5 * lv) * eps),
            "The decoder sees the code and the label",
            "torch.cat([z, one_hot], dim=1)",
        ),
    ]:
        results.reset_attempts()
        first, second, third = (exercises.check_cvae_module(answer).message for _ in range(3))
        assert idea in first and code not in first and "torch.cat" not in first and "=" not in first, first
        assert code not in second and code in third, third
    # Each mistake its own hint: no two decoder mistakes share one.
    decoder_mistakes = [
        tiny_cvae(sample=lambda mu, lv, eps: mu + lv.exp() * eps),
        tiny_cvae(decoder_relu=False),
        tiny_cvae(sigmoid=True),
        tiny_cvae(sample=lambda mu, lv, eps: mu + torch.exp(0.5 * lv) * torch.randn_like(mu)),
        tiny_cvae(sample=lambda mu, lv, eps: mu),
    ]
    hints = set()
    for answer in decoder_mistakes:
        results.reset_attempts()
        hints.add(exercises.check_cvae_module(answer).message.split("differ). ")[-1])
    assert len(hints) == len(decoder_mistakes), hints


def test_the_class_checks_pass_a_loss_they_can_backpropagate_through_and_large_logits():
    """The gradient of TinyVAE's loss, and of the VAE loss of TinyCVAE's outputs, is compared
    with vaelib's; TinyVAE's loss is compared again with logits up to about 30."""
    assert exercises.check_vae_module(TinyVAE).passed and exercises.check_cvae_module(TinyCVAE).passed
    detached = exercises.check_vae_module(
        tiny_vae(sample=lambda self, mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach())
    )
    assert "reaches the encoder (hidden, to_mu, to_logvar)" in detached.message
    sigmoid = exercises.check_vae_module(tiny_vae(loss=_sigmoid_bce_loss)).message
    assert sigmoid.startswith("In the loss: Right on moderate logits, wrong on large ones")


def test_the_softplus_derivation_is_checked_against_autograd():
    s = torch.linspace(-8, 8, 33, requires_grad=True)
    eps = torch.randn(33, generator=torch.Generator().manual_seed(0))
    (F.softplus(s) * eps).sum().backward()
    assert torch.allclose(dz_ds_solution(s.detach(), eps), s.grad, atol=1e-6)
    assert exercises.check_softplus_gradient(dz_ds_solution).passed
    # the chapter's own gradient (for logvar) does not pass for a softplus sigma
    assert not exercises.check_softplus_gradient(lambda s, eps: 0.5 * torch.exp(0.5 * s) * eps).passed


def _dz_ds_by_backward(s, eps):
    s = s.clone().requires_grad_()
    (F.softplus(s) * eps).sum().backward()
    return s.grad


def test_a_derivation_done_by_autograd_is_refused_however_it_asks():
    # right values, but the exercise says "by hand (no autograd)", and the check
    # compares with autograd: it would pass without a derivation
    def by_grad(s, eps):
        s = s.detach().requires_grad_()
        return torch.autograd.grad((F.softplus(s) * eps).sum(), s)[0]

    for answer in (_dz_ds_by_backward, by_grad):
        result = exercises.check_softplus_gradient(answer)
        assert not result.passed and "asks autograd for the derivative" in result.message


def test_a_posterior_kl_written_from_the_identity_is_refused_whatever_the_elbo_is_called():
    def my_elbo(x, w, b, s, m, t):  # the student's ELBO, under a name of their own
        return elbo_solution(x, w, b, s, m, t)

    def posterior_kl(x, w, b, s, m, t):  # log p(x) - ELBO: true by construction
        log_px = torch.distributions.Normal(b, (w**2 + s**2).sqrt()).log_prob(x)
        return log_px - my_elbo(x, w, b, s, m, t)

    result = exercises.check_elbo_identity(my_elbo, posterior_kl)
    assert not result.passed and "makes the identity true by construction" in result.message
    assert exercises.check_elbo_identity(my_elbo, posterior_kl_solution).passed
    assert student_code.calls(posterior_kl, (torch.ones(1),) * 6, my_elbo)
    assert not student_code.calls(posterior_kl_solution, (torch.ones(1),) * 6, my_elbo)


def test_chapter_3_no_longer_asks_for_the_gradient_it_prints():
    text = (REPO / "book" / "03_reparameterization.ipynb").read_text()
    assert "dz_dlogvar" not in text and "check_softplus_gradient(dz_ds)" in text


# -- the notebooks' own solutions, run against their checks -------------------------------


def _source(cell):
    return "".join(cell["source"])


def notebook_exercises(nb):
    """Each exercise of a chapter: ``(heading, stub, check, solution)`` sources."""
    cells = json.loads(nb.read_text())["cells"]
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and re.match(r"### Exercise \d+", _source(cell)):
            heading = _source(cell).splitlines()[0]
            found.append((heading, *(_source(c) for c in cells[i + 1 : i + 4])))
    return found


def chapter_imports(nb):
    """A namespace with what the chapter's code cells import (import statements only: no data, no training)."""
    namespace = {}
    for cell in json.loads(nb.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:  # the setup cell's %pip line
            continue
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        exec(compile(ast.Module(imports, []), nb.name, "exec"), namespace)  # noqa: S102
    return namespace


def solution_call(stub, check):
    """The check cell's call, with every answer the stub defines replaced by its ``..._solution``."""
    call = check.strip()
    for node in ast.parse(stub).body:
        name = getattr(node, "name", None) or next(
            (t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)), None
        )
        if name:
            own = f"{name}Solution" if name[0].isupper() else f"{name}_solution"
            call = re.sub(rf"\b{name}\b", own, call)
    return call


CHAPTERS = sorted((REPO / "book").glob("0[1-9]_*.ipynb"))
NOTEBOOK_EXERCISES = [(nb, *exercise) for nb in CHAPTERS for exercise in notebook_exercises(nb)]
MNIST = {"train_set", "test_set"}  # what a chapter loaded: its predict checks train on it
RECORDED = {"swept", "medians", "high_codes", "data"}  # what chapter 6 computed earlier
MEASURED_PRIORS = {"table"}  # chapter 8's table of the three priors


def _exercise_id(exercise):
    nb, heading, *_ = exercise
    number = re.match(r"### Exercise (\d+)", heading)[1]
    return f"chapter {int(nb.name[:2])}, exercise {number}"


def _names(call):
    return {n.id for n in ast.walk(ast.parse(call)) if isinstance(n, ast.Name)}


FAST = [e for e in NOTEBOOK_EXERCISES if not _names(e[3]) & MNIST]
NEEDS_MNIST = [e for e in NOTEBOOK_EXERCISES if _names(e[3]) & MNIST]


def _chapter_6_context(namespace):
    """What chapter 6's checks read: the recorded sweep's medians, and codes of a model of the
    sprites (here made up: each latent copies a factor, and no latent follows rotation)."""
    betavae, sprites = namespace["betavae"], namespace["sprites"]
    table = betavae.summarize(betavae.recorded_sweep()["runs"])
    grids = torch.meshgrid(*[torch.arange(n) for n in (3, 4, 4, 5, 5)], indexing="ij")
    factors = torch.stack([g.flatten() for g in grids], dim=1)
    noise = 0.01 * torch.randn(len(factors), 4, generator=torch.Generator().manual_seed(0))
    assert sprites.FACTORS[2] == "rotation"
    return {
        "swept": list(table),
        "medians": lambda key: [table[beta][key][0] for beta in table],
        "high_codes": factors[:, [0, 1, 3, 4]].float() + noise,
        "data": SimpleNamespace(factors=factors),
    }


def _chapter_8_context():
    """What chapter 8's prediction check reads: the judge's confident share of each prior's samples, here
    the medians over three seeds that benchmarks/priors.py measured (the README's table)."""
    shares = {"N(0, I)": 0.375, "mixture of 50": 0.687, "VampPrior 200": 0.789}
    return {"table": {name: {"confident": share} for name, share in shares.items()}}


def _run_solution(nb, heading, stub, check, solution, context=None):
    """Run a solution cell on its own, with the chapter's imports (not the whole notebook),
    then the check cell's call on the answers it defines."""
    namespace = chapter_imports(nb)
    if _names(check) & RECORDED:
        namespace.update(_chapter_6_context(namespace))
    if _names(check) & MEASURED_PRIORS:
        namespace.update(_chapter_8_context())
    namespace.update(context or {})
    exec(compile(solution, f"{nb.name}: {heading}", "exec"), namespace)  # noqa: S102
    return eval(solution_call(stub, check), namespace)  # noqa: S307


@pytest.mark.parametrize("nb, heading, stub, check, solution", FAST, ids=list(map(_exercise_id, FAST)))
def test_each_notebook_solution_passes_its_check(nb, heading, stub, check, solution):
    """Each chapter's solution defines answers that pass the check cell's check (the
    notebooks no longer run the check on their solutions: that showed the answers)."""
    result = _run_solution(nb, heading, stub, check, solution)
    assert result.passed, f"{nb.name}, {heading}: {result}"


#: The answers of the predict exercises whose checks train models on MNIST (seconds to a
#: minute each). tests/test_mnist.py checks on the chapters' own images that each of these
#: passes its check; here each notebook's solution must be that answer.
MNIST_ANSWERS = {"01": {"error": "down", "probe": "up"}, "04": "between", "05": "smaller", "07": "lower"}


@pytest.mark.parametrize("nb, heading, stub, check, solution", NEEDS_MNIST, ids=list(map(_exercise_id, NEEDS_MNIST)))
def test_each_predict_solution_is_the_answer_checked_on_mnist(nb, heading, stub, check, solution):
    namespace = chapter_imports(nb)
    exec(compile(solution, f"{nb.name}: {heading}", "exec"), namespace)  # noqa: S102
    answers = [value for name, value in namespace.items() if name.endswith("_solution")]
    assert answers == [MNIST_ANSWERS[nb.name[:2]]]


def test_every_exercise_of_every_chapter_has_its_solution_tested():
    assert len(FAST) + len(NEEDS_MNIST) == len(NOTEBOOK_EXERCISES) >= 8 * 3
    assert {nb.name[:2] for nb, *_ in NOTEBOOK_EXERCISES} == {f"0{k}" for k in range(1, 9)}


# -- more behaviour of single checks ------------------------------------------------------------


def test_reconstruction_error_by_probabilities_meets_log_zero():
    def via_probabilities(x, logits):  # right formula, unstable: log(0) for large logits
        p = torch.sigmoid(logits)
        return -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)

    result = exercises.check_reconstruction_error(via_probabilities)
    assert result.status == "fail" and "inf or NaN" in result.message


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
    result = results.CheckResult("reconstruction_error", results.NOT_ATTEMPTED, "Write your code in its cell, " * 4)
    lines = repr(result).split("\n")
    assert len(lines) > 1 and all(len(line) <= settings.PAGE_WIDTH for line in lines)
    assert " ".join(lines).split() == f"reconstruction_error: not attempted yet. {result.message}".split()


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
        mean, std = train.mean(0), train.std(0, unbiased=False).clamp(min=1e-8)  # a constant feature: std 0
        return (train - mean) / std, (test - mean) / std

    result = exercises.check_standardize(population)
    assert result.passed and "unbiased=False" in result.message


def test_the_monte_carlo_check_wants_samples_and_uses_n():
    exact = exercises.check_kl_monte_carlo(lambda mu, logvar, n: gaussian.gaussian_kl(mu, logvar))
    assert not exact.passed and "closed form" in exact.message

    def fixed_n(mu, logvar, n):  # ignores n: always 100,000 samples
        z = gaussian.reparameterize(mu.expand(100_000, -1, -1), logvar.expand(100_000, -1, -1))
        return (gaussian.log_normal_diag(z, mu, logvar) - gaussian.log_standard_normal(z)).mean(0)

    ignored = exercises.check_kl_monte_carlo(fixed_n)
    assert not ignored.passed and "more samples" in ignored.message


def test_the_kl_sign_hint_points_at_the_sign_of_the_kl():
    def minus_kl(x, logits, mu, logvar):
        parts = losses.vae_loss(x, logits, mu, logvar)
        return parts["recon"] - parts["kl"]

    message = exercises.check_vae_loss(minus_kl).message
    assert "wrong sign" in message and "never negative" in message


def test_the_training_step_check_reports_the_losses_step_by_step():
    result = exercises.check_training_step(training_step_solution)
    losses_shown = [float(v) for v in result.message.split(":")[1].strip(" .").split(", ")]
    assert result.passed and len(losses_shown) == 5 and losses_shown[-1] < losses_shown[0]


def test_the_expected_mig_check_runs_metrics_mig_on_such_a_code():
    result = exercises.check_expected_mig(lambda k, dup: (k - dup) / k)
    assert "metrics.mig agrees" in result.message


def test_prediction_checks_compare_with_the_run():
    assert exercises.check_samples_prediction(100).passed
    ten = exercises.check_samples_prediction(10)
    assert not ten.passed and "more samples" in ten.message and "Measured" in ten.message
    # judged on the answer, not on the noisy measured ratio: 150 and 70 are wrong, 120 is near enough
    for wrong, direction in ((150, "fewer"), (70, "more")):
        result = exercises.check_samples_prediction(wrong)
        assert not result.passed and f"{direction} samples" in result.message
    assert exercises.check_samples_prediction(120).passed
    assert exercises.check_constant_shift_prediction({"score": "up", "reparam": "same"}).passed
    assert not exercises.check_constant_shift_prediction({"score": "same", "reparam": "same"}).passed


def test_kind_names_a_value_with_the_right_article():
    assert compare.kind(3) == "an int" and compare.kind("up") == "a str" and compare.kind(None) == "None"
    assert compare.kind(torch.zeros(2, 3)) == "a tensor of shape [2, 3]"


def test_a_numpy_number_counts_as_a_number():
    import numpy as np

    assert exercises.check_roc_auc(lambda n, a: np.float64(auc_solution(n, a))).passed
    assert compare.difference(np.float32(0.5), 0.5) is None


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
        "check_elbo_identity": (posterior_kl_solution,),
        "check_prior_prediction": ({"standard": 0.37, "mixture": 0.69, "vampprior": 0.59},),
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


@pytest.mark.parametrize("label", list(BAD_ANSWERS))
def test_the_elbo_identity_check_never_raises_whatever_its_second_function_is(label):
    for args in [(elbo_solution, BAD_ANSWERS[label]), (BAD_ANSWERS[label], BAD_ANSWERS[label])]:
        result = exercises.check_elbo_identity(*args)
        assert result.status in {"fail", "not attempted"} and "could not be checked" not in result.message, result


class OneHotWithoutNumClasses(TinyCVAE):
    def forward(self, x, y, eps):  # F.one_hot(y): as many columns as the batch's largest label + 1
        label = F.one_hot(y).float()
        h = torch.relu(self.hidden(torch.cat([x, label], 1)))
        mu, logvar = self.to_mu(h), self.to_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decoder_out(torch.relu(self.decoder_hidden(torch.cat([z, label], 1)))), mu, logvar


def test_a_one_hot_that_depends_on_the_batch_fails_the_cvae_check():
    # it works on any batch that holds a 9, so the check's batch holds none
    result = exercises.check_cvae_module(OneHotWithoutNumClasses)
    assert not result.passed and "num_classes" in result.message


def test_the_prior_prediction_is_read_from_the_measured_shares():
    measured = {"standard": 0.37, "mixture": 0.69, "vampprior": 0.59}
    assert exercises.check_prior_prediction("mixture", measured).passed
    assert exercises.check_prior_prediction(" Mixture ", measured).passed
    assert "not where the encoder put the codes" in exercises.check_prior_prediction("standard", measured).message
    wrong = exercises.check_prior_prediction("vampprior", measured)
    assert wrong.status == "fail" and "59%" in wrong.message and "69%" in wrong.message
    assert exercises.check_prior_prediction("vampprior", {**measured, "vampprior": 0.8}).passed
    assert exercises.check_prior_prediction(None, measured).status == "not attempted"
    assert "Answer with" in exercises.check_prior_prediction("the mixture one", measured).message
