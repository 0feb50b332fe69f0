"""Chapter 6's β-VAE on the sprites: one recipe, its measurements, and the
sweep over β and seeds recorded with it.

The chapter and ``benchmarks/beta_vae_sweep.py`` train every model with
:func:`train` and measure it with :func:`measure`, so the chapter's two models
are two runs of the benchmark's sweep.  The full sweep (several β, three
seeds each) takes longer than a chapter may, so the benchmark records it in
``vaelib/results/beta_vae_sweep.json`` and the chapter reads it back with
:func:`recorded_sweep`.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib import resources

import torch
from torch import Tensor, nn

from . import latent, losses, metrics, models, side_by_side
from . import train as training
from ._validate import check_int
from .batched import steps_per_epoch
from .metrics import ACTIVE_THRESHOLD
from .sprites import FACTORS, Sprites

__all__ = [
    "RECIPE",
    "Recipe",
    "informative_latents",
    "make_model",
    "measure",
    "recorded_sweep",
    "runs",
    "summarize",
    "train",
    "train_side_by_side",
    "traversal_panel",
]

#: The quantities :func:`measure` returns besides the per-factor gaps.
MEASURES = ("recon", "kl", "active", "mig")
#: A latent is active when its mean code varies more than this over the data (chapter 4).


@dataclass(frozen=True)
class Recipe:
    """How each β-VAE is trained: a convolutional encoder, ``epochs`` passes over
    the sprites in batches of ``batch_size``, the KL weight rising from 0 to β
    over the first ``warmup_epochs``."""

    epochs: int = 40
    warmup_epochs: int = 13
    batch_size: int = 64
    latent_dim: int = 10
    hidden_dims: tuple[int, ...] = (512, 256)

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, minimum=1)
        check_int("warmup_epochs", self.warmup_epochs, minimum=0)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("latent_dim", self.latent_dim, minimum=2)


#: The recipe of chapter 6 at full settings and of the recorded sweep.
RECIPE = Recipe()


def make_model(recipe: Recipe = RECIPE, size: int = 32, kind: str = "conv") -> models.VAE:
    """A fresh β-VAE for ``size`` x ``size`` sprites: ``"conv"`` (the chapter's,
    :class:`~vaelib.models.ConvVAE`) or ``"mlp"`` (the VAE of chapter 4)."""
    config = models.MLPConfig(input_dim=size * size, hidden_dims=recipe.hidden_dims, latent_dim=recipe.latent_dim)
    if kind not in ("conv", "mlp"):
        raise ValueError(f"kind must be 'conv' or 'mlp', got {kind!r}")
    return models.ConvVAE(config) if kind == "conv" else models.VAE(config)


def train(
    data: Sprites,
    beta: float,
    seed: int = 0,
    recipe: Recipe = RECIPE,
    *,
    kind: str = "conv",
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> tuple[nn.Module, training.History]:
    """Train one β-VAE on the sprites by ``recipe``; ``seed`` fixes its initial
    weights and the order of its batches, and nothing else changes the run."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_model(recipe, data.size, kind)
    warmup_steps = recipe.warmup_epochs * steps_per_epoch(len(data), recipe.batch_size)
    objective = losses.VAEObjective(beta=beta, warmup_steps=warmup_steps)
    history = training.fit(
        model,
        objective,
        data.x,
        test_loss_fn=objective.test_loss,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        seed=seed,
        device=device,
        progress=progress,
    )
    return model, history


def _train_one(data: dict, beta: float, seed: int, recipe: dict, kind: str) -> dict:
    """One model of :func:`train_side_by_side`, in a process of its own
    (:func:`vaelib.side_by_side.run`): its weights and its seconds of training."""
    start = time.perf_counter()
    model, _ = train(Sprites(**data), beta, seed, Recipe(**recipe), kind=kind)
    return {"weights": model.state_dict(), "seconds": time.perf_counter() - start}


