import itertools
import math

import pytest
import torch

from vaelib import metrics, models


def brute_force_auc(negative, positive):
    """The definition: P(positive > negative) over all pairs, ties one half."""
    pairs = list(itertools.product(negative.tolist(), positive.tolist()))
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for n, p in pairs) / len(pairs)


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_the_pairwise_definition(seed):
    g = torch.Generator().manual_seed(seed)
    negative = torch.randint(0, 8, (30,), generator=g).float()  # many ties
    positive = torch.randint(2, 10, (25,), generator=g).float()
    assert metrics.roc_auc(negative, positive) == pytest.approx(brute_force_auc(negative, positive))


def test_roc_auc_extremes():
    assert metrics.roc_auc(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])) == 1.0
    assert metrics.roc_auc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 0.0
    assert metrics.roc_auc(torch.ones(5), torch.ones(7)) == 0.5
    with pytest.raises(ValueError):
        metrics.roc_auc(torch.tensor([]), torch.ones(3))


def test_standardize_uses_training_statistics_per_feature():
    train = torch.tensor([[0.0, 10.0], [2.0, 30.0]])
    test = torch.tensor([[1.0, 20.0]])
    train_s, test_s = metrics.standardize(train, test)
    assert torch.allclose(train_s.mean(0), torch.zeros(2), atol=1e-6)
    assert torch.allclose(train_s.std(0), torch.ones(2), atol=1e-4)
    assert torch.allclose(test_s, torch.zeros(1, 2), atol=1e-6)


def test_linear_probe_separates_separable_classes_and_not_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(400) % 4
    centers = torch.randn(4, 5, generator=g) * 4
    x = centers[y] + torch.randn(400, 5, generator=g)
    assert metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:]) > 0.95
    noise = torch.randn(400, 5, generator=g)
    assert metrics.linear_probe_accuracy(noise[:300], y[:300], noise[300:], y[300:]) < 0.45


def test_reconstruction_errors_are_per_image(images):
    model = models.Autoencoder(models.AutoencoderConfig(hidden_dims=(16,), latent_dim=2))
    errors = metrics.reconstruction_errors(model, images, batch_size=3)
    assert errors.shape == (8,) and (errors > 0).all()
    from vaelib.losses import bce_per_image

    with torch.no_grad():
        assert torch.allclose(errors, bce_per_image(model(images), images))


# -- VAE metrics ----------------------------------------------------------------

from torch import nn  # noqa: E402
from torch.distributions import MultivariateNormal, Normal  # noqa: E402

from vaelib import losses  # noqa: E402


class LinearGaussian(nn.Module):
    """p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I): the marginal p(x) is known,
    N(b, W W^T + s^2 I).  q(z|x) = N(A x + c, diag(exp(logvar)))."""

    def __init__(self, D=5, d=2, s=0.5, shift=0.0, inflate=0.0):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        q, _ = torch.linalg.qr(torch.randn(D, d, generator=g, dtype=torch.float64))
        self.W = q * torch.tensor([2.0, 1.0], dtype=torch.float64)  # orthogonal columns
        self.b = torch.randn(D, generator=g, dtype=torch.float64)
        self.s = s
        precision = torch.eye(d, dtype=torch.float64) + self.W.T @ self.W / s**2  # diagonal
        cov = torch.linalg.inv(precision)
        self.A = cov @ self.W.T / s**2
        self.logvar = torch.log(torch.diagonal(cov)) + inflate
        self.shift = shift
        self.dummy = nn.Parameter(torch.zeros(1))  # so that the model has a device

    def encode(self, x):
        mu = (x - self.b) @ self.A.T + self.shift
        return mu, self.logvar.expand(len(x), -1)

    def decode(self, z):
        return z @ self.W.T + self.b

    def log_likelihood(self, mean, x):
        return Normal(mean, self.s).log_prob(x).sum(-1)

    def true_log_px(self, x):
        cov = self.W @ self.W.T + self.s**2 * torch.eye(len(self.b), dtype=torch.float64)
        return MultivariateNormal(self.b, cov).log_prob(x)


def test_importance_sampling_is_exact_with_the_true_posterior():
    model = LinearGaussian()
    x = model.decode(torch.randn(20, 2, dtype=torch.float64)) + 0.5 * torch.randn(20, 5, dtype=torch.float64)
    estimate = metrics.importance_sampled_log_likelihood(model, x, k=3, log_likelihood=model.log_likelihood)
    assert torch.allclose(estimate.double(), model.true_log_px(x), atol=1e-4)


def test_importance_sampling_rises_toward_the_true_log_likelihood_with_k():
    model = LinearGaussian(shift=0.4, inflate=0.7)  # an imperfect q
    g = torch.Generator().manual_seed(1)
    x = model.decode(torch.randn(200, 2, generator=g, dtype=torch.float64))
    x = x + 0.5 * torch.randn(200, 5, generator=g, dtype=torch.float64)
    true = model.true_log_px(x).mean().item()
    estimates = {
        k: metrics.importance_sampled_log_likelihood(model, x, k=k, chunk=64, log_likelihood=model.log_likelihood).mean().item()
        for k in [1, 10, 100, 2000]
    }
    assert estimates[1] < estimates[10] < estimates[100] < estimates[2000] <= true + 0.01
    assert true - estimates[2000] < 0.05 < true - estimates[1]


