"""Checks of chapter 4 (``book/04_vae.ipynb``), exercise 4: a VAE written from scratch.

The student's ``TinyVAE`` gets the weights of vaelib's ``VAE`` and runs on the
same batch and noise: its outputs, then its loss's gradients, then its loss
on large logits are compared with vaelib's.  The hints for a wrong decoder
(:data:`DECODER_HINTS`, :func:`decoder_hint`) and for gradients cut from
their graph (:func:`gradient_hint`) serve the conditional VAE of chapter 7
too (:mod:`.conditional`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..gaussian import reparameterize
from ..losses import vae_loss
from ..models import VAE, MLPConfig
from .autoencoders_reconstruction import SATURATED_LOGITS
from .compare import close, difference
from .results import FAIL, PASS, CheckResult, never_raises, not_a_function, not_attempted, tell
from .student_code import LayerKindError, LayerShapeError, copy_layers, seeded, where_it_failed
from .vae_loss import _LOSS_MISTAKES, _loss_carries_gradient

__all__ = ["check_vae_module"]


RECONSTRUCTION_CUT = (
    "Right values, but no gradient from the reconstruction reaches the encoder ({layers}): the sample z "
    "must stay connected to mu and logvar (no .detach(), no torch.no_grad()), or training never "
    "teaches the encoder to encode."
)


def _same_gradient(got: Tensor | None, expected: Tensor) -> bool:
    if got is None:
        got = torch.zeros_like(expected)
    scale = expected.abs().max().item()
    return bool(torch.allclose(got, expected, rtol=1e-3, atol=1e-3 * scale + 1e-7))


def gradient_hint(
    model, loss: Tensor, reference, loss_ref: Tensor, kl_ref: Tensor, layers: dict[str, tuple[str, int | None]]
) -> str | None:
    """Backpropagate the student's ``loss`` to the weights of the student's ``model`` and
    vaelib's ``loss_ref`` to those of ``reference`` (the same weights, copied): a hint if they
    differ (a sample cut from mu and logvar, a detached decoder), None if they agree.
    ``kl_ref`` is the reference's KL alone: the gradient an encoder gets when the
    reconstruction's is cut.  ``layers`` as in :func:`copy_layers`."""
    names = [name for name in ["decoder_out", "decoder_hidden", "hidden", "to_mu", "to_logvar"] if name in layers]
    theirs = [getattr(model, name).weight for name in names]
    ours = [
        (getattr(reference, where) if index is None else getattr(reference, where)[index]).weight
        for where, index in (layers[name] for name in names)
    ]
    got = torch.autograd.grad(loss, theirs, allow_unused=True)
    expected = torch.autograd.grad(loss_ref, ours, retain_graph=True)
    kl_only = torch.autograd.grad(kl_ref, ours, allow_unused=True)
    wrong = [k for k in range(len(names)) if not _same_gradient(got[k], expected[k])]
    if not wrong:
        return None
    decoder = [names[k] for k in wrong if names[k].startswith("decoder")]
    if decoder:
        return (
            f"Right values, but the gradient that reaches {' and '.join(decoder)} is not the loss's: "
            "part of the computation was cut from its graph (.detach(), torch.no_grad(), .data), so "
            "training would not change those weights as it should."
        )
    cut = [names[k] for k in wrong if kl_only[k] is not None and _same_gradient(got[k], kl_only[k])]
    if cut:
        return RECONSTRUCTION_CUT.format(layers=", ".join(cut))
    return (
        f"Right values, but the gradient that reaches {', '.join(names[k] for k in wrong)} is not the "
        "loss's: part of the computation was cut from its graph (.detach(), torch.no_grad(), .data), "
        "or computed from numbers rather than tensors."
    )


VAE_LAYERS = {  # the student's layer -> where vaelib's VAE (and CVAE) keeps it
    "hidden": ("encoder", 0),
    "to_mu": ("to_mu", None),
    "to_logvar": ("to_logvar", None),
    "decoder_hidden": ("decoder", 0),
    "decoder_out": ("decoder", 2),
}


def _vae_module_outputs(cls, latent_dim: int = 8):
    """Build ``cls(latent_dim)``, give vaelib's VAE its weights, and run both on one batch:
    ``(student, reference, context)``, each of the first two ``(logits, mu, logvar, loss)``;
    the context holds what the hints need (the batch, the noise, the student's model and the
    reference model, a second forward pass of the student's model, the reference's loss and
    KL with their graphs)."""
    model = seeded(lambda: cls(latent_dim))
    g = torch.Generator().manual_seed(11)
    x, eps = torch.rand(5, 784, generator=g), torch.randn(5, latent_dim, generator=g)
    forward_returns_three(model(x.clone(), eps.clone()))  # first: a stub says "not attempted" here
    reference = seeded(lambda: VAE(MLPConfig(input_dim=784, hidden_dims=(400,), latent_dim=latent_dim)))
    copy_layers(model, reference, VAE_LAYERS)  # first: a layer it cannot copy is named before anything runs
    with torch.no_grad():  # mu and logvar of order 1, so that every term of the KL weighs in the loss
        for name, scale in [("to_mu", 1.0), ("to_logvar", 1.0)]:
            layer = getattr(model, name, None)
            if isinstance(getattr(layer, "bias", None), Tensor):
                layer.bias.add_(scale * torch.randn(layer.bias.shape, generator=g))
    logits, mu, logvar = model(x.clone(), eps.clone())
    again = model(x.clone(), eps.clone())[0]
    loss = model.loss(x.clone(), eps.clone())
    copy_layers(model, reference, VAE_LAYERS)
    mu_ref, logvar_ref = reference.encode(x)
    logits_ref = reference.decode(reparameterize(mu_ref, logvar_ref, eps))
    terms = vae_loss(x, logits_ref, mu_ref, logvar_ref)
    expected = tuple(t.detach() for t in (logits_ref, mu_ref, logvar_ref, terms["loss"]))
    context = {
        "x": x,
        "eps": eps,
        "model": model,
        "reference": reference,
        "again": again,
        "loss_ref": terms["loss"],
        "kl_ref": terms["kl"],
    }
    return (logits, mu, logvar, loss), expected, context


