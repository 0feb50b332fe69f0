"""Chapter 4's side experiments: recipes.side_run, and side_runs, which trains several at once."""

import pytest
import torch

from vaelib import losses, metrics, models, recipes, settings, side_by_side

CONFIG = models.MLPConfig(hidden_dims=(32,), latent_dim=4)


@pytest.fixture(scope="module")
def images():
    return torch.rand(256, 784, generator=torch.Generator().manual_seed(0))


def warm_up(steps=4):
    return losses.VAEObjective(beta=8.0, warmup_steps=steps)


def same(a, b):
    return all(torch.equal(value, b.state_dict()[key]) for key, value in a.state_dict().items())


def test_a_run_counts_active_units_after_each_epoch_and_leaves_the_callers_rng_alone(images):
    before = torch.get_rng_state()
    model, counts = recipes.side_run(CONFIG, warm_up(), 0, images, epochs=3, device="cpu", count_active_on=images)
    assert torch.equal(torch.get_rng_state(), before)
    assert len(counts) == 3 and counts[-1] == metrics.active_units(model, images)[0]
    again, _ = recipes.side_run(CONFIG, warm_up(), 0, images, epochs=3, device="cpu")
    other, none = recipes.side_run(CONFIG, warm_up(), 1, images, epochs=3, device="cpu")
    assert same(model, again) and not same(model, other)  # the seed alone decides
    assert none == []  # no images to count on, no counts


def test_what_fit_scores_without_gradients_is_scored_at_the_full_weight(images, monkeypatch):
    """A warm-up objective refuses calls without gradients: fit gets its test_loss for those."""
    seen = {}

    def fit(model, loss_fn, train_x, **options):
        seen.update(options, loss_fn=loss_fn)

    monkeypatch.setattr(recipes.train, "fit", fit)
    objective = warm_up()
    recipes.side_run(CONFIG, objective, 0, images, epochs=1, device="cpu")
    assert seen["loss_fn"] is objective and seen["test_loss_fn"] == objective.test_loss


def test_side_by_side_gives_the_runs_one_thread_gives_here(images, monkeypatch):
    monkeypatch.setattr(recipes, "_WORTH_A_PROCESS", 0)  # these runs are tiny: processes anyway
    objectives = [warm_up(0), warm_up(), losses.VAEObjective(reconstruction="mse", sigma=1.0)]
    together = recipes.side_runs(CONFIG, objectives, [0, 1, 0], images, epochs=2, device="cpu", count_active_on=images)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    settings.flush_denormals()  # as each process does
    try:
        for objective, seed, (model, counts) in zip(objectives, [0, 1, 0], together, strict=True):
            fresh = losses.VAEObjective(**objective.options())
            alone, alone_counts = recipes.side_run(
                CONFIG, fresh, seed, images, epochs=2, device="cpu", count_active_on=images
            )
            assert same(alone, model) and counts == alone_counts
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)


def test_small_runs_one_core_or_a_gpu_train_here(images, monkeypatch):
    def no_processes(*args, **kwargs):
        raise AssertionError("no process should start")

    monkeypatch.setattr(side_by_side, "run", no_processes)
    given = [warm_up(), warm_up()]
    small = recipes.side_runs(CONFIG, given, [0, 1], images, epochs=1, device="cpu")
    assert all(objective.betas == [] for objective in given)  # each run trained a fresh copy
    monkeypatch.setattr(recipes, "_WORTH_A_PROCESS", 0)
    monkeypatch.setattr(side_by_side, "cores", lambda: 1)
    one_core = recipes.side_runs(CONFIG, [warm_up(), warm_up()], [0, 1], images, epochs=1, device="cpu")
    for (a, _), (b, _) in zip(small, one_core, strict=True):
        assert same(a, b)


def test_one_seed_per_objective():
    with pytest.raises(ValueError, match="one seed per objective"):
        recipes.side_runs(CONFIG, [warm_up()], [0, 1], torch.zeros(4, 784), epochs=1, device="cpu")


def test_an_objective_says_what_makes_it():
    objective = losses.VAEObjective(beta=2.0, warmup_steps=5, reconstruction="mse", sigma=0.5)
    objective(models.VAE(CONFIG), torch.rand(4, 784))  # a step taken is not part of what makes it
    again = losses.VAEObjective(**objective.options())
    assert again.options() == objective.options() and again.betas == []
