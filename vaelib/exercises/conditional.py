"""Checks of chapter 7, the conditional VAE (``book/07_conditional_vae.ipynb``)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from ..gaussian import reparameterize
from ..losses import vae_loss
from ..models import CVAE, CVAEConfig
from .compare import difference
from .drivers import answer_check, read_answer, run_check
from .results import FAIL, PASS, CheckResult, Mistake, never_raises, tell, with_report
from .student_code import copy_layers, seeded
from .vae_loss import _loss_carries_gradient
from .vae_module import (
    DECODER_HINTS,
    VAE_LAYERS,
    decoder_hint,
    forward_returns_three,
    gradient_hint,
    run_student_class,
)

__all__ = [
    "PROBE_MARGIN",
    "check_conditional_kl",
    "check_cvae_module",
    "check_probe_prediction",
    "probe_experiment",
]

# ---------------------------------------------------------------- implement: conditioning encoder and decoder


# What is wrong in each output, for anything no known mistake captures: (hint, formula), the
# formula (the code) from the third failed try on (see results.tell).
_CVAE_HINTS = {
    "mu": (
        "The encoder sees the image and its label: the label's one-hot vector goes after the 784 "
        "pixels, into hidden, then a ReLU, then to_mu.",
        "h = relu(hidden(torch.cat([x, F.one_hot(y, 10).float()], dim=1))), mu = to_mu(h).",
    ),
    "logvar": (
        "logvar comes from to_logvar, applied to the same hidden features as mu (from the image and its label).",
        None,
    ),
    "the logits": (
        "The decoder sees the code and the label: the one-hot vector goes after the sample z "
        "(mu + sigma * eps), into decoder_hidden, then a ReLU, then decoder_out, with no sigmoid "
        "(the loss takes logits).",
        "logits = decoder_out(relu(decoder_hidden(torch.cat([z, one_hot], dim=1)))).",
    ),
}
_ENCODER_RELU = (
    "Your encoder has no ReLU after hidden: the exercise asks for a ReLU after each hidden layer.",
    "h = relu(hidden(torch.cat([x, one_hot], dim=1))).",
)
_DECODER_RELU = (
    DECODER_HINTS["relu"][0],
    "logits = decoder_out(relu(decoder_hidden(torch.cat([z, one_hot], dim=1)))).",
)


SHORT_ONE_HOT = (
    "Your one-hot vectors have fewer than 10 columns: F.one_hot(y) makes only as many as the "
    "batch's largest label + 1 (this batch has no 9). Pass num_classes=10."
)


def _cvae_module_outputs(cls, latent_dim: int = 6):
    """Build ``cls(latent_dim)``, give vaelib's CVAE its weights, and run both on one labelled
    batch: ``(student, reference, context)``, the first two ``(logits, mu, logvar)``, the
    context what the hints need (the batch, the models, a second forward pass)."""
    model = seeded(lambda: cls(latent_dim))
    g = torch.Generator().manual_seed(17)
    x, eps = torch.rand(6, 784, generator=g), torch.randn(6, latent_dim, generator=g)
    y = torch.tensor([0, 3, 7, 2, 3, 1])  # no 9: F.one_hot(y) without num_classes=10 fails
    got = forward_returns_three(model(x.clone(), y.clone(), eps.clone()))  # a stub: "not attempted" here
    again = model(x.clone(), y.clone(), eps.clone())
    reference = seeded(lambda: CVAE(CVAEConfig(hidden_dims=(400,), latent_dim=latent_dim)))
    copy_layers(model, reference, VAE_LAYERS)  # a CVAE keeps its layers where a VAE does
    mu, logvar = reference.encode(x, y)
    logits = reference.decode(reparameterize(mu, logvar, eps), y)
    context = {"x": x, "y": y, "eps": eps, "model": model, "reference": reference, "again": again}
    return got, (logits, mu, logvar), context


def _encoder_hint(name: str, got: Tensor, context: dict) -> str:
    """What is wrong in mu (or logvar) of a TinyCVAE."""
    reference, x, y = context["reference"], context["x"], context["y"]
    if name == "mu":
        with torch.no_grad():
            no_relu = reference.to_mu(reference.encoder[0](torch.cat([x, reference.one_hot(y, len(x))], dim=1)))
        if _close(got, no_relu):
            return tell("cvae_module", *_ENCODER_RELU)
    return tell("cvae_module", *_CVAE_HINTS[name])


def _cvae_logits_hint(got: Tensor, expected: tuple, context: dict) -> str:
    """What is wrong in the logits of a TinyCVAE whose mu and logvar are right."""
    logits, mu, logvar = expected
    reference, y, eps = context["reference"], context["y"], context["eps"]
    decoder = reference.decoder

    def with_label(z):
        return torch.cat([z, reference.one_hot(y, len(z))], dim=1)

    with torch.no_grad():
        candidates = {
            "variance": decoder(with_label(mu + logvar.exp() * eps)),
            "mu": decoder(with_label(mu)),
            "sigmoid": torch.sigmoid(logits),
            "relu": decoder[2](decoder[0](with_label(reparameterize(mu, logvar, eps)))),
        }
    again = context["again"][0] if isinstance(context["again"], (tuple, list)) else None
    return decoder_hint("cvae_module", got, again, candidates, _CVAE_HINTS["the logits"], {"relu": _DECODER_RELU})


def _close(a, b) -> bool:
    return isinstance(a, Tensor) and a.shape == b.shape and bool(torch.allclose(a.detach(), b, atol=1e-4, rtol=1e-4))


def _short_one_hot(err: Exception) -> str:
    """The hint for a matrix product that met fewer than 10 label columns, else nothing."""
    return SHORT_ONE_HOT if re.search(r"\dx(78[5-9]|79[0-3]) and 794x", str(err)) else ""


@never_raises
def check_cvae_module(answer) -> CheckResult:
    """Exercise (implement): a class ``TinyCVAE(latent_dim)`` with layers ``hidden``
    (784 + 10 -> 400), ``to_mu`` and ``to_logvar`` (400 -> d), ``decoder_hidden``
    (d + 10 -> 400) and ``decoder_out`` (400 -> 784), whose ``forward(x, y, eps)``
    returns ``(logits, mu, logvar)``, the label one-hot after the image and after
    the code; checked against vaelib's ``CVAE`` given the same weights and noise, then
    the gradients of the VAE loss of its outputs against those of vaelib's."""
    run = run_student_class(
        "cvae_module",
        answer,
        _cvae_module_outputs,
        shape_hint="The label's one-hot vector adds 10 inputs to each half.",
        raised_hint=_short_one_hot,
    )
    if isinstance(run, CheckResult):
        return run
    got, expected, context = run
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return CheckResult("cvae_module", FAIL, "forward(x, y, eps) must return three tensors: (logits, mu, logvar).")
    for k, name in [(1, "mu"), (2, "logvar"), (0, "the logits")]:  # the encoder first
        problem = difference(got[k], expected[k])
        if problem is not None:
            if name == "the logits":
                hint = _cvae_logits_hint(got[0], tuple(t.detach() for t in expected), context)
            else:
                hint = _encoder_hint(name, got[k], context)
            return CheckResult("cvae_module", FAIL, f"In {name}: {problem} {hint}")
    # The values are right: does training's gradient flow through them as through vaelib's?
    x = context["x"]
    theirs = [t if isinstance(t, Tensor) else torch.as_tensor(t) for t in got]
    loss = vae_loss(x, *theirs)["loss"]
    if not loss.requires_grad:
        return CheckResult(
            "cvae_module",
            FAIL,
            "Right values, but your outputs carry no gradient: they were cut from their graph "
            "(.detach(), torch.no_grad(), .data), so training could never change your layers.",
        )
    terms = vae_loss(x, *expected)
    hint = gradient_hint(context["model"], loss, context["reference"], terms["loss"], terms["kl"], VAE_LAYERS)
    if hint is not None:
        return CheckResult("cvae_module", FAIL, f"In the VAE loss of your outputs: {hint}")
    return CheckResult("cvae_module", PASS, "Well done! Your CVAE computes exactly what vaelib's does.")


