
import pytest
import torch

from vaelib import losses, models, train


def tiny_model(latent_dim=2):
    torch.manual_seed(0)
    return models.Autoencoder(models.AutoencoderConfig(hidden_dims=(32,), latent_dim=latent_dim))


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
    history = train.fit(model, losses.autoencoder_loss, train_x, test_x, epochs=5, batch_size=32,
                        lr=3e-3, device="cpu", progress=False)
    assert len(history.train) == len(history.test) == len(history.seconds) == 5
    assert history.curve("loss", "test")[-1] < 0.7 * before
    assert history.curve("loss", "train")[-1] < history.curve("loss", "train")[0]
    assert not model.training


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

    history = train.fit(tiny_model(), losses.autoencoder_loss, blobs[0], epochs=10, callback=callback,
                        device="cpu", progress=False)
    assert seen == [(0, 1), (1, 2)] and len(history.train) == 2


def test_evaluate_averages_over_images_not_batches(blobs):
    model = tiny_model()
    x = blobs[1]
    whole = losses.bce_per_image(model(x), x).mean().item()
    assert train.evaluate(model, losses.autoencoder_loss, x, batch_size=7)["loss"] == pytest.approx(whole, rel=1e-5)


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_weights(blobs):
    model = tiny_model()
    calls = {"n": 0}
    snapshot = {}

    def loss_fn(m, x):
        calls["n"] += 1
        if calls["n"] == 3:
            snapshot.update({k: v.clone() for k, v in m.state_dict().items()})
            return losses.autoencoder_loss(m, x) * float("nan")
        return losses.autoencoder_loss(m, x)

    with pytest.raises(train.NonFiniteLossError, match="last good weights"):
        train.fit(model, loss_fn, blobs[0], epochs=1, batch_size=32, device="cpu", progress=False)
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshot[name]) and torch.isfinite(value).all()


def test_an_infinite_gradient_also_stops_training(blobs):
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def loss_fn(m, x):  # finite value, infinite gradient: sqrt at 0
        return losses.autoencoder_loss(m, x) + torch.sqrt(m(x).sum() * 0)

    with pytest.raises(train.NonFiniteLossError):
        train.fit(model, loss_fn, blobs[0], epochs=1, device="cpu", progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_checkpoint_round_trip_is_exact(tmp_path, images):
    model = tiny_model(latent_dim=3)
    path = train.save_checkpoint(model, tmp_path / "sub" / "ae.pt")
    loaded = train.load_checkpoint(path)
    assert type(loaded) is models.Autoencoder and loaded.config == model.config
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value)
    assert torch.equal(loaded(images), model(images))
    assert [p.name for p in path.parent.iterdir()] == ["ae.pt"]  # no temp file left behind


def test_a_failed_save_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = train.save_checkpoint(tiny_model(), tmp_path / "ae.pt")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        train.save_checkpoint(tiny_model(latent_dim=5), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ae.pt"]


def test_a_corrupted_checkpoint_is_a_clear_error(tmp_path):
    path = train.save_checkpoint(tiny_model(), tmp_path / "ae.pt")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # truncated
    with pytest.raises(train.CheckpointError, match="ae.pt"):
        train.load_checkpoint(path)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(train.CheckpointError, match="corrupted"):
        train.load_checkpoint(path)


class _Exploit:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('ran')",))


def test_a_checkpoint_cannot_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format": "vaelib-checkpoint/1", "payload": _Exploit()}, path, pickle_protocol=2)
    with pytest.raises(train.CheckpointError):
        train.load_checkpoint(path)
    assert not (tmp_path / "PWNED").exists()


def test_a_foreign_or_mismatched_file_is_refused(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(train.CheckpointError, match="not a vaelib checkpoint"):
        train.load_checkpoint(tmp_path / "other.pt")
    payload = torch.load(train.save_checkpoint(tiny_model(), tmp_path / "ae.pt"), weights_only=True)
    payload["config"]["latent_dim"] = 7
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(train.CheckpointError, match="do not match"):
        train.load_checkpoint(tmp_path / "bad.pt")


def test_only_vaelib_models_are_checkpointed(tmp_path):
    with pytest.raises(TypeError):
        train.save_checkpoint(torch.nn.Linear(2, 2), tmp_path / "x.pt")
    assert not list(tmp_path.iterdir())


def test_in_a_notebook_the_bar_keeps_its_final_state_in_one_output(monkeypatch, blobs):
    """The saved notebook, and so the rendered book, shows the finished bar."""
    import IPython.display

    updates = []

    class Handle:
        def update(self, obj, raw=False):
            updates.append(obj["text/plain"])

    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: Handle())
    monkeypatch.setattr(train, "_in_notebook", lambda: True)
    train.fit(tiny_model(), losses.autoencoder_loss, blobs[0], blobs[1], epochs=2, batch_size=60, device="cpu")
    final = updates[-1]
    assert final.startswith("epoch 2/2: 100%") and "8/8" in final and "test=" in final
    assert "\r" not in final and "█" in final


@pytest.mark.parametrize(
    "model",
    [models.VAE(models.VAEConfig(hidden_dims=(16,), latent_dim=3)),
     models.ConvVAE(models.ConvVAEConfig(channels=(2, 4), hidden_dim=8, latent_dim=3))],
    ids=["VAE", "ConvVAE"],
)
def test_vae_checkpoints_round_trip(tmp_path, images, model):
    loaded = train.load_checkpoint(train.save_checkpoint(model, tmp_path / "vae.pt"))
    assert type(loaded) is type(model) and loaded.config == model.config
    assert torch.equal(loaded.encode(images)[0], model.encode(images)[0])


def test_fit_trains_a_vae_with_the_same_loop(blobs):
    torch.manual_seed(0)
    model = models.VAE(models.VAEConfig(hidden_dims=(32,), latent_dim=2))
    objective = losses.VAEObjective(beta=1.0, warmup_steps=10)
    history = train.fit(model, objective, blobs[0], blobs[1], epochs=6, batch_size=32, lr=3e-3,
                        device="cpu", progress=False)
    assert set(history.train[0]) == {"loss", "recon", "kl", "beta"}
    assert history.train[0]["beta"] < 1.0 == history.train[-1]["beta"]
    assert history.curve("loss", "test")[-1] < history.curve("loss", "test")[0]


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
