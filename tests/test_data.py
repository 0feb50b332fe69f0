import shutil
import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from conftest import write_idx

from vaelib import batched, data


def test_load_returns_flat_float_pixels(fake_root):
    train = data.load("mnist", "train", root=fake_root)
    assert train.x.shape == (60, 784) and train.x.dtype == torch.float32
    assert train.x.min() >= 0 and train.x.max() <= 1
    assert train.y.dtype == torch.int64 and train.y.tolist() == [i % 10 for i in range(60)]
    assert len(train) == 60 and train.classes[0].startswith("0")
    test = data.load("fashion-mnist", "test", root=fake_root)
    assert test.x.shape == (20, 784) and test.classes[0] == "T-shirt/top"


def test_pixels_match_the_raw_bytes(fake_root):
    raw = torchvision.datasets.MNIST(str(fake_root), train=True, download=False).data
    x = data.load("mnist", "train", root=fake_root).x
    assert torch.equal(x, raw.reshape(-1, 784).float() / 255)


def test_each_split_is_read_once(fake_root):
    first = data.load("mnist", "test", root=fake_root)
    for file in (fake_root / "MNIST" / "raw").iterdir():
        file.write_bytes(b"")  # a second read would fail
    again = data.load("mnist", "test", root=fake_root)  # served from the cache
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y)


def test_classes_are_torchvisions(fake_root):
    assert data.load("mnist", "test", root=fake_root).classes == tuple(torchvision.datasets.MNIST.classes)
    fashion = data.load("fashion-mnist", "test", root=fake_root).classes
    assert fashion == tuple(torchvision.datasets.FashionMNIST.classes)


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
    seen = torch.cat(list(batched.batches(x, 3, generator=torch.Generator().manual_seed(0))))
    assert sorted(seen.flatten().tolist()) == list(range(10))
    sizes = [len(b) for b in batched.batches(x, 3, shuffle=False)]
    assert sizes == [3, 3, 3, 1]
    assert torch.equal(torch.cat(list(batched.batches(x, 4, shuffle=False))), x)


def test_shuffling_differs_between_epochs_and_is_seeded():
    x = torch.arange(100).float()[:, None]
    g = torch.Generator().manual_seed(0)
    first, second = next(batched.batches(x, 100, generator=g)), next(batched.batches(x, 100, generator=g))
    assert not torch.equal(first, second)
    again = next(batched.batches(x, 100, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(first, again)


# --- damaged or swapped raw files --------------------------------------------------------------


def truncate(raw):
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])


def append_bytes(raw):
    with (raw / "train-images-idx3-ubyte").open("ab") as f:
        f.write(b"\0" * 7)


def empty_images(raw):
    (raw / "train-images-idx3-ubyte").write_bytes(b"")


def empty_labels(raw):
    (raw / "train-labels-idx1-ubyte").write_bytes(b"")


def header_only(raw):
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:6])


def labels_where_images_belong(raw):
    shutil.copy(raw / "train-labels-idx1-ubyte", raw / "train-images-idx3-ubyte")


def images_where_labels_belong(raw):
    shutil.copy(raw / "train-images-idx3-ubyte", raw / "train-labels-idx1-ubyte")


def other_splits_images(raw):
    shutil.copy(raw / "t10k-images-idx3-ubyte", raw / "train-images-idx3-ubyte")


def images_of_another_size(raw):
    write_idx(raw / "train-images-idx3-ubyte", torch.zeros(60, 32, 32))


def no_images(raw):
    write_idx(raw / "train-images-idx3-ubyte", torch.zeros(0, 28, 28))
    write_idx(raw / "train-labels-idx1-ubyte", torch.zeros(0))


def still_compressed(raw):
    write_idx(raw / "train-images-idx3-ubyte", torch.zeros(60, 28, 28), compress=True)
    (raw / "train-images-idx3-ubyte.gz").replace(raw / "train-images-idx3-ubyte")


def label_out_of_range(raw):
    write_idx(raw / "train-labels-idx1-ubyte", torch.arange(60) % 11)


