"""vaelib.priors: the mixture's density and draws against torch.distributions, the learned priors, their loss."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import distributions as D

from vaelib import gaussian, losses, metrics, models, priors, train


def oracle(means, logvars, logits):
    """The same mixture, as torch.distributions builds it."""
    components = D.Independent(D.Normal(means, (0.5 * logvars).exp()), 1)
    return D.MixtureSameFamily(D.Categorical(logits=logits), components)


def random_mixture(k=5, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(k, d, generator=g), torch.randn(k, d, generator=g) * 0.5, torch.randn(k, generator=g)


def small_config(k=4):
    return priors.PriorConfig(input_dim=784, hidden_dims=(32,), latent_dim=3, n_components=k)


@pytest.mark.parametrize("shape", [(7, 3), (2, 7, 3)])
def test_mixture_log_prob_is_the_mixture_density(shape):
    means, logvars, logits = random_mixture()
    z = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    got = priors.mixture_log_prob(z, means, logvars, logits)
    assert got.shape == shape[:-1]
    torch.testing.assert_close(got, oracle(means, logvars, logits).log_prob(z))


def test_one_component_at_the_origin_is_the_standard_normal():
    z = torch.randn(10, 4)
    got = priors.mixture_log_prob(z, torch.zeros(1, 4), torch.zeros(1, 4), torch.zeros(1))
    torch.testing.assert_close(got, gaussian.log_standard_normal(z))


def test_the_log_density_stays_finite_far_from_every_component():
    means, logvars, logits = random_mixture()
    z = torch.full((2, 3), 60.0)  # each component's density underflows to 0 in float32
    assert float(oracle(means, logvars, logits).log_prob(z).exp().max()) == 0.0
    got = priors.mixture_log_prob(z, means, logvars, logits)
    assert torch.isfinite(got).all()
    exact = oracle(means.double(), logvars.double(), logits.double()).log_prob(z.double())
    torch.testing.assert_close(got, exact.float())


def test_mixture_sample_draws_components_by_weight():
    means = torch.tensor([[-10.0], [10.0]])
    logvars = torch.zeros(2, 1)
    logits = torch.tensor([0.0, math.log(3.0)])  # weights 1/4 and 3/4
    z = priors.mixture_sample(40_000, means, logvars, logits, torch.Generator().manual_seed(0))
    assert z.shape == (40_000, 1)
    assert abs((z > 0).float().mean().item() - 0.75) < 0.01
    upper = z[z > 0]
    assert abs(upper.mean().item() - 10.0) < 0.05 and abs(upper.std().item() - 1.0) < 0.05


def test_mixture_sample_is_fixed_by_its_generator():
    mixture = random_mixture()
    a = priors.mixture_sample(5, *mixture, torch.Generator().manual_seed(3))
    b = priors.mixture_sample(5, *mixture, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    with pytest.raises(TypeError, match="CPU torch.Generator"):
        priors.mixture_sample(5, *mixture, generator=3)


@pytest.mark.parametrize(
    ("means", "logvars", "logits", "message"),
    [
        (torch.zeros(0, 3), torch.zeros(0, 3), torch.zeros(0), "no components"),
        (torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2), r"means \(2, 3\) and logvars \(2, 4\)"),
        (torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3), r"weight logits must be \[K\] = \[2\]"),
        (torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0.0, math.nan]), "weight logits must be finite"),
        (torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0.0, math.inf]), "weight logits must be finite"),
    ],
)
def test_a_malformed_mixture_is_refused_by_name(means, logvars, logits, message):
    with pytest.raises(ValueError, match=message):
        priors.mixture_log_prob(torch.zeros(1, 3), means, logvars, logits)
    with pytest.raises(ValueError, match=message):
        priors.mixture_sample(1, means, logvars, logits)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3, 4)])
def test_codes_of_the_wrong_size_are_refused_with_their_own_shape(shape):
    mixture = torch.zeros(3, 5), torch.zeros(3, 5), torch.zeros(3)
    expected = re.escape(f"z must be [..., d] with d = 5, the mixture's, got {shape}")
    with pytest.raises(ValueError, match=expected):
        priors.mixture_log_prob(torch.zeros(shape), *mixture)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_a_prior_with_no_components_is_refused(k):
    with pytest.raises(ValueError, match="n_components"):
        priors.PriorConfig(n_components=k)


def test_the_models_want_a_prior_config():
    with pytest.raises(TypeError, match="PriorConfig"):
        priors.MixturePriorVAE(models.MLPConfig())


@pytest.mark.parametrize(
    ("pseudo_inputs", "message"),
    [
        (torch.rand(3, 784), r"\[n_components, input_dim\] = \[4, 784\].*got \(3, 784\)"),
        (torch.rand(4, 28, 28), r"got \(4, 28, 28\)"),
        ([[0.5] * 784] * 4, "got list"),
        (torch.rand(4, 784) * 255, r"pixels in \[0, 1\]"),
    ],
)
def test_pseudo_inputs_of_the_wrong_size_are_refused_by_name(pseudo_inputs, message):
    with pytest.raises(ValueError, match=message):
        priors.VampPriorVAE(small_config(4), pseudo_inputs=pseudo_inputs)


def test_the_mixture_prior_is_its_parameters():
    torch.manual_seed(0)
    model = priors.MixturePriorVAE(small_config(4))
    z = torch.randn(6, 3)
    expected = oracle(model.prior_means, model.prior_logvars, model.prior_logits).log_prob(z)
    torch.testing.assert_close(model.log_prior(z), expected)
    model.log_prior(z).sum().backward()
    assert all(p.grad is not None for p in (model.prior_means, model.prior_logvars, model.prior_logits))


def test_the_vampprior_is_the_average_posterior_at_its_pseudo_inputs(images):
    torch.manual_seed(0)
    model = priors.VampPriorVAE(small_config(4), pseudo_inputs=images[:4])
    torch.testing.assert_close(model.pseudo_inputs(), images[:4], atol=1e-4, rtol=0)
    z = torch.randn(6, 3)
    mu, logvar = model.encode(images[:4])
    by_hand = torch.logsumexp(gaussian.log_normal_diag(z[:, None], mu, logvar), dim=1) - math.log(4)
    torch.testing.assert_close(model.log_prior(z), by_hand)
    model.log_prior(z).sum().backward()
    assert model.pseudo_logits.grad is not None and model.pseudo_logits.grad.abs().sum() > 0


def test_the_default_pseudo_inputs_are_dim_noise():
    torch.manual_seed(0)
    u = priors.VampPriorVAE(small_config(50)).pseudo_inputs()
    assert u.shape == (50, 784)
    assert abs(u.mean().item() - priors.PSEUDO_INPUT_MEAN) < 0.002 and u.min() >= 0 and u.max() <= 1


@pytest.mark.parametrize("kind", [priors.MixturePriorVAE, priors.VampPriorVAE])
def test_samples_come_from_the_learned_prior(kind):
    torch.manual_seed(0)
    model = kind(small_config(4))
    model.train()
    a = model.sample(5, torch.Generator().manual_seed(0))
    b = model.sample(5, torch.Generator().manual_seed(0))
    assert a.shape == (5, 784) and torch.equal(a, b) and a.min() >= 0 and a.max() <= 1
    assert model.training  # sampling switched to eval mode and back
    z = priors.mixture_sample(5, *model.prior_components(), torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, model.decode_probs(z))


def standard_normal_mixture_vae(seed=0):
    """A MixturePriorVAE with one component at N(0, I), and a VAE with the same weights."""
    torch.manual_seed(seed)
    mixture = priors.MixturePriorVAE(small_config(1))
    with torch.no_grad():
        mixture.prior_means.zero_()
    plain = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=3))
    plain.load_state_dict({k: v for k, v in mixture.state_dict().items() if not k.startswith("prior_")})
    return mixture, plain


def test_the_monte_carlo_kl_averages_to_the_closed_form(images):
    mixture, _ = standard_normal_mixture_vae()
    mu, logvar = mixture.encode(images)
    z = gaussian.reparameterize(mu.expand(20_000, -1, -1), logvar.expand(20_000, -1, -1))
    estimate = mixture.kl_to_prior(mu, logvar, z).mean(dim=0)
    torch.testing.assert_close(estimate, gaussian.gaussian_kl(mu, logvar), atol=0.03, rtol=0.01)


def test_the_loss_of_a_plain_vae_is_chapter_4s(images):
    _, plain = standard_normal_mixture_vae()
    torch.manual_seed(1)
    got = priors.learned_prior_loss(plain, images)
    torch.manual_seed(1)
    logits, mu, logvar = plain(images)
    expected = losses.vae_loss(images, logits, mu, logvar)
    for key in ("loss", "recon", "kl"):
        torch.testing.assert_close(got[key], expected[key])


def test_importance_sampling_reads_the_models_prior(images):
    mixture, plain = standard_normal_mixture_vae()
    a = metrics.importance_sampled_log_likelihood(mixture, images, k=50, chunk=25)
    b = metrics.importance_sampled_log_likelihood(plain, images, k=50, chunk=25)
    torch.testing.assert_close(a, b)
    with torch.no_grad():
        mixture.prior_means.add_(3.0)  # a prior far from where the codes are: a lower likelihood
    assert (metrics.importance_sampled_log_likelihood(mixture, images, k=50, chunk=25) < b).all()


def test_the_elbo_estimates_a_learned_priors_kl(images):
    mixture, plain = standard_normal_mixture_vae()
    a, b = metrics.elbo(mixture, images, n_samples=400), metrics.elbo(plain, images, n_samples=400)
    assert a["recon"] == pytest.approx(b["recon"], rel=1e-5)
    assert a["kl"] == pytest.approx(b["kl"], abs=0.05)


@pytest.mark.parametrize("kind", [priors.MixturePriorVAE, priors.VampPriorVAE])
def test_fit_trains_a_learned_prior(kind, images):
    torch.manual_seed(0)
    x = images.repeat(8, 1)
    model = kind(small_config(4))
    before = {k: v.clone() for k, v in model.named_parameters()}
    history = train.fit(model, priors.learned_prior_loss, x, epochs=4, batch_size=16, device="cpu", progress=False)
    assert history.train[-1]["loss"] < history.train[0]["loss"]
    prior_params = [k for k in before if k.startswith(("prior_", "pseudo_"))]
    assert prior_params and all(not torch.equal(before[k], dict(model.named_parameters())[k]) for k in prior_params)


def test_bits_per_dim():
    assert priors.bits_per_dim(784 * math.log(2)) == pytest.approx(1.0)
    assert priors.bits_per_dim(100.0) == pytest.approx(100 / (784 * math.log(2)))


def test_a_model_without_a_prior_of_its_own_has_the_standard_normal():
    class ReadersVAE(torch.nn.Module):  # encode and decode only, as a reader might write
        pass

    z, mu, logvar = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    torch.testing.assert_close(models.log_prior(ReadersVAE(), z), gaussian.log_standard_normal(z))
    torch.testing.assert_close(models.kl_to_prior(ReadersVAE(), mu, logvar, z), gaussian.gaussian_kl(mu, logvar))
    mixture, _ = standard_normal_mixture_vae()
    torch.testing.assert_close(models.log_prior(mixture, z), mixture.log_prior(z))