# The decoder's known mistakes, for TinyVAE and TinyCVAE alike: (hint, formula), the formula
# from the third failed try on (see core.tell).
DECODER_HINTS = {
    "noise": (
        "Your forward pass gives different logits on every call: it draws noise of its own. Build z "
        "from the eps that forward is given.",
        "z = mu + exp(logvar / 2) * eps.",
    ),
    "variance": (
        "exp(logvar) is the variance sigma^2, not the standard deviation sigma that scales the noise.",
        "sigma = exp(logvar / 2).",
    ),
    "mu": (
        "You decoded mu itself: the decoder takes the sample z, mu moved by the noise eps scaled by sigma.",
        "z = mu + exp(logvar / 2) * eps.",
    ),
    "sigmoid": ("No sigmoid at the end: the decoder returns logits, which the loss takes.", None),
    "relu": (
        "Your decoder has no ReLU after decoder_hidden: two linear layers in a row are only one linear map.",
        "logits = decoder_out(relu(decoder_hidden(z))).",
    ),
}


def decoder_hint(
    exercise: str, got: Tensor, again, candidates: dict[str, Tensor], fallback: tuple, hints: dict | None = None
) -> str:
    """What is wrong in the logits of a model whose mu and logvar are right: ``again`` is a
    second forward pass's logits, ``candidates`` the logits of each known mistake of
    :data:`DECODER_HINTS` (by its key); ``fallback`` the ``(hint, formula)`` for anything else;
    ``hints`` replaces some of :data:`DECODER_HINTS` (a formula of the exercise's own)."""
    hints = {**DECODER_HINTS, **(hints or {})}
    if isinstance(again, Tensor) and not torch.equal(again.detach(), got.detach()):
        return tell(exercise, *hints["noise"])
    key = next((key for key, wrong in candidates.items() if close(got, wrong)), None)
    return tell(exercise, *(hints[key] if key else fallback))


def _logits_hint(got: Tensor, expected: tuple, context: dict) -> str:
    """What is wrong in the logits of a TinyVAE whose mu and logvar are right."""
    logits, mu, logvar, _ = expected
    decoder, eps = context["reference"].decoder, context["eps"]
    with torch.no_grad():
        candidates = {
            "variance": decoder(mu + logvar.exp() * eps),
            "mu": decoder(mu),
            "sigmoid": torch.sigmoid(logits),
            "relu": decoder[2](decoder[0](reparameterize(mu, logvar, eps))),
        }
    return decoder_hint("vae_module", got, context["again"], candidates, (_VAE_HINTS["the logits"], None))


def _loss_hint(got, expected: tuple, context: dict) -> str:
    """What is wrong in the loss of a TinyVAE whose forward pass is right."""
    logits, mu, logvar, _ = expected
    args = (context["x"], logits, mu, logvar)
    return next(
        (m.hint for m in _LOSS_MISTAKES if close(got, m.wrong(*args))),
        _VAE_HINTS["the loss"],
    )


def _large_logits_hint(context: dict) -> str | None:
    """The loss again, with decoder_out scaled so that the logits reach about +-30, where
    sigmoid rounds to exactly 0 or 1: a hint if the student's loss is wrong there only."""
    model, reference, x, eps = context["model"], context["reference"], context["x"], context["eps"]
    with torch.no_grad():
        scale = 30.0 / model(x.clone(), eps.clone())[0].abs().max()
        model.decoder_out.weight.mul_(scale)
        model.decoder_out.bias.mul_(scale)
        copy_layers(model, reference, VAE_LAYERS)
        loss = model.loss(x.clone(), eps.clone())
        mu, logvar = reference.encode(x)
        expected = vae_loss(x, reference.decode(reparameterize(mu, logvar, eps)), mu, logvar)["loss"]
    if close(loss, expected):
        return None
    if isinstance(loss, Tensor) and not torch.isfinite(loss).all():
        return (
            "Right on moderate logits, inf or NaN on large ones (here up to about 30): where "
            "sigmoid(logits) rounds to exactly 0 or 1, its log is -inf. Compute the loss from the "
            "logits, with the with-logits form of the loss, which never takes log(0)."
        )
    return SATURATED_LOGITS


