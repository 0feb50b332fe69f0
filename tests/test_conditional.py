"""Chapter 7's machinery: labels through the training loop, the conditional VAE, the judge."""

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

from vaelib import batched, checkpoints, classifier, latent, losses, metrics, models, plotting, train, widgets


def small_cvae(latent_dim=3, seed=0):
    torch.manual_seed(seed)
    return models.CVAE(models.CVAEConfig(hidden_dims=(32,), latent_dim=latent_dim))


def labelled_blobs(n=400, seed=0):
    """Images of four classes, each a bright block in its own quarter of the image."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 4
    x = torch.rand(n, 28, 28, generator=g) * 0.3
    for k in range(4):
        r, c = divmod(k, 2)
        x[y == k, 14 * r : 14 * r + 14, 14 * c : 14 * c + 14] += 0.6
    return x.clamp(0, 1).reshape(n, 784), y


# -- labels through batches, fit and evaluate ---------------------------------------


def test_batches_slice_labels_with_their_images():
    x = torch.arange(10.0)[:, None].repeat(1, 3)
    y = torch.arange(10) * 10
    pairs = list(batched.batches(x, 4, labels=y, generator=torch.Generator().manual_seed(0)))
    assert [len(b[0]) for b in pairs] == [4, 4, 2]
    for xb, yb in pairs:
        assert torch.equal(xb[:, 0].long() * 10, yb)  # the same permutation for both
    assert torch.equal(torch.cat([yb for _, yb in pairs]).sort().values, y)
    assert all(isinstance(b, torch.Tensor) for b in batched.batches(x, 4))  # unlabelled calls as before


@pytest.mark.parametrize(
    "labels, error, match",
    [
        (torch.arange(9), ValueError, r"one label per image, shape \[10\]"),
        (torch.zeros(10), TypeError, "integer labels"),
        ([0] * 10, TypeError, "torch.Tensor of int labels"),
    ],
)
def test_batches_refuse_labels_that_do_not_pair_up(labels, error, match):
    with pytest.raises(error, match=match):
        batched.batches(torch.rand(10, 3), 4, labels=labels)


def test_fit_passes_labels_to_the_loss_and_evaluate_averages_them():
    x, y = labelled_blobs(200)
    seen = []

    def loss(model, xb, yb):
        seen.append((len(xb), yb.clone()))
        return {"loss": model(xb).pow(2).mean(), "label": yb.float().mean()}

    model = torch.nn.Linear(784, 1)
    history = train.fit(model, loss, x, x[:50], train_y=y, test_y=y[:50], epochs=2, batch_size=64, progress=False)
    assert all(len(labels) == n for n, labels in seen)
    assert history.test[-1]["label"] == pytest.approx(y[:50].float().mean().item())
    assert train.evaluate(model, loss, x, y, batch_size=7)["label"] == pytest.approx(y.float().mean().item())


def test_fit_asks_for_test_labels_when_the_training_images_have_labels():
    x, y = labelled_blobs(40)
    model = torch.nn.Linear(784, 1)

    def loss(model, xb, yb):
        return model(xb).mean()

    with pytest.raises(ValueError, match="pass test_y"):
        train.fit(model, loss, x, x, train_y=y, epochs=1, progress=False)
    with pytest.raises(ValueError, match="give it with test_x"):
        train.fit(model, loss, x, train_y=y, test_y=y, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"train_y must hold one label per image"):
        train.fit(model, loss, x, train_y=y[:5], epochs=1, progress=False)


def test_a_labelled_run_is_reproducible_and_unlabelled_runs_are_unchanged():
    x, y = labelled_blobs(200)
    runs = []
    for _ in range(2):
        model = small_cvae()
        runs.append(train.fit(model, losses.VAEObjective(), x, train_y=y, epochs=2, progress=False).train)
    assert runs[0] == runs[1]
    torch.manual_seed(0)
    vae = models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=3))
    history = train.fit(vae, losses.VAEObjective(), x, epochs=1, progress=False)
    assert set(history.train[0]) == {"loss", "recon", "kl"}


# -- the conditional VAE ------------------------------------------------------------


def test_the_cvae_appends_the_one_hot_label_to_both_inputs():
    model = small_cvae(latent_dim=3)
    assert model.encoder[0].in_features == 784 + 10 and model.decoder[0].in_features == 3 + 10
    x, y = torch.rand(5, 784), torch.tensor([0, 1, 2, 3, 9])
    logits, mu, logvar = model(x, y)
    assert logits.shape == (5, 784) and mu.shape == logvar.shape == (5, 3)
    # By hand: the encoder's first layer sees [x, onehot(y)], the decoder's [z, onehot(y)].
    one_hot = torch.nn.functional.one_hot(y, 10).float()
    h = model.encoder(torch.cat([x, one_hot], 1))
    assert torch.allclose(model.encode_mean(x, y), model.to_mu(h))
    z = torch.randn(5, 3)
    assert torch.allclose(model.decode(z, y), model.decoder(torch.cat([z, one_hot], 1)))


def test_the_label_changes_the_drawing_and_one_int_labels_a_whole_batch():
    model = small_cvae()
    z = torch.randn(4, 3)
    sevens = model.decode_probs(z, 7)
    assert torch.equal(sevens, model.decode_probs(z, torch.full((4,), 7)))
    assert not torch.allclose(sevens, model.decode_probs(z, 1))
    assert model.reconstruct(torch.rand(4, 784), 2).shape == (4, 784)
    g = torch.Generator().manual_seed(0)
    assert model.sample(torch.arange(10), generator=g).shape == (10, 784)
    assert model.sample(3, n=6).shape == (6, 784)
    with pytest.raises(ValueError, match="give n"):
        model.sample(3)


@pytest.mark.parametrize(
    "labels, error, match",
    [
        (torch.tensor([0, 10]), ValueError, r"labels must lie in 0..9"),
        (torch.tensor([0, -1]), ValueError, r"labels must lie in 0..9"),
        (torch.tensor([0.0, 1.0]), TypeError, "int labels"),
        (torch.tensor([0, 1, 2]), ValueError, r"shape \[2\]"),
        ("7", TypeError, "int labels"),
    ],
)
def test_the_cvae_refuses_labels_it_cannot_use(labels, error, match):
    with pytest.raises(error, match=match):
        small_cvae().decode(torch.randn(2, 3), labels)


def test_a_cvae_checkpoint_keeps_its_number_of_classes(tmp_path):
    model = models.CVAE(models.CVAEConfig(hidden_dims=(16,), latent_dim=2, num_classes=4))
    back = checkpoints.load_checkpoint(checkpoints.save_checkpoint(model, tmp_path / "cvae.pt"))
    assert isinstance(back, models.CVAE) and back.config == model.config and back.num_classes == 4
    z = torch.randn(3, 2)
    assert torch.equal(back.decode_probs(z, torch.tensor([0, 3, 1])), model.decode_probs(z, torch.tensor([0, 3, 1])))
    with pytest.raises(TypeError, match="needs a CVAEConfig"):
        models.CVAE(models.MLPConfig())


def test_a_cvae_trains_and_its_codes_come_from_encode_dataset():
    x, y = labelled_blobs(400)
    model = small_cvae(latent_dim=2)
    history = train.fit(model, losses.VAEObjective(), x, x[:100], train_y=y, test_y=y[:100], epochs=3, progress=False)
    assert len(history.test) == 3 and history.test[-1]["loss"] < history.test[0]["loss"]
    codes = latent.encode_dataset(model, x, batch_size=64, labels=y)
    assert codes.shape == (400, 2) and torch.allclose(codes, model.encode_mean(x, y), atol=1e-5)


# -- the judge ----------------------------------------------------------------------


def test_the_classifier_learns_labelled_blobs_through_fit():
    x, y = labelled_blobs(400)
    torch.manual_seed(0)
    judge = classifier.Classifier(num_classes=4)
    history = train.fit(
        judge, classifier.classification_loss, x, x, train_y=y, test_y=y, epochs=3, batch_size=32, progress=False
    )
    assert history.test[-1]["error"] < 0.05
    predicted = classifier.predict(judge, x, batch_size=64)
    assert predicted.dtype == torch.int64 and (predicted == y).float().mean() > 0.95
    assert judge(x[:2]).shape == (2, 4)


def test_train_judge_is_reproducible_learns_and_leaves_the_global_generator_alone():
    x, y = labelled_blobs(400)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = classifier.train_judge(x, y, epochs=2, seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)
    second = classifier.train_judge(x, y, epochs=2, seed=3)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    assert (classifier.predict(first, x) == y).float().mean() > 0.95


def test_the_judges_confidence_is_its_largest_softmax_probability():
    x, y = labelled_blobs(200)
    judge = classifier.train_judge(x, y, epochs=2, seed=0)
    labels, probs = classifier.judge_confidence(judge, x, batch_size=64)
    with torch.no_grad():
        softmax = torch.softmax(judge(x), dim=1)
    torch.testing.assert_close(probs, softmax.max(dim=1).values)
    assert torch.equal(labels, classifier.predict(judge, x))
    for threshold in (0.5, 0.9, 0.999):
        expected = (softmax.max(dim=1).values >= threshold).float().mean().item()
        assert classifier.confident_share(judge, x, threshold) == pytest.approx(expected)


@pytest.mark.parametrize("threshold", [0.0, 1.5, float("nan"), "0.9"])
def test_confident_share_refuses_a_threshold_that_is_not_a_probability(threshold):
    judge = classifier.Classifier()
    with pytest.raises(ValueError, match="threshold"):
        classifier.confident_share(judge, torch.rand(3, 784), threshold)


def test_accuracy_by_class_counts_each_true_class_and_says_nan_for_an_absent_one():
    y = torch.tensor([0, 0, 1, 1, 1, 3])
    predicted = torch.tensor([0, 1, 1, 1, 0, 3])
    accuracy = classifier.accuracy_by_class(predicted, y, num_classes=4)
    assert accuracy[[0, 1, 3]].tolist() == pytest.approx([0.5, 2 / 3, 1.0]) and accuracy[2].isnan()


def test_the_classification_loss_reports_its_error_rate():
    model = torch.nn.Sequential(torch.nn.Linear(784, 3))
    x, y = torch.rand(6, 784), torch.tensor([0, 1, 2, 0, 1, 2])
    parts = classifier.classification_loss(model, x, y)
    logits = model(x)
    assert parts["loss"].item() == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item())
    assert parts["error"].item() == pytest.approx((logits.argmax(1) != y).float().mean().item())


# -- style, figures and the explorer ---------------------------------------------------


def test_stroke_style_measures_ink_and_slant():
    upright, leaning = torch.zeros(28, 28), torch.zeros(28, 28)
    upright[4:24, 13:15] = 1
    for r in range(4, 24):
        leaning[r, 20 - (r - 4) // 2 : 22 - (r - 4) // 2] = 1  # the top to the right: italics
    style = metrics.stroke_style(torch.stack([upright, leaning, upright * 0.5]).reshape(3, 784))
    assert style[:, 0].tolist() == pytest.approx([40.0, 40.0, 20.0])
    assert style[0, 1].item() == pytest.approx(0.0, abs=1e-6) and style[2, 1].item() == pytest.approx(0.0, abs=1e-6)
    assert 0.35 < style[1, 1].item() < 0.6  # half a column per row: a slope of about 1/2


def test_the_accuracy_figure_draws_one_bar_per_class_and_series():
    fig = plotting.accuracy_by_class({"real": [1.0, 0.5, 0.8], "drawn": torch.tensor([0.9, 0.4, 0.7])})
    bars = fig.axes[0].patches
    assert len(bars) == 6 and [b.get_height() for b in bars[:3]] == pytest.approx([1.0, 0.5, 0.8])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["real (mean 76.7%)", "drawn (mean 66.7%)"]


def shown_image(explorer):
    return torch.tensor(explorer.figure.axes[0].images[0].get_array())


def test_the_latent_explorer_of_a_cvae_draws_the_label_its_dropdown_picks():
    model = small_cvae(latent_dim=4)
    explorer = widgets.LatentExplorer(model, label=7)
    assert explorer.controls[0] is explorer.label and explorer.label.index == 7
    expected = model.decode_probs(explorer.code()[None], 7).reshape(28, 28)
    assert torch.allclose(shown_image(explorer), expected, atol=1e-6)
    redraws = explorer.redraws
    explorer.label.index = 2  # what ipywidgets 7.7 syncs from the page
    assert explorer.redraws == redraws + 1  # one redraw per change, not two
    expected = model.decode_probs(explorer.code()[None], 2).reshape(28, 28)
    assert torch.allclose(shown_image(explorer), expected, atol=1e-6)
    explorer.sliders[0].value = 1.5
    expected = model.decode_probs(explorer.code()[None], 2).reshape(28, 28)
    assert torch.allclose(shown_image(explorer), expected, atol=1e-6)
    with pytest.raises(ValueError, match="label in 0..9"):
        widgets.LatentExplorer(model, label=12)
