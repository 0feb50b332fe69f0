"""Models on disk: a checkpoint file that cannot run code, cannot be half-written, and cannot lie.

``save_checkpoint`` writes a model's weights and config with their SHA-256
digest; ``load_checkpoint`` rebuilds the model and refuses a file that was
truncated, changed or written by something else.  The model cache
(:mod:`vaelib.cache`) keeps its models in the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import secrets
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from .models import MODELS

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "vaelib-checkpoint/2"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read back as a vaelib model."""


def digest(header: object, state_dict: Mapping[str, Tensor]) -> str:
    """SHA-256 of ``header`` (anything JSON can write) and every tensor of ``state_dict``."""
    h = hashlib.sha256()
    h.update(json.dumps(header, sort_keys=True).encode())
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        h.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        h.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def write_atomically(payload: dict, path: Path) -> Path:
    """``torch.save(payload)`` to a new file beside ``path``, then renamed into place.

    A crash mid-write never leaves a half-written file under that name, and
    two processes writing the same path leave one whole file or the other.
    The file gets the permissions of any new file of the user (0666 less the
    umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any file
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_payload(path: Path, file_format: str) -> dict:
    """The dict stored in ``path`` (tensors and plain values only), if its format is ``file_format``."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as err:
        raise CheckpointError(f"{path} is not a readable vaelib checkpoint (truncated or corrupted?): {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != file_format:
        raise CheckpointError(f"{path} is a PyTorch file but not a vaelib checkpoint ({file_format})")
    return payload


def field(path: Path, payload: dict, key: str, kind: type) -> object:
    """``payload[key]``, which must be a ``kind``; a :class:`CheckpointError` naming the file if not."""
    value = payload.get(key)
    if not isinstance(value, kind):
        found = "missing" if key not in payload else f"a {type(value).__name__}"
        raise CheckpointError(f"{path}: the field {key!r} should be a {kind.__name__}, but it is {found}")
    return value


def state_dict_field(path: Path, payload: dict) -> dict[str, Tensor]:
    """The payload's ``state_dict``: names to tensors, or a :class:`CheckpointError`."""
    state_dict = field(path, payload, "state_dict", dict)
    if not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in state_dict.items()):
        raise CheckpointError(f"{path}: the field 'state_dict' should map names to tensors")
    return state_dict


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write the model's weights, config and their SHA-256 digest to ``path``, atomically
    (:func:`write_atomically`)."""
    name = type(model).__name__
    if MODELS.get(name) is not type(model):
        raise TypeError(f"cannot checkpoint a {name}: not one of vaelib's models {sorted(MODELS)}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the checkpoint a file name, e.g. {path / 'model.pt'}")
    config = dataclasses.asdict(model.config)
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model": name,
        "config": config,
        "state_dict": state_dict,
        "sha256": digest([name, config], state_dict),
    }
    return write_atomically(payload, path)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> nn.Module:
    """Read a checkpoint written by :func:`save_checkpoint` and rebuild the model, in eval mode.

    Loaded with ``weights_only=True``: a checkpoint can hold tensors and plain
    values only, so a file from the internet cannot run code.  A truncated or
    corrupted file, a missing or mistyped field, or weights that do not match
    the stored digest raise :class:`CheckpointError` naming the file.
    """
    path = Path(path)
    payload = read_payload(path, CHECKPOINT_FORMAT)
    name = field(path, payload, "model", str)
    config = field(path, payload, "config", dict)
    state_dict = state_dict_field(path, payload)
    stored = field(path, payload, "sha256", str)
    model_class = MODELS.get(name)
    if model_class is None:
        raise CheckpointError(f"{path} holds an unknown model {name!r}; vaelib knows {sorted(MODELS)}")
    if digest([name, config], state_dict) != stored:
        raise CheckpointError(
            f"{path}: the weights or config do not match the SHA-256 digest stored with them; "
            "the file was changed or corrupted after it was saved"
        )
    try:
        model = model_class(model_class.config_class(**config))
        model.load_state_dict(state_dict)
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path}: the weights do not match the config ({err})") from err
    return model.to(map_location).eval()
