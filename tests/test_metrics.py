import itertools
import math
from collections import Counter

import pytest
import torch
from torch import nn
from torch.distributions import MultivariateNormal, Normal

from vaelib import batched, gaussian, latent, losses, metrics, models, train


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


def test_standardize_uses_training_statistics_per_feature():
    train_x = torch.tensor([[0.0, 10.0], [2.0, 30.0]])
    test_x = torch.tensor([[1.0, 20.0]])
    train_s, test_s = metrics.standardize(train_x, test_x)
    assert torch.allclose(train_s.mean(0), torch.zeros(2), atol=1e-6)
    assert torch.allclose(train_s.std(0), torch.ones(2), atol=1e-4)
    assert torch.allclose(test_s, torch.zeros(1, 2), atol=1e-6)


def separable_classes(seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(400) % 4
    centers = torch.randn(4, 5, generator=g) * 4
    x = centers[y] + torch.randn(400, 5, generator=g)
    return x, y, torch.randn(400, 5, generator=g)


def test_linear_probe_separates_separable_classes_and_not_noise():
    x, y, noise = separable_classes()
    assert metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:]) > 0.95
    assert metrics.linear_probe_accuracy(noise[:300], y[:300], noise[300:], y[300:]) < 0.45


def test_linear_probe_without_standardizing_skips_exactly_that_step():
    # for features already on one scale (pixels in [0, 1]), where standardizing a pixel
    # that is almost always 0 would blow up its rare ink
    x, y, _ = separable_classes(3)
    train_std, test_std = metrics.standardize(x[:300], x[300:])
    by_hand = metrics.linear_probe_accuracy(train_std, y[:300], test_std, y[300:], standardize_features=False)
    assert by_hand == metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:])
    assert metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:], standardize_features=False) > 0.9


def test_linear_probe_is_deterministic_and_leaves_the_global_generator_alone():
    x, y, _ = separable_classes(1)
    x = x + torch.randn(400, 5, generator=torch.Generator().manual_seed(2)) * 3  # an imperfect probe
    first = metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:], epochs=20)
    torch.rand(10)  # whatever was drawn in between
    state = torch.get_rng_state()
    second = metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:], epochs=20)
    assert first == second
    assert torch.equal(torch.get_rng_state(), state)


def test_reconstruction_errors_are_per_image_from_the_mean_code(images):
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    errors = metrics.reconstruction_errors(model, images, batch_size=3)
    assert errors.shape == (8,) and (errors > 0).all()
    with torch.no_grad():
        assert torch.allclose(errors, losses.bce_per_image(model.decode(model.encode_mean(images)), images))


def test_reconstruction_errors_of_an_autoencoder(images):
    model = models.Autoencoder(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    with torch.no_grad():
        expected = losses.bce_per_image(model(images), images)
    assert torch.allclose(metrics.reconstruction_errors(model, images, batch_size=5), expected)


# -- VAE metrics ----------------------------------------------------------------


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
    g = torch.Generator().manual_seed(0)
    x = model.decode(torch.randn(20, 2, generator=g, dtype=torch.float64))
    x = x + 0.5 * torch.randn(20, 5, generator=g, dtype=torch.float64)
    estimate = metrics.importance_sampled_log_likelihood(model, x, k=3, log_likelihood=model.log_likelihood)
    assert torch.allclose(estimate.double(), model.true_log_px(x), atol=1e-4)


def test_importance_sampling_rises_toward_the_true_log_likelihood_with_k():
    model = LinearGaussian(shift=0.4, inflate=0.7)  # an imperfect q
    g = torch.Generator().manual_seed(1)
    x = model.decode(torch.randn(200, 2, generator=g, dtype=torch.float64))
    x = x + 0.5 * torch.randn(200, 5, generator=g, dtype=torch.float64)
    true = model.true_log_px(x).mean().item()
    estimates = {
        k: metrics.importance_sampled_log_likelihood(model, x, k=k, chunk=64, log_likelihood=model.log_likelihood)
        .mean()
        .item()
        for k in [1, 10, 100, 2000]
    }
    assert estimates[1] < estimates[10] < estimates[100] < estimates[2000] <= true + 0.01
    assert true - estimates[2000] < 0.05 < true - estimates[1]


def test_importance_sampling_with_one_sample_is_an_elbo_estimate():
    model = LinearGaussian(shift=0.3, inflate=0.5)
    g = torch.Generator().manual_seed(2)
    x = model.decode(torch.randn(500, 2, generator=g, dtype=torch.float64))
    mu, logvar = model.encode(x)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
    elbo_parts = []
    for _ in range(50):
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g, dtype=torch.float64)
        elbo_parts.append((model.log_likelihood(model.decode(z), x) - kl).mean())
    elbo = torch.stack(elbo_parts).mean().item()
    one = [
        metrics.importance_sampled_log_likelihood(model, x, k=1, seed=s, log_likelihood=model.log_likelihood).mean()
        for s in range(50)
    ]
    assert torch.stack(one).mean().item() == pytest.approx(elbo, abs=0.05)


