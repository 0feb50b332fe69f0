"""The VAEs several chapters share: each one recipe, trained once, reused by the chapters after it.

Chapter 4 trains its VAE with :func:`mnist_vae` and shows that function's
code; chapter 5 walks around the same model's latent space, and gets it with
:func:`cached_mnist_vae`: from the model cache (:mod:`vaelib.cache`) when
chapter 4 ran on this machine, else trained here by the same function, so
that its weights are the same either way.  Chapter 5 trains a VAE with a 2-D
latent space with :func:`mnist_vae_2d`; chapter 8 draws its prior and its
codes on one map, and gets it with :func:`cached_mnist_vae_2d`.  Chapter 8's
VAEs with a learned prior (:func:`learned_prior_vae`) are chapter 4's VAE and
recipe with the prior of :mod:`vaelib.priors`.  Chapter 4's side experiments
(other reconstruction terms, a heavier KL with and without warm-up) are runs
of :func:`side_run`, several at once with :func:`side_runs`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict

import torch
from torch import Tensor

from . import cache, losses, metrics, models, priors, side_by_side, train
from .settings import fast_mode

__all__ = [
    "MNIST_VAE_2D_CONFIG",
    "MNIST_VAE_CONFIG",
    "cached_mnist_vae",
    "cached_mnist_vae_2d",
    "LEARNED_PRIORS",
    "learned_prior_vae",
    "learned_prior_vaes",
    "mnist_vae",
    "mnist_vae_2d",
    "side_run",
    "side_runs",
]

#: Chapter 4's VAE: 784 -> 400 -> 20, as in PyTorch's example.
MNIST_VAE_CONFIG = models.MLPConfig(hidden_dims=(400,), latent_dim=20)

#: Chapter 5's VAE with a latent plane: 784 -> 256 -> 2.
MNIST_VAE_2D_CONFIG = models.MLPConfig(hidden_dims=(256,), latent_dim=2)


def mnist_vae(
    train_x: Tensor,
    test_x: Tensor,
    *,
    epochs: int,
    device: str | torch.device,
    callback=None,
    trained_in: str = "chapter 4",
) -> tuple[models.VAE, train.History]:
    """Chapter 4's VAE, trained as PyTorch's example trains it, and kept in
    the model cache for the chapters after it."""
    with torch.random.fork_rng(devices=[]):  # seeded here; the caller's RNG is left alone
        torch.manual_seed(0)
        vae = models.VAE(MNIST_VAE_CONFIG)
        history = train.fit(
            vae,
            losses.VAEObjective(),
            train_x,
            test_x,
            epochs=epochs,
            batch_size=128,
            lr=1e-3,
            device=device,
            callback=callback,
        )
    parts = _key(mnist_vae, MNIST_VAE_CONFIG, [train_x, test_x], epochs, device)
    cache.store("chapter 4's VAE", vae, trained_in=trained_in, **parts)
    return vae, history


def cached_mnist_vae(
    train_x: Tensor, test_x: Tensor, *, epochs: int, device: str | torch.device, trained_in: str
) -> models.VAE:
    """The model :func:`mnist_vae` trains, from the model cache if it is there, in eval mode."""
    return cache.load_or_train(
        "chapter 4's VAE",
        lambda: mnist_vae(train_x, test_x, epochs=epochs, device=device, trained_in=trained_in)[0],
        lambda: models.VAE(MNIST_VAE_CONFIG),
        trained_in=trained_in,
        device=device,
        keep=False,  # mnist_vae stores it
        **_key(mnist_vae, MNIST_VAE_CONFIG, [train_x, test_x], epochs, device),
    )


def _key(
    recipe,
    config: models.MLPConfig,
    data: list[Tensor],
    epochs: int,
    device: str | torch.device,
    *,
    model: type[models.VAE] = models.VAE,
    seed: int = 0,
) -> dict:
    """Everything that determines the model a recipe of this module trains."""
    return {
        "model": model,
        "config": config,
        "recipe": recipe,
        "epochs": epochs,
        "seed": seed,
        "data": data,
        "fast": fast_mode(),
        "device_kind": torch.device(device),
    }


def mnist_vae_2d(
    train_x: Tensor, *, epochs: int, device: str | torch.device, trained_in: str = "chapter 5"
) -> models.VAE:
    """Chapter 5's VAE with a 2-D latent space, trained by chapter 4's recipe
    (Adam 1e-3, batches of 128, seed 0), and kept in the model cache."""
    with torch.random.fork_rng(devices=[]):  # seeded here; the caller's RNG is left alone
        torch.manual_seed(0)
        vae = models.VAE(MNIST_VAE_2D_CONFIG)
        train.fit(vae, losses.VAEObjective(), train_x, epochs=epochs, batch_size=128, lr=1e-3, device=device)
    parts = _key(mnist_vae_2d, MNIST_VAE_2D_CONFIG, [train_x], epochs, device)
    cache.store("chapter 5's 2-D VAE", vae, trained_in=trained_in, **parts)
    return vae


def cached_mnist_vae_2d(train_x: Tensor, *, epochs: int, device: str | torch.device, trained_in: str) -> models.VAE:
    """The model :func:`mnist_vae_2d` trains, from the model cache if it is there, in eval mode."""
    return cache.load_or_train(
        "chapter 5's 2-D VAE",
        lambda: mnist_vae_2d(train_x, epochs=epochs, device=device, trained_in=trained_in),
        lambda: models.VAE(MNIST_VAE_2D_CONFIG),
        trained_in=trained_in,
        device=device,
        keep=False,  # mnist_vae_2d stores it
        **_key(mnist_vae_2d, MNIST_VAE_2D_CONFIG, [train_x], epochs, device),
    )


#: Chapter 8's learned priors: their shape (chapter 4's VAE, with this many mixture components).
LEARNED_PRIORS = {
    "mixture": priors.PriorConfig(hidden_dims=(400,), latent_dim=20, n_components=50),
    "vampprior": priors.PriorConfig(hidden_dims=(400,), latent_dim=20, n_components=200),
}


_PRIOR_CLASSES = {"mixture": priors.MixturePriorVAE, "vampprior": priors.VampPriorVAE}
_PRIOR_NAMES = {"mixture": "a mixture prior", "vampprior": "a VampPrior"}


def _prior_vae(kind: str, train_x: Tensor, seed: int) -> priors.PriorVAE:
    """A fresh VAE with the learned prior ``kind``; a VampPrior's pseudo-inputs start at training images."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if kind == "mixture":
            return priors.MixturePriorVAE(LEARNED_PRIORS[kind])
        k = LEARNED_PRIORS[kind].n_components
        picks = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))[:k]
        return priors.VampPriorVAE(LEARNED_PRIORS[kind], pseudo_inputs=train_x[picks].cpu())


