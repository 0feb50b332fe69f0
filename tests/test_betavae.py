import dataclasses
import datetime
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from vaelib import betavae, latent, metrics, models, settings, side_by_side, sprites

ROOT = Path(__file__).resolve().parents[1]
TINY = betavae.Recipe(epochs=2, warmup_epochs=1, batch_size=16, hidden_dims=(32, 16), latent_dim=4)


@pytest.fixture(scope="module")
def data():
    return sprites.make_sprites(size=16, n_scales=2, n_rotations=2, n_positions=3)


@pytest.fixture(scope="module")
def trained(data):
    return betavae.train(data, beta=4.0, seed=0, recipe=TINY)


def test_the_recipe_refuses_impossible_settings():
    with pytest.raises(ValueError, match="epochs"):
        betavae.Recipe(epochs=0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        betavae.Recipe(warmup_epochs=-1)
    with pytest.raises(ValueError, match="kind must be 'conv' or 'mlp'"):
        betavae.make_model(TINY, 16, kind="resnet")


def test_train_builds_the_chapters_model_and_warms_the_kl_up(data, trained):
    model, history = trained
    assert isinstance(model, models.ConvVAE) and model.latent_dim == 4
    assert len(history.train) == 2
    assert isinstance(betavae.make_model(TINY, 16, kind="mlp"), models.VAE)


def test_a_run_depends_on_its_seed_alone(data, trained):
    again, _ = betavae.train(data, beta=4.0, seed=0, recipe=TINY)
    other, _ = betavae.train(data, beta=4.0, seed=1, recipe=TINY)
    first = trained[0].state_dict()
    assert all(torch.equal(first[k], again.state_dict()[k]) for k in first)
    assert not torch.equal(first["decoder.0.weight"], other.state_dict()["decoder.0.weight"])


def test_side_by_side_gives_the_model_train_gives_on_one_thread(data):
    together = betavae.train_side_by_side(data, (1.0, 4.0, 8.0), seed=0, recipe=TINY)
    assert list(together) == [1.0, 4.0, 8.0]  # three models, on two cores two at a time
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    settings.flush_denormals()  # as each process does
    try:
        for beta, model in together.items():
            alone, _ = betavae.train(data, beta=beta, seed=0, recipe=TINY)
            theirs = model.state_dict()
            assert all(torch.equal(value, theirs[key]) for key, value in alone.state_dict().items())
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)


def test_side_by_side_on_one_core_trains_here_one_after_the_other(data, trained, monkeypatch, capsys):
    monkeypatch.setattr(side_by_side, "cores", lambda: 1)
    model = betavae.train_side_by_side(data, (4.0,), seed=0, recipe=TINY, progress=True)[4.0]
    first = trained[0].state_dict()
    assert all(torch.equal(first[k], model.state_dict()[k]) for k in first)  # train(), in this process
    assert "beta = 4: trained" in capsys.readouterr().out


def test_a_failed_process_says_which_job_and_why(data):
    broken = dataclasses.replace(data, x=torch.full_like(data.x, float("nan")))
    with pytest.raises(RuntimeError, match=r"job 0 \(vaelib.betavae:_train_one\) failed(.|\n)*NaN"):
        betavae.train_side_by_side(broken, (1.0, 2.0), recipe=TINY)


def test_runs_measure_each_beta_and_time_its_training(data):
    results = list(betavae.runs(data, (1.0, 4.0), seed=1, recipe=TINY))
    assert sorted(r["beta"] for r in results) == [1.0, 4.0] and {r["seed"] for r in results} == {1}
    assert all(set(r) == {"beta", "seed", "recon", "kl", "active", "mig", "gaps", "seconds"} for r in results)
    assert all(0 < r["seconds"] < 60 for r in results)


def test_measure_reports_what_the_sweep_records(data, trained):
    model = trained[0]
    result = betavae.measure(model, data)
    assert list(result) == ["recon", "kl", "active", "mig", "gaps"]
    assert list(result["gaps"]) == list(sprites.FACTORS)
    score, gaps = metrics.mig(latent.encode_dataset(model, data.x), data.factors)
    assert result["mig"] == pytest.approx(score) and list(result["gaps"].values()) == pytest.approx(gaps.tolist())
    assert result["active"] == metrics.active_units(model, data.x)[0]


def test_informative_latents_are_the_active_ones_most_kl_first(data, trained):
    model = trained[0]
    rows = betavae.informative_latents(model, data)
    count, _ = metrics.active_units(model, data.x)
    kl = metrics.kl_per_dimension(model, data.x)
    assert len(rows) == max(count, 1)
    assert [kl[j] for j, _, _ in rows] == sorted((kl[j] for j, _, _ in rows), reverse=True)
    factor, gap = metrics.latent_factors(latent.encode_dataset(model, data.x), data.factors)
    assert all(name == sprites.FACTORS[factor[j]] and g == pytest.approx(gap[j].item()) for j, name, g in rows)
    assert betavae.latent_label(2, "x", 0.617) == "z3: x, gap 0.62"