# ---------------------------------------------------------------- derive: the KL of a prior per label


def _conditional_kl(mu: Tensor, logvar: Tensor, prior_means: Tensor, y: Tensor) -> Tensor:
    m = prior_means[y]  # [B, d]
    return 0.5 * ((mu - m) ** 2 + logvar.exp() - 1 - logvar).sum(dim=1)


@never_raises
def check_conditional_kl(answer: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Exercise (derive): ``conditional_kl(mu, logvar, prior_means, y) -> [B]``, the KL of
    q(z | x, y) = N(mu, diag(exp(logvar))) from a prior per label p(z | y) = N(prior_means[y], I)."""
    g = torch.Generator().manual_seed(23)
    cases = []
    for batch, dim in [(5, 3), (4, 8)]:
        mu, logvar = torch.randn(batch, dim, generator=g), torch.randn(batch, dim, generator=g)
        prior_means = 2 * torch.randn(10, dim, generator=g)
        cases.append((mu, logvar, prior_means, torch.randint(0, 10, (batch,), generator=g)))
    mistakes = [
        Mistake(
            lambda mu, lv, m, y: _conditional_kl(mu, lv, torch.zeros_like(m), y),
            "That is chapter 4's KL, from N(0, I): here the prior's mean is prior_means[y], not 0.",
            "The mean's term is then (mu - prior_means[y])^2.",
        ),
        Mistake(
            lambda mu, lv, m, y: _conditional_kl(mu, lv, m, torch.zeros_like(y)),
            "Every image uses the prior of its own label: index the means by y, prior_means[y], shape [B, d].",
        ),
        Mistake(
            lambda mu, lv, m, y: 2 * _conditional_kl(mu, lv, m, y),
            "Right up to a factor 2: the KL of two Gaussians has a 1/2 in front.",
        ),
        Mistake(
            lambda mu, lv, m, y: _conditional_kl(mu, lv, m, y) / mu.shape[1],
            "Sum over the latent dimensions, not the mean: the KL of independent dimensions adds up.",
        ),
        Mistake(
            lambda mu, lv, m, y: 0.5 * ((mu - m[y]) ** 2 + lv - 1 - lv.exp()).sum(dim=1),
            "The variance is exp(logvar) and its log is logvar: the KL has + exp(logvar) - logvar.",
        ),
    ]
    result = run_check("conditional_kl", answer, _conditional_kl, cases, mistakes)
    if not result.passed:
        return result
    # Right values: the KL must also carry gradient to mu and logvar, or the encoder cannot learn from it.
    mu, logvar, prior_means, y = cases[1]
    inputs = {"mu": mu.clone().requires_grad_(), "logvar": logvar.clone().requires_grad_()}
    with warnings.catch_warnings():  # .item() of a tensor that requires grad warns; the hint says more
        warnings.simplefilter("ignore")
        kl = answer(inputs["mu"], inputs["logvar"], prior_means.clone(), y.clone())
    return _loss_carries_gradient("conditional_kl", kl, inputs, what="KL") or result


# ---------------------------------------------------------------- predict: the probe on 2-D codes


def probe_experiment(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, epochs: int = 10) -> dict:
    """The linear probe's test accuracy on the mean codes of a small 2-D VAE and of a small
    2-D CVAE of the same shape, each briefly trained on ``train_x`` (and ``train_y``)."""
    from ..latent import encode_dataset
    from ..losses import VAEObjective
    from ..metrics import linear_probe_accuracy
    from ..models import VAE, MLPConfig
    from ..train import fit

    def small_vae() -> VAE:
        return VAE(MLPConfig(hidden_dims=(200,), latent_dim=2))

    def small_cvae() -> CVAE:
        return CVAE(CVAEConfig(hidden_dims=(200,), latent_dim=2))

    accuracies = {}
    for name, make in [("VAE", small_vae), ("CVAE", small_cvae)]:
        conditional = name == "CVAE"
        model = seeded(make)
        labels = {"train_y": train_y} if conditional else {}
        fit(model, VAEObjective(), train_x, epochs=epochs, device="cpu", progress=False, **labels)
        train_codes = encode_dataset(model, train_x, labels=train_y if conditional else None)
        test_codes = encode_dataset(model, test_x, labels=test_y if conditional else None)
        accuracies[name] = linear_probe_accuracy(train_codes, train_y, test_codes, test_y)
    return accuracies


# Within this many points of accuracy the two probes count as "about the same".
PROBE_MARGIN = 0.05


@never_raises
def check_probe_prediction(answer, train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor) -> CheckResult:
    """Exercise (predict): is the linear probe's accuracy on a 2-D CVAE's codes "lower",
    "about the same" or "higher" than on a 2-D VAE's?  The check trains both, briefly, and probes."""
    choices = ["lower", "about the same", "higher"]
    answer = read_answer("probe_prediction", answer, choices)
    if isinstance(answer, CheckResult):
        return answer
    accuracy = probe_experiment(train_x, train_y, test_x, test_y)
    gap = accuracy["CVAE"] - accuracy["VAE"]
    correct = "about the same" if abs(gap) <= PROBE_MARGIN else ("lower" if gap < 0 else "higher")
    report = (
        f"Measured probe accuracy: VAE codes {accuracy['VAE']:.0%}, CVAE codes {accuracy['CVAE']:.0%} "
        f"(chance: about 10%; within {PROBE_MARGIN:.0%} counts as about the same)."
    )

    def hint(answer):
        return (
            f"Not what the run shows. {report} The CVAE's decoder is told the digit: what is left for "
            "its two latent dimensions to carry, and what does the KL term charge for carrying the digit too?"
        )

    return with_report(answer_check("probe_prediction", answer, correct, hint), report)