def test_importance_sampling_with_one_sample_is_an_elbo_estimate():
    model = LinearGaussian(shift=0.3, inflate=0.5)
    x = model.decode(torch.randn(500, 2, dtype=torch.float64))
    mu, logvar = model.encode(x)
    elbo_parts = []
    for seed in range(50):
        torch.manual_seed(seed)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        elbo_parts.append((model.log_likelihood(model.decode(z), x) - (0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1))).mean())
    elbo = torch.stack(elbo_parts).mean().item()
    one = torch.stack([metrics.importance_sampled_log_likelihood(model, x, k=1, seed=s, log_likelihood=model.log_likelihood).mean()
                       for s in range(50)]).mean().item()
    assert one == pytest.approx(elbo, abs=0.05)


@pytest.fixture(scope="module")
def trained_vae():
    g = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(4, 784, generator=g) > 0.5).float()
    x = (prototypes[torch.arange(400) % 4] * 0.9 + 0.05).clamp(0, 1)
    x = torch.bernoulli(x, generator=g)
    torch.manual_seed(0)
    model = models.VAE(models.VAEConfig(hidden_dims=(64,), latent_dim=8))
    from vaelib import train

    train.fit(model, losses.VAEObjective(), x[:300], epochs=15, batch_size=50, lr=3e-3, device="cpu", progress=False)
    return model, x[300:]


def test_importance_sampled_log_likelihood_is_at_least_the_elbo(trained_vae):
    model, x = trained_vae
    elbo = metrics.elbo(model, x, n_samples=20)
    estimate = metrics.importance_sampled_log_likelihood(model, x, k=200, chunk=50).mean().item()
    assert estimate >= elbo["elbo"] - 0.5
    assert elbo["elbo"] == pytest.approx(-(elbo["recon"] + elbo["kl"]))


def test_elbo_matches_the_training_loss_convention(trained_vae):
    model, x = trained_vae
    model.eval()
    torch.manual_seed(0)
    mu, logvar = model.encode(x)
    with torch.no_grad():
        parts = losses.vae_loss(x, model.decode(mu), mu, logvar)  # decoded from the mean: no noise
    result = metrics.elbo(model, x, n_samples=50)
    assert result["kl"] == pytest.approx(parts["kl"].item(), rel=1e-4)
    assert result["recon"] >= parts["recon"].item() - 1.0  # sampled codes reconstruct no better


def test_active_units_count_the_dimensions_that_move_with_the_input():
    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(torch.zeros(1))

        def encode(self, x):
            mu = torch.zeros(len(x), 4)
            mu[:, 0] = x[:, 0] * 10  # varies with the input
            mu[:, 2] = x[:, 1] * 0.01  # barely: variance below the threshold
            return mu, torch.zeros(len(x), 4)

    count, variances = metrics.active_units(Fixed(), torch.rand(500, 784))
    assert count == 1 and variances.shape == (4,) and variances[0] > 1


# -- Mutual information gap -----------------------------------------------------

from collections import Counter  # noqa: E402


def brute_force_mi(a, b):
    n = len(a)
    pa, pb, pab = Counter(a.tolist()), Counter(b.tolist()), Counter(zip(a.tolist(), b.tolist()))
    return sum(c / n * math.log((c / n) / (pa[x] / n * pb[y] / n)) for (x, y), c in pab.items())


def test_discrete_mutual_information_matches_the_definition():
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 5, (500,), generator=g)
    b = (a + torch.randint(0, 3, (500,), generator=g)) % 6
    assert metrics.discrete_mutual_information(a, b) == pytest.approx(brute_force_mi(a, b), rel=1e-9)
    assert metrics.discrete_mutual_information(a, a) == pytest.approx(brute_force_mi(a, a))  # the entropy


@pytest.fixture(scope="module")
def factors():
    grids = torch.meshgrid(torch.arange(3), torch.arange(6), torch.arange(8), indexing="ij")
    return torch.stack([g.flatten() for g in grids], dim=1)  # [144, 3]


def test_mig_is_near_one_for_a_code_that_copies_the_factors(factors):
    copies = factors.float() * 0.5 - 1.0  # one latent per factor, rescaled
    codes = torch.cat([copies[:, [2, 0, 1]], torch.zeros(len(factors), 2)], dim=1)  # and 2 unused latents
    score, gaps = metrics.mig(codes, factors)
    assert score > 0.99 and gaps.shape == (3,)


def test_mig_is_near_zero_for_a_code_that_mixes_them(factors):
    mixed = factors.float() @ torch.ones(3, 1) + factors.float() @ torch.tensor([[1.0], [0.5], [0.25]])
    codes = torch.cat([mixed, mixed + 1e-6], dim=1)  # two latents carrying the same mixture
    score, _ = metrics.mig(codes, factors)
    assert score < 0.02


def test_mig_drops_when_one_factor_is_split_over_two_latents(factors):
    copy = factors.float()
    split = torch.cat([copy, copy[:, :1]], dim=1)  # factor 0 twice: no gap for it
    _, gaps = metrics.mig(split, factors)
    assert gaps[0] < 0.01 and gaps[1] > 0.99 and gaps[2] > 0.99


def test_mig_refuses_bad_inputs(factors):
    with pytest.raises(ValueError, match="two latent"):
        metrics.mig(torch.zeros(len(factors), 1), factors)
    with pytest.raises(ValueError, match="single value"):
        metrics.mig(torch.randn(len(factors), 3), torch.zeros(len(factors), 1, dtype=torch.long))


def test_kl_per_dimension_adds_up_to_the_kl(trained_vae):
    model, x = trained_vae
    per_dim = metrics.kl_per_dimension(model, x, batch_size=7)
    assert per_dim.shape == (8,) and (per_dim >= 0).all()
    assert per_dim.sum().item() == pytest.approx(metrics.elbo(model, x)["kl"], rel=1e-4)
