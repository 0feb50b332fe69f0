"""Training on real MNIST: slow-ish, run by `make test` and CI.

Needs the data on disk (``VAELIB_DATA``, as CI sets it); without it these
tests skip on a reader's machine and fail under CI.
"""

import os

import pytest
import torch

from vaelib import data, losses, metrics, models, settings, train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist():
    try:
        return data.load("mnist", "train", size=3_000), data.load("mnist", "test", size=1_000)
    except data.DataNotFoundError as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have MNIST on disk: {err}")
        pytest.skip(f"MNIST is not on disk: {err}")


def test_real_mnist_loads_as_documented(mnist):
    train_set, test_set = mnist
    assert train_set.x.shape == (3_000, 784) and test_set.classes[0] == "0 - zero"
    assert 0.10 < train_set.x.mean().item() < 0.16  # MNIST's pixel mean is 0.1307


def test_training_a_vae_on_an_mnist_slice_lowers_the_test_loss(mnist):
    train_set, test_set = mnist
    settings.seed_everything(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(200,), latent_dim=10))
    before = metrics.elbo(model, test_set.x)["elbo"]
    history = train.fit(model, losses.VAEObjective(), train_set.x, test_set.x, epochs=3, device="cpu", progress=False)
    after = metrics.elbo(model, test_set.x)["elbo"]
    assert after > before + 200  # from ~-545 nats to well under -300
    assert history.curve("loss", "test")[-1] < history.curve("loss", "test")[0]
    log_px = metrics.importance_sampled_log_likelihood(model, test_set.x[:100], k=50).mean().item()
    assert log_px >= metrics.elbo(model, test_set.x[:100], n_samples=10)["elbo"] - 1.0
    assert metrics.active_units(model, test_set.x)[0] >= 1
    samples = model.sample(16, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (16, 784) and torch.isfinite(samples).all()


@pytest.mark.parametrize("size", [2_000, 5_000], ids=["fast mode", "the book"])
def test_the_prediction_exercises_expected_answers_hold_on_real_mnist(size):
    """The solutions of the predict exercises pass on the data the notebooks hand the
    checks: 5,000 training images in the book, 2,000 in fast mode."""
    from vaelib import exercises

    try:
        train_set, test_set = data.load("mnist", "train", size=size), data.load("mnist", "test", size=1_000)
    except data.DataNotFoundError as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have MNIST on disk: {err}")
        pytest.skip(f"MNIST is not on disk: {err}")
    x, y, test_x, test_y = train_set.x, train_set.y, test_set.x, test_set.y
    assert exercises.check_code_size_prediction({"error": "down", "probe": "up"}, x, y, test_x, test_y).passed
    assert exercises.check_mse_sigma_prediction("between", x, test_x).passed
    assert exercises.check_beta_spread_prediction("smaller", x, test_x).passed
    wrong = exercises.check_beta_spread_prediction("larger", x, test_x)
    assert not wrong.passed and "Measured spread" in wrong.message
    if size == 5_000:  # with 2,000 images the two probes come out about the same (fast mode says so)
        assert exercises.check_probe_prediction("lower", x, y, test_x, test_y).passed
