import subprocess
import sys
import textwrap

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
    assert all(len(line) <= settings.PAGE_WIDTH for line in b.describe().splitlines())
    with pytest.raises(ValueError, match="unknown settings"):
        b.describe("epoch")


def _run_python(script: str) -> str:
    """Run ``script`` in a fresh interpreter (a clean import state); return what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_importing_vaelib_changes_no_global_setting_and_loads_only_what_is_asked():
    out = _run_python(
        """
        import sys, torch
        import vaelib
        from vaelib import gaussian, losses, models, train
        tiny = torch.full((1_000_000,), 1e-39)  # a denormal float32, on every thread
        print("flushed", bool(((tiny * 1.0) == 0).any()))
        print("matplotlib", "matplotlib" in sys.modules)
        print("loaded", sorted(m for m in sys.modules if m.startswith("vaelib.") and "._" not in m))
        """
    )
    assert "flushed False" in out
    assert "matplotlib False" in out  # no pyplot for the modules that compute
    loaded = out.split("loaded ")[1]
    for heavy in ("plotting", "widgets", "exercises", "static", "claims"):
        assert f"vaelib.{heavy}" not in loaded


def test_submodules_load_on_first_use():
    out = _run_python(
        """
        import sys, vaelib
        print("before", "vaelib.plotting" in sys.modules)
        print("after", vaelib.plotting.__name__, "plotting" in dir(vaelib))
        try:
            vaelib.no_such_module
        except AttributeError as error:
            print("error", error)
        """
    )
    assert "before False" in out and "after vaelib.plotting True" in out
    assert "error module 'vaelib' has no attribute 'no_such_module'" in out


def test_flush_denormals_reaches_every_thread_when_called_first():
    out = _run_python(
        """
        import torch
        from vaelib import settings
        settings.flush_denormals()
        tiny = torch.full((4_000_000,), 1e-39)  # large enough to be split across PyTorch's threads
        print("all", bool(((tiny * 1.0) == 0).all()))
        """
    )
    assert "all True" in out


def test_a_course_file_caps_every_chapter_and_fast_mode_caps_it_further(monkeypatch, tmp_path):
    monkeypatch.delenv("VAELIB_FAST", raising=False)
    monkeypatch.delenv("VAELIB_COURSE", raising=False)
    (tmp_path / "book").mkdir()
    (tmp_path / "course.toml").write_text("[settings]\nmax_epochs = 3\nmax_train_size = 20000\n")
    monkeypatch.chdir(tmp_path / "book")  # where a chapter runs; the file sits beside _config.yml
    b = settings.budget(epochs=10, train_size=None, test_size=5_000, n_samples=500)
    assert (b.epochs, b.train_size, b.test_size, b.n_samples, b.course) == (3, 20_000, 5_000, 500, True)
    assert settings.budget(epochs=2).epochs == 2, "a cap never raises a setting"
    assert "capped by the course file" in b.describe()
    monkeypatch.setenv("VAELIB_FAST", "1")
    fast = settings.budget(epochs=10)
    assert fast.epochs == 1 and fast.train_size == settings.FAST_TRAIN_SIZE and fast.fast


def test_a_course_file_is_named_by_vaelib_course_and_checked(monkeypatch, tmp_path):
    monkeypatch.delenv("VAELIB_FAST", raising=False)
    monkeypatch.chdir(tmp_path)
    assert settings.course() == {} and not settings.budget().course
    path = tmp_path / "elsewhere.toml"
    monkeypatch.setenv("VAELIB_COURSE", str(path))
    with pytest.raises(FileNotFoundError, match="VAELIB_COURSE"):
        settings.budget()
    path.write_text("[settings]\nepochs = 3\n")
    with pytest.raises(ValueError, match="max_epochs.*not epochs"):
        settings.budget()
    path.write_text("[settings]\nmax_samples = 0\n")
    with pytest.raises(ValueError, match="elsewhere.toml: max_samples must be a positive integer"):
        settings.budget()
    path.write_text("[settings]\nmax_samples = 10\n")
    assert settings.budget(n_samples=1_000).n_samples == 10
