"""Batches: a data set cut into index slices, and a model run over them.

:func:`batches` cuts images (and their labels) into batches, shuffled or in
order; :func:`steps_per_epoch` says how many there are.  Every measurement
of the book (codes, reconstruction errors, likelihoods, the judge's labels,
test losses) is one function applied to batch after batch of images:
:func:`map_batches` is that loop, written once, on the model's device, in
eval mode, without gradients; :func:`per_image` joins what it returns, one
row per image, on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch
from torch import Tensor, nn

from ._validate import check_int
from .data import check_labels

__all__ = ["batch_tensors", "batches", "evaluating", "map_batches", "model_device", "per_image", "steps_per_epoch"]

T = TypeVar("T")


def batches(
    x: Tensor,
    batch_size: int = 128,
    *,
    labels: Tensor | None = None,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor] | Iterator[tuple[Tensor, Tensor]]:
    """Yield batches of ``x`` (``[N, ...]``) as index slices, ``[batch_size, ...]``.

    With ``labels`` (``[N]``, one per image) each batch is a pair ``(x_batch,
    y_batch)``, the labels sliced with the same indices; without, the images
    alone, as the unconditional chapters use it.  With ``shuffle`` the order
    is a fresh permutation (from ``generator``) on every pass; the last batch
    may be smaller.  The arguments are checked at the call, before the first
    batch: ``x`` must be a tensor holding at least one image, ``labels`` a
    tensor of the same length, and ``batch_size`` a positive int.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor of images [N, ...], got {type(x).__name__}")
    if x.dim() == 0:
        raise ValueError("x must be a batch of images [N, ...], got a 0-dimensional tensor")
    if len(x) == 0:
        raise ValueError(f"x holds no images (shape {tuple(x.shape)}): a batch needs at least one")
    if labels is not None:
        check_labels("labels", labels, len(x))
        if labels.device != x.device:
            raise ValueError(f"labels and x must be on one device, got {labels.device} and {x.device}")
    check_int("batch_size", batch_size)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return _batches(x, labels, int(batch_size), bool(shuffle), generator)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """How many batches :func:`batches` makes of ``n`` images: the last one may be smaller."""
    return -(-n // batch_size)


def batch_tensors(batch: Tensor | tuple[Tensor, Tensor], device: torch.device | str) -> tuple[Tensor, ...]:
    """A batch of :func:`batches` on ``device``, as a tuple: ``(x,)``, or ``(x, y)`` for a labelled one,
    ready to be passed on as ``f(model, *batch_tensors(batch, device))``."""
    return tuple(t.to(device) for t in batch) if isinstance(batch, tuple) else (batch.to(device),)


def _batches(
    x: Tensor, labels: Tensor | None, batch_size: int, shuffle: bool, generator: torch.Generator | None
) -> Iterator[Tensor] | Iterator[tuple[Tensor, Tensor]]:
    n = len(x)
    if shuffle:
        order = torch.randperm(n, generator=generator).to(x.device)
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size] if shuffle else slice(start, start + batch_size)
        yield x[rows] if labels is None else (x[rows], labels[rows])


def model_device(model: nn.Module) -> torch.device:
    """The device that holds the model's parameters."""
    try:
        return next(model.parameters()).device
    except StopIteration:
        raise ValueError(f"{type(model).__name__} has no parameters, so it has no device") from None


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for a ``with`` block, then back in the mode it was in."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def map_batches(
    model: nn.Module,
    f: Callable[..., T],
    x: Tensor,
    *,
    labels: Tensor | None = None,
    batch_size: int = 1_000,
) -> list[T]:
    """``f(batch)`` for each batch of the images ``x`` ``[N, ...]``, in order.

    With ``labels`` (``[N]``) it is ``f(batch, batch_labels)``.  The batches
    are on the model's device; the model is in eval mode during the loop and
    back in its own mode afterwards; nothing is differentiated.
    """
    check_int("batch_size", batch_size)
    device = model_device(model)
    with evaluating(model):
        return [f(*batch_tensors(batch, device)) for batch in batches(x, batch_size, labels=labels, shuffle=False)]


def per_image(
    model: nn.Module,
    f: Callable[..., Tensor | tuple[Tensor, ...]],
    x: Tensor,
    *,
    labels: Tensor | None = None,
    batch_size: int = 1_000,
) -> Tensor | tuple[Tensor, ...]:
    """:func:`map_batches`, its results joined into one tensor ``[N, ...]`` on the CPU.

    ``f`` returns one row per image of its batch; if it returns a tuple of
    such tensors, so does ``per_image``, each joined.
    """
    results = map_batches(model, f, x, labels=labels, batch_size=batch_size)
    if isinstance(results[0], tuple):
        return tuple(torch.cat([r[i].cpu() for r in results]) for i in range(len(results[0])))
    return torch.cat([r.cpu() for r in results])
