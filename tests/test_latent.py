import torch

from vaelib import latent, models


def test_encode_dataset_matches_encoding_at_once(images):
    model = models.Autoencoder(models.AutoencoderConfig(hidden_dims=(16,), latent_dim=3))
    codes = latent.encode_dataset(model, images, batch_size=3)
    assert codes.shape == (8, 3) and not codes.requires_grad
    with torch.no_grad():
        assert torch.allclose(codes, model.encode(images))


def test_encode_dataset_takes_the_mean_of_a_model_that_returns_several_tensors(images):
    class TwoHeads(models.Autoencoder):
        def encode(self, x):
            z = super().encode(x)
            return z, z * 0 - 1.0

    model = TwoHeads(models.AutoencoderConfig(hidden_dims=(16,), latent_dim=2))
    with torch.no_grad():
        assert torch.allclose(latent.encode_dataset(model, images), models.Autoencoder.encode(model, images))