class ForwardReturnError(Exception):
    """A student's ``forward`` returned something other than ``(logits, mu, logvar)``."""


def forward_returns_three(out: object) -> tuple:
    """``out``, a student's ``forward(...)`` result, if it is ``(logits, mu, logvar)``: three
    tensors; else a :class:`ForwardReturnError` whose message names the likely slip."""
    if out is None:
        raise ForwardReturnError("forward returned None: did it forget `return logits, mu, logvar` at its end?")
    if isinstance(out, Tensor):
        raise ForwardReturnError(
            "forward returned one tensor: return the three, `return logits, mu, logvar` "
            "(the loss needs mu and logvar too)."
        )
    if not isinstance(out, (tuple, list)) or len(out) != 3 or not all(isinstance(t, Tensor) for t in out):
        what = f"{len(out)} values" if isinstance(out, (tuple, list)) else type(out).__name__
        raise ForwardReturnError(f"forward returned {what}: return three tensors, `return logits, mu, logvar`.")
    return tuple(out)


def run_student_class(
    exercise: str,
    answer: object,
    outputs: Callable[[type], tuple],
    *,
    shape_hint: str = "",
    raised_hint: Callable[[Exception], str] = lambda err: "",
) -> tuple | CheckResult:
    """``outputs(answer)``, the student's class run beside vaelib's: ``(got, expected, context)``,
    or the result that says why it could not run (not a class, not attempted, a layer of the
    wrong kind or shape, an error), with ``shape_hint`` after a shape error and
    ``raised_hint(err)`` after an error.  Shared by the checks of a whole VAE and a whole CVAE."""
    if answer is None or not isinstance(answer, type):
        return not_a_function(exercise, answer, what="class")
    try:
        return outputs(answer)
    except NotImplementedError:
        return not_attempted(exercise)
    except (LayerKindError, ForwardReturnError) as err:
        return CheckResult(exercise, FAIL, str(err))
    except LayerShapeError as err:
        return CheckResult(exercise, FAIL, f"{err} {shape_hint}".rstrip())
    except Exception as err:  # noqa: BLE001 - the student's class; report, never raise
        report = f"Your class raised {type(err).__name__}: {err}{where_it_failed(err)}"
        return CheckResult(exercise, FAIL, f"{report} {raised_hint(err)}".rstrip())


@never_raises
def check_vae_module(answer) -> CheckResult:
    """Exercise (implement): a class ``TinyVAE(latent_dim)`` with layers ``hidden``
    (784 -> 400), ``to_mu`` and ``to_logvar`` (400 -> d), ``decoder_hidden`` (d -> 400),
    ``decoder_out`` (400 -> 784), ``forward(x, eps) -> (logits, mu, logvar)`` and
    ``loss(x, eps)``, the negative ELBO in nats per image; checked against vaelib's
    ``VAE`` and ``losses.vae_loss`` given the same weights and noise, then its loss's
    gradients against vaelib's, then its loss again on large logits."""
    run = run_student_class("vae_module", answer, _vae_module_outputs)
    if isinstance(run, CheckResult):
        return run
    got, expected, context = run
    names = ["the logits", "mu", "logvar", "the loss"]
    order = [1, 2, 0, 3]  # the encoder first: a wrong mu makes the logits wrong too
    for k in order:
        name, mine, theirs = names[k], got[k], expected[k]
        problem = difference(mine, theirs)
        if problem is not None:
            if name == "the logits":
                hint = _logits_hint(mine, expected, context)
            elif name == "the loss":
                hint = _loss_hint(mine, expected, context)
            else:
                hint = _VAE_HINTS[name]
            return CheckResult("vae_module", FAIL, f"In {name}: {problem} {hint}")
    loss = got[3]
    cannot_train = _loss_carries_gradient("vae_module", loss, {})
    if cannot_train is not None:
        return CheckResult("vae_module", FAIL, f"In the loss: {cannot_train.message}")
    try:
        hint = gradient_hint(
            context["model"], loss.sum(), context["reference"], context["loss_ref"], context["kl_ref"], VAE_LAYERS
        )
        hint = hint or _large_logits_hint(context)
    except Exception as err:  # noqa: BLE001 - the student's class; report, never raise
        return CheckResult("vae_module", FAIL, f"Your class raised {type(err).__name__}: {err}{where_it_failed(err)}")
    if hint is not None:
        return CheckResult("vae_module", FAIL, f"In the loss: {hint}")
    return CheckResult("vae_module", PASS, "Well done! Your VAE computes exactly what vaelib's does.")


_VAE_HINTS = {
    "the logits": "Decode z = mu + exp(logvar / 2) * eps: decoder_hidden, a ReLU, then decoder_out, "
    "with no sigmoid at the end (the loss takes logits).",
    "mu": "mu = to_mu(relu(hidden(x))).",
    "logvar": "logvar = to_logvar(relu(hidden(x))), the same hidden features as mu.",
    "the loss": "The loss is BCE summed over pixels plus the KL summed over latent dimensions, "
    "averaged over the images of the batch.",
}
