import math
import os
import stat

import pytest
import torch
from ipykernel.inprocess.ipkernel import InProcessInteractiveShell
from ipykernel.inprocess.manager import InProcessKernelManager

from vaelib import checkpoints, losses, models, settings, train


def tiny_model(latent_dim=2):
    torch.manual_seed(0)
    return models.Autoencoder(models.MLPConfig(hidden_dims=(32,), latent_dim=latent_dim))


@pytest.fixture
def blobs():
    """Images made of 3 prototypes with a little noise: easy to compress."""
    g = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(3, 784, generator=g) > 0.5).float()
    x = prototypes[torch.arange(300) % 3] * 0.9 + 0.05 * torch.rand(300, 784, generator=g)
    return x[:240], x[240:]


def test_fit_lowers_the_loss_and_records_history(blobs):
    train_x, test_x = blobs
    model = tiny_model()
    before = train.evaluate(model, losses.autoencoder_loss, test_x)["loss"]
    history = train.fit(
        model, losses.autoencoder_loss, train_x, test_x, epochs=5, batch_size=32, lr=3e-3, device="cpu", progress=False
    )
    assert len(history.train) == len(history.test) == len(history.seconds) == 5
    assert history.curve("loss", "test")[-1] < 0.7 * before
    assert history.curve("loss", "train")[-1] < history.curve("loss", "train")[0]
    assert model.training  # as it was: a new model starts in train mode


def test_fit_is_repeatable_with_a_seed(blobs):
    runs = []
    for _ in range(2):
        model = tiny_model()
        runs.append(train.fit(model, losses.autoencoder_loss, blobs[0], epochs=2, device="cpu", progress=False).train)
    assert runs[0] == runs[1]


def test_fit_records_every_part_of_a_dict_loss(blobs):
    def loss_fn(model, x):
        recon = losses.bce_per_image(model(x), x).mean()
        return {"loss": recon + 1.0, "recon": recon}

    history = train.fit(tiny_model(), loss_fn, blobs[0], blobs[1], epochs=1, device="cpu", progress=False)
    assert history.train[0]["loss"] == pytest.approx(history.train[0]["recon"] + 1.0)
    assert set(history.test[0]) == {"loss", "recon"}


def test_a_callback_sees_each_epoch_and_can_stop(blobs):
    seen = []

    def callback(epoch, history, model):
        seen.append((epoch, len(history.train)))
        return epoch == 1

    history = train.fit(
        tiny_model(), losses.autoencoder_loss, blobs[0], epochs=10, callback=callback, device="cpu", progress=False
    )
    assert seen == [(0, 1), (1, 2)] and len(history.train) == 2


def test_evaluate_averages_over_images_not_batches(blobs):
    model = tiny_model()
    x = blobs[1]
    whole = losses.bce_per_image(model(x), x).mean().item()
    assert train.evaluate(model, losses.autoencoder_loss, x, batch_size=7)["loss"] == pytest.approx(whole, rel=1e-5)


def training_loss(model, x):
    return train.evaluate(model, losses.autoencoder_loss, x)["loss"]


def test_a_nan_loss_stops_training_and_rolls_back_to_finite_weights(blobs):
    model = tiny_model()
    calls = {"n": 0}

    def loss_fn(m, x):
        calls["n"] += 1
        loss = losses.autoencoder_loss(m, x)
        return loss * float("nan") if calls["n"] == 3 else loss

    with pytest.raises(train.NonFiniteLossError, match="epoch 1, batch 3.*finite training loss") as caught:
        train.fit(model, loss_fn, blobs[0], epochs=1, batch_size=32, device="cpu", progress=False)
    assert (caught.value.epoch, caught.value.batch) == (1, 3)
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    assert math.isfinite(training_loss(model, blobs[0]))


@pytest.mark.parametrize("lr", [10.0, 1e4, 1e30])
def test_a_learning_rate_that_diverges_leaves_weights_with_a_finite_loss(blobs, lr):
    torch.manual_seed(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=2))
    try:
        train.fit(model, losses.VAEObjective(), blobs[0], epochs=20, batch_size=16, lr=lr, device="cpu", progress=False)
    except train.NonFiniteLossError as err:
        assert "finite training loss" in str(err)
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    assert math.isfinite(train.evaluate(model, losses.VAEObjective(), blobs[0])["loss"])