def learned_prior_vae(
    kind: str,
    train_x: Tensor,
    *,
    epochs: int,
    device: str | torch.device,
    seed: int = 0,
    trained_in: str = "chapter 8",
    progress: bool = True,
) -> priors.PriorVAE:
    """Chapter 4's VAE with a learned prior, ``kind`` ``"mixture"`` (50 Gaussians) or ``"vampprior"``
    (200 pseudo-inputs, started at 200 training images: started at dim noise, the judge read about 19
    points fewer of its samples as digits, by ``benchmarks/priors.py``), trained by chapter 4's recipe with
    :func:`vaelib.priors.learned_prior_loss`; from the model cache if it is there, in eval mode."""
    if kind not in LEARNED_PRIORS:
        raise ValueError(f"kind must be one of {', '.join(LEARNED_PRIORS)}, got {kind!r}")
    if len(train_x) < LEARNED_PRIORS[kind].n_components:
        raise ValueError(f"a {kind} prior needs at least {LEARNED_PRIORS[kind].n_components} training images")

    def trained() -> priors.PriorVAE:
        model = _prior_vae(kind, train_x, seed)
        train.fit(
            model,
            priors.learned_prior_loss,
            train_x,
            epochs=epochs,
            batch_size=128,
            lr=1e-3,
            seed=seed,
            device=device,
            progress=progress,
        )
        return model

    name, parts = _learned_prior_key(kind, train_x, epochs, device, seed)
    build = lambda: _prior_vae(kind, train_x, seed)  # noqa: E731
    return cache.load_or_train(name, trained, build, trained_in=trained_in, device=device, **parts)