@pytest.fixture(scope="module")
def trained_vae():
    g = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(4, 784, generator=g) > 0.5).float()
    x = (prototypes[torch.arange(400) % 4] * 0.9 + 0.05).clamp(0, 1)
    x = torch.bernoulli(x, generator=g)
    torch.manual_seed(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(64,), latent_dim=8))
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
    with torch.no_grad(), batched.evaluating(model):
        mu, logvar = model.encode(x)
        parts = losses.vae_loss(x, model.decode(mu), mu, logvar)  # decoded from the mean: no noise
    result = metrics.elbo(model, x, n_samples=50)
    assert result["kl"] == pytest.approx(parts["kl"].item(), rel=1e-4)
    assert result["recon"] >= parts["recon"].item() - 1.0  # sampled codes reconstruct no better


def test_elbo_with_the_same_seed_gives_the_same_result_whatever_was_drawn_in_between(trained_vae):
    model, x = trained_vae
    first = metrics.elbo(model, x, seed=3)
    torch.rand(1000)  # draws from the global generator
    torch.manual_seed(123)
    assert metrics.elbo(model, x, seed=3) == first
    assert metrics.elbo(model, x, seed=4)["recon"] != first["recon"]  # the seed does pick the codes


def test_active_units_count_the_dimensions_that_move_with_the_input():
    class Fixed(nn.Module):
        latent_dim = 4

        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(torch.zeros(1))

        def encode_mean(self, x):
            mu = torch.zeros(len(x), 4)
            mu[:, 0] = x[:, 0] * 10  # varies with the input
            mu[:, 2] = x[:, 1] * 0.01  # barely: variance below the threshold
            return mu

    count, variances = metrics.active_units(Fixed(), torch.rand(500, 784))
    assert count == 1 and variances.shape == (4,) and variances[0] > 1


def test_kl_per_dimension_adds_up_to_the_kl(trained_vae):
    model, x = trained_vae
    per_dim = metrics.kl_per_dimension(model, x, batch_size=7)
    assert per_dim.shape == (8,) and (per_dim >= 0).all()
    assert per_dim.sum().item() == pytest.approx(metrics.elbo(model, x)["kl"], rel=1e-4)


def test_kl_per_dimension_is_the_per_dimension_kl_averaged_over_images(trained_vae):
    model, x = trained_vae
    with torch.no_grad(), batched.evaluating(model):
        expected = gaussian.gaussian_kl_per_dim(*model.encode(x)).mean(0)
    assert torch.allclose(metrics.kl_per_dimension(model, x, batch_size=7), expected, rtol=1e-5, atol=1e-6)


# -- Side effects: a metric leaves the model's mode and the global generator alone --


class DropoutVAE(nn.Module):
    """A VAE with dropout in its encoder: in train mode its codes are random (and
    draw from the global generator); in eval mode they are not."""

    latent_dim = 3

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(784, 16), nn.ReLU(), nn.Dropout(0.5))
        self.heads = nn.Linear(16, 6)
        self.out = nn.Linear(3, 784)

    def encode(self, x):
        mu, logvar = self.heads(self.body(x)).chunk(2, dim=1)
        return mu, logvar

    def encode_mean(self, x):
        return self.encode(x)[0]

    def decode(self, z):
        return self.out(z)


MODEL_METRICS = {
    "elbo": lambda model, x: metrics.elbo(model, x, n_samples=2, batch_size=3),
    "importance_sampled_log_likelihood": lambda model, x: metrics.importance_sampled_log_likelihood(
        model, x, k=4, batch_size=3, chunk=3
    ),
    "reconstruction_errors": lambda model, x: metrics.reconstruction_errors(model, x, batch_size=3),
    "kl_per_dimension": lambda model, x: metrics.kl_per_dimension(model, x, batch_size=3),
    "active_units": lambda model, x: metrics.active_units(model, x, batch_size=3)[1],
    "encode_dataset": lambda model, x: latent.encode_dataset(model, x, batch_size=3),
}


def as_tensor(result):
    return torch.tensor(list(result.values())) if isinstance(result, dict) else result


@pytest.mark.parametrize("training", [True, False], ids=["train-mode", "eval-mode"])
@pytest.mark.parametrize("metric", MODEL_METRICS.values(), ids=MODEL_METRICS.keys())
def test_metrics_leave_the_mode_and_the_global_generator_as_they_were(images, metric, training):
    model = DropoutVAE()
    model.train(training)
    state = torch.get_rng_state()
    result = as_tensor(metric(model, images))
    assert model.training is training
    assert torch.equal(torch.get_rng_state(), state)
    model.train(not training)
    assert torch.equal(as_tensor(metric(model, images)), result)  # evaluated in eval mode either way


