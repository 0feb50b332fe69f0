import pytest
import torch

from vaelib import settings


def test_fast_mode_reads_the_environment(monkeypatch):
    monkeypatch.setenv("VAELIB_FAST", "1")
    assert settings.fast_mode()
    monkeypatch.setenv("VAELIB_FAST", "0")
    assert not settings.fast_mode()
    monkeypatch.delenv("VAELIB_FAST")
    assert not settings.fast_mode()


def test_budget_is_full_without_fast_mode(monkeypatch):
    monkeypatch.delenv("VAELIB_FAST", raising=False)
    b = settings.budget(epochs=10, train_size=None, test_size=5_000, n_samples=500)
    assert (b.epochs, b.train_size, b.test_size, b.n_samples, b.fast) == (10, None, 5_000, 500, False)
    assert "full settings" in b.describe()


def test_budget_shrinks_every_costly_setting_in_fast_mode(monkeypatch):
    monkeypatch.setenv("VAELIB_FAST", "1")
    b = settings.budget(epochs=10, train_size=None, test_size=None, n_samples=500)
    assert b.fast and b.epochs == settings.FAST_EPOCHS
    assert b.train_size == settings.FAST_TRAIN_SIZE and b.test_size == settings.FAST_TEST_SIZE
    assert b.n_samples == settings.FAST_SAMPLES
    # Fast mode never makes a setting larger than asked.
    assert settings.budget(train_size=100).train_size == 100
    assert "VAELIB_FAST=1" in b.describe()


@pytest.mark.parametrize("kwargs", [{"epochs": 0}, {"train_size": -1}, {"n_samples": 1.5}])
def test_budget_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        settings.budget(**kwargs)


def test_device_prefers_what_is_asked(monkeypatch):
    assert settings.device("cpu") == torch.device("cpu")
    monkeypatch.setenv("VAELIB_DEVICE", "cpu")
    assert settings.device() == torch.device("cpu")


def test_device_falls_back_to_cpu(monkeypatch):
    monkeypatch.delenv("VAELIB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert settings.device() == torch.device("cpu")


def test_seed_everything_makes_runs_repeatable():
    settings.seed_everything(3)
    a = torch.randn(5)
    g = settings.seed_everything(3)
    assert torch.equal(a, torch.randn(5))
    assert torch.equal(torch.randn(2, generator=g), torch.randn(2, generator=torch.Generator().manual_seed(3)))


def test_describe_names_only_the_settings_a_chapter_uses(monkeypatch):
    monkeypatch.delenv("VAELIB_FAST", raising=False)
    b = settings.budget(epochs=10, n_samples=100_000)
    assert b.describe("n_samples") == "full settings: 100,000 samples"
    assert b.describe("epochs", "n_samples") == "full settings: 10 epochs, 100,000 samples"
    # Too long for one line of the book's code column: the settings on a line of their own.
    assert b.describe() == "full settings:\n  10 epochs, all training images, all test images, 100,000 samples"
    assert all(len(line) <= settings.DESCRIBE_WIDTH for line in b.describe().splitlines())
    with pytest.raises(ValueError, match="unknown settings"):
        b.describe("epoch")