@pytest.mark.parametrize(
    "damage, bad_file, words",
    [
        (truncate, "train-images-idx3-ubyte", "truncated"),
        (append_bytes, "train-images-idx3-ubyte", "7 trailing bytes"),
        (empty_images, "train-images-idx3-ubyte", "empty file"),
        (empty_labels, "train-labels-idx1-ubyte", "empty file"),
        (header_only, "train-images-idx3-ubyte", "only 6 bytes"),
        (labels_where_images_belong, "train-images-idx3-ubyte", "IDX labels file"),
        (images_where_labels_belong, "train-labels-idx1-ubyte", "IDX images file"),
        (other_splits_images, "train-labels-idx1-ubyte", "20 images and 60 labels"),
        (images_of_another_size, "train-images-idx3-ubyte", "32x32"),
        (no_images, "train-images-idx3-ubyte", "0 images"),
        (still_compressed, "train-images-idx3-ubyte", "gzip"),
        (label_out_of_range, "train-labels-idx1-ubyte", "labels up to 10"),
    ],
)
def test_a_damaged_or_swapped_raw_file_is_named(fake_root, damage, bad_file, words):
    raw = fake_root / "MNIST" / "raw"
    damage(raw)
    with pytest.raises(data.DataFormatError) as err:
        data.load("mnist", "train", root=fake_root, download=False)
    message = str(err.value)
    assert isinstance(err.value, ValueError)
    assert bad_file in message and str(raw) in message and words in message
    assert "expected" in message and "found" in message and "download" in message


def test_a_damaged_file_is_named_in_its_own_data_set_and_split(fake_root):
    raw = fake_root / "FashionMNIST" / "raw"
    path = raw / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(data.DataFormatError) as err:
        data.load("fashion-mnist", "test", root=fake_root)
    assert "t10k-labels-idx1-ubyte" in str(err.value) and str(raw) in str(err.value)
    assert len(data.load("mnist", "test", root=fake_root)) == 20  # the other data set is fine


def test_a_replaced_file_loads_after_the_error(fake_root):
    raw = fake_root / "MNIST" / "raw"
    good = (raw / "train-images-idx3-ubyte").read_bytes()
    (raw / "train-images-idx3-ubyte").write_bytes(good[:-1])
    with pytest.raises(data.DataFormatError):
        data.load("mnist", "train", root=fake_root)
    (raw / "train-images-idx3-ubyte").write_bytes(good)
    assert len(data.load("mnist", "train", root=fake_root)) == 60


def test_compressed_copies_beside_the_unpacked_files_are_not_read(fake_root):
    raw = fake_root / "MNIST" / "raw"
    for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]:
        (raw / f"{name}.gz").write_bytes(b"not even gzip")
    assert len(data.load("mnist", "train", root=fake_root)) == 60


# --- ImageSet refuses fields that do not fit ---------------------------------------------------


def image_set(**fields):
    good = {"x": torch.rand(4, 784), "y": torch.arange(4), "classes": tuple("0123456789"), "name": "mnist"}
    return data.ImageSet(**{**good, "split": "train", **fields})


@pytest.mark.parametrize(
    "fields, error, words",
    [
        ({"x": [[0.5] * 784] * 4}, TypeError, "ImageSet.x must be a torch.Tensor"),
        ({"x": torch.randint(0, 256, (4, 784), dtype=torch.uint8)}, TypeError, "ImageSet.x"),
        ({"x": torch.rand(4, 28, 28)}, ValueError, "ImageSet.x must have shape [N, 784]"),
        ({"x": torch.rand(4, 784) * 255}, ValueError, "ImageSet.x must hold pixels in [0, 1]"),
        ({"x": torch.full((4, 784), float("nan"))}, ValueError, "ImageSet.x contains NaN"),
        ({"y": [0, 1, 2, 3]}, TypeError, "ImageSet.y must be a torch.Tensor"),
        ({"y": torch.arange(4, dtype=torch.int32)}, TypeError, "ImageSet.y must hold int64"),
        ({"y": torch.arange(4)[:, None]}, ValueError, "ImageSet.y must have shape [N]"),
        ({"y": torch.arange(3)}, ValueError, "4 images and 3 labels"),
        ({"y": torch.tensor([0, 1, 2, 10])}, ValueError, "ImageSet.y must hold labels from 0 to 9"),
        ({"y": torch.tensor([0, 1, 2, -1])}, ValueError, "ImageSet.y must hold labels from 0 to 9"),
        ({"classes": list("0123456789")}, TypeError, "ImageSet.classes"),
        ({"name": None}, TypeError, "ImageSet.name"),
        ({"split": 0}, TypeError, "ImageSet.split"),
    ],
)
def test_an_image_set_refuses_fields_that_do_not_fit(fields, error, words):
    with pytest.raises(error) as err:
        image_set(**fields)
    assert words in str(err.value)


def test_an_image_set_of_fitting_fields_is_made():
    assert len(image_set()) == 4 and len(image_set(x=torch.rand(0, 784), y=torch.arange(0))) == 0


# --- a loaded set is the caller's own ----------------------------------------------------------