# -- Bad inputs: the error names the argument and what is wrong ------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_roc_auc_refuses_non_finite_scores(bad):
    with pytest.raises(ValueError, match="roc_auc got NaN or infinite scores"):
        metrics.roc_auc(torch.tensor([1.0, bad]), torch.ones(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        metrics.roc_auc(torch.ones(3), torch.tensor([bad, 2.0]))


def test_roc_auc_refuses_an_empty_set_of_scores():
    with pytest.raises(ValueError, match="at least one negative and one positive score"):
        metrics.roc_auc(torch.tensor([]), torch.ones(3))


@pytest.mark.parametrize("threshold", [-0.1, float("nan"), float("inf"), "0.01", True])
def test_active_units_refuse_a_bad_threshold(images, threshold):
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0"):
        metrics.active_units(model, images, threshold=threshold)


def test_active_units_need_two_images(images):
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    with pytest.raises(ValueError, match="at least 2 images to measure a variance, got 1"):
        metrics.active_units(model, images[:1])


@pytest.mark.parametrize("n_samples", [0, -1, 1.0, True])
def test_elbo_refuses_a_bad_number_of_samples(images, n_samples):
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        metrics.elbo(model, images, n_samples=n_samples)


@pytest.mark.parametrize("name", ["k", "chunk", "batch_size"])
@pytest.mark.parametrize("value", [0, -1, 2.0])
def test_importance_sampling_refuses_bad_counts(images, name, value):
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    with pytest.raises(ValueError, match=rf"^{name} must be a positive integer"):
        metrics.importance_sampled_log_likelihood(model, images, **{name: value})


def test_linear_probe_refuses_features_and_labels_of_different_lengths():
    x, y, _ = separable_classes()
    with pytest.raises(ValueError, match="features and labels must pair up: train 300 vs 299"):
        metrics.linear_probe_accuracy(x[:300], y[:299], x[300:], y[300:])
    with pytest.raises(ValueError, match="features and labels must pair up: .* test 100 vs 50"):
        metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[350:])


# -- Mutual information gap -----------------------------------------------------


def brute_force_mi(a, b):
    n = len(a)
    pa, pb, pab = Counter(a.tolist()), Counter(b.tolist()), Counter(zip(a.tolist(), b.tolist(), strict=True))
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


def test_latent_factors_names_each_latents_factor_and_its_gap(factors):
    copy = factors.float()
    unused = torch.zeros(len(factors), 1)
    codes = torch.cat([copy[:, [1]], unused, copy[:, [2, 0]], copy[:, [0]]], dim=1)  # factor 0 twice
    factor, gap = metrics.latent_factors(codes, factors)
    assert factor[[0, 2, 3, 4]].tolist() == [1, 2, 0, 0]  # the unused latent's factor is arbitrary
    assert gap[0] > 0.99 and gap[2] > 0.99  # the one latent of factors 1 and 2
    assert abs(gap[3]) < 0.01 and abs(gap[4]) < 0.01  # factor 0, shared by two latents
    assert gap[1] == pytest.approx(-1.0)  # unused: it tells nothing, two others tell all of factor 0
    _, gaps = metrics.mig(codes, factors)
    assert gap[0] == pytest.approx(gaps[1]) and gap[2] == pytest.approx(gaps[2])


def test_factor_entropies_are_the_log_of_the_number_of_values_for_a_uniform_grid(factors):
    assert metrics.factor_entropies(factors).tolist() == pytest.approx([math.log(3), math.log(6), math.log(8)])


def test_mig_refuses_a_single_latent_or_a_constant_factor(factors):
    with pytest.raises(ValueError, match="at least two latent dimensions"):
        metrics.mig(torch.zeros(len(factors), 1), factors)
    with pytest.raises(ValueError, match="factor 0 takes a single value"):
        metrics.mig(torch.randn(len(factors), 3), torch.zeros(len(factors), 1, dtype=torch.long))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_mig_refuses_non_finite_codes(factors, bad):
    codes = factors.float().clone()
    codes[5, 1] = bad
    with pytest.raises(ValueError, match="codes must be finite floating-point numbers"):
        metrics.mig(codes, factors)


@pytest.mark.parametrize("bins", [1, 0, -3, True, 2.5])
def test_mig_refuses_fewer_than_two_bins(factors, bins):
    with pytest.raises(ValueError, match="bins must be an integer >= 2"):
        metrics.mig(factors.float(), factors, bins=bins)


def test_mig_refuses_an_empty_set(factors):
    with pytest.raises(ValueError, match="codes and factors are empty"):
        metrics.mig(torch.zeros(0, 3), factors[:0])


def test_mig_refuses_float_factors(factors):
    with pytest.raises(TypeError, match="factors must be integer factor indices, got dtype torch.float32"):
        metrics.mig(factors.float(), factors.float())


def test_mig_refuses_codes_and_factors_of_different_lengths(factors):
    with pytest.raises(ValueError, match=r"codes \[N, d\] and factors \[N, K\] with the same N, got \(143, 3\)"):
        metrics.mig(factors[:-1].float(), factors)
