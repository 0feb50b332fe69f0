import itertools

import pytest
import torch

from vaelib import metrics, models


def brute_force_auc(negative, positive):
    """The definition: P(positive > negative) over all pairs, ties one half."""
    pairs = list(itertools.product(negative.tolist(), positive.tolist()))
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for n, p in pairs) / len(pairs)


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_the_pairwise_definition(seed):
    g = torch.Generator().manual_seed(seed)
    negative = torch.randint(0, 8, (30,), generator=g).float()  # many ties
    positive = torch.randint(2, 10, (25,), generator=g).float()
    assert metrics.roc_auc(negative, positive) == pytest.approx(brute_force_auc(negative, positive))


def test_roc_auc_extremes():
    assert metrics.roc_auc(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])) == 1.0
    assert metrics.roc_auc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 0.0
    assert metrics.roc_auc(torch.ones(5), torch.ones(7)) == 0.5
    with pytest.raises(ValueError):
        metrics.roc_auc(torch.tensor([]), torch.ones(3))


def test_standardize_uses_training_statistics_per_feature():
    train = torch.tensor([[0.0, 10.0], [2.0, 30.0]])
    test = torch.tensor([[1.0, 20.0]])
    train_s, test_s = metrics.standardize(train, test)
    assert torch.allclose(train_s.mean(0), torch.zeros(2), atol=1e-6)
    assert torch.allclose(train_s.std(0), torch.ones(2), atol=1e-4)
    assert torch.allclose(test_s, torch.zeros(1, 2), atol=1e-6)


def test_linear_probe_separates_separable_classes_and_not_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(400) % 4
    centers = torch.randn(4, 5, generator=g) * 4
    x = centers[y] + torch.randn(400, 5, generator=g)
    assert metrics.linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:]) > 0.95
    noise = torch.randn(400, 5, generator=g)
    assert metrics.linear_probe_accuracy(noise[:300], y[:300], noise[300:], y[300:]) < 0.45


def test_reconstruction_errors_are_per_image(images):
    model = models.Autoencoder(models.AutoencoderConfig(hidden_dims=(16,), latent_dim=2))
    errors = metrics.reconstruction_errors(model, images, batch_size=3)
    assert errors.shape == (8,) and (errors > 0).all()
    from vaelib.losses import bce_per_image

    with torch.no_grad():
        assert torch.allclose(errors, bce_per_image(model(images), images))
