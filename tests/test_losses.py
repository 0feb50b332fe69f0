import math

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
    assert torch.allclose(losses.bce_per_image(logits, x), torch.full((2,), 784 * math.log(2.0)))


def test_bce_is_finite_for_confident_wrong_logits():
    x = torch.tensor([[0.0, 1.0] * 392])
    logits = torch.tensor([[200.0, -200.0] * 392])
    value = losses.bce_per_image(logits, x)
    assert torch.isfinite(value).all() and torch.allclose(value, torch.tensor([200.0 * 784]))


@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0, 300.0])
def test_bce_and_its_gradients_are_pytorchs_own(scale):
    """The written-out kernel gives F.binary_cross_entropy_with_logits' values and gradients, for both inputs."""
    generator = torch.Generator().manual_seed(2)
    logits = (torch.randn(16, 784, generator=generator, dtype=torch.float64) * scale).requires_grad_()
    x = torch.rand(16, 784, generator=generator, dtype=torch.float64).requires_grad_()
    weights = torch.rand(16, generator=generator, dtype=torch.float64)  # a gradient that differs per image
    ours = losses.bce_per_image(logits, x)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    assert torch.allclose(ours, theirs, rtol=1e-12, atol=1e-9)
    for got, want in zip(
        torch.autograd.grad((ours * weights).sum(), (logits, x)),
        torch.autograd.grad((theirs * weights).sum(), (logits, x)),
        strict=True,
    ):
        assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [3.0, 30.0])  # at 30, many pixels lie past |l| = 17, where log(1 + e) drops e
def test_bce_in_single_precision_is_as_accurate_as_pytorchs_own(scale):
    logits = torch.randn(64, 784, generator=torch.Generator().manual_seed(3)) * scale
    x = (torch.rand(64, 784, generator=torch.Generator().manual_seed(4)) > 0.5).float()
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    exact = bce(logits.double(), x.double(), reduction="none").sum(1)
    ours = (losses.bce_per_image(logits, x).double() - exact).abs().max()
    theirs = (bce(logits, x, reduction="none").sum(1).double() - exact).abs().max()
    assert ours <= 2 * theirs + 1e-4


def test_bce_refuses_targets_outside_the_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.bce_per_image(torch.zeros(2, 784), torch.full((2, 784), 2.0))


def test_autoencoder_loss_is_the_batch_mean_of_per_image_errors(images):
    model = models.Autoencoder(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
    expected = losses.bce_per_image(model(images), images).mean()
    assert torch.allclose(losses.autoencoder_loss(model, images), expected)


def test_add_noise_is_clipped_and_has_the_asked_spread():
    x = torch.full((200, 784), 0.5)
    noisy = losses.add_noise(x, 0.1, generator=torch.Generator().manual_seed(0))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert abs((noisy - x).std().item() - 0.1) < 0.005
    assert torch.equal(losses.add_noise(x, 0.0), x)


def test_denoising_loss_compares_with_the_clean_images(images):
    model = models.Autoencoder(models.MLPConfig(hidden_dims=(16,), latent_dim=2))
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
    assert set(parts) == {"loss", "recon", "kl"}
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


def test_bce_vae_loss_refuses_targets_outside_the_unit_interval():
    x, logits, mu, logvar = vae_batch()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.vae_loss(x * 255, logits, mu, logvar)


def test_vae_loss_has_no_options_that_reproduce_bugs():
    x, logits, mu, logvar = vae_batch(2)
    with pytest.raises(TypeError, match="pixel_reduction"):
        losses.vae_loss(x, logits, mu, logvar, pixel_reduction="mean")


def test_reconstruction_nll_is_the_chosen_pixel_model():
    x, logits, _, _ = vae_batch(2)
    assert torch.equal(losses.reconstruction_nll(logits, x), losses.bce_per_image(logits, x))
    assert torch.equal(losses.reconstruction_nll(logits, x, "mse", 0.3), losses.gaussian_nll_per_image(logits, x, 0.3))
    with pytest.raises(ValueError, match="reconstruction must be 'bce' or 'mse'"):
        losses.reconstruction_nll(logits, x, "l1")


def test_gaussian_reconstruction_is_a_gaussian_log_likelihood():
    x, logits, mu, logvar = vae_batch(3)
    sigma = 0.3
    expected = -Normal(torch.sigmoid(logits), sigma).log_prob(x).sum(1)
    assert torch.allclose(losses.gaussian_nll_per_image(logits, x, sigma), expected, rtol=1e-5)
    parts = losses.vae_loss(x, logits, mu, logvar, reconstruction="mse", sigma=sigma)
    assert torch.allclose(parts["recon"], expected.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="reconstruction must be 'bce' or 'mse'"):
        losses.vae_loss(x, logits, mu, logvar, reconstruction="l1")


# -- The objective that train.fit minimizes -------------------------------------


def small_vae():
    torch.manual_seed(0)
    return models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=2))


