"""One trainer for every model of the book, and evaluation.

``fit`` knows nothing about autoencoders or VAEs: it takes a model and a loss
function ``loss_fn(model, x)`` that returns either a scalar loss or a dict of
named scalars with the total under ``"loss"`` (a VAE's loss returns its
reconstruction and KL parts beside it).  Every part is averaged per epoch into
the history.  Given labels (``train_y``, one per image), ``fit`` batches them
beside the images and calls ``loss_fn(model, x, y)`` instead: that is how a
conditional VAE and a classifier train, while the unlabelled calls of the
other chapters stay as they are.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ._validate import check_int, check_number, is_int
from .batched import batch_tensors, batches, map_batches, steps_per_epoch
from .data import check_images, check_labels
from .losses import NonFiniteLossError
from .progress import progress_bar
from .settings import device as default_device

__all__ = [
    "History",
    "NonFiniteLossError",
    "adam",
    "evaluate",
    "fit",
]

# loss_fn(model, x), or loss_fn(model, x, y) when labels are given
LossFn = Callable[..., "Tensor | Mapping[str, Tensor]"]


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
        return {name: self.of(name) for name in self.sums}

    def of(self, name: str) -> float:
        return self.sums[name] / self.count


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


def _gradient_norm(params: list[nn.Parameter], max_norm: float | None = None) -> float:
    """The norm of all gradients together (NaN or inf if any gradient is).

    With ``max_norm``, gradients longer than that are scaled down to it
    (gradient clipping); the norm returned is the one before clipping.
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if max_norm is not None:
        return torch.nn.utils.clip_grad_norm_(params, max_norm).item()
    total_norm = getattr(torch.nn.utils, "get_total_norm", None)  # torch >= 2.6
    if total_norm is not None:
        return total_norm(grads).item()
    return torch.nn.utils.clip_grad_norm_(params, float("inf")).item()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loss_fn: LossFn,
    x: Tensor,
    y: Tensor | None = None,
    *,
    batch_size: int = 1_000,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Each loss part averaged over the images ``x`` ``[N, ...]`` (nats per image).

    With labels ``y`` (``[N]``) the loss is ``loss_fn(model, x, y)``.  Runs on
    the model's device (moved to ``device`` first, if given), in eval mode,
    and leaves the model in the mode it found it in.
    """
    check_images("x", x)
    if y is not None:
        check_labels("y", y, len(x))
    check_int("batch_size", batch_size)
    if device is not None:
        model.to(device)

    def parts(*batch: Tensor) -> tuple[dict[str, float], int]:  # (x,) or (x, y)
        return {k: v.item() for k, v in _as_parts(loss_fn(model, *batch)).items()}, len(batch[0])

    mean = _Mean()
    for values, n in map_batches(model, parts, x, labels=y, batch_size=batch_size):
        mean.add(values, n)
    return mean.result()


class _Snapshots:
    """Copies of the model's weights to fall back on when a run diverges.

    ``keep(step)`` copies the current weights, known to give a finite loss on
    the batch just computed; ``restore_finite`` puts back the most recent copy
    that gives a finite loss on the whole training set, trying the starting
    weights last.  Copying every ``every`` steps keeps the cost to a fraction
    of a percent of training.
    """

    def __init__(self, model: nn.Module, every: int = 50) -> None:
        self.model = model
        self.every = every
        self.first = self._copy()  # the starting weights, step 0
        self.recent, self.recent_step = self.first, 0

    def _copy(self) -> dict[str, Tensor]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def keep(self, step: int) -> None:
        if step % self.every == 0 and step > 0:
            self.recent, self.recent_step = self._copy(), step

    def restore_finite(
        self, loss_fn: LossFn, train_x: Tensor, train_y: Tensor | None, device: torch.device
    ) -> tuple[int, float] | None:
        """Load the latest copy with a finite training loss: ``(its step, that loss)``, or None if none has."""
        for step, weights in [(self.recent_step, self.recent), (0, self.first)]:
            self.model.load_state_dict(weights)
            try:
                loss = evaluate(self.model, loss_fn, train_x, train_y, device=device)["loss"]
            except NonFiniteLossError:
                continue
            if math.isfinite(loss):
                return step, loss
        return None


def _diverged(
    reason: str,
    epoch: int,
    batch: int,
    snapshots: _Snapshots,
    loss_fn: LossFn,
    train: tuple[Tensor, Tensor | None],
    device: torch.device,
) -> NonFiniteLossError:
    """Roll the model back to finite weights; the error to raise, saying what happened and what the model holds."""
    restored = snapshots.restore_finite(loss_fn, *train, device)
    if restored is None:
        kept = (
            "Even the starting weights give a NaN or infinite loss on the training data: "
            "check the data and the loss function."
        )
    else:
        step, loss = restored
        kept = (
            f"The model holds the weights it had before step {step + 1} of the run, which give a finite "
            f"training loss ({loss:.4g} nats per image)."
        )
    error = NonFiniteLossError(
        f"{reason} at epoch {epoch + 1}, batch {batch + 1}; training stopped. {kept} "
        "Common causes: a learning rate too high, NaN in the data, or a loss that takes log(0)."
    )
    error.epoch, error.batch = epoch + 1, batch + 1  # where it happened, counted from 1
    return error


def _cuda_devices() -> list[int]:
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    train_x: Tensor,
    test_x: Tensor | None = None,
    *,
    train_y: Tensor | None = None,
    test_y: Tensor | None = None,
    test_loss_fn: LossFn | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    callback: Callable[[int, History, nn.Module], bool | None] | None = None,
    progress: bool = True,
    max_grad_norm: float | None = None,
) -> History:
    """Train ``model`` on ``train_x`` (``[N, ...]``) by minimizing ``loss_fn``.

    Without labels the loss is ``loss_fn(model, x)`` on each batch of images.
    With ``train_y`` (``[N]``, one label per image; and ``test_y`` for
    ``test_x``) the labels are batched beside the images and the loss is
    ``loss_fn(model, x, y)``.

    Adam (:func:`adam`) with learning rate ``lr`` unless an ``optimizer`` is
    given.  After each epoch the test set (if any) is evaluated with
    ``test_loss_fn``, the history updated,
    and ``callback(epoch, history, model)`` called; a callback that returns
    True stops training.  A progress bar shows in a terminal and in a
    notebook.  Afterwards the model is back in the train/eval mode it was in.

    ``seed`` covers all of training's randomness: the order of the batches
    and every draw from PyTorch's global generator during the run (a VAE's
    reparameterization noise, a denoising loss's noise).  The global
    generator (CPU and CUDA) is seeded for the run and put back as it was
    afterwards, so the same seed and the same starting weights give the same
    history, whatever the caller drew before, and the caller's own random
    stream is left untouched.

    ``test_loss_fn(model, x)`` is the loss without training's side effects:
    what the test set is scored with, and what checks earlier weights when a
    run diverges.  By default it is ``loss_fn``; a loss that changes as
    training goes on needs its own: for a VAE with a KL warm-up, pass
    ``objective.test_loss``, the loss at the full beta.

    ``max_grad_norm`` clips the gradient: before each step, gradients whose
    norm (all parameters together) exceeds it are scaled down to it.

    A NaN or infinite loss or gradient stops training with
    :class:`NonFiniteLossError`, and the model is rolled back to the latest
    weights that give a finite loss on the whole training set (kept every 50
    steps, and the starting weights); the message says which, and the error's
    ``epoch`` and ``batch`` (counted from 1) say where training stopped.
    """
    if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
        raise TypeError(f"model must be a torch.nn.Module with parameters, got {type(model).__name__}")
    for name, function in [("loss_fn", loss_fn), ("test_loss_fn", test_loss_fn or loss_fn)]:
        if not callable(function):
            raise TypeError(f"{name} must be callable as {name}(model, x), got {type(function).__name__}")
    check_images("train_x", train_x)
    if test_x is not None:
        check_images("test_x", test_x)
    if train_y is not None:
        check_labels("train_y", train_y, len(train_x))
    if test_y is not None:
        if test_x is None or train_y is None:
            raise ValueError("test_y labels test_x: give it with test_x, and with train_y for the training images")
        check_labels("test_y", test_y, len(test_x))
    elif train_y is not None and test_x is not None:
        raise ValueError("the training images are labelled (train_y), so the test images need labels too: pass test_y")
    check_int("epochs", epochs)
    check_int("batch_size", batch_size)
    if optimizer is None:
        check_number("lr", lr, positive=True)
    if not is_int(seed):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if max_grad_norm is not None:
        check_number("max_grad_norm", max_grad_norm, positive=True)

    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    train_x = train_x.to(device)  # moved once; batches are slices on the device
    train_y = train_y.to(device) if train_y is not None else None
    if test_x is not None:
        test_x = test_x.to(device)
        test_y = test_y.to(device) if test_y is not None else None
    test_loss_fn = test_loss_fn or loss_fn
    optimizer = optimizer or adam(model.parameters(), lr=lr)
    params = [p for p in model.parameters() if p.requires_grad]
    history = History()
    steps = steps_per_epoch(len(train_x), batch_size)
    bar = progress_bar(epochs * steps, progress)
    snapshots = _Snapshots(model)
    rollback = (snapshots, test_loss_fn, (train_x, train_y), device)  # what a diverged run needs
    was_training = model.training
    try:
        with torch.random.fork_rng(devices=_cuda_devices()):
            torch.manual_seed(seed)  # the noise drawn inside the model and the loss
            generator = torch.Generator().manual_seed(seed)  # the order of the batches
            for epoch in range(epochs):
                bar.set_description(f"epoch {epoch + 1}/{epochs}")
                model.train()
                mean = _Mean()
                start = time.perf_counter()
                for step, batch in enumerate(batches(train_x, batch_size, labels=train_y, generator=generator)):
                    args = batch_tensors(batch, device)  # (x,) or (x, y)
                    try:
                        parts = _as_parts(loss_fn(model, *args))
                    except NonFiniteLossError as err:
                        raise _diverged(str(err), epoch, step, *rollback) from err
                    optimizer.zero_grad(set_to_none=True)
                    parts["loss"].backward()
                    grad_norm = _gradient_norm(params, max_grad_norm)
                    values = {k: v.item() for k, v in parts.items()}
                    if not (math.isfinite(values["loss"]) and math.isfinite(grad_norm)):
                        reason = f"the loss became {values['loss']} (gradient norm {grad_norm})"
                        raise _diverged(reason, epoch, step, *rollback)
                    snapshots.keep(epoch * steps + step)  # these weights gave a finite loss
                    optimizer.step()
                    mean.add(values, len(args[0]))
                    bar.update(1)
                    # the epoch's running mean, the number its history keeps (not one noisy batch)
                    bar.set_postfix(loss=f"{mean.of('loss'):.2f}", refresh=False)
                history.seconds.append(time.perf_counter() - start)
                history.train.append(mean.result())
                shown = {"loss": f"{history.train[-1]['loss']:.2f}"}
                if test_x is not None:
                    history.test.append(evaluate(model, test_loss_fn, test_x, test_y))
                    shown["test"] = f"{history.test[-1]['loss']:.2f}"
                bar.set_postfix(**shown)
                if callback is not None and callback(epoch, history, model):
                    break
    finally:
        bar.close()
        model.train(was_training)
    return history
