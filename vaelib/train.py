"""One trainer for every model of the book, plus evaluation and checkpoints.

``fit`` knows nothing about autoencoders or VAEs: it takes a model and a loss
function ``loss_fn(model, x)`` that returns either a scalar loss or a dict of
named scalars with the total under ``"loss"`` (a VAE's loss returns its
reconstruction and KL parts beside it).  Every part is averaged per epoch into
the history.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm import tqdm

from .data import batches
from .models import MODELS
from .settings import device as default_device

__all__ = [
    "CheckpointError",
    "History",
    "NonFiniteLossError",
    "adam",
    "evaluate",
    "fit",
    "load_checkpoint",
    "save_checkpoint",
]

LossFn = Callable[[nn.Module, Tensor], "Tensor | Mapping[str, Tensor]"]


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss or gradient; see the message."""


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read back as a vaelib model."""


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch.

    ``train[i]`` and ``test[i]`` map each loss part (``"loss"``, and e.g.
    ``"recon"``, ``"kl"``) to its mean over epoch ``i``, in nats per image.
    """

    train: list[dict[str, float]] = field(default_factory=list)
    test: list[dict[str, float]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def curve(self, part: str = "loss", split: str = "train") -> list[float]:
        """The per-epoch values of one loss part on ``"train"`` or ``"test"``."""
        return [epoch[part] for epoch in getattr(self, split)]


def _as_parts(output: Tensor | Mapping[str, Tensor]) -> dict[str, Tensor]:
    parts = dict(output) if isinstance(output, Mapping) else {"loss": output}
    if "loss" not in parts:
        raise KeyError("a loss function that returns a dict must put the total under 'loss'")
    return parts


class _Mean:
    """Running means of the loss parts, weighted by batch size."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, parts: Mapping[str, float], n: int) -> None:
        for name, value in parts.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * n
        self.count += n

    def result(self) -> dict[str, float]:
        return {name: total / self.count for name, total in self.sums.items()}


class _NotebookLine:
    """A file for tqdm that shows the bar as one text output of a notebook cell.

    tqdm's widget bar (``tqdm.auto`` in a notebook) is live only while a
    kernel runs: a saved notebook, and so the rendered book, keeps its first
    state, "0%".  Updating one display output instead keeps the *last* state,
    live in Jupyter and Colab and final on the page.
    """

    encoding = "utf-8"  # tells tqdm it may draw the bar with Unicode blocks

    def __init__(self) -> None:
        from IPython.display import display

        self._handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text: str) -> None:
        line = text.strip("\r\n").rstrip()
        if line:
            self._handle.update({"text/plain": line}, raw=True)

    def flush(self) -> None:
        pass


def adam(params, lr: float = 1e-3) -> torch.optim.Optimizer:
    """Adam, in PyTorch's fused implementation where the device supports it.

    On a CPU the fused kernel makes a small model's epoch about a third
    faster than the default (foreach) one; the update is the same algorithm.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch, or an unsupported device
        return torch.optim.Adam(params, lr=lr)


def _gradient_norm(params: list[nn.Parameter]) -> float:
    """The norm of all gradients together (NaN or inf if any gradient is)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    total_norm = getattr(torch.nn.utils, "get_total_norm", None)  # torch >= 2.6
    if total_norm is not None:
        return total_norm(grads).item()
    return torch.nn.utils.clip_grad_norm_(params, float("inf")).item()


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _progress_bar(total: int, enabled: bool) -> tqdm:
    """A progress bar for the terminal (stderr) or for a notebook cell."""
    if enabled and _in_notebook():
        return tqdm(total=total, unit="batch", file=_NotebookLine(), ncols=90, mininterval=0.5)
    return tqdm(total=total, unit="batch", disable=not enabled)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loss_fn: LossFn,
    x: Tensor,
    *,
    batch_size: int = 1_000,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Each loss part averaged over the images ``x`` ``[N, ...]`` (nats per image)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    mean = _Mean()
    try:
        for batch in batches(x, batch_size, shuffle=False):
            batch = batch.to(device)
            parts = _as_parts(loss_fn(model, batch))
            mean.add({k: v.item() for k, v in parts.items()}, len(batch))
    finally:
        model.train(was_training)
    return mean.result()


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    train_x: Tensor,
    test_x: Tensor | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    binarize: bool = False,
    device: torch.device | str | None = None,
    seed: int = 0,
    callback: Callable[[int, History, nn.Module], bool | None] | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``train_x`` (``[N, ...]``) by minimizing ``loss_fn``.

    Adam (:func:`adam`) with learning rate ``lr`` unless an ``optimizer`` is given.  After
    each epoch the test set (if any) is evaluated, the history updated, and
    ``callback(epoch, history, model)`` called; a callback that returns True
    stops training.  With ``binarize`` each batch is binarized anew (dynamic
    binarization).  A progress bar shows in a terminal and in a notebook.

    A NaN or infinite loss or gradient stops training with
    :class:`NonFiniteLossError` *before* the optimizer step, so the model
    keeps the last weights that gave a finite loss.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    train_x = train_x.to(device)  # moved once; batches are slices on the device
    if test_x is not None:
        test_x = test_x.to(device)
    optimizer = optimizer or adam(model.parameters(), lr=lr)
    params = [p for p in model.parameters() if p.requires_grad]
    generator = torch.Generator().manual_seed(seed)
    if binarize:
        torch.manual_seed(seed)  # the binarization noise
    history = History()
    steps_per_epoch = math.ceil(len(train_x) / batch_size)
    bar = _progress_bar(epochs * steps_per_epoch, progress)
    try:
        for epoch in range(epochs):
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            model.train()
            mean = _Mean()
            start = time.perf_counter()
            for step, batch in enumerate(
                batches(train_x, batch_size, generator=generator, binarize_each=binarize)
            ):
                parts = _as_parts(loss_fn(model, batch))
                loss = parts["loss"]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = _gradient_norm(params)
                values = {k: v.item() for k, v in parts.items()}
                if not (math.isfinite(values["loss"]) and math.isfinite(grad_norm)):
                    raise NonFiniteLossError(
                        f"the loss became {values['loss']} (gradient norm {grad_norm}) at "
                        f"epoch {epoch + 1}, batch {step + 1}; training stopped before that step, "
                        "so the model keeps its last good weights. Common causes: a learning "
                        "rate too high, NaN in the data, or a loss that takes log(0)."
                    )
                optimizer.step()
                mean.add(values, len(batch))
                bar.update(1)
                bar.set_postfix(loss=f"{values['loss']:.2f}", refresh=False)
            history.seconds.append(time.perf_counter() - start)
            history.train.append(mean.result())
            if test_x is not None:
                history.test.append(evaluate(model, loss_fn, test_x, device=device))
                bar.set_postfix(
                    loss=f"{history.train[-1]['loss']:.2f}", test=f"{history.test[-1]['loss']:.2f}"
                )
            if callback is not None and callback(epoch, history, model):
                break
    finally:
        bar.close()
        model.eval()
    return history


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write the model's weights and config to ``path`` atomically.

    The file is written beside its destination and renamed into place, so a
    crash mid-write never leaves a half-written checkpoint under that name.
    """
    name = type(model).__name__
    if MODELS.get(name) is not type(model):
        raise TypeError(f"cannot checkpoint a {name}: not one of vaelib's models {sorted(MODELS)}")
    path = Path(path)
    payload = {
        "format": "vaelib-checkpoint/1",
        "model": name,
        "config": dataclasses.asdict(model.config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> nn.Module:
    """Read a checkpoint written by :func:`save_checkpoint` and rebuild the model.

    Loaded with ``weights_only=True``: a checkpoint can hold tensors and plain
    values only, so a file from the internet cannot run code.  A truncated or
    corrupted file raises :class:`CheckpointError` naming it.
    """
    path = Path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as err:
        raise CheckpointError(
            f"{path} is not a readable vaelib checkpoint (truncated or corrupted?): {err}"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != "vaelib-checkpoint/1":
        raise CheckpointError(f"{path} is a PyTorch file but not a vaelib checkpoint")
    model_class = MODELS.get(payload["model"])
    if model_class is None:
        raise CheckpointError(f"{path} holds an unknown model {payload['model']!r}")
    try:
        config = model_class.config_class(**payload["config"])
        model = model_class(config)
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path}: the weights do not match the config ({err})") from err
    return model.to(map_location).eval()
