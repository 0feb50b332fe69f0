"""The model cache: the same weights whether trained or loaded, and a file store that does not lie."""

import errno
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import vaelib
from vaelib import cache, checkpoints, classifier, losses, models, recipes, settings, train

CONFIG = models.MLPConfig(hidden_dims=(16,), latent_dim=3)


def build():
    return models.VAE(CONFIG)


def trainer(calls):
    """A training function that counts its calls: a tiny VAE, two epochs on fixed noise."""

    def train_it():
        calls.append(1)
        torch.manual_seed(0)
        model = build()
        x = torch.rand(64, 784, generator=torch.Generator().manual_seed(1))
        train.fit(model, losses.VAEObjective(), x, epochs=2, batch_size=16, device="cpu", progress=False)
        return model

    return train_it


def get(root, calls, **extra):
    parts = {"model": models.VAE, "config": CONFIG, "seed": 0, **extra}
    return cache.load_or_train("a tiny VAE", trainer(calls), build, trained_in="a test", root=root, **parts)


def only_file(root: Path) -> Path:
    (path,) = root.glob("*.pt")
    return path


def test_a_cached_model_gives_exactly_the_outputs_of_the_trained_one(tmp_path, capsys):
    calls = []
    trained = get(tmp_path, calls)
    assert "trained here" in capsys.readouterr().out
    loaded = get(tmp_path, calls)
    assert "loaded from the model cache, where a test put it" in capsys.readouterr().out
    assert len(calls) == 1, "the second call loads; it does not train"
    assert not trained.training and not loaded.training
    x = torch.rand(5, 784, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(loaded.encode(x), trained.encode(x), rtol=0, atol=0)
    torch.testing.assert_close(
        loaded.decode_probs(loaded.encode(x)[0]), trained.decode_probs(trained.encode(x)[0]), rtol=0, atol=0
    )


def test_the_key_holds_everything_that_determines_the_model(monkeypatch):
    monkeypatch.delenv("VAELIB_FAST", raising=False)  # full settings first (make test runs in fast mode)
    data = torch.zeros(4, 784)
    base = {"model": models.VAE, "config": CONFIG, "seed": 0, "data": data, "budget": settings.budget(epochs=3)}
    k = cache.key(**base)
    assert k == cache.key(**base)
    changed = [
        {"seed": 1},
        {"config": models.MLPConfig(hidden_dims=(16,), latent_dim=4)},
        {"data": data + 1e-6},  # a different pixel, same shape
        {"data": torch.zeros(5, 784)},
        {"model": models.Autoencoder},
    ]
    for change in changed:
        assert cache.key(**{**base, **change}) != k, change
    monkeypatch.setenv("VAELIB_FAST", "1")
    assert cache.key(**{**base, "budget": settings.budget(epochs=3)}) != k, "fast and full settings differ"
    monkeypatch.setattr(vaelib, "__version__", "99.0")
    assert cache.key(**base) != k, "a new vaelib version retrains"
    with pytest.raises(TypeError, match="cache key"):
        cache.key(thing=object())


@pytest.mark.parametrize("damage", ["truncated", "garbage", "changed weight", "other key", "a checkpoint"])
def test_a_damaged_or_foreign_file_is_trained_again_and_replaced(tmp_path, damage):
    calls = []
    get(tmp_path, calls)
    path = only_file(tmp_path)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "garbage":
        path.write_bytes(b"not a model at all")
    elif damage == "changed weight":
        payload = torch.load(path, weights_only=True)
        next(iter(payload["state_dict"].values())).view(-1)[0] += 1.0
        torch.save(payload, path)
    elif damage == "other key":  # another model's file under this name
        other = tmp_path / "other"
        get(other, [], seed=1)
        only_file(other).replace(path)
    else:  # a plain vaelib checkpoint, not a cache entry
        checkpoints.save_checkpoint(build(), path)
    with pytest.warns(cache.CacheWarning, match="trained again"):
        get(tmp_path, calls)
    assert len(calls) == 2
    get(tmp_path, calls)  # the replaced file loads
    assert len(calls) == 2


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_a_cache_that_cannot_be_written_falls_back_to_training(tmp_path, monkeypatch, capsys, error):
    def fail(payload, path):
        raise OSError(error, "simulated")

    monkeypatch.setattr(cache, "write_atomically", fail)
    calls = []
    with pytest.warns(cache.CacheWarning, match="could not keep it"):
        model = get(tmp_path, calls)
    assert "not cached" in capsys.readouterr().out
    assert isinstance(model, models.VAE) and len(calls) == 1
    assert not list(tmp_path.glob("*.pt"))


def test_a_cache_folder_that_cannot_exist_falls_back_to_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    calls = []
    with pytest.warns(cache.CacheWarning):
        get(blocker / "cache", calls)
    assert len(calls) == 1


def test_two_processes_writing_one_key_leave_a_whole_file(tmp_path):
    script = textwrap.dedent(f"""
        import torch
        from vaelib import cache, models
        for i in range(15):
            torch.manual_seed(i)
            model = models.VAE(models.MLPConfig(hidden_dims=(64,), latent_dim=3))
            cache._store(model, cache.cache_root({str(tmp_path)!r}) / "k.pt", "k", "a process")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    shape = models.MLPConfig(hidden_dims=(64,), latent_dim=3)
    _, by = cache._load(tmp_path / "k.pt", "k", lambda: models.VAE(shape))
    assert by == "a process"
    assert [p.name for p in tmp_path.iterdir()] == ["k.pt"], "no temporary file is left behind"


def test_clear_empties_the_cache_and_the_environment_moves_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path / "moved"))
    assert cache.cache_root() == tmp_path / "moved"
    calls = []
    get(None, calls)
    assert len(list((tmp_path / "moved").glob("*.pt"))) == 1
    assert cache.clear() == 1
    get(None, calls)
    assert len(calls) == 2, "a cleared cache trains again"
    assert cache.clear(tmp_path / "nothing-here") == 0


def test_the_judge_is_trained_once_and_fast_mode_never_reads_a_full_settings_judge(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path))
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 784, generator=g), torch.arange(64) % 10
    monkeypatch.setenv("VAELIB_FAST", "1")
    first = classifier.judge(x, y, trained_in="chapter 1", device="cpu")
    again = classifier.judge(x, y, trained_in="chapter 4", device="cpu")
    out = capsys.readouterr().out
    assert "the judge: trained here" in out and "where chapter 1 put it" in out
    torch.testing.assert_close(again(x), first(x), rtol=0, atol=0)
    monkeypatch.delenv("VAELIB_FAST")
    classifier.judge(x, y, trained_in="chapter 4", device="cpu")
    assert "trained here" in capsys.readouterr().out, "full settings have a key of their own"
    assert len(list(tmp_path.glob("*.pt"))) == 2


def test_chapter_5_gets_chapter_4s_vae_whether_it_loads_or_trains_it(tmp_path, monkeypatch, capsys):
    g = torch.Generator().manual_seed(0)
    train_x, test_x = torch.rand(256, 784, generator=g), torch.rand(64, 784, generator=g)
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path / "fresh"))
    alone = recipes.cached_mnist_vae(train_x, test_x, epochs=1, device="cpu", trained_in="chapter 5")
    assert "trained here" in capsys.readouterr().out, "an empty cache: chapter 5 trains it"
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path / "after chapter 4"))
    state = torch.random.get_rng_state()
    in_chapter_4, history = recipes.mnist_vae(train_x, test_x, epochs=1, device="cpu")
    assert torch.equal(torch.random.get_rng_state(), state), "the recipe leaves the caller's random numbers alone"
    assert len(history.train) == 1
    loaded = recipes.cached_mnist_vae(train_x, test_x, epochs=1, device="cpu", trained_in="chapter 5")
    assert "where chapter 4 put it" in capsys.readouterr().out
    x = test_x[:8]
    for model in (alone, loaded):
        torch.testing.assert_close(model.encode(x), in_chapter_4.encode(x), rtol=0, atol=0)


def test_chapter_8_gets_chapter_5s_2d_vae_whether_it_loads_or_trains_it(tmp_path, monkeypatch, capsys):
    train_x = torch.rand(256, 784, generator=torch.Generator().manual_seed(0))
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path / "fresh"))
    alone = recipes.cached_mnist_vae_2d(train_x, epochs=1, device="cpu", trained_in="chapter 8")
    assert "chapter 5's 2-D VAE: trained here" in capsys.readouterr().out, "an empty cache: chapter 8 trains it"
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path / "after chapter 5"))
    state = torch.random.get_rng_state()
    in_chapter_5 = recipes.mnist_vae_2d(train_x, epochs=1, device="cpu")
    assert torch.equal(torch.random.get_rng_state(), state), "the recipe leaves the caller's random numbers alone"
    assert in_chapter_5.latent_dim == 2
    loaded = recipes.cached_mnist_vae_2d(train_x, epochs=1, device="cpu", trained_in="chapter 8")
    assert "where chapter 5 put it" in capsys.readouterr().out
    x = train_x[:8]
    for model in (alone, loaded):
        torch.testing.assert_close(model.encode(x), in_chapter_5.encode(x), rtol=0, atol=0)
    other = recipes.cached_mnist_vae_2d(train_x[:128], epochs=1, device="cpu", trained_in="chapter 8")
    assert "trained here" in capsys.readouterr().out, "other data: another key"
    assert not torch.equal(other.encode(x)[0], loaded.encode(x)[0])


@pytest.mark.parametrize("kind", ["mixture", "vampprior"])
def test_chapter_8s_learned_priors_are_the_same_loaded_or_trained(kind, tmp_path, monkeypatch, capsys):
    train_x = torch.rand(256, 784, generator=torch.Generator().manual_seed(0))
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path))
    state = torch.random.get_rng_state()
    first = recipes.learned_prior_vae(kind, train_x, epochs=1, device="cpu", progress=False)
    assert torch.equal(torch.random.get_rng_state(), state), "the recipe leaves the caller's random numbers alone"
    assert "trained here" in capsys.readouterr().out
    again = recipes.learned_prior_vae(kind, train_x, epochs=1, device="cpu", trained_in="chapter 9")
    assert "where chapter 8 put it" in " ".join(capsys.readouterr().out.split())
    z = torch.randn(5, 20)
    torch.testing.assert_close(again.log_prior(z), first.log_prior(z), rtol=0, atol=0)
    assert not again.training
    if kind == "vampprior":  # the pseudo-inputs started at training images, and moved in training
        start = recipes._prior_vae(kind, train_x, 0).pseudo_inputs()
        assert any(torch.allclose(start[0], image, atol=1e-3) for image in train_x)
        assert not torch.allclose(first.pseudo_inputs(), start)


def test_both_learned_priors_train_side_by_side_into_the_cache(tmp_path, monkeypatch, capsys):
    """Each trained in a process of its own on one thread, kept in the cache, then loaded: the
    model learned_prior_vae trains on one thread; a second call only loads."""
    train_x = torch.rand(256, 784, generator=torch.Generator().manual_seed(0))
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path))
    both = recipes.learned_prior_vaes(train_x, epochs=1, device="cpu")
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("trained in a process of its own") == 2 and out.count("where chapter 8 put it") == 2
    assert set(both) == {"mixture", "vampprior"} and not both["mixture"].training
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    settings.flush_denormals()  # as each process does
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path / "elsewhere"))
    try:
        alone = recipes.learned_prior_vae("mixture", train_x, epochs=1, device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)
        monkeypatch.setenv("VAELIB_CACHE", str(tmp_path))
    z = torch.randn(5, 20)
    torch.testing.assert_close(both["mixture"].log_prior(z), alone.log_prior(z), rtol=0, atol=0)
    recipes.learned_prior_vaes(train_x, epochs=1, device="cpu")
    out = " ".join(capsys.readouterr().out.split())
    assert "process of its own" not in out and out.count("loaded from the model cache") == 2
    monkeypatch.setenv("VAELIB_CACHE", str(tmp_path / "elsewhere"))  # holds the mixture only
    recipes.learned_prior_vaes(train_x, epochs=1, device="cpu")
    out = " ".join(capsys.readouterr().out.split())
    assert "process of its own" not in out and "VampPrior: trained here" in out, "one missing: trained here"


def test_learned_prior_vae_refuses_an_unknown_prior():
    with pytest.raises(ValueError, match="mixture, vampprior"):
        recipes.learned_prior_vae("flow", torch.rand(300, 784), epochs=1, device="cpu")
    with pytest.raises(ValueError, match="at least 200 training images"):
        recipes.learned_prior_vae("vampprior", torch.rand(100, 784), epochs=1, device="cpu")
