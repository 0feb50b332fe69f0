import pytest
import torch
from torch.distributions import Bernoulli, Normal

from vaelib import losses, models


def test_bce_matches_the_bernoulli_log_likelihood(images):
    logits = torch.randn(8, 784, generator=torch.Generator().manual_seed(1)) * 3
    expected = -Bernoulli(logits=logits, validate_args=False).log_prob(images).sum(dim=1)  # an independent reference
    assert torch.allclose(losses.bce_per_image(logits, images), expected, rtol=1e-5)


def test_bce_is_summed_over_pixels_not_averaged():
    x = torch.zeros(2, 784)
    logits = torch.zeros(2, 784)  # p = 1/2 everywhere: log 2 nats per pixel
    assert torch.allclose(losses.bce_per_image(logits, x), torch.full((2,), 784 * torch.log(torch.tensor(2.0))))


def test_bce_is_finite_for_confident_wrong_logits():
    x = torch.tensor([[0.0, 1.0] * 392])
    logits = torch.tensor([[200.0, -200.0] * 392])
    value = losses.bce_per_image(logits, x)
    assert torch.isfinite(value).all() and torch.allclose(value, torch.tensor([200.0 * 784]))


def test_bce_refuses_targets_outside_the_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.bce_per_image(torch.zeros(2, 784), torch.full((2, 784), 2.0))
    with pytest.raises(ValueError, match="shape"):
        losses.bce_per_image(torch.zeros(2, 784), torch.zeros(3, 784))


def test_autoencoder_loss_is_the_batch_mean_of_per_image_errors(images):
    model = models.Autoencoder(models.AutoencoderConfig(hidden_dims=(16,), latent_dim=2))
    expected = losses.bce_per_image(model(images), images).mean()
    assert torch.allclose(losses.autoencoder_loss(model, images), expected)


def test_add_noise_is_clipped_and_has_the_asked_spread():
    x = torch.full((200, 784), 0.5)
    noisy = losses.add_noise(x, 0.1, generator=torch.Generator().manual_seed(0))
    assert 0 <= noisy.min() and noisy.max() <= 1
    assert abs((noisy - x).std().item() - 0.1) < 0.005
    assert torch.equal(losses.add_noise(x, 0.0), x)
    with pytest.raises(ValueError):
        losses.add_noise(x, -1.0)


def test_denoising_loss_compares_with_the_clean_images(images):
    model = models.Autoencoder(models.AutoencoderConfig(hidden_dims=(16,), latent_dim=2))
    torch.manual_seed(0)
    value = losses.denoising_loss(0.3)(model, images)
    torch.manual_seed(0)
    noisy = losses.add_noise(images, 0.3)
    assert torch.allclose(value, losses.bce_per_image(model(noisy), images).mean())


# -- The VAE loss ------------------------------------------------------------


def vae_batch(seed=0, b=4, d=3):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, 784, generator=g)
    logits = torch.randn(b, 784, generator=g)
    mu, logvar = torch.randn(b, d, generator=g), torch.randn(b, d, generator=g) * 0.5
    return x, logits, mu, logvar


def test_vae_loss_parts_match_a_computation_by_hand():
    x, logits, mu, logvar = vae_batch()
    p = torch.sigmoid(logits)
    recon = -(x * p.log() + (1 - x) * (1 - p).log()).sum(1).mean()
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)).mean()
    parts = losses.vae_loss(x, logits, mu, logvar)
    assert torch.allclose(parts["recon"], recon, rtol=1e-5)
    assert torch.allclose(parts["kl"], kl, rtol=1e-5)
    assert torch.allclose(parts["loss"], recon + kl, rtol=1e-5)


def test_beta_scales_only_the_kl():
    x, logits, mu, logvar = vae_batch(1)
    one = losses.vae_loss(x, logits, mu, logvar, beta=1.0)
    four = losses.vae_loss(x, logits, mu, logvar, beta=4.0)
    assert torch.equal(one["recon"], four["recon"]) and torch.equal(one["kl"], four["kl"])
    assert torch.allclose(four["loss"], one["recon"] + 4 * one["kl"])
    zero = losses.vae_loss(x, logits, mu, logvar, beta=0.0)
    assert torch.allclose(zero["loss"], zero["recon"])


@pytest.mark.parametrize("beta", [-1.0, float("nan"), float("inf"), "1"])
def test_bad_betas_are_refused(beta):
    x, logits, mu, logvar = vae_batch()
    with pytest.raises(ValueError, match="beta"):
        losses.vae_loss(x, logits, mu, logvar, beta=beta)
    with pytest.raises(ValueError, match="beta"):
        losses.VAEObjective(beta=beta)


def test_bce_vae_loss_refuses_targets_outside_the_unit_interval():
    x, logits, mu, logvar = vae_batch()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.vae_loss(x * 255, logits, mu, logvar)


def test_the_mean_reductions_shrink_their_term_by_its_size():
    x, logits, mu, logvar = vae_batch(2)
    right = losses.vae_loss(x, logits, mu, logvar)
    pixels = losses.vae_loss(x, logits, mu, logvar, pixel_reduction="mean")
    latents = losses.vae_loss(x, logits, mu, logvar, latent_reduction="mean")
    assert torch.allclose(pixels["recon"], right["recon"] / 784) and torch.equal(pixels["kl"], right["kl"])
    assert torch.allclose(latents["kl"], right["kl"] / 3) and torch.equal(latents["recon"], right["recon"])
    with pytest.raises(ValueError, match="pixel_reduction"):
        losses.vae_loss(x, logits, mu, logvar, pixel_reduction="avg")


def test_gaussian_reconstruction_is_a_gaussian_log_likelihood():
    x, logits, _, _ = vae_batch(3)
    sigma = 0.3
    expected = -Normal(torch.sigmoid(logits), sigma).log_prob(x).sum(1)
    assert torch.allclose(losses.gaussian_nll_per_image(logits, x, sigma), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="sigma"):
        losses.gaussian_nll_per_image(logits, x, 0.0)
    with pytest.raises(ValueError, match="reconstruction"):
        losses.vae_loss(x, logits, torch.zeros(4, 2), torch.zeros(4, 2), reconstruction="l1")


def test_kl_warmup_raises_beta_linearly_during_training_only():
    model = models.VAE(models.VAEConfig(hidden_dims=(16,), latent_dim=2))
    objective = losses.VAEObjective(beta=2.0, warmup_steps=4)
    x = torch.rand(3, 784)
    betas = [objective(model, x)["beta"].item() for _ in range(6)]
    assert betas == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    model.eval()
    objective(model, x)
    assert objective.step == 6  # evaluation does not advance the warm-up
    assert losses.VAEObjective(beta=3.0).current_beta() == 3.0


def test_objective_refuses_bad_options_before_training():
    with pytest.raises(ValueError, match="reconstruction"):
        losses.VAEObjective(reconstruction="l1")
    with pytest.raises(ValueError, match="sigma"):
        losses.VAEObjective(reconstruction="mse", sigma=0.0)
    with pytest.raises(TypeError):
        losses.VAEObjective(sigmaa=0.1)  # a misspelt option is not silently ignored
