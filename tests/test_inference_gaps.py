"""vaelib.inference_gaps: the many-sample ELBO by hand, per-image optimization, the two gaps' bookkeeping."""

from __future__ import annotations

import pytest
import torch

from vaelib import gaussian, inference_gaps, losses, metrics, models, train


@pytest.fixture(scope="module")
def trained():
    """A small VAE trained on noisy copies of four prototype images, and sixteen of those images."""
    g = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(4, 784, generator=g) < 0.3).float() * 0.9 + 0.05  # [4, 784]: pixel probabilities
    x = torch.bernoulli(prototypes[torch.arange(512) % 4], generator=g)  # [512, 784]
    torch.manual_seed(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=4))
    train.fit(model, losses.VAEObjective(), x, epochs=5, batch_size=32, device="cpu", progress=False)
    return model, x[:16]


def test_elbo_of_is_the_elbo_by_hand(trained):
    model, x = trained
    mu, logvar = model.encode(x)
    got = inference_gaps.elbo_of(model, x, mu, logvar, samples=1, seed=5)
    eps = gaussian.standard_normal((1, *mu.shape), torch.Generator().manual_seed(5))[0]
    with torch.no_grad():
        z = gaussian.reparameterize(mu, logvar, eps)
        by_hand = -(losses.bce_per_image(model.decode(z), x) + gaussian.gaussian_kl(mu, logvar))
    torch.testing.assert_close(got, by_hand)


def test_optimizing_each_posterior_raises_its_elbo_and_leaves_the_model_alone(trained):
    model, x = trained
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    mu, logvar = model.encode(x)
    optimized = inference_gaps.optimized_posteriors(model, x, steps=100, samples=8)
    assert optimized[0].shape == mu.shape and not optimized[0].requires_grad
    amortized_elbo = inference_gaps.elbo_of(model, x, mu, logvar, samples=500)
    optimized_elbo = inference_gaps.elbo_of(model, x, *optimized, samples=500)
    assert optimized_elbo.mean() > amortized_elbo.mean()
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert model.training and all(p.requires_grad for p in model.parameters())


def test_a_blind_encoder_leaves_a_larger_amortization_gap(trained):
    model, x = trained
    blind = models.VAE(model.config)
    blind.load_state_dict(model.state_dict())
    with torch.no_grad():  # q(z|x) = N(0, I) whatever the image: the encoder does no inference
        for layer in (blind.to_mu, blind.to_logvar):
            layer.weight.zero_()
            layer.bias.zero_()
    sighted = inference_gaps.gaps(model, x, k=200, samples=200, steps=150, lr=0.05)
    gaps = inference_gaps.gaps(blind, x, k=200, samples=200, steps=150, lr=0.05)
    # the same decoder: optimizing each image's q recovers what the blind encoder leaves out
    assert gaps["elbo_amortized"] < sighted["elbo_amortized"] - 10
    assert gaps["amortization"] > sighted["amortization"] + 10
    # the same decoder, so the same log p(x): estimated from each model's q*, the estimates agree
    assert gaps["log_px"] == pytest.approx(sighted["log_px"], abs=1.0)
    for parts in (sighted, gaps):
        assert parts["approximation"] + parts["amortization"] == pytest.approx(
            parts["log_px"] - parts["elbo_amortized"], abs=1e-4
        )
        assert parts["elbo_amortized"] < parts["elbo_optimized"]


@pytest.mark.parametrize(
    ("option", "value"), [("steps", 0), ("samples", 0), ("lr", 0.0), ("lr", float("nan")), ("steps", 2.5)]
)
def test_bad_options_are_refused_by_name(trained, option, value):
    model, x = trained
    with pytest.raises(ValueError, match=option):
        inference_gaps.optimized_posteriors(model, x, **{option: value})


def test_importance_sampling_from_given_posteriors(trained):
    model, x = trained
    with torch.no_grad():
        mu, logvar = model.encode(x)
    own = metrics.importance_sampled_log_likelihood(model, x, k=50, batch_size=5, posteriors=(mu, logvar))
    torch.testing.assert_close(own, metrics.importance_sampled_log_likelihood(model, x, k=50, batch_size=5))
    with pytest.raises(ValueError, match=r"posteriors must be \(mu, logvar\), \[N, d\] each for the N = 16"):
        metrics.importance_sampled_log_likelihood(model, x, k=5, posteriors=(mu[:3], logvar[:3]))
