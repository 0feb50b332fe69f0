import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from vaelib import gaussian, losses


def random_pair(seed, shape=(64, 5)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * 2, torch.randn(shape, generator=g) * 1.5


@pytest.mark.parametrize("seed", range(5))
def test_gaussian_kl_matches_torch_distributions(seed):
    mu, logvar = random_pair(seed)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    expected = kl_divergence(q, p)  # [64]
    assert torch.allclose(gaussian.gaussian_kl(mu, logvar), expected, rtol=1e-5, atol=1e-5)


def test_gaussian_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(3, 4)
    assert torch.equal(gaussian.gaussian_kl(zeros, zeros), torch.zeros(3))
    mu, logvar = random_pair(0)
    assert (gaussian.gaussian_kl(mu, logvar) > 0).all()


def test_gaussian_kl_sums_over_latent_dimensions():
    mu = torch.ones(2, 7)
    assert torch.allclose(gaussian.gaussian_kl(mu, torch.zeros(2, 7)), torch.full((2,), 3.5))


@pytest.mark.parametrize("seed", range(3))
def test_kl_per_dimension_matches_torch_distributions_and_sums_to_the_kl(seed):
    mu, logvar = random_pair(seed, (16, 6))
    per_dim = gaussian.gaussian_kl_per_dim(mu, logvar)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0))  # [16, 6], elementwise
    assert per_dim.shape == (16, 6)
    assert torch.allclose(per_dim, expected, rtol=1e-5, atol=1e-5)
    assert torch.allclose(per_dim.sum(-1), gaussian.gaussian_kl(mu, logvar), rtol=1e-6, atol=1e-6)


def test_reparameterized_samples_have_the_right_mean_and_variance():
    mu = torch.tensor([[1.0, -2.0, 0.5]]).expand(200_000, 3)
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]]).expand(200_000, 3)
    z = gaussian.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0, 0.5]), atol=0.02)
    assert torch.allclose(z.var(0), torch.tensor([1.0, 4.0, 0.25]), rtol=0.02)


def test_reparameterize_with_a_generator_is_reproducible_and_leaves_the_global_generator_alone():
    mu, logvar = random_pair(2, (10, 4))
    state = torch.get_rng_state()
    first = gaussian.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(7))
    second = gaussian.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), state)
    other = gaussian.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(8))
    assert not torch.equal(first, other)


def test_gradients_reach_mu_and_logvar_but_not_eps():
    mu = torch.zeros(4, 2, requires_grad=True)
    logvar = torch.zeros(4, 2, requires_grad=True)
    eps = torch.randn(4, 2)
    z = gaussian.reparameterize(mu, logvar, eps)
    z.pow(2).sum().backward()
    assert torch.allclose(mu.grad, 2 * eps)  # dz/dmu = 1
    assert torch.allclose(logvar.grad, 2 * eps * eps * 0.5)  # dz/dlogvar = 0.5 sigma eps
    assert eps.grad is None and not eps.requires_grad


def test_reparameterize_with_given_noise():
    mu, logvar, eps = torch.zeros(2, 3), torch.full((2, 3), math.log(9.0)), torch.ones(2, 3)
    assert torch.allclose(gaussian.reparameterize(mu, logvar, eps), torch.full((2, 3), 3.0))
    with pytest.raises(ValueError, match="eps"):
        gaussian.reparameterize(mu, logvar, torch.ones(3, 3))


def test_log_densities_match_torch_distributions():
    mu, logvar = random_pair(1, (10, 3))
    z = torch.randn(10, 3, generator=torch.Generator().manual_seed(3))
    expected = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1).log_prob(z)
    assert torch.allclose(gaussian.log_normal_diag(z, mu, logvar), expected, atol=1e-5)
    standard = Independent(Normal(torch.zeros(3), torch.ones(3)), 1).log_prob(z)
    assert torch.allclose(gaussian.log_standard_normal(z), standard, atol=1e-5)


def test_every_pair_of_code_and_gaussian_gets_the_log_density_that_broadcasting_gives():
    g = torch.Generator().manual_seed(4)
    mu, logvar = torch.randn(30, 5, generator=g), 4 * torch.randn(30, 5, generator=g) - 4
    logvar[:10] = -20.0  # ten Gaussians as narrow as the docstring allows (variance e^-20)
    z = torch.cat([3 * torch.randn(40, 5, generator=g), mu[:10] + 1e-3])  # ten codes almost at their means
    mu.requires_grad_(True)
    exact = gaussian.log_normal_diag(z.double()[:, None], mu.double(), logvar.double())  # [50, 30]
    pairs = gaussian.log_normal_diag_pairs(z, mu, logvar)
    assert pairs.shape == (50, 30) and pairs.dtype == torch.float32
    assert torch.allclose(pairs.double(), exact, rtol=1e-6, atol=1e-4)  # float64 inside: nothing cancels away
    # the gradients too: the learned priors of chapter 8 train through it
    (grad,) = torch.autograd.grad(pairs.sum(), mu)
    (expected,) = torch.autograd.grad(gaussian.log_normal_diag(z[:, None], mu, logvar).sum(), mu)
    assert torch.allclose(grad, expected, rtol=1e-4, atol=1e-3)


def test_log_normal_diag_pairs_refuses_codes_that_are_not_a_matrix_of_the_gaussians_size():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"z must be \[M, d\] and mu, logvar \[K, d\], got \(2, 5\) and \(4, 3\)"):
        gaussian.log_normal_diag_pairs(torch.zeros(2, 5), mu, logvar)
    with pytest.raises(ValueError, match=r"z must be \[M, d\]"):
        gaussian.log_normal_diag_pairs(torch.zeros(3), mu, logvar)


