import pytest
import torch

from vaelib import batched, checkpoints, models


def test_autoencoder_shapes(images):
    model = models.Autoencoder(models.MLPConfig(hidden_dims=(32,), latent_dim=3))
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
    assert probs.min() >= 0 and probs.max() <= 1
    assert torch.allclose(probs, torch.sigmoid(model(images)))


def test_architecture_follows_the_config():
    config = models.MLPConfig(input_dim=784, hidden_dims=(64, 32), latent_dim=4)
    model = models.Autoencoder(config)
    linear = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(784, 64), (64, 32), (32, 4)]
    linear = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(4, 32), (32, 64), (64, 784)]
    assert not isinstance(model.decoder[-1], torch.nn.ReLU)  # logits, unbounded


def test_config_from_a_checkpoint_list_becomes_a_tuple():
    assert models.MLPConfig(hidden_dims=[8, 4]).hidden_dims == (8, 4)


@pytest.mark.parametrize(
    "kwargs",
    [{"latent_dim": 0}, {"hidden_dims": (8, -1)}, {"input_dim": 2.5}, {"hidden_dims": ()}, {"latent_dim": True}],
)
def test_bad_configs_are_refused(kwargs):
    with pytest.raises(ValueError, match="positive"):
        models.MLPConfig(**kwargs)


def test_bad_inputs_are_refused():
    model = models.Autoencoder(models.MLPConfig(latent_dim=2))
    with pytest.raises(ValueError, match="784"):
        model(torch.rand(4, 100))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model(torch.rand(4, 784) * 255)
    with pytest.raises(ValueError, match=r"\[B, 2\]"):
        model.decode(torch.rand(4, 3))


# -- VAEs ----------------------------------------------------------------------


def small_models():
    torch.manual_seed(0)
    return [
        models.Autoencoder(models.MLPConfig(hidden_dims=(32,), latent_dim=4)),
        models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=4)),
    ]


@pytest.mark.parametrize("model", small_models(), ids=["Autoencoder", "VAE"])
def test_every_model_has_the_same_interface(model, images):
    assert model.latent_dim == 4
    z = model.encode_mean(images)
    assert z.shape == (8, 4)
    logits = model.decode(z)
    assert logits.shape == (8, 784)
    probs = model.decode_probs(z)
    assert torch.allclose(probs, torch.sigmoid(logits)) and not probs.requires_grad
    assert torch.allclose(model.reconstruct(images), probs)
    with pytest.raises(ValueError, match=r"\[B, 4\]"):
        model.decode(torch.zeros(2, 5))
    with pytest.raises(TypeError, match="floating-point"):
        model.decode(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="tensor"):
        model.decode_probs([[0.0] * 4])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.encode_mean(images * 10)


@pytest.mark.parametrize("model", small_models(), ids=["Autoencoder", "VAE"])
@pytest.mark.parametrize("training", [True, False])
def test_decoding_for_figures_leaves_the_mode_as_it_was(model, images, training):
    model.train(training)
    model.decode_probs(torch.zeros(1, 4))
    model.reconstruct(images)
    assert model.training is training


def test_the_vae_encodes_to_a_gaussian_and_samples_from_the_prior(images):
    model = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=4))
    mu, logvar = model.encode(images)
    assert mu.shape == logvar.shape == (8, 4)
    assert torch.equal(model.encode_mean(images), mu)
    logits, mu2, logvar2 = model(images)
    assert logits.shape == (8, 784) and torch.equal(mu, mu2) and torch.equal(logvar, logvar2)
    samples = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (5, 784) and samples.min() >= 0 and samples.max() <= 1
    assert torch.equal(samples, model.sample(5, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="n must be"):
        model.sample(0)


def test_the_vae_forward_pass_samples_a_new_code_each_time(images):
    model = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=4))
    with torch.no_grad():
        model.to_logvar.bias.fill_(0.0)  # sigma about 1: the noise is visible
        first, second = model(images)[0], model(images)[0]
    assert not torch.equal(first, second)


