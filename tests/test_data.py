import urllib.error

import pytest
import torch
import torchvision

from vaelib import data


def test_load_returns_flat_float_pixels(fake_root):
    train = data.load("mnist", "train", root=fake_root)
    assert train.x.shape == (60, 784) and train.x.dtype == torch.float32
    assert 0 <= train.x.min() and train.x.max() <= 1
    assert train.y.dtype == torch.int64 and train.y.tolist() == [i % 10 for i in range(60)]
    assert len(train) == 60 and train.classes[0].startswith("0")
    test = data.load("fashion-mnist", "test", root=fake_root)
    assert test.x.shape == (20, 784) and test.classes[0] == "T-shirt/top"


def test_pixels_match_the_raw_bytes(fake_root):
    raw = torchvision.datasets.MNIST(str(fake_root), train=True, download=False).data
    x = data.load("mnist", "train", root=fake_root).x
    assert torch.equal(x, raw.reshape(-1, 784).float() / 255)


def test_each_split_is_read_once(fake_root, monkeypatch):
    data.load("mnist", "test", root=fake_root)
    calls = []
    monkeypatch.setattr(torchvision.datasets, "MNIST", lambda *a, **k: calls.append(a))
    data.load("mnist", "test", root=fake_root)  # served from the cache
    assert calls == []


def test_root_from_argument_then_environment_then_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAELIB_DATA", str(tmp_path / "env"))
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_root() == tmp_path / "env"
    monkeypatch.delenv("VAELIB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_root() == tmp_path / "cache" / "vaelib" / "data"


def test_the_environment_variable_is_used(fake_root, monkeypatch):
    monkeypatch.setenv("VAELIB_DATA", str(fake_root))
    assert len(data.load("mnist", "test")) == 20


def test_subsets_are_deterministic(fake_root):
    a = data.load("mnist", "train", root=fake_root, size=10)
    b = data.load("mnist", "train", root=fake_root, size=10)
    assert len(a) == 10 and torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    with pytest.raises(ValueError, match="size"):
        data.load("mnist", "train", root=fake_root, size=1000)


def test_missing_data_offline_names_the_files_and_the_folder(tmp_path):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load("mnist", "train", root=tmp_path, download=False)
    message = str(err.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert str(tmp_path / "MNIST" / "raw") in message and "VAELIB_DATA" in message


def test_a_failed_download_is_a_clear_error_not_a_deep_traceback(tmp_path, monkeypatch):
    def offline(self):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "download", offline)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load("fashion-mnist", "test", root=tmp_path)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte" in message and "FashionMNIST" in message
    assert "Downloading them failed" in message and "no network" in message


def test_unknown_names_are_rejected(fake_root):
    with pytest.raises(ValueError, match="unknown data set"):
        data.load("cifar", root=fake_root)
    with pytest.raises(ValueError, match="unknown split"):
        data.load("mnist", "valid", root=fake_root)


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (torch.rand(4, 10), ValueError, "shape"),
        (torch.rand(4, 784) * 255, ValueError, "[0, 1]"),
        (torch.rand(4, 784) - 0.5, ValueError, "[0, 1]"),
        (torch.randint(0, 255, (4, 784), dtype=torch.uint8), TypeError, "dtype"),
        (torch.full((4, 784), float("nan")), ValueError, "NaN"),
        (torch.rand(4, 784).index_fill_(1, torch.tensor([7]), float("nan")), ValueError, "NaN"),
        (torch.rand(4, 784).index_fill_(1, torch.tensor([7]), float("inf")), ValueError, "[0, 1]"),
        ([[0.5] * 784], TypeError, "torch.Tensor"),
    ],
)
def test_bad_image_batches_are_refused_with_a_reason(bad, error, words):
    with pytest.raises(error) as err:
        data.flatten_images(bad)
    assert words in str(err.value)


def test_image_batches_of_any_usual_shape_are_flattened():
    for shape in [(3, 784), (3, 28, 28), (3, 1, 28, 28)]:
        assert data.flatten_images(torch.rand(shape)).shape == (3, 784)


def test_batches_visit_every_image_once():
    x = torch.arange(10).float()[:, None]
    seen = torch.cat(list(data.batches(x, 3, generator=torch.Generator().manual_seed(0))))
    assert sorted(seen.flatten().tolist()) == list(range(10))
    sizes = [len(b) for b in data.batches(x, 3, shuffle=False)]
    assert sizes == [3, 3, 3, 1]
    assert torch.equal(torch.cat(list(data.batches(x, 4, shuffle=False))), x)


def test_shuffling_differs_between_epochs_and_is_seeded():
    x = torch.arange(100).float()[:, None]
    g = torch.Generator().manual_seed(0)
    first, second = next(data.batches(x, 100, generator=g)), next(data.batches(x, 100, generator=g))
    assert not torch.equal(first, second)
    again = next(data.batches(x, 100, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(first, again)


def test_dynamic_binarization():
    x = torch.full((2000, 784), 0.3)
    (b,) = list(data.batches(x, 2000, shuffle=False, binarize_each=True))
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 0.01
