import pytest
import torch
from torch.distributions import Bernoulli

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
