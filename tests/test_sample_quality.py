"""vaelib.sample_quality: the Fréchet distance against cases with a known answer, evenness, the judge's features."""

from __future__ import annotations

import math

import pytest
import torch

from vaelib import classifier, sample_quality


def whitened(n=500, f=4, seed=0):
    """Features whose sample mean is exactly 0 and sample covariance exactly I."""
    a = torch.randn(n, f, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    a = a - a.mean(dim=0)
    values, vectors = torch.linalg.eigh(a.T @ a / (n - 1))
    return a @ vectors @ torch.diag(values.rsqrt()) @ vectors.T


def test_identical_sets_are_at_distance_zero():
    a = torch.randn(200, 8)
    assert sample_quality.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_the_distance_of_gaussians_with_diagonal_covariances():
    a = whitened()
    scales, shift = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64), torch.tensor([0.0, 1.0, -2.0, 0.5])
    b = a * scales + shift.double()
    # |m_a - m_b|^2 + sum_j (1 - s_j)^2: the Fréchet distance when both covariances are diagonal
    expected = shift.pow(2).sum().item() + (1 - scales).pow(2).sum().item()
    assert sample_quality.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert sample_quality.frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_the_distance_in_one_dimension():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(300, 1, generator=g) * 2 + 1, torch.randn(400, 1, generator=g) * 0.5 - 1
    expected = (a.mean() - b.mean()).pow(2) + (a.std() - b.std()).pow(2)
    assert sample_quality.frechet_distance(a, b) == pytest.approx(expected.item(), rel=1e-4)


def test_a_shift_costs_its_squared_length_and_a_rotation_nothing():
    a = torch.randn(400, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    shift = torch.tensor([3.0, -4.0, 0.0], dtype=torch.float64)
    assert sample_quality.frechet_distance(a, a + shift) == pytest.approx(25.0, rel=1e-9)
    rotation, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    rotated = sample_quality.frechet_distance(a @ rotation, (a + shift) @ rotation)
    assert rotated == pytest.approx(25.0, rel=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (torch.zeros(1, 4), torch.zeros(5, 4), r"a must be features \[N, F\] of at least 2 images, got \(1, 4\)"),
        (torch.zeros(5, 4), torch.zeros(5), r"b must be features \[N, F\]"),
        (torch.zeros(5, 4), [[0.0] * 4] * 5, "got list"),
        (torch.zeros(5, 4), torch.zeros(5, 3), "as many features each: 4 and 3"),
    ],
)
def test_malformed_features_are_refused_by_name(a, b, message):
    with pytest.raises(ValueError, match=message):
        sample_quality.frechet_distance(a, b)


def test_label_evenness():
    assert sample_quality.label_evenness(torch.arange(100) % 10) == pytest.approx(1.0)
    assert sample_quality.label_evenness(torch.full((50,), 3)) == 0.0
    assert sample_quality.label_evenness(torch.tensor([1, 2] * 20)) == pytest.approx(math.log(2) / math.log(10))
    with pytest.raises(ValueError, match="non-empty"):
        sample_quality.label_evenness(torch.zeros(0, dtype=torch.long))


def test_the_judges_features_are_its_last_hidden_layer(images):
    torch.manual_seed(0)
    judge = classifier.Classifier()
    features = sample_quality.judge_features(judge, images, batch_size=3)
    assert features.shape == (8, 128) and (features >= 0).all()
    with torch.no_grad():
        logits = judge.layers[-1](features)
    torch.testing.assert_close(logits, judge(images))


def test_the_report_reads_all_three(images):
    torch.manual_seed(0)
    judge = classifier.Classifier().eval()
    report = sample_quality.report(judge, images, torch.rand(8, 784))
    assert set(report) == {"confident", "evenness", "distance"}
    assert 0 <= report["confident"] <= 1 and 0 <= report["evenness"] <= 1 and report["distance"] >= 0