def test_an_infinite_gradient_also_stops_training(blobs):
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def loss_fn(m, x):  # finite value, infinite gradient: sqrt at 0
        return losses.autoencoder_loss(m, x) + torch.sqrt(m(x).sum() * 0)

    with pytest.raises(train.NonFiniteLossError, match="gradient norm"):
        train.fit(model, loss_fn, blobs[0], epochs=1, device="cpu", progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize(
    ("option", "value", "error", "message"),
    [
        ("lr", 0.0, ValueError, "lr"),
        ("lr", -1e-3, ValueError, "lr"),
        ("lr", float("inf"), ValueError, "lr"),
        ("lr", float("nan"), ValueError, "lr"),
        ("lr", "1e-3", ValueError, "lr"),
        ("batch_size", 0, ValueError, "batch_size"),
        ("batch_size", 12.5, ValueError, "batch_size"),
        ("batch_size", True, ValueError, "batch_size"),
        ("epochs", 0, ValueError, "epochs"),
        ("epochs", 2.0, ValueError, "epochs"),
        ("seed", 0.5, ValueError, "seed"),
        ("max_grad_norm", 0.0, ValueError, "max_grad_norm"),
        ("max_grad_norm", float("nan"), ValueError, "max_grad_norm"),
    ],
)
def test_fit_refuses_bad_settings(blobs, option, value, error, message):
    model = tiny_model()
    with pytest.raises(error, match=message):
        train.fit(model, losses.autoencoder_loss, blobs[0], device="cpu", progress=False, **{option: value})


def test_fit_and_evaluate_refuse_empty_or_missing_data(blobs):
    model = tiny_model()
    with pytest.raises(ValueError, match="train_x"):
        train.fit(model, losses.autoencoder_loss, blobs[0][:0], device="cpu", progress=False)
    with pytest.raises(ValueError, match="test_x"):
        train.fit(model, losses.autoencoder_loss, blobs[0], blobs[1][:0], device="cpu", progress=False)
    with pytest.raises(TypeError, match="train_x"):
        train.fit(model, losses.autoencoder_loss, blobs[0].tolist(), device="cpu", progress=False)
    with pytest.raises(TypeError, match="loss_fn"):
        train.fit(model, "bce", blobs[0], device="cpu", progress=False)
    with pytest.raises(ValueError, match="x"):
        train.evaluate(model, losses.autoencoder_loss, blobs[1][:0])


def vae_and_weights():
    torch.manual_seed(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=2))
    return model, {k: v.clone() for k, v in model.state_dict().items()}


def test_the_seed_covers_the_reparameterization_noise_and_the_global_generator_is_left_alone(blobs):
    model, weights = vae_and_weights()
    first = train.fit(model, losses.VAEObjective(), blobs[0], epochs=2, device="cpu", progress=False)
    torch.randn(1000)  # the caller draws from the global generator between the runs
    model.load_state_dict(weights)
    state = torch.get_rng_state()
    second = train.fit(model, losses.VAEObjective(), blobs[0], epochs=2, device="cpu", progress=False)
    assert first.train == second.train
    assert torch.equal(torch.get_rng_state(), state)
    model.load_state_dict(weights)
    other = train.fit(model, losses.VAEObjective(), blobs[0], epochs=2, seed=1, device="cpu", progress=False)
    assert other.train != first.train


def test_fit_leaves_an_eval_mode_model_in_eval_mode(blobs):
    model = tiny_model().eval()
    train.fit(model, losses.autoencoder_loss, blobs[0], epochs=1, device="cpu", progress=False)
    assert not model.training


def test_evaluate_leaves_the_model_in_the_mode_it_found(blobs):
    model = tiny_model()
    model.train()
    train.evaluate(model, losses.autoencoder_loss, blobs[1])
    assert model.training
    model.eval()
    train.evaluate(model, losses.autoencoder_loss, blobs[1])
    assert not model.training


def test_checkpoint_round_trip_is_exact(tmp_path, images):
    model = tiny_model(latent_dim=3)
    path = checkpoints.save_checkpoint(model, tmp_path / "sub" / "ae.pt")
    loaded = checkpoints.load_checkpoint(path)
    assert type(loaded) is models.Autoencoder and loaded.config == model.config
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value)
    assert torch.equal(loaded(images), model(images))
    assert [p.name for p in path.parent.iterdir()] == ["ae.pt"]  # no temp file left behind