def test_objective_returns_exactly_the_loss_parts():
    parts = losses.VAEObjective()(small_vae(), torch.rand(3, 784))
    assert set(parts) == {"loss", "recon", "kl"}
    assert torch.allclose(parts["loss"], parts["recon"] + parts["kl"])


def test_kl_warmup_raises_the_kl_weight_linearly_over_training_steps():
    model = small_vae()
    objective = losses.VAEObjective(beta=2.0, warmup_steps=4)
    x = torch.rand(3, 784)
    for _ in range(6):
        parts = objective(model, x)
        assert torch.allclose(parts["loss"], parts["recon"] + objective.betas[-1] * parts["kl"])
    assert objective.betas == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert [objective.weight(step) for step in [0, 1, 4, 100]] == [0.0, 0.5, 2.0, 2.0]
    assert model.training  # the objective leaves the model's mode alone


def test_the_test_loss_has_the_full_beta_and_takes_no_step():
    model = small_vae()
    objective = losses.VAEObjective(beta=2.0, warmup_steps=4)
    x = torch.rand(3, 784)
    objective(model, x)
    parts = objective.test_loss(model, x)
    assert torch.allclose(parts["loss"], parts["recon"] + 2.0 * parts["kl"])
    assert objective.betas == [0.0]  # the test loss does not advance the warm-up
    objective(model, x)
    assert objective.betas == [0.0, 0.5]


def test_a_warm_up_step_without_gradients_is_refused_and_points_at_the_test_loss():
    model = small_vae()
    objective = losses.VAEObjective(beta=2.0, warmup_steps=4)
    with torch.no_grad(), pytest.raises(RuntimeError, match="objective.test_loss"):
        objective(model, torch.rand(3, 784))
    assert objective.betas == []
    with torch.no_grad():  # without a warm-up, every call has the full weight: nothing to confuse
        losses.VAEObjective(beta=2.0)(model, torch.rand(3, 784))


def test_reset_starts_the_warmup_again():
    model = small_vae()
    objective = losses.VAEObjective(beta=1.0, warmup_steps=2)
    x = torch.rand(3, 784)
    for _ in range(3):
        objective(model, x)
    objective.reset()
    assert objective.betas == []
    parts = objective(model, x)
    assert objective.betas == [0.0] and torch.allclose(parts["loss"], parts["recon"])


def test_without_warmup_every_step_has_the_full_weight():
    model = small_vae()
    objective = losses.VAEObjective(beta=3.0)
    x = torch.rand(3, 784)
    objective(model, x)
    objective(model, x)
    assert objective.betas == [3.0, 3.0] and objective.weight(0) == 3.0


def test_objective_refuses_bad_options_before_training():
    with pytest.raises(ValueError, match="reconstruction must be 'bce' or 'mse'"):
        losses.VAEObjective(reconstruction="l1")
    with pytest.raises(ValueError, match="sigma must be a positive finite number"):
        losses.VAEObjective(reconstruction="mse", sigma=0.0)
    with pytest.raises(TypeError, match="sigmaa"):
        losses.VAEObjective(sigmaa=0.1)  # a misspelt option is not silently ignored


@pytest.mark.parametrize("warmup_steps", [-1, 2.5, 2.0, True, "4"])
def test_objective_refuses_a_warmup_that_is_not_a_count_of_steps(warmup_steps):
    with pytest.raises(ValueError, match="warmup_steps must be an integer >= 0"):
        losses.VAEObjective(warmup_steps=warmup_steps)


# -- Bad inputs: the error names the argument and what is wrong ------------------


def test_the_non_finite_loss_error_is_both_a_floating_point_error_and_a_value_error():
    assert issubclass(losses.NonFiniteLossError, FloatingPointError)
    assert issubclass(losses.NonFiniteLossError, ValueError)


@pytest.mark.parametrize("function", [losses.bce_per_image, losses.gaussian_nll_per_image])
def test_per_image_losses_refuse_batches_of_different_sizes(function):
    with pytest.raises(ValueError, match="logits hold 4 images but x holds 3: the batch sizes must match"):
        function(torch.zeros(4, 784), torch.zeros(3, 784))


def test_vae_loss_refuses_images_and_logits_of_different_batch_sizes():
    x, logits, mu, logvar = vae_batch(b=4)
    with pytest.raises(ValueError, match="logits hold 4 images but x holds 3"):
        losses.vae_loss(x[:3], logits, mu, logvar)
    with pytest.raises(ValueError, match="logits hold 3 images but x holds 4"):
        losses.vae_loss(x, logits[:3], mu, logvar)


def test_vae_loss_refuses_codes_of_another_batch_size_than_the_images():
    x, logits, mu, logvar = vae_batch(b=4)
    with pytest.raises(ValueError, match="mu and logvar hold 3 images but logits and x hold 4"):
        losses.vae_loss(x, logits, mu[:3], logvar[:3])
    with pytest.raises(ValueError, match=r"mu \(4, 3\) and logvar \(3, 3\) must have the same shape"):
        losses.vae_loss(x, logits, mu, logvar[:3])