def test_normal_pdf_integrates_to_one_and_peaks_at_mu():
    x = torch.linspace(-20, 20, 40_001)
    pdf = gaussian.normal_pdf(x, 1.5, 2.0)
    assert torch.trapezoid(pdf, x).item() == pytest.approx(1.0, abs=1e-6)
    assert x[pdf.argmax()].item() == pytest.approx(1.5, abs=1e-3)


def test_both_gradient_estimators_are_unbiased_and_reparameterization_has_lower_variance():
    def f(z):
        return z**2  # d/dmu E[z^2] = 2 mu

    mu, sigma = 1.5, 1.0
    g = torch.Generator().manual_seed(0)
    score = torch.tensor([gaussian.score_function_gradient(f, mu, sigma, 100, g) for _ in range(400)])
    reparam = torch.tensor([gaussian.reparameterized_gradient(f, mu, sigma, 100, g) for _ in range(400)])
    assert score.mean().item() == pytest.approx(2 * mu, abs=0.15)
    assert reparam.mean().item() == pytest.approx(2 * mu, abs=0.05)
    assert reparam.var() < score.var() / 5


# -- Bad inputs: the error names the argument and what is wrong ------------------

Z = torch.zeros(4, 3)

# Every function that takes a (mu, logvar) pair.
PAIR_FUNCTIONS = {
    "reparameterize": gaussian.reparameterize,
    "gaussian_kl": gaussian.gaussian_kl,
    "gaussian_kl_per_dim": gaussian.gaussian_kl_per_dim,
    "log_normal_diag": lambda mu, logvar: gaussian.log_normal_diag(Z, mu, logvar),
    "log_normal_diag_pairs": lambda mu, logvar: gaussian.log_normal_diag_pairs(Z, mu, logvar),
}


@pytest.mark.parametrize("function", PAIR_FUNCTIONS.values(), ids=PAIR_FUNCTIONS.keys())
def test_mu_and_logvar_of_different_shapes_are_refused(function):
    with pytest.raises(ValueError, match=r"mu \(4, 3\) and logvar \(4, 2\) must have the same shape"):
        function(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="same shape"):
        function(torch.zeros(4, 3), torch.zeros(3, 3))


@pytest.mark.parametrize("function", PAIR_FUNCTIONS.values(), ids=PAIR_FUNCTIONS.keys())
def test_integer_mu_or_logvar_is_refused(function):
    with pytest.raises(TypeError, match=r"mu must be a floating-point tensor, got dtype torch.int64"):
        function(torch.zeros(4, 3, dtype=torch.long), torch.zeros(4, 3))
    with pytest.raises(TypeError, match=r"logvar must be a floating-point tensor, got dtype torch.int32"):
        function(torch.zeros(4, 3), torch.zeros(4, 3, dtype=torch.int32))


@pytest.mark.parametrize("function", PAIR_FUNCTIONS.values(), ids=PAIR_FUNCTIONS.keys())
def test_mu_or_logvar_that_is_not_a_tensor_is_refused(function):
    with pytest.raises(TypeError, match=r"mu must be a torch.Tensor, got list"):
        function([[0.0, 0.0, 0.0]] * 4, torch.zeros(4, 3))
    with pytest.raises(TypeError, match=r"logvar must be a torch.Tensor, got float"):
        function(torch.zeros(4, 3), 0.0)


@pytest.mark.parametrize("function", PAIR_FUNCTIONS.values(), ids=PAIR_FUNCTIONS.keys())
def test_a_latent_dimension_of_zero_is_refused(function):
    with pytest.raises(ValueError, match="latent dimension of at least 1"):
        function(torch.zeros(4, 0), torch.zeros(4, 0))


def test_log_normal_diag_refuses_z_of_another_latent_size():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"z \(4, 5\) and mu \(4, 3\) differ in their last \(latent\) dimension"):
        gaussian.log_normal_diag(torch.zeros(4, 5), mu, logvar)
    with pytest.raises(TypeError, match="z must be a floating-point tensor"):
        gaussian.log_normal_diag(torch.zeros(4, 3, dtype=torch.long), mu, logvar)


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), float("inf"), True])
def test_normal_pdf_refuses_a_sigma_that_is_not_positive_and_finite(sigma):
    with pytest.raises(ValueError, match="sigma must be a positive finite number"):
        gaussian.normal_pdf(torch.zeros(3), 0.0, sigma)


ESTIMATORS = [gaussian.score_function_gradient, gaussian.reparameterized_gradient]


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_estimators_refuse_a_bad_number_of_samples(estimator, n):
    with pytest.raises(ValueError, match=r"n \(the number of samples\) must be a positive integer"):
        estimator(lambda z: z, 0.0, 1.0, n)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), True])
def test_estimators_refuse_a_sigma_that_is_not_positive(estimator, sigma):
    with pytest.raises(ValueError, match="sigma must be a positive finite number"):
        estimator(lambda z: z, 0.0, sigma, 10)


def test_every_generator_is_a_cpu_generator_and_one_seed_gives_one_draw():
    mu, logvar = torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, 4, dtype=torch.float64)
    z = gaussian.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(5))
    eps = torch.randn(3, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert torch.equal(z, eps)  # drawn on the CPU, whatever the device of mu
    noisy = losses.add_noise(torch.full((2, 784), 0.5), 0.1, generator=torch.Generator().manual_seed(5))
    noise = torch.randn(2, 784, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(noisy, (0.5 + 0.1 * noise).clamp(0, 1))
    with pytest.raises(TypeError, match="generator must be a CPU torch.Generator"):
        gaussian.reparameterize(mu, logvar, generator=5)