def test_a_failed_save_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = checkpoints.save_checkpoint(tiny_model(), tmp_path / "ae.pt")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save_checkpoint(tiny_model(latent_dim=5), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ae.pt"]


def test_a_corrupted_checkpoint_is_a_clear_error(tmp_path):
    path = checkpoints.save_checkpoint(tiny_model(), tmp_path / "ae.pt")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # truncated
    with pytest.raises(checkpoints.CheckpointError, match="ae.pt"):
        checkpoints.load_checkpoint(path)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(checkpoints.CheckpointError, match="corrupted"):
        checkpoints.load_checkpoint(path)


class _Exploit:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('ran')",))


def test_a_checkpoint_cannot_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format": "vaelib-checkpoint/2", "payload": _Exploit()}, path, pickle_protocol=2)
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.load_checkpoint(path)
    assert not (tmp_path / "PWNED").exists()


def test_a_foreign_or_mismatched_file_is_refused(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(checkpoints.CheckpointError, match="not a vaelib checkpoint"):
        checkpoints.load_checkpoint(tmp_path / "other.pt")


def saved_payload(tmp_path):
    return torch.load(checkpoints.save_checkpoint(tiny_model(), tmp_path / "ae.pt"), weights_only=True)


def test_a_changed_weight_is_caught_by_the_digest(tmp_path):
    payload = saved_payload(tmp_path)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name].view(-1)[0] += 1e-3
    torch.save(payload, tmp_path / "changed.pt")
    with pytest.raises(checkpoints.CheckpointError, match="digest"):
        checkpoints.load_checkpoint(tmp_path / "changed.pt")


def test_a_changed_byte_in_the_file_is_caught(tmp_path):
    path = checkpoints.save_checkpoint(tiny_model(), tmp_path / "ae.pt")
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2  # inside the stored weights
    raw[middle] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(checkpoints.CheckpointError, match="ae.pt"):
        checkpoints.load_checkpoint(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", None),
        ("config", None),
        ("state_dict", None),
        ("sha256", None),
        ("config", "latent_dim=2"),
        ("state_dict", [1, 2]),
        ("model", 3),
    ],
)
def test_a_checkpoint_with_a_missing_or_mistyped_field_is_refused(tmp_path, field, value):
    payload = saved_payload(tmp_path)
    if value is None:
        del payload[field]
    else:
        payload[field] = value
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(checkpoints.CheckpointError, match=field):
        checkpoints.load_checkpoint(tmp_path / "bad.pt")


def test_a_checkpoint_whose_config_does_not_fit_its_weights_is_refused(tmp_path):
    model = tiny_model()
    torch.save(
        {
            "format": "vaelib-checkpoint/2",
            "model": "Autoencoder",
            "config": {"latent_dim": 7},
            "state_dict": model.state_dict(),
            "sha256": "0" * 64,
        },
        tmp_path / "bad.pt",
    )
    with pytest.raises(checkpoints.CheckpointError, match="bad.pt"):
        checkpoints.load_checkpoint(tmp_path / "bad.pt")


def test_a_checkpoint_gets_the_permissions_of_any_new_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = checkpoints.save_checkpoint(tiny_model(), tmp_path / "ae.pt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_only_vaelib_models_are_checkpointed(tmp_path):
    with pytest.raises(TypeError):
        checkpoints.save_checkpoint(torch.nn.Linear(2, 2), tmp_path / "x.pt")
    assert not list(tmp_path.iterdir())


NOTEBOOK_RUN = """
import torch
from vaelib import checkpoints, losses, models, train
x = torch.rand(120, 784, generator=torch.Generator().manual_seed(0))
model = models.Autoencoder(models.MLPConfig(hidden_dims=(8,), latent_dim=2))
train.fit(model, losses.autoencoder_loss, x, x[:20], epochs=2, batch_size=60, device="cpu")
"""


def test_in_a_notebook_the_bar_keeps_its_final_state_in_one_output():
    """The saved notebook, and so the rendered book, shows the finished bar: run fit in a real kernel."""
    manager = InProcessKernelManager()
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.execute(NOTEBOOK_RUN)
        messages = []
        while not messages or messages[-1]["content"].get("execution_state") != "idle":
            messages.append(client.get_iopub_msg(timeout=60))
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
        InProcessInteractiveShell.clear_instance()  # later tests must not find this kernel's shell
    kinds = [m["msg_type"] for m in messages]
    assert "error" not in kinds and "stream" not in kinds  # nothing printed beside the one output
    assert kinds.count("display_data") == 1
    final = [m for m in messages if m["msg_type"] == "update_display_data"][-1]["content"]["data"]["text/plain"]
    assert final.startswith("epoch 2/2: 100%") and "4/4" in final and "test=" in final
    assert "\r" not in final
    assert len(final) <= settings.PAGE_WIDTH, f"the bar scrolls sideways in the book: {final!r}"


@pytest.mark.parametrize("model", [models.VAE(models.MLPConfig(hidden_dims=(16,), latent_dim=3))], ids=["VAE"])
def test_vae_checkpoints_round_trip(tmp_path, images, model):
    loaded = checkpoints.load_checkpoint(checkpoints.save_checkpoint(model, tmp_path / "vae.pt"))
    assert type(loaded) is type(model) and loaded.config == model.config
    assert torch.equal(loaded.encode(images)[0], model.encode(images)[0])


def test_fit_trains_a_vae_and_keeps_the_history_for_losses(blobs):
    torch.manual_seed(0)
    model = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=2))
    objective = losses.VAEObjective(beta=1.0, warmup_steps=10)
    history = train.fit(
        model,
        objective,
        blobs[0],
        blobs[1],
        test_loss_fn=objective.test_loss,
        epochs=6,
        batch_size=32,
        lr=3e-3,
        device="cpu",
        progress=False,
    )
    assert set(history.train[0]) == set(history.test[0]) == {"loss", "recon", "kl"}
    assert history.curve("loss", "test")[-1] < history.curve("loss", "test")[0]
    steps = 6 * 8
    assert len(objective.betas) == steps
    assert objective.betas[:3] == [0.0, 0.1, 0.2] and objective.betas[-1] == 1.0
    # The test loss is the full objective (beta = 1: the negative ELBO) in every epoch.
    for epoch in history.test:
        assert epoch["loss"] == pytest.approx(epoch["recon"] + epoch["kl"], rel=1e-5)


