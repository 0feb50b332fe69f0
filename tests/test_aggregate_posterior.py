"""vaelib.aggregate_posterior: q(z) against torch.distributions, ELBO surgery on models with a known answer."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions as D

from vaelib import aggregate_posterior, gaussian, models, priors


def tiny_vae(latent_dim=2):
    torch.manual_seed(0)
    return models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=latent_dim))


def test_log_density_is_the_equal_mixture_of_the_posteriors():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 3, generator=g), torch.randn(7, 3, generator=g) * 0.3
    z = torch.randn(11, 3, generator=g)
    components = D.Independent(D.Normal(mu, (0.5 * logvar).exp()), 1)
    mixture = D.MixtureSameFamily(D.Categorical(logits=torch.zeros(7)), components)
    torch.testing.assert_close(aggregate_posterior.log_density(z, mu, logvar, chunk=4), mixture.log_prob(z))


def test_log_density_needs_a_posterior():
    with pytest.raises(ValueError, match="at least one image"):
        aggregate_posterior.log_density(torch.zeros(3, 2), torch.zeros(0, 2), torch.zeros(0, 2))
    with pytest.raises(ValueError, match="chunk"):
        aggregate_posterior.log_density(torch.zeros(3, 2), torch.zeros(1, 2), torch.zeros(1, 2), chunk=0)


def test_a_code_that_ignores_the_image_carries_no_information(images):
    model = tiny_vae()
    with torch.no_grad():  # q(z|x) = N(0, I) for every image: q(z) is the prior itself
        for layer in (model.to_mu, model.to_logvar):
            layer.weight.zero_()
            layer.bias.zero_()
    parts = aggregate_posterior.elbo_surgery(model, images)
    assert parts["kl"] == 0.0
    assert parts["mutual_information"] == pytest.approx(0.0, abs=1e-5)
    assert parts["marginal_kl"] == pytest.approx(0.0, abs=1e-5)
    assert parts["log_n"] == pytest.approx(math.log(8))


def test_codes_that_tell_every_image_apart_carry_log_n(images):
    model = tiny_vae(latent_dim=8)
    with torch.no_grad():  # q(z|x_n): far-apart means, tiny variances
        model.to_mu.weight.mul_(1_000.0)
        model.to_logvar.weight.zero_()
        model.to_logvar.bias.fill_(-12.0)
    parts = aggregate_posterior.elbo_surgery(model, images)
    assert parts["mutual_information"] == pytest.approx(math.log(8), abs=1e-4)


def test_the_mutual_information_never_exceeds_log_n(images):
    for seed in range(3):
        parts = aggregate_posterior.elbo_surgery(tiny_vae(), images, seed=seed)
        assert 0 <= parts["mutual_information"] <= parts["log_n"] + 1e-6


def test_for_a_learned_prior_the_two_parts_add_up_to_the_kl(images):
    torch.manual_seed(0)
    model = priors.MixturePriorVAE(priors.PriorConfig(hidden_dims=(16,), latent_dim=3, n_components=5))
    parts = aggregate_posterior.elbo_surgery(model, images.repeat(4, 1))
    assert parts["kl"] == pytest.approx(parts["mutual_information"] + parts["marginal_kl"], abs=1e-4)


def test_for_the_standard_prior_they_add_up_on_average():
    torch.manual_seed(0)
    x = torch.rand(400, 784)
    model = tiny_vae()
    with torch.no_grad():
        model.to_mu.weight.mul_(20.0)  # codes that differ from image to image: a KL of a few nats
    runs = [aggregate_posterior.elbo_surgery(model, x, seed=s) for s in range(10)]
    assert runs[0]["kl"] > 1
    total = sum(r["mutual_information"] + r["marginal_kl"] for r in runs) / len(runs)
    assert total == pytest.approx(runs[0]["kl"], rel=0.03)  # 4,000 one-sample estimates: about 1 % noise


def two_d_vae_with_codes_on_a_ring(n=40):
    """A 2-D VAE whose posteriors sit on the circle |z| = 2 (narrow), so q(z) is empty at the origin."""
    torch.manual_seed(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(8,), latent_dim=2))
    angles = torch.linspace(0, 2 * math.pi, n + 1)[:-1]
    mu = 2 * torch.stack([angles.cos(), angles.sin()], dim=1)
    model.encode = lambda x: (mu[: len(x)], torch.full((len(x), 2), -4.0))  # the images are only counted
    return model, torch.zeros(n, 784)


def test_the_density_map_holds_both_log_densities_on_its_grid():
    model, x = two_d_vae_with_codes_on_a_ring()
    density = aggregate_posterior.density_map(model, x, extent=3.0, steps=31)
    assert density.log_prior.shape == density.log_aggregate.shape == (31, 31)
    codes = density.codes()
    assert codes.shape == (961, 2) and torch.equal(codes[1], torch.tensor([density.z1[1], density.z2[0]]))
    torch.testing.assert_close(density.log_prior.flatten(), gaussian.log_standard_normal(codes))
    mu, logvar = model.encode(x)
    torch.testing.assert_close(density.log_aggregate.flatten(), aggregate_posterior.log_density(codes, mu, logvar))


def test_the_holes_are_where_the_prior_is_high_and_the_codes_are_few():
    model, x = two_d_vae_with_codes_on_a_ring()
    density = aggregate_posterior.density_map(model, x, extent=3.0, steps=31)
    holes = aggregate_posterior.holes(density, 3, spacing=0.75)
    assert holes.shape == (3, 2)
    assert holes[0].norm() < 0.2, "the emptiest place with a high prior: the origin, inside the ring"
    assert (holes.norm(dim=1) <= 2.0 + 1e-6).all(), "every hole within the prior's 2-sigma disc"
    assert torch.cdist(holes, holes).add(torch.eye(3) * 9).min() >= 0.75


def test_a_density_map_needs_a_2d_latent_space():
    with pytest.raises(ValueError, match="2-D latent space, got latent_dim=3"):
        aggregate_posterior.density_map(tiny_vae(latent_dim=3), torch.zeros(4, 784))
