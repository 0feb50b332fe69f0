import pytest
import torch

from vaelib import models


def test_autoencoder_shapes(images):
    model = models.Autoencoder(models.AutoencoderConfig(hidden_dims=(32,), latent_dim=3))
    z = model.encode(images)
    assert z.shape == (8, 3)
    logits = model.decode(z)
    assert logits.shape == (8, 784)
    assert torch.equal(model(images), logits)
    assert model(images.reshape(8, 1, 28, 28)).shape == (8, 784)


def test_decoder_returns_logits_and_reconstruct_returns_probabilities(images):
    model = models.Autoencoder()
    with torch.no_grad():
        for p in model.decoder[-1].parameters():
            p.fill_(5.0)  # logits far outside [0, 1]
    assert model(images).min() > 1
    probs = model.reconstruct(images)
    assert 0 <= probs.min() and probs.max() <= 1
    assert torch.allclose(probs, torch.sigmoid(model(images)))


def test_architecture_follows_the_config():
    config = models.AutoencoderConfig(input_dim=784, hidden_dims=(64, 32), latent_dim=4)
    model = models.Autoencoder(config)
    linear = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(784, 64), (64, 32), (32, 4)]
    linear = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(4, 32), (32, 64), (64, 784)]
    assert not isinstance(model.decoder[-1], torch.nn.ReLU)  # logits, unbounded


def test_config_from_a_checkpoint_list_becomes_a_tuple():
    assert models.AutoencoderConfig(hidden_dims=[8, 4]).hidden_dims == (8, 4)


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"hidden_dims": (8, -1)}, {"input_dim": 2.5}])
def test_bad_configs_are_refused(kwargs):
    with pytest.raises(ValueError, match="positive"):
        models.AutoencoderConfig(**kwargs)


def test_bad_inputs_are_refused():
    model = models.Autoencoder(models.AutoencoderConfig(latent_dim=2))
    with pytest.raises(ValueError, match="784"):
        model(torch.rand(4, 100))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model(torch.rand(4, 784) * 255)
    with pytest.raises(ValueError, match=r"\[B, 2\]"):
        model.decode(torch.rand(4, 3))


# -- VAEs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [models.VAE(models.VAEConfig(hidden_dims=(32,), latent_dim=4)),
     models.ConvVAE(models.ConvVAEConfig(channels=(4, 8), hidden_dim=16, latent_dim=4))],
    ids=["VAE", "ConvVAE"],
)
def test_vae_interface(model, images):
    mu, logvar = model.encode(images)
    assert mu.shape == logvar.shape == (8, 4)
    logits, mu2, logvar2 = model(images)
    assert logits.shape == (8, 784) and torch.equal(mu, mu2) and torch.equal(logvar, logvar2)
    assert model.decode(mu).shape == (8, 784)
    samples = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (5, 784) and 0 <= samples.min() and samples.max() <= 1
    again = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(samples, again)
    assert torch.allclose(model.reconstruct(images), torch.sigmoid(model.decode(mu)))
    with pytest.raises(ValueError, match=r"\[B, 4\]"):
        model.decode(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.encode(images * 10)


def test_the_vae_forward_pass_samples_through_reparameterize(images, monkeypatch):
    model = models.VAE(models.VAEConfig(hidden_dims=(32,), latent_dim=4))
    calls = []
    real = models.reparameterize
    monkeypatch.setattr(models, "reparameterize", lambda mu, logvar: calls.append(1) or real(mu, logvar))
    model(images)
    assert calls == [1]


def test_default_vae_is_the_784_400_20_of_the_literature():
    model = models.VAE()
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(400, 784), (400,), (20, 400), (20,), (20, 400), (20,), (400, 20), (400,), (784, 400), (784,)]


def test_conv_vae_config_is_validated():
    with pytest.raises(ValueError, match="two numbers"):
        models.ConvVAEConfig(channels=(4, 8, 16))
    assert models.ConvVAEConfig(channels=[4, 8]).channels == (4, 8)