def test_a_model_with_no_active_latent_still_offers_its_most_informative_one(data):
    untrained = betavae.make_model(TINY, 16)
    torch.nn.init.zeros_(untrained.to_mu.weight)  # every code the same: nothing is active
    torch.nn.init.zeros_(untrained.to_mu.bias)
    rows = betavae.informative_latents(untrained, data)
    kl = metrics.kl_per_dimension(untrained, data.x)
    assert metrics.active_units(untrained, data.x)[0] == 0 and [j for j, _, _ in rows] == [int(kl.argmax())]


def test_traversal_panel_decodes_each_informative_latent_swept(data, trained):
    model = trained[0]
    values = torch.linspace(-2, 2, 5)
    images, labels = betavae.traversal_panel(model, data, start=7, values=values)
    rows = betavae.informative_latents(model, data)
    assert images.shape == (len(rows), 5, 16 * 16) and len(labels) == len(rows)
    j = rows[0][0]
    z = latent.encode_dataset(model, data.x[7:8])[0]
    expected = model.decode_probs(torch.stack([torch.cat([z[:j], v[None], z[j + 1 :]]) for v in values]))
    assert torch.allclose(images[0], expected, atol=1e-6)
    assert labels[0].startswith(f"z{j + 1}: ")


def test_summarize_gives_median_and_range_per_beta():
    runs = [
        {"beta": b, "recon": r, "kl": 1.0, "active": a, "mig": m, "gaps": dict.fromkeys(sprites.FACTORS, m)}
        for b, r, a, m in [(1, 10, 5, 0.1), (1, 12, 6, 0.3), (1, 11, 4, 0.2), (8, 20, 3, 0.4)]
    ]
    table = betavae.summarize(runs)
    assert list(table) == [1, 8]
    assert table[1]["seeds"] == 3 and table[1]["mig"] == (0.2, 0.1, 0.3) and table[1]["recon"] == (11, 10, 12)
    assert table[1]["gaps"]["x"] == (0.2, 0.1, 0.3) and table[8]["active"] == (3, 3, 3)


def test_the_recorded_sweep_is_of_the_chapters_recipe_and_sprites():
    record = betavae.recorded_sweep()
    assert record["recipe"] == betavae.RECIPE and record["model"] == "conv"
    assert record["sprites"] == {"size": 32, "n_scales": 4, "n_rotations": 8, "n_positions": 10}
    assert record["command"].startswith("benchmarks/beta_vae_sweep.py")
    assert datetime.date.fromisoformat(record["recorded"]) <= datetime.date.today()
    table = betavae.summarize(record["runs"])
    assert len(table) >= 4 and all(row["seeds"] >= 3 for row in table.values())
    for run in record["runs"]:
        assert set(run) == {"beta", "seed", "recon", "kl", "active", "mig", "gaps", "seconds"}


def test_the_benchmark_records_what_recorded_sweep_reads(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("beta_vae_sweep", ROOT / "benchmarks" / "beta_vae_sweep.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    out = tmp_path / "sweep.json"
    argv = ["--betas", "1", "4", "--seeds", "0", "1", "--epochs", "1", "--warmup-epochs", "0", "--scales", "2",
            "--rotations", "2", "--positions", "3", "--record", str(out)]  # fmt: skip
    runs = benchmark.main(argv)
    record = json.loads(out.read_text())
    assert record["command"] == "benchmarks/beta_vae_sweep.py " + " ".join(argv)
    assert record["runs"] == json.loads(json.dumps(runs)) and len(runs) == 4
    assert record["recipe"]["epochs"] == 1 and record["sprites"]["n_positions"] == 3
    assert record["recorded"] == datetime.date.today().isoformat()
    printed = capsys.readouterr().out
    assert "beta 4, seed 1: MIG" in printed and "not met (2 seeds)" in printed
    # --add: new runs join the record; a run of the same beta and seed replaces the old one
    more = ["--betas", "0.5", "4", "--seeds", "1", "--epochs", "1", "--warmup-epochs", "0", "--scales", "2",
            "--rotations", "2", "--positions", "3", "--record", str(out), "--add"]  # fmt: skip
    benchmark.main(more)
    merged = json.loads(out.read_text())
    assert [(r["beta"], r["seed"]) for r in merged["runs"]] == [(0.5, 1), (1, 0), (1, 1), (4, 0), (4, 1)]
    assert merged["history"][0].endswith(record["command"]) and merged["history"][1].endswith("--add")
    assert len(merged["history"]) == 2 and merged["command"] == "benchmarks/beta_vae_sweep.py " + " ".join(more)
    with pytest.raises(SystemExit, match="another recipe"):
        benchmark.main([*more[:-3], "--epochs", "2", "--record", str(out), "--add"])