def test_default_vae_is_the_784_400_20_of_the_literature():
    model = models.VAE()
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(400, 784), (400,), (20, 400), (20,), (20, 400), (20,), (400, 20), (400,), (784, 400), (784,)]


def test_the_default_autoencoder_is_784_512_256_16():
    config = models.Autoencoder().config
    assert (config.input_dim, config.hidden_dims, config.latent_dim) == (784, (512, 256), 16)


def test_model_device_and_evaluating():
    model = models.VAE(models.MLPConfig(hidden_dims=(8,), latent_dim=2))
    assert batched.model_device(model) == torch.device("cpu")
    with pytest.raises(ValueError, match="no parameters"):
        batched.model_device(torch.nn.ReLU())
    model.train()
    with batched.evaluating(model):
        assert not model.training
    assert model.training
    with pytest.raises(RuntimeError), batched.evaluating(model):
        raise RuntimeError("inside")
    assert model.training


def test_the_conv_vae_sees_pictures_and_keeps_an_exportable_mlp_decoder():
    from vaelib import static

    torch.manual_seed(0)
    model = models.ConvVAE()  # 32x32 sprites, 10 latents
    x = torch.rand(6, 32 * 32)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (6, 10)
    assert model.encode_mean(x.reshape(6, 1, 32, 32)).shape == (6, 10)  # pictures are accepted as they are
    logits, mu, _ = model(x)
    assert logits.shape == (6, 1024)
    assert any(isinstance(m, torch.nn.Conv2d) for m in model.encoder)
    decoder = static.decoder_from_export(static.export_decoder(model))  # the page can run it
    with torch.no_grad():
        assert (decoder(mu) - model.decode_probs(mu)).abs().max() < 0.02
    with pytest.raises(ValueError, match="divisible by 8"):
        models.ConvVAE(models.MLPConfig(input_dim=28 * 28, hidden_dims=(64,), latent_dim=2))


def test_a_conv_vae_checkpoint_round_trips(tmp_path):

    model = models.ConvVAE(models.MLPConfig(input_dim=16 * 16, hidden_dims=(32,), latent_dim=3))
    loaded = checkpoints.load_checkpoint(checkpoints.save_checkpoint(model, tmp_path / "conv.pt"))
    x = torch.rand(2, 256)
    assert type(loaded) is models.ConvVAE and torch.equal(loaded.encode(x)[0], model.encode(x)[0])


def test_the_variance_options_turn_the_raw_output_into_logvar_as_documented():
    raw = torch.tensor([[-50.0, -1.0, 0.0, 3.0, 200.0]])
    torch.testing.assert_close(models.to_logvar(raw, "exp"), raw)
    torch.testing.assert_close(models.to_logvar(raw, "clamped"), raw.clamp(-10, 10))
    softplus = models.to_logvar(raw, "softplus").exp()  # the variance
    torch.testing.assert_close(softplus, torch.nn.functional.softplus(raw) + 1e-4)
    assert torch.isfinite(softplus).all() and softplus.min() >= 0.99e-4
    assert torch.isinf(models.to_logvar(raw, "exp").exp()).any()  # what the other two guard against


@pytest.mark.parametrize("variance", ["clamped", "softplus"])
def test_a_vae_encodes_with_the_variance_its_config_names(variance):
    torch.manual_seed(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=3, variance=variance))
    x = torch.rand(4, 784)
    h = model.encoder(x)
    mu, logvar = model.encode(x)
    torch.testing.assert_close(mu, model.to_mu(h))
    torch.testing.assert_close(logvar, models.to_logvar(model.to_logvar(h), variance))


def test_an_unknown_variance_is_refused_and_an_autoencoder_has_none():
    with pytest.raises(ValueError, match="variance must be one of exp, clamped, softplus"):
        models.MLPConfig(variance="relu")
    with pytest.raises(ValueError, match="no variance"):
        models.Autoencoder(models.MLPConfig(variance="softplus"))