def train_side_by_side(
    data: Sprites,
    betas: tuple[float, ...],
    seed: int = 0,
    recipe: Recipe = RECIPE,
    *,
    kind: str = "conv",
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> dict[float, nn.Module]:
    """One β-VAE for each of ``betas``, each trained as :func:`train` trains it
    (same ``seed`` and ``recipe``): ``{beta: model}``, the models on ``device``.

    On a CPU with two cores or more, the models train at once, each in a
    Python process of its own on one core (:func:`vaelib.side_by_side.run`):
    on two cores a pair takes about 0.7 times as long as one after the
    other.  Each model is then the one :func:`train` gives on one thread
    after :func:`vaelib.settings.flush_denormals`.  On a GPU, or with one
    core, they train one after the other in this process.  ``progress`` prints a
    line as each model is done.
    """
    started = time.perf_counter()
    trained = {}
    for beta, (model, _) in _train_each(data, tuple(betas), seed, recipe, kind, torch.device(device)):
        trained[beta] = model
        if progress:
            print(f"beta = {beta:g}: trained ({time.perf_counter() - started:.0f} s)", flush=True)
    return {beta: trained[beta] for beta in betas}


def _train_each(
    data: Sprites, betas: tuple[float, ...], seed: int, recipe: Recipe, kind: str, device: torch.device
) -> Iterator[tuple[float, tuple[nn.Module, float]]]:
    """``(beta, (model, seconds of training))`` as each model of
    :func:`train_side_by_side` is done, two or more at once where it can."""
    if device.type != "cpu" or min(len(betas), side_by_side.cores()) < 2:
        for beta in betas:
            start = time.perf_counter()
            model, _ = train(data, beta, seed, recipe, kind=kind, device=device)
            yield beta, (model, time.perf_counter() - start)
        return
    fields = {name: getattr(data, name) for name in ("x", "factors", "values", "size", "factor_sizes")}
    jobs = [{"data": fields, "beta": beta, "seed": seed, "recipe": asdict(recipe), "kind": kind} for beta in betas]
    for index, result in side_by_side.run("vaelib.betavae:_train_one", jobs):
        model = make_model(recipe, data.size, kind)
        model.load_state_dict(result["weights"])
        yield betas[index], (model.to(device), result["seconds"])


def measure(model: nn.Module, data: Sprites) -> dict:
    """What the sweep records of one model: reconstruction and KL (nats per
    sprite), active units, MIG and each factor's gap (in the order of
    :data:`~vaelib.sprites.FACTORS`)."""
    score = metrics.elbo(model, data.x)
    codes = latent.encode_dataset(model, data.x)  # [N, d]: the mean codes
    mig, gaps = metrics.mig(codes, data.factors)
    return {
        "recon": score["recon"],
        "kl": score["kl"],
        "active": int((codes.var(dim=0) > ACTIVE_THRESHOLD).sum()),  # as metrics.active_units counts them
        "mig": mig,
        "gaps": dict(zip(FACTORS, gaps.tolist(), strict=True)),
    }


def informative_latents(model: nn.Module, data: Sprites) -> list[tuple[int, str, float]]:
    """The model's active latents (chapter 4's test), the most KL first, each
    with the factor it captures and its gap (:func:`vaelib.metrics.latent_factors`):
    ``[(latent index, factor name, gap), ...]``.  A model with no active latent
    (one barely trained, as in fast mode) gets the latent with the most KL,
    so that a traversal has a row to draw and an explorer a latent to open on.
    """
    codes = latent.encode_dataset(model, data.x)  # [N, d]: the mean codes
    variances = codes.var(dim=0)  # as metrics.active_units measures them
    order = metrics.kl_per_dimension(model, data.x).argsort(descending=True).tolist()
    factor, gap = metrics.latent_factors(codes, data.factors)
    chosen = [j for j in order if variances[j] > ACTIVE_THRESHOLD] or order[:1]
    return [(j, FACTORS[int(factor[j])], float(gap[j])) for j in chosen]


def latent_label(index: int, factor: str, gap: float) -> str:
    """How the figures and explorers name a latent: ``"z3: x, gap 0.62"`` (counted from 1)."""
    return f"z{index + 1}: {factor}, gap {gap:.2f}"


@torch.no_grad()
def traversal_panel(model: nn.Module, data: Sprites, start: int, values: Tensor) -> tuple[Tensor, list[str]]:
    """A labelled traversal of every informative latent from sprite ``start``:
    ``(images [rows, len(values), pixels], row labels)``, one row per latent of
    :func:`informative_latents`, its coordinate set to each of ``values``."""
    z = latent.encode_dataset(model, data.x[start : start + 1])[0]  # [d]
    rows = informative_latents(model, data)
    images = torch.stack([model.decode_probs(latent.traversal(z, j, values)).cpu() for j, _, _ in rows])
    return images, [latent_label(*row) for row in rows]


def runs(
    data: Sprites, betas: tuple[float, ...], seed: int, recipe: Recipe = RECIPE, kind: str = "conv"
) -> Iterator[dict]:
    """The sweep's runs of one seed, one per β as each is done: trained as
    :func:`train_side_by_side` trains them, measured, and the seconds its
    training took (on a CPU, beside another model's)."""
    for beta, (model, seconds) in _train_each(data, tuple(betas), seed, recipe, kind, torch.device("cpu")):
        yield {"beta": beta, "seed": seed, **measure(model, data), "seconds": seconds}


def summarize(runs: list[dict]) -> dict[float, dict]:
    """Per β, each measure's median, minimum and maximum over the seeds:
    ``{beta: {"seeds": n, "mig": (median, low, high), ..., "gaps": {factor: (median, low, high)}}}``."""

    def spread(values: list[float]) -> tuple[float, float, float]:
        return statistics.median(values), min(values), max(values)

    table = {}
    for beta in sorted({r["beta"] for r in runs}):
        mine = [r for r in runs if r["beta"] == beta]
        row = {"seeds": len(mine)}
        row.update({key: spread([r[key] for r in mine]) for key in MEASURES})
        row["gaps"] = {f: spread([r["gaps"][f] for r in mine]) for f in FACTORS}
        table[beta] = row
    return table


def recorded_sweep() -> dict:
    """The sweep that ``benchmarks/beta_vae_sweep.py`` recorded: ``{"command",
    "machine", "recorded" (the day of the last run), "history" (one line per
    command that added runs, with its day), "recipe", "sprites", "runs"}``,
    one entry in ``runs`` per β and seed, as :func:`run` returns it."""
    text = resources.files("vaelib").joinpath("results/beta_vae_sweep.json").read_text(encoding="utf-8")
    record = json.loads(text)
    record["recipe"] = Recipe(**{**record["recipe"], "hidden_dims": tuple(record["recipe"]["hidden_dims"])})
    return record