def learned_prior_vaes(
    train_x: Tensor,
    *,
    epochs: int,
    device: str | torch.device,
    seed: int = 0,
    trained_in: str = "chapter 8",
) -> dict[str, priors.PriorVAE]:
    """Both of chapter 8's learned-prior VAEs, ``{"mixture": ..., "vampprior": ...}``, each as
    :func:`learned_prior_vae` gives it, from the model cache.

    On a CPU with two cores or more, when neither is in the cache yet, both
    are trained at once, each in a process of its own on one core, which keeps
    them in the cache (:func:`vaelib.side_by_side.run`): on two cores about
    0.7 times as long as one after the other.  Then both are loaded from the
    cache (one missing alone is trained here, as :func:`learned_prior_vae` does).  A
    cache that cannot keep them (a read-only folder) means training them again
    here, one after the other.
    """
    common = {"epochs": epochs, "seed": seed, "trained_in": trained_in}
    keys = {kind: _learned_prior_key(kind, train_x, epochs, device, seed) for kind in LEARNED_PRIORS}
    missing = [kind for kind, (name, parts) in keys.items() if not cache.cached(name, **parts)]
    if torch.device(device).type == "cpu" and min(len(missing), side_by_side.cores()) >= 2:
        jobs = [{"kind": kind, "train_x": train_x.cpu(), **common} for kind in missing]
        for index, result in side_by_side.run("vaelib.recipes:_train_learned_prior", jobs):
            name = keys[missing[index]][0]
            print(f"{name}: trained in a process of its own, {result['seconds']:.0f} s", flush=True)
    return {kind: learned_prior_vae(kind, train_x, device=device, **common) for kind in LEARNED_PRIORS}


def _learned_prior_key(
    kind: str, train_x: Tensor, epochs: int, device: str | torch.device, seed: int
) -> tuple[str, dict]:
    """The cache's name and key parts of :func:`learned_prior_vae`'s model."""
    config, model = LEARNED_PRIORS[kind], _PRIOR_CLASSES[kind]
    parts = _key(learned_prior_vae, config, [train_x], epochs, device, model=model, seed=seed)
    return f"chapter 8's VAE with {_PRIOR_NAMES[kind]}", parts


def _train_learned_prior(kind: str, train_x: Tensor, epochs: int, seed: int, trained_in: str) -> dict:
    """In a process of its own (:func:`learned_prior_vaes`): train one learned-prior VAE into the cache."""
    start = time.perf_counter()
    learned_prior_vae(kind, train_x, epochs=epochs, device="cpu", seed=seed, trained_in=trained_in, progress=False)
    return {"seconds": time.perf_counter() - start}


