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


import math  # noqa: E402

import pytest  # noqa: E402


def test_interpolations_start_and_end_at_the_two_codes():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(16, generator=g), torch.randn(16, generator=g)
    for path in (latent.lerp(z0, z1, 7), latent.slerp(z0, z1, 7)):
        assert path.shape == (7, 16)
        assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)


def test_lerp_is_a_straight_line_with_even_steps():
    z0, z1 = torch.zeros(3), torch.tensor([3.0, 0.0, -3.0])
    path = latent.lerp(z0, z1, 4)
    assert torch.allclose(path[1], torch.tensor([1.0, 0.0, -1.0]))
    assert torch.allclose(path.diff(dim=0), torch.tensor([1.0, 0.0, -1.0]).expand(3, -1))


def test_slerp_keeps_norms_and_lerp_does_not():
    g = torch.Generator().manual_seed(1)
    z0 = torch.randn(64, generator=g)
    z1 = torch.randn(64, generator=g)
    z1 = z1 / z1.norm() * z0.norm()  # the same norm, as typical codes nearly have
    norms = latent.slerp(z0, z1, 11).norm(dim=1)
    assert torch.allclose(norms, z0.norm().expand(11), rtol=1e-5)
    middle = latent.lerp(z0, z1, 11)[5].norm()
    assert middle < 0.85 * z0.norm()  # the straight path cuts through the low-norm interior
    unequal = latent.slerp(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 4.0]), 3)
    assert torch.allclose(unequal.norm(dim=1), torch.tensor([2.0, 3.0, 4.0]))
    assert torch.allclose(unequal[1] / 3.0, torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]), atol=1e-6)


def test_slerp_between_parallel_codes_does_not_divide_by_zero():
    path = latent.slerp(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 2.0]), 3)
    assert torch.isfinite(path).all() and torch.allclose(path[1], torch.tensor([1.5, 1.5]))


def test_bad_paths_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        latent.lerp(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="steps"):
        latent.slerp(torch.ones(2), torch.ones(2), 1)


def test_traversals_vary_exactly_one_dimension():
    z = torch.tensor([0.5, -1.0, 2.0])
    codes = latent.traversal(z, 1, torch.linspace(-3, 3, 5))
    assert codes.shape == (5, 3)
    assert torch.equal(codes[:, 1], torch.linspace(-3, 3, 5))
    assert torch.equal(codes[:, [0, 2]], z[[0, 2]].expand(5, -1))
    with pytest.raises(ValueError):
        latent.traversal(z, 3, torch.zeros(2))


def test_prior_quantile_grid_has_equal_prior_mass_per_cell():
    grid = latent.prior_quantile_grid(5, edge=0.1)
    assert grid.shape == (25, 2)
    cdf = torch.distributions.Normal(0.0, 1.0).cdf(grid)
    assert torch.allclose(cdf[:5, 0], torch.linspace(0.1, 0.9, 5), atol=1e-5)  # first row, left to right
    assert torch.allclose(cdf[::5, 1], torch.linspace(0.9, 0.1, 5), atol=1e-5)  # first column, top to bottom