def test_a_warm_up_objective_without_its_test_loss_is_refused_with_a_pointer(blobs):
    objective = losses.VAEObjective(beta=1.0, warmup_steps=10)
    model = models.VAE(models.MLPConfig(hidden_dims=(8,), latent_dim=2))
    with pytest.raises(RuntimeError, match="objective.test_loss"):
        train.fit(model, objective, blobs[0], blobs[1], epochs=1, batch_size=32, device="cpu", progress=False)


def test_fit_leaves_the_objective_alone_so_a_second_run_continues_the_warm_up_until_reset(blobs):
    objective = losses.VAEObjective(beta=1.0, warmup_steps=10)
    for run in range(2):
        torch.manual_seed(0)
        model = models.VAE(models.MLPConfig(hidden_dims=(8,), latent_dim=2))
        train.fit(model, objective, blobs[0], epochs=1, batch_size=32, device="cpu", progress=False)
        assert len(objective.betas) == 8 * (run + 1)
    objective.reset()
    train.fit(model, objective, blobs[0], epochs=1, batch_size=32, device="cpu", progress=False)
    assert objective.betas[0] == 0.0 and len(objective.betas) == 8


def test_adam_is_fused_where_supported_and_matches_the_default_update():
    params = [torch.nn.Parameter(torch.randn(5, 3, generator=torch.Generator().manual_seed(0)))]
    reference = [torch.nn.Parameter(params[0].detach().clone())]
    fused, plain = train.adam(params, lr=0.1), torch.optim.Adam(reference, lr=0.1)
    assert fused.defaults.get("fused") in (True, None)  # fused on a CPU with torch >= 2.4
    for _ in range(3):
        for p, opt in [(params[0], fused), (reference[0], plain)]:
            opt.zero_grad()
            (p**2).sum().backward()
            opt.step()
    assert torch.allclose(params[0], reference[0], atol=1e-6)


def test_max_grad_norm_clips_each_step_to_that_norm(blobs):
    train_x, _ = blobs
    x = train_x[:100]
    clipped, reference = tiny_model(), tiny_model()
    sgd = torch.optim.SGD(clipped.parameters(), lr=0.1)
    train.fit(clipped, losses.autoencoder_loss, x, epochs=1, batch_size=100, optimizer=sgd, progress=False,
              max_grad_norm=0.5)  # fmt: skip
    # The same step by hand: one full batch, the gradient scaled down to norm 0.5, then SGD.
    losses.autoencoder_loss(reference, x).backward()
    before = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
    assert before > 0.5  # the test means something: the gradient really was clipped
    with torch.no_grad():
        for p in reference.parameters():
            p -= 0.1 * p.grad
    for a, b in zip(clipped.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_the_progress_bar_ends_each_epoch_on_the_mean_that_history_keeps(blobs, capsys):
    # Not the last batch's loss, which a reader would compare with another chapter's epoch mean.
    history = train.fit(tiny_model(), losses.autoencoder_loss, blobs[0], epochs=2, batch_size=16, device="cpu")
    shown = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert f"loss={history.train[-1]['loss']:.2f}" in shown
