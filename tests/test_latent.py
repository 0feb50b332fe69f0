import math

import pytest
import torch

from vaelib import latent, models


def test_encode_dataset_matches_encoding_at_once(images):
    model = models.Autoencoder(models.MLPConfig(hidden_dims=(16,), latent_dim=3))
    codes = latent.encode_dataset(model, images, batch_size=3)
    assert codes.shape == (8, 3) and not codes.requires_grad
    with torch.no_grad():
        assert torch.allclose(codes, model.encode(images), atol=1e-6)


def test_encode_dataset_gives_the_mean_of_a_vae_posterior(images):
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    with torch.no_grad():
        mu, _ = model.encode(images)
    assert torch.allclose(latent.encode_dataset(model, images, batch_size=5), mu)


@pytest.mark.parametrize("training", [True, False], ids=["train-mode", "eval-mode"])
def test_encode_dataset_leaves_the_mode_and_the_global_generator_alone(images, training):
    model = models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    model.train(training)
    state = torch.get_rng_state()
    latent.encode_dataset(model, images, batch_size=3)
    assert model.training is training
    assert torch.equal(torch.get_rng_state(), state)


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


def test_slerp_between_opposite_codes_is_refused():
    """No single great circle joins opposite directions: an error, not a path through the origin."""
    z0 = torch.tensor([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="opposite"):
        latent.slerp(z0, -2 * z0, 5)


def test_traversals_vary_exactly_one_dimension():
    z = torch.tensor([0.5, -1.0, 2.0])
    codes = latent.traversal(z, 1, torch.linspace(-3, 3, 5))
    assert codes.shape == (5, 3)
    assert torch.equal(codes[:, 1], torch.linspace(-3, 3, 5))
    assert torch.equal(codes[:, [0, 2]], z[[0, 2]].expand(5, -1))


def test_prior_quantile_grid_has_equal_prior_mass_per_cell():
    grid = latent.prior_quantile_grid(5, edge=0.1)
    assert grid.shape == (25, 2)
    cdf = torch.distributions.Normal(0.0, 1.0).cdf(grid)
    assert torch.allclose(cdf[:5, 0], torch.linspace(0.1, 0.9, 5), atol=1e-5)  # first row, left to right
    assert torch.allclose(cdf[::5, 1], torch.linspace(0.9, 0.1, 5), atol=1e-5)  # first column, top to bottom


# -- Bad inputs: the error names the argument and what is wrong ------------------

PATHS = [latent.lerp, latent.slerp]


@pytest.mark.parametrize("path", PATHS)
def test_codes_of_different_shapes_are_refused(path):
    with pytest.raises(ValueError, match=r"two codes of the same shape \[d\], got \(2,\) and \(3,\)"):
        path(torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match="same shape"):
        path(torch.ones(1, 2), torch.ones(1, 2))


@pytest.mark.parametrize(
    "z0, z1", [(torch.zeros(3), torch.ones(3)), (torch.ones(3), torch.zeros(3))], ids=["from", "to"]
)
def test_slerp_refuses_the_zero_vector(z0, z1):
    with pytest.raises(ValueError, match="the zero vector has no direction"):
        latent.slerp(z0, z1)


@pytest.mark.parametrize("path", PATHS)
def test_endpoints_that_are_not_tensors_are_refused(path):
    with pytest.raises(TypeError, match="z0 and z1 must be torch tensors, got list and Tensor"):
        path([1.0, 0.0], torch.ones(2))
    with pytest.raises(TypeError, match="z0 and z1 must be torch tensors, got Tensor and tuple"):
        path(torch.ones(2), (1.0, 0.0))


@pytest.mark.parametrize("path", PATHS)
def test_integer_codes_are_refused(path):
    with pytest.raises(TypeError, match="z0 and z1 must be floating-point codes"):
        path(torch.tensor([1, 0]), torch.tensor([0, 1]))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_codes_are_refused(path, bad):
    with pytest.raises(ValueError, match=r"z0 and z1 must be finite \(found NaN or inf\)"):
        path(torch.tensor([bad, 1.0]), torch.ones(2))
    with pytest.raises(ValueError, match="must be finite"):
        path(torch.ones(2), torch.tensor([1.0, bad]))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("steps", [1, 0, -2])
def test_fewer_than_two_steps_are_refused(path, steps):
    with pytest.raises(ValueError, match="steps must be at least 2"):
        path(torch.ones(2), torch.tensor([1.0, 0.0]), steps)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("steps", [3.0, 2.5, True])
def test_steps_that_are_not_integers_are_refused(path, steps):
    with pytest.raises(TypeError, match="steps must be an integer"):
        path(torch.ones(2), torch.tensor([1.0, 0.0]), steps)


@pytest.mark.parametrize("dim", [3, -1, 10, 1.0, True], ids=["d", "negative", "far", "float", "bool"])
def test_traversal_refuses_a_dimension_out_of_range(dim):
    with pytest.raises(ValueError, match=r"an integer dim in 0..d-1"):
        latent.traversal(torch.zeros(3), dim, torch.zeros(2))
