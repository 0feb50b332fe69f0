"""Checks of chapter 1 (``book/01_autoencoders.ipynb``), exercise 4: one training step.

The student's ``training_step`` runs five times on a small autoencoder beside
the reference step: the losses must match; what the step called, and in
which order (zero_grad, backward, step), names a mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..models import Autoencoder, MLPConfig
from .compare import close, kind, not_a_python_number
from .drivers import run_check
from .results import FAIL, PASS, CheckResult, Mistake, never_raises, not_a_function, not_attempted
from .student_code import seeded, where_it_failed

__all__ = ["check_training_step"]


def _step_batch() -> Tensor:
    return torch.rand(16, 784, generator=torch.Generator().manual_seed(7))


def _run_steps(step: Callable, steps: int = 5) -> tuple[list, list[list[str]]]:
    """Run ``step(model, optimizer, batch)`` ``steps`` times on a small autoencoder made the
    same way every time: what each call returned, and what each call did, in order
    ("zero_grad", "backward", "step").  PyTorch's global generator is left as it was."""
    model = seeded(lambda: Autoencoder(MLPConfig(hidden_dims=(32,), latent_dim=4)))
    # Plain SGD: unlike Adam, it makes every mistake of a step visible in the losses.
    optimizer = torch.optim.SGD(model.parameters(), lr=3e-3)
    calls: list[list[str]] = []

    def record(event: str, then: Callable) -> Callable:
        def run(*args, **kwargs):
            if calls and (event != "backward" or calls[-1][-1:] != ["backward"]):
                calls[-1].append(event)
            return then(*args, **kwargs)

        return run

    optimizer.zero_grad = record("zero_grad", optimizer.zero_grad)
    model.zero_grad = record("zero_grad", model.zero_grad)
    optimizer.step = record("step", optimizer.step)
    for parameter in model.parameters():
        parameter.register_post_accumulate_grad_hook(record("backward", lambda p: None))
    batch = _step_batch()
    returned = []
    for _ in range(steps):
        calls.append([])
        returned.append(step(model, optimizer, batch))
    return returned, calls


def _losses(values: list) -> Tensor | None:
    """The losses a step returned, as numbers (None if it returned None)."""
    if any(v is None for v in values):
        return None
    return torch.tensor([float(v.detach() if isinstance(v, Tensor) else v) for v in values])


def reference_training_step(model, optimizer, batch) -> float:
    """One step of gradient descent on the summed BCE, averaged over the batch."""
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(batch), batch, reduction="none").sum(1).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def _order_hint(calls: list[list[str]]) -> str | None:
    """What is wrong with the order of the parts of a step, from what each call did; None if nothing."""
    done = [event for call in calls for event in call]
    if "step" not in done:
        return "The loss never changes: the weights never move. Call optimizer.step() after backward()."
    if "backward" not in done:
        return "The loss never changes: without loss.backward() there are no gradients for the optimizer to use."
    first = calls[0]
    if "backward" in first and first.index("step") < first.index("backward"):
        return (
            "You call optimizer.step() before loss.backward(): the optimizer moves the weights "
            "before this step's gradients exist. Backpropagate first, then step."
        )
    if "backward" in first:
        between = first[first.index("backward") : first.index("step")]
        if "zero_grad" in between:
            return (
                "You call optimizer.step() after backward(), but you clear the gradients in between: "
                "zero_grad() wipes what backward() just computed, so step() has nothing to apply "
                "and the weights never move. Clear the old gradients at the start of the step, "
                "before the forward pass."
            )
    if "zero_grad" not in done:
        return (
            "Your first step is right, then the losses drift: the gradients pile up from step to step. "
            "Call optimizer.zero_grad() at the start of every step."
        )
    return None


@never_raises
def check_training_step(answer: Callable) -> CheckResult:
    """Exercise: ``training_step(model, optimizer, batch) -> float``: zero_grad, forward,
    loss (nats per image), backward, step; return the loss.  Checked by running it
    five times on a small autoencoder beside the reference step: the losses must
    fall, and match; what the step called, in which order, names a mistake."""
    if answer is None or not callable(answer):
        return not_a_function("training_step", answer)

    def variant(*, pixel_mean=False, batch_sum=False, squared=False):
        def run(model, optimizer, batch):
            optimizer.zero_grad()
            logits = model(batch)
            if squared:
                per_pixel = (torch.sigmoid(logits) - batch) ** 2
            else:
                per_pixel = F.binary_cross_entropy_with_logits(logits, batch, reduction="none")
            loss = per_pixel.mean() if pixel_mean else per_pixel.sum(1)
            loss = loss.sum() if batch_sum else loss.mean()
            loss.backward()
            optimizer.step()
            return loss.item()

        return lambda: _losses(_run_steps(run)[0])

    try:
        returned, calls = _run_steps(answer)
    except NotImplementedError:
        return not_attempted("training_step")
    except Exception as err:  # noqa: BLE001 - the student's bug; report it, never raise it
        return CheckResult(
            "training_step", FAIL, f"Your function raised {type(err).__name__}: {err}{where_it_failed(err)}"
        )
    try:
        losses = _losses(returned)
    except Exception:  # noqa: BLE001 - values that are not numbers
        return CheckResult(
            "training_step", FAIL, f"Return the loss as a float (loss.item()); yours returned {kind(returned[0])}."
        )
    expected = _losses(_run_steps(reference_training_step)[0])
    if losses is not None and close(losses, expected, 2e-5, 2e-5):
        wrong_type = not_a_python_number(returned)
        if wrong_type:
            graph = any(isinstance(v, Tensor) and v.requires_grad for v in returned)
            why = (
                " A loss tensor holds on to its graph, the memory of the whole forward pass, for as "
                "long as you keep it: a list of them grows step by step."
                if graph
                else ""
            )
            return CheckResult(
                "training_step",
                FAIL,
                f"Right losses, but return the loss as a Python float, loss.item(), as the exercise "
                f"asks; yours returned {kind(returned[0])}.{why}",
            )
        falling = ", ".join(f"{v:.1f}" for v in losses.tolist())
        return CheckResult("training_step", PASS, f"Well done! Your losses, step by step: {falling}.")
    if losses is not None:
        order = _order_hint(calls)
        if order is not None:
            return CheckResult("training_step", FAIL, order)
    mistakes = [
        Mistake(
            variant(pixel_mean=True),
            "Your loss is averaged over the pixels too (784 times too small): sum over the pixels of "
            "an image, then average over the images.",
        ),
        Mistake(
            variant(batch_sum=True),
            "Your loss is summed over the batch: average over the images, so that it is in nats per image.",
        ),
        Mistake(
            variant(squared=True),
            "Your loss is the squared error. The autoencoder's decoder returns logits of Bernoulli "
            "pixels: use the binary cross-entropy from the logits, as the chapter's step does.",
        ),
    ]
    return run_check("training_step", lambda: losses, lambda: expected, [()], mistakes, tolerance=2e-5)