def test_logits_of_the_wrong_shape_are_blamed_on_the_logits():
    x, logits, mu, logvar = vae_batch(b=4)
    with pytest.raises(ValueError, match=r"logits must have shape \[B, pixels\]"):
        losses.bce_per_image(logits.reshape(4, 28, 28), x)
    # Logits with too few pixels: the images are right, the logits are wrong.
    for function in [losses.bce_per_image, losses.gaussian_nll_per_image]:
        with pytest.raises(ValueError, match="logits"):
            function(logits[:, :100], x)
    with pytest.raises(ValueError, match="logits"):
        losses.vae_loss(x, logits[:, :100], mu, logvar)


def test_integer_logits_are_refused_by_name():
    x, logits, mu, logvar = vae_batch()
    with pytest.raises(TypeError, match="logits must be floating-point"):
        losses.bce_per_image(logits.long(), x)
    with pytest.raises(TypeError, match="logits must be floating-point"):
        losses.vae_loss(x, logits.long(), mu, logvar, reconstruction="mse")
    with pytest.raises(TypeError, match="logits must be a torch.Tensor"):
        losses.bce_per_image(logits.tolist(), x)


@pytest.mark.parametrize("reconstruction", ["bce", "mse"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_logits_raise_a_non_finite_loss_error(reconstruction, bad):
    x, logits, mu, logvar = vae_batch()
    logits[1, 17] = bad
    with pytest.raises(losses.NonFiniteLossError, match="because logits holds NaN or infinite values"):
        losses.vae_loss(x, logits, mu, logvar, reconstruction=reconstruction)


@pytest.mark.parametrize("function", [losses.bce_per_image, losses.gaussian_nll_per_image])
def test_per_image_losses_refuse_nan_logits(function):
    x, logits, _, _ = vae_batch()
    logits[0, 0] = float("nan")
    with pytest.raises(losses.NonFiniteLossError, match="logits"):
        function(logits, x)


@pytest.mark.parametrize(
    "case",
    [
        ("mu", float("nan")),
        ("mu", float("inf")),
        ("logvar", float("nan")),
        ("logvar", 1e4),  # exp(logvar) overflows: an infinite KL
        ("logvar", -float("inf")),
    ],
    ids=["nan-mu", "inf-mu", "nan-logvar", "huge-logvar", "minus-inf-logvar"],
)
def test_codes_giving_a_non_finite_kl_raise_a_non_finite_loss_error(case):
    name, value = case
    x, logits, mu, logvar = vae_batch()
    {"mu": mu, "logvar": logvar}[name][2, 1] = value
    with pytest.raises(losses.NonFiniteLossError, match="because mu or logvar holds NaN or infinite values"):
        losses.vae_loss(x, logits, mu, logvar)


def test_a_latent_dimension_of_zero_is_refused():
    x, logits, _, _ = vae_batch()
    with pytest.raises(ValueError, match=r"latent dimension of at least 1, got shape \(4, 0\)"):
        losses.vae_loss(x, logits, torch.zeros(4, 0), torch.zeros(4, 0))


BAD_NUMBERS = [True, float("nan"), -1.0, float("inf"), "0.1"]
BAD_IDS = ["bool", "nan", "negative", "inf", "str"]


@pytest.mark.parametrize("sigma", [*BAD_NUMBERS, 0.0], ids=[*BAD_IDS, "zero"])
def test_bad_sigmas_are_refused(sigma):
    x, logits, mu, logvar = vae_batch()
    message = "sigma must be a positive finite number"
    with pytest.raises(ValueError, match=message):
        losses.gaussian_nll_per_image(logits, x, sigma)
    with pytest.raises(ValueError, match=message):
        losses.vae_loss(x, logits, mu, logvar, reconstruction="mse", sigma=sigma)
    with pytest.raises(ValueError, match=message):
        losses.VAEObjective(reconstruction="mse", sigma=sigma)


@pytest.mark.parametrize("beta", BAD_NUMBERS, ids=BAD_IDS)
def test_bad_betas_are_refused(beta):
    x, logits, mu, logvar = vae_batch()
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        losses.vae_loss(x, logits, mu, logvar, beta=beta)
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        losses.VAEObjective(beta=beta)


@pytest.mark.parametrize("noise_std", BAD_NUMBERS, ids=BAD_IDS)
def test_bad_noise_levels_are_refused(noise_std):
    with pytest.raises(ValueError, match="noise_std must be a finite number >= 0"):
        losses.add_noise(torch.full((2, 784), 0.5), noise_std)
    with pytest.raises(ValueError, match="noise_std must be a finite number >= 0"):
        losses.denoising_loss(noise_std)