@pytest.mark.parametrize("size", [None, 10])
def test_changing_a_loaded_set_in_place_changes_no_later_load(fake_root, size):
    first = data.load("mnist", "train", root=fake_root, size=size)
    x, y = first.x.clone(), first.y.clone()
    first.x.mul_(0)
    first.y.fill_(0)
    second = data.load("mnist", "train", root=fake_root, size=size)
    assert torch.equal(second.x, x) and torch.equal(second.y, y)
    assert second.x.max() > 0


def test_changing_a_subset_in_place_changes_no_full_load(fake_root):
    full = data.load("mnist", "train", root=fake_root).x.clone()
    data.load("mnist", "train", root=fake_root, size=60).x.mul_(0)
    assert torch.equal(data.load("mnist", "train", root=fake_root).x, full)


# --- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ({"size": True}, TypeError, "size must be an int"),
        ({"size": 10.0}, TypeError, "size must be an int"),
        ({"size": "10"}, TypeError, "size must be an int"),
        ({"size": 0}, ValueError, "size must be between 1 and 60"),
        ({"size": 61}, ValueError, "size must be between 1 and 60"),
        ({"size": 10, "seed": 1.5}, TypeError, "seed must be an int"),
        ({"download": "no"}, TypeError, "download must be True or False"),
        ({"name": ["mnist"]}, ValueError, "unknown data set"),
        ({"split": None}, ValueError, "unknown split"),
    ],
)
def test_bad_load_arguments_are_named(fake_root, arguments, error, words):
    with pytest.raises(error) as err:
        data.load(**{"name": "mnist", "split": "train", "root": fake_root, **arguments})
    assert words in str(err.value)


def test_a_root_that_is_not_a_path_is_named():
    with pytest.raises(TypeError, match="root must be a folder path"):
        data.load("mnist", root=5)


def test_sizes_of_any_integer_type_are_accepted(fake_root):
    assert len(data.load("mnist", "train", root=fake_root, size=np.int64(5))) == 5


@pytest.mark.parametrize(
    "x, arguments, error, words",
    [
        (torch.rand(5, 2), {"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        (torch.rand(5, 2), {"batch_size": -3}, ValueError, "batch_size must be a positive integer"),
        (torch.rand(5, 2), {"batch_size": True}, ValueError, "batch_size must be a positive integer"),
        (torch.rand(5, 2), {"batch_size": 2.5}, ValueError, "batch_size must be a positive integer"),
        (torch.rand(5, 2), {"batch_size": "2"}, ValueError, "batch_size must be a positive integer"),
        ([[0.5, 0.5]] * 5, {}, TypeError, "x must be a torch.Tensor"),
        (torch.rand(0, 784), {}, ValueError, "no images"),
        (torch.tensor(0.5), {}, ValueError, "0-dimensional"),
        (torch.rand(5, 2), {"generator": 0}, TypeError, "generator must be a torch.Generator"),
    ],
)
def test_bad_batches_arguments_are_named_at_the_call(x, arguments, error, words):
    with pytest.raises(error) as err:
        batched.batches(x, **arguments)  # raised at the call, not at the first batch
    assert words in str(err.value)


def test_batch_sizes_of_any_integer_type_are_accepted():
    assert [len(b) for b in batched.batches(torch.rand(5, 2), np.int64(2), shuffle=False)] == [2, 2, 1]


def test_an_empty_batch_is_refused_with_one_message_everywhere():
    """Every function that takes a batch of images says the same of an empty one."""
    from vaelib import latent, losses, metrics, models, train

    empty = torch.rand(0, 784)
    vae = models.VAE(models.MLPConfig(hidden_dims=(8,), latent_dim=2))
    calls = {
        "flatten_images": lambda: data.flatten_images(empty),
        "batches": lambda: batched.batches(empty),
        "bce_per_image": lambda: losses.bce_per_image(torch.zeros(0, 784), empty),
        "vae_loss": lambda: losses.vae_loss(empty, torch.zeros(0, 784), torch.zeros(0, 2), torch.zeros(0, 2)),
        "encode": lambda: vae.encode(empty),
        "encode_dataset": lambda: latent.encode_dataset(vae, empty),
        "elbo": lambda: metrics.elbo(vae, empty),
        "fit": lambda: train.fit(vae, losses.VAEObjective(), empty, progress=False),
        "evaluate": lambda: train.evaluate(vae, losses.VAEObjective(), empty),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=r"holds no images \(shape \(0, 784\)\): a batch needs at least one"):
            call()
        assert name  # named for the failure report