def side_run(
    config: models.MLPConfig,
    objective: losses.VAEObjective,
    seed: int,
    train_x: Tensor,
    *,
    epochs: int,
    device: str | torch.device,
    count_active_on: Tensor | None = None,
) -> tuple[models.VAE, list[int]]:
    """One run of chapter 4's side experiments: a VAE of ``config`` started
    from ``seed``, trained by chapter 4's recipe (Adam 1e-3, batches of 128)
    for ``epochs`` with ``objective``: ``(model, counts)``.  With
    ``count_active_on`` (images), a callback counts the active units
    (:func:`vaelib.metrics.active_units`) on them after every epoch, into
    ``counts``; else ``counts`` is empty."""
    counts: list[int] = []

    def count_active_units(epoch: int, history: train.History, model: models.VAE) -> None:
        counts.append(metrics.active_units(model, count_active_on)[0])

    with torch.random.fork_rng(devices=[]):  # seeded here; the caller's RNG is left alone
        torch.manual_seed(seed)
        model = models.VAE(config)
        train.fit(
            model,
            objective,
            train_x,
            # what fit scores without a gradient (a test set, weights kept after a divergence):
            # at the full KL weight, which a warm-up objective needs
            test_loss_fn=objective.test_loss,
            epochs=epochs,
            batch_size=128,
            lr=1e-3,
            seed=seed,
            device=device,
            progress=False,
            callback=None if count_active_on is None else count_active_units,
        )
    return model, counts


#: Below this many images times epochs, runs are too small to repay starting a
#: process for each (about 2 s on a 2-core CPU): fast mode's runs are.
_WORTH_A_PROCESS = 100_000


def side_runs(
    config: models.MLPConfig,
    objectives: Sequence[losses.VAEObjective],
    seeds: Sequence[int],
    train_x: Tensor,
    *,
    epochs: int,
    device: str | torch.device,
    count_active_on: Tensor | None = None,
) -> list[tuple[models.VAE, list[int]]]:
    """:func:`side_run` for each objective and the seed beside it, in their order:
    ``[(model, counts), ...]``, the models on ``device``.

    Each run trains with a fresh copy of its objective,
    ``VAEObjective(**objective.options())``: a warm-up starts from its first
    step in every run, and the objectives given record no step.  On a CPU
    with two cores or more, the runs train two or more at once, each in a
    Python process of its own on one core (:func:`vaelib.side_by_side.run`):
    on two cores about 0.7 times as long as one after the other.  On a GPU, with one core, or for runs too small
    to repay starting a process, they train one after the other here.
    """
    if len(objectives) != len(seeds):
        raise ValueError(f"one seed per objective: got {len(objectives)} objectives and {len(seeds)} seeds")
    here = (
        torch.device(device).type != "cpu"
        or min(len(objectives), side_by_side.cores()) < 2
        or len(train_x) * epochs < _WORTH_A_PROCESS
    )
    if here:  # each run a fresh copy of its objective, as a process of its own makes one
        return [
            side_run(
                config,
                losses.VAEObjective(**objective.options()),
                seed,
                train_x,
                epochs=epochs,
                device=device,
                count_active_on=count_active_on,
            )
            for objective, seed in zip(objectives, seeds, strict=True)
        ]
    jobs = [{"objective": objective.options(), "seed": seed} for objective, seed in zip(objectives, seeds, strict=True)]
    shared = {"config": asdict(config), "train_x": train_x.cpu(), "epochs": epochs}
    shared["count_active_on"] = None if count_active_on is None else count_active_on.cpu()
    done: dict[int, tuple[models.VAE, list[int]]] = {}
    for index, result in side_by_side.run("vaelib.recipes:_side_run", jobs, shared):
        model = models.VAE(config)
        model.load_state_dict(result["weights"])
        done[index] = model.to(device), result["counts"]
    return [done[index] for index in range(len(jobs))]


def _side_run(
    config: dict, objective: dict, seed: int, train_x: Tensor, epochs: int, count_active_on: Tensor | None
) -> dict:
    """In a process of its own (:func:`side_runs`): one :func:`side_run`, its weights and counts."""
    model, counts = side_run(
        models.MLPConfig(**config),
        losses.VAEObjective(**objective),
        seed,
        train_x,
        epochs=epochs,
        device="cpu",
        count_active_on=count_active_on,
    )
    return {"weights": model.state_dict(), "counts": counts}
