"""The model cache: a model that one chapter trains, a later chapter loads.

Several chapters need the same trained model: chapter 4's VAE, the judge.
Training it again in each costs minutes and teaches nothing, so
:func:`load_or_train` keeps each trained model on disk under a **key** made of
everything that determines it (the model and its config, the training recipe,
the seed, fast or full settings, a digest of the training data, the device
kind and vaelib's version) and loads it back when the same key comes again.
A chapter gets the same weights either way: loading returns exactly what
training stored.

The cache lives in ``$VAELIB_CACHE``, else ``$XDG_CACHE_HOME/vaelib/models``
(``~/.cache/vaelib/models``), beside the data; :func:`clear` empties it.  It
must not lie: a file is read with ``weights_only`` and checked against the
SHA-256 digest and the key stored in it; a damaged, truncated or foreign file
is trained again and replaced, with a warning.  Writes are atomic, so two
processes that write one key leave one whole file.  A cache folder that cannot
be written (read-only, or a full disk) costs only the saving: the model is
trained and used, with a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import textwrap
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from .checkpoints import CheckpointError, digest, field, read_payload, state_dict_field, write_atomically
from .data import user_cache_folder
from .settings import PAGE_WIDTH

__all__ = ["CacheWarning", "cache_root", "cached", "clear", "key", "load_or_train", "store"]

CACHE_FORMAT = "vaelib-cache/1"
CACHE_ENV = "VAELIB_CACHE"


class CacheWarning(UserWarning):
    """The cache could not be used as asked: a file was damaged, or could not be written."""


def cache_root(root: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``root`` if given, else ``$VAELIB_CACHE``, else
    ``$XDG_CACHE_HOME/vaelib/models`` (``~/.cache/vaelib/models`` by default)."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return user_cache_folder() / "models"


def _say(text: str) -> None:
    """Print ``text`` in lines that fit the book's code column."""
    print(textwrap.fill(text, PAGE_WIDTH, subsequent_indent="  "))


def _plain(value: object) -> object:
    """``value`` as plain JSON values, a tensor as the digest of its contents."""
    if isinstance(value, Tensor):
        data = value.detach().cpu().contiguous()
        h = hashlib.sha256(data.reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()
        return {"tensor": h, "dtype": str(data.dtype), "shape": list(data.shape)}
    if isinstance(value, torch.device):
        return value.type
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__qualname__, **{k: _plain(v) for k, v in dataclasses.asdict(value).items()}}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, type) or callable(value):
        return f"{value.__module__}.{value.__qualname__}"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a cache key cannot hold a {type(value).__name__}: give tensors, numbers, strings, dataclasses")


def key(**parts: object) -> str:
    """The cache key of a model determined by ``parts`` (and vaelib's version): a SHA-256 in hex.

    ``parts`` can hold tensors (by the digest of their contents), dataclasses,
    devices (by their kind), classes and functions (by their qualified name),
    and dicts, lists, strings and numbers of those.
    """
    from . import __version__

    text = json.dumps({"vaelib": __version__, **_plain(parts)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _load(path: Path, entry_key: str, build: Callable[[], nn.Module]) -> tuple[nn.Module, str]:
    """The model stored at ``path`` under ``entry_key`` and the chapter that trained it,
    or a :class:`~vaelib.checkpoints.CheckpointError` that says what is wrong with the file."""
    payload = read_payload(path, CACHE_FORMAT)
    stored_key = field(path, payload, "key", str)
    trained_in = field(path, payload, "trained_in", str)
    state_dict = state_dict_field(path, payload)
    if stored_key != entry_key:
        raise CheckpointError(f"{path} holds a model of another key ({stored_key[:12]}...), not {entry_key[:12]}...")
    if digest([stored_key, trained_in], state_dict) != field(path, payload, "sha256", str):
        raise CheckpointError(f"{path}: the weights do not match the SHA-256 digest stored with them")
    model = build()
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, KeyError, ValueError) as err:
        raise CheckpointError(f"{path}: the weights do not fit the model ({err})") from err
    return model, trained_in


def _store(model: nn.Module, path: Path, entry_key: str, trained_in: str) -> None:
    state_dict = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {
        "format": CACHE_FORMAT,
        "key": entry_key,
        "trained_in": trained_in,
        "state_dict": state_dict,
        "sha256": digest([entry_key, trained_in], state_dict),
    }
    write_atomically(payload, path)


def store(
    name: str, model: nn.Module, /, *, trained_in: str, root: str | os.PathLike | None = None, **parts: object
) -> bool:
    """Keep ``model`` in the cache under the key of ``name`` and ``parts`` (:func:`key`); whether it was kept.

    A folder that cannot be written (read-only, a full disk) keeps nothing and
    warns: the caller has its model either way.
    """
    entry_key = key(name=name, **parts)
    try:
        _store(model, cache_root(root) / f"{entry_key}.pt", entry_key, trained_in)
    except OSError as err:
        warnings.warn(f"{name}: trained, but the model cache could not keep it ({err})", CacheWarning, stacklevel=2)
        return False
    return True


def cached(name: str, /, *, root: str | os.PathLike | None = None, **parts: object) -> bool:
    """Whether the cache holds a file under the key of ``name`` and ``parts`` (:func:`key`);
    :func:`load_or_train` still checks it before using it."""
    return (cache_root(root) / f"{key(name=name, **parts)}.pt").exists()


def load_or_train(
    name: str,
    train: Callable[[], nn.Module],
    build: Callable[[], nn.Module],
    /,
    *,
    trained_in: str,
    device: str | torch.device = "cpu",
    root: str | os.PathLike | None = None,
    keep: bool = True,
    quiet: bool = False,
    **parts: object,
) -> nn.Module:
    """The model ``name`` from the cache, else trained by ``train()`` and stored; in eval mode on ``device``.

    ``build()`` makes an untrained model of the same shape, into which a cached
    model's weights are loaded; ``parts`` is everything that determines the
    trained model (:func:`key`).  ``trained_in`` names who trains it here
    ("chapter 4"): the cache keeps it, and a later load says which chapter
    trained the model it loaded.  With ``keep=False``, ``train()`` stores the
    model itself (:func:`store`).  One line says which happened, unless ``quiet``.
    """
    entry_key = key(name=name, **parts)
    path = cache_root(root) / f"{entry_key}.pt"
    if path.exists():
        try:
            model, by = _load(path, entry_key, build)
        except CheckpointError as err:
            warnings.warn(
                f"{name}: the cached file cannot be used, so the model is trained again: {err}",
                CacheWarning,
                stacklevel=2,
            )
        else:
            if not quiet:
                _say(
                    f"{name}: loaded from the model cache, where {by} put it (to train it here"
                    " instead, empty the cache with `from vaelib import cache; cache.clear()`,"
                    " which deletes every cached model, and run this cell again)"
                )
            return model.to(device).eval()
    start = time.perf_counter()
    model = train()
    seconds = time.perf_counter() - start
    kept = store(name, model, trained_in=trained_in, root=root, **parts) if keep else path.exists()
    if not quiet:
        _say(f"{name}: trained here in {seconds:.0f} s, " + ("kept in the model cache" if kept else "not cached"))
    return model.to(device).eval()


def clear(root: str | os.PathLike | None = None) -> int:
    """Delete every cached model (the cache's ``.pt`` files); the number deleted."""
    folder = cache_root(root)
    removed = 0
    for path in folder.glob("*.pt") if folder.is_dir() else []:
        path.unlink(missing_ok=True)
        removed += 1
    return removed
