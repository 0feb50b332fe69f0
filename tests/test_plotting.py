"""Every figure of the book is made by a function here, and each is called."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from vaelib import plotting
from vaelib.gaussian import normal_pdf
from vaelib.train import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def shown_images(fig):
    return [im for ax in fig.axes for im in ax.images]


def test_image_grid_shows_every_image(images):
    fig = plotting.image_grid(images[:7], ncols=4, title="t")
    assert len(fig.axes) == 8 and len(shown_images(fig)) == 7
    assert shown_images(fig)[0].get_array().shape == (28, 28)


def test_reconstructions_put_originals_on_top(images):
    fig = plotting.reconstructions(images, 1 - images, n=5)
    assert len(shown_images(fig)) == 10
    top, bottom = fig.axes[0], fig.axes[5]
    assert top.get_ylabel() == "original" and bottom.get_ylabel() == "reconstruction"
    assert torch.allclose(torch.tensor(top.images[0].get_array()), images[0].reshape(28, 28))
    assert torch.allclose(torch.tensor(bottom.images[0].get_array()), 1 - images[0].reshape(28, 28))


def test_image_rows_labels_each_row(images):
    fig = plotting.image_rows({"noisy": images[:3], "clean": images[:2]})
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["noisy", "clean"]
    assert len(shown_images(fig)) == 5


def test_loss_curves_draw_train_and_test():
    history = History(train=[{"loss": 3.0}, {"loss": 2.0}], test=[{"loss": 3.5}, {"loss": 2.5}])
    (ax,) = plotting.loss_curves(history).axes
    assert [list(line.get_ydata()) for line in ax.lines] == [[3.0, 2.0], [3.5, 2.5]]


def test_latent_scatter_colours_by_label():
    z = torch.randn(50, 2)
    labels = torch.arange(50) % 5
    (ax,) = plotting.latent_scatter(z, labels, class_names=list("abcde")).axes
    assert len(ax.collections) == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list("abcde")
    with pytest.raises(ValueError, match="2-D"):
        plotting.latent_scatter(torch.randn(5, 3), labels[:5])


def test_error_histograms_one_per_set_on_a_log_scale():
    a, b = torch.rand(100) * 50 + 50, torch.rand(30) * 5000 + 500
    (ax,) = plotting.error_histograms({"a": a, "b": b}).axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_xscale() == "log"
    assert sum(p.get_height() for p in ax.patches) == 130  # every image counted once
    with pytest.raises(ValueError, match="positive"):
        plotting.error_histograms({"a": torch.tensor([0.0, 1.0])})


def test_autoencoder_diagram_draws_each_layer():
    fig = plotting.autoencoder_diagram(784, (512, 256), 16)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.texts]
    for size in ["784", "512", "256", "16"]:
        assert size in labels
    assert any("bottleneck" in t for t in labels) and "encoder" in labels and "decoder" in labels
    bars = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    assert len(bars) == 7


def test_normal_curve_marks_mu_and_sigma():
    fig = plotting.normal_curve(1.0, 0.5, others=[(0.0, 1.0)])
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert "μ" in texts and "σ" in texts
    x, y = ax.lines[-1].get_data()
    assert abs(x[y.argmax()] - 1.0) < 0.02 and abs(y.max() - 0.7979) < 1e-3
    with pytest.raises(ValueError, match="sigma must be positive"):
        plotting.normal_curve(0.0, -1.0)


def shaded_spans(ax):
    """The x-extent of each filled region of an axes, in drawing order."""
    spans = []
    for region in ax.collections:
        if isinstance(region, matplotlib.collections.PolyCollection):
            x = region.get_paths()[0].vertices[:, 0]
            spans.append((x.min(), x.max()))
    return spans


@pytest.mark.parametrize(("mu", "sigma"), [(1.0, 0.8), (-0.5, 1.7)])
def test_normal_curve_shades_one_and_two_sigma_and_says_which_is_which(mu, sigma):
    """Figure 2.1's caption: mu +- sigma and mu +- 2 sigma shaded, the wider band lighter,
    each named in the legend; under the curve, down to zero."""
    fig = plotting.normal_curve(mu, sigma, others=[(0.0, 1.0)])
    (ax,) = fig.axes
    bands = [c for c in ax.collections if isinstance(c, matplotlib.collections.PolyCollection)]
    assert shaded_spans(ax) == [
        (pytest.approx(mu - sigma, abs=1e-6), pytest.approx(mu + sigma, abs=1e-6)),
        (pytest.approx(mu - 2 * sigma, abs=1e-6), pytest.approx(mu + 2 * sigma, abs=1e-6)),
    ]
    assert bands[1].get_alpha() < bands[0].get_alpha(), "the two-sigma band is not the lighter one"
    for band in bands:
        outline = band.get_paths()[0].vertices
        assert outline[:, 1].min() == pytest.approx(0.0)
        top = outline[outline[:, 1] > 0]
        assert top[:, 1] == pytest.approx(normal_pdf(torch.tensor(top[:, 0]), mu, sigma).numpy(), rel=1e-4)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-2:] == ["68.3% within μ ± σ", "95.4% within μ ± 2σ"]


def test_normal_curve_cuts_its_bands_at_the_plot_edge():
    (ax,) = plotting.normal_curve(0.0, 2.5, xlim=(-4.0, 4.0)).axes
    assert shaded_spans(ax) == [(pytest.approx(-2.5), pytest.approx(2.5)), (pytest.approx(-4.0), pytest.approx(4.0))]


def test_diagonal_gaussian_draws_axis_aligned_ellipses():
    fig = plotting.diagonal_gaussian([0.0, 1.0], [2.0, 0.5], torch.randn(50, 2))
    ellipses = [p for p in fig.axes[0].patches if isinstance(p, matplotlib.patches.Ellipse)]
    assert [(e.width, e.height, e.angle) for e in ellipses] == [(4.0, 1.0, 0.0), (8.0, 2.0, 0.0), (12.0, 3.0, 0.0)]
    ax = fig.axes[0]
    assert ax.get_xlim()[1] >= 6.0 and ax.get_ylim()[1] >= 2.5  # the 3-sigma ellipse is not clipped
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["1σ ellipse", "2σ ellipse", "3σ ellipse"]


def test_kl_error_scaling_and_estimator_variance_plot_their_data():
    (ax,) = plotting.kl_error_scaling([10, 100], [0.3, 0.1], 1.0).axes
    assert list(ax.lines[0].get_ydata()) == [0.3, 0.1]
    theory = ax.lines[1].get_ydata()  # sqrt(2 / pi) * std / sqrt(n): ten times the samples, sqrt(10) less error
    assert theory[0] == pytest.approx((2 / math.pi) ** 0.5 / 10**0.5) and theory[0] / theory[1] == pytest.approx(
        10**0.5
    )
    (ax,) = plotting.estimator_variance([1, 10], {"a": [10.0, 1.0], "b": [1.0, 0.1]}).axes
    assert ax.get_yscale() == "log" and len(ax.lines) == 2


def test_vae_diagram_names_its_parts():
    texts = [t.get_text() for t in plotting.vae_diagram(784, (400,), 20).axes[0].texts]
    for part in ["encoder\n784 → 400", "μ\n20", "z\n20", "decoder\n20 → 400 → 784", "z = μ + σ ⊙ ε"]:
        assert part in texts


def test_latent_activity_one_bar_per_dimension_and_model_numbered_from_one():
    (ax,) = plotting.latent_activity({"a": torch.rand(5), "b": torch.rand(5)}, threshold=0.01).axes
    assert len(ax.patches) == 10 and ax.get_yscale() == "log"
    assert list(ax.get_xticks()) == [1, 2, 3, 4, 5]  # z_1 ... z_5, as the text numbers them


def test_path_norms_plots_the_norm_along_each_path():
    path = torch.tensor([[3.0, 4.0], [0.0, 1.0], [6.0, 8.0]])
    (ax,) = plotting.path_norms({"linear": path}, typical=(4.0, 6.0)).axes
    assert list(ax.lines[0].get_ydata()) == [5.0, 1.0, 10.0]
    assert list(ax.lines[0].get_xdata()) == [0.0, 0.5, 1.0]


def test_posterior_ellipses_draw_two_sigma_ellipses_over_the_prior():
    mu, logvar = torch.tensor([[0.0, 1.0], [1.0, -1.0]]), torch.log(torch.tensor([[0.25, 1.0], [0.01, 0.04]]))
    (ax,) = plotting.posterior_ellipses(mu, logvar, torch.tensor([3, 7])).axes
    ellipses = [p for p in ax.patches if type(p) is matplotlib.patches.Ellipse]
    assert [(e.center, e.width, e.height) for e in ellipses] == [
        ((0.0, 1.0), pytest.approx(2.0), pytest.approx(4.0)),
        ((1.0, -1.0), pytest.approx(0.4), pytest.approx(0.8)),
    ]
    circles = [p.get_radius() for p in ax.patches if isinstance(p, matplotlib.patches.Circle)]
    assert circles == [1, 2, 3]
    with pytest.raises(ValueError, match="shape"):
        plotting.posterior_ellipses(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0, 1]))


def test_per_epoch_draws_every_run_and_the_median():
    (ax,) = plotting.per_epoch({"a": [[1, 2, 3], [3, 2, 1], [2, 2, 2]]}, ylabel="units").axes
    assert len(ax.lines) == 4
    assert list(ax.lines[-1].get_ydata()) == [2, 2, 2]


def sweep_runs():
    return [
        {
            "beta": b,
            "seed": seed,
            "recon": 90 + 5 * i + seed,
            "kl": 30 - 5 * i,
            "active": 10 - i,
            "mig": 0.1 * i + 0.01 * seed,
            "gaps": {"x": 0.2 * i, "y": 0.1},
        }
        for i, b in enumerate([0.5, 1, 2])
        for seed in range(3)
    ]


def test_beta_sweep_draws_each_seed_the_median_and_the_spread():
    fig = plotting.beta_sweep(sweep_runs(), factors=["x", "y"])
    assert len(fig.axes) == 4
    recon_median = fig.axes[0].lines[3]  # after the three betas' dots
    assert list(recon_median.get_xdata()) == [0.5, 1, 2] and list(recon_median.get_ydata()) == [91, 96, 101]
    assert list(fig.axes[0].lines[0].get_ydata()) == [90, 91, 92]  # beta = 0.5, one dot per seed
    band = fig.axes[2].collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.0) and band.max() == pytest.approx(0.22)  # lowest to highest seed
    assert [t.get_text() for t in fig.axes[3].get_legend().get_texts()] == ["x", "y"]
    assert len(plotting.beta_sweep(sweep_runs()).axes) == 3


def test_traversals_one_panel_per_model():
    low, high = torch.rand(3, 5, 32 * 32), torch.rand(3, 5, 32 * 32)
    fig = plotting.traversals(
        {"β = 1": low, "β = 8": high}, row_labels={"β = 1": ["z1", "z2", "z3"], "β = 8": ["z4", "z2", "z9"]}
    )
    assert [subfigure.get_suptitle() for subfigure in fig.subfigs] == ["β = 1", "β = 8"]
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["z1", "z2", "z3", "z4", "z2", "z9"]
    assert sum(len(ax.images) for ax in fig.axes) == 30
    assert fig.axes[0].images[0].get_array().shape == (32, 32)


def test_traversals_label_columns_and_hang_short_panels_from_the_top():
    fig = plotting.traversals({"a": torch.rand(4, 3, 64), "b": torch.rand(2, 3, 64)}, col_labels=["-1", "0", "1"])
    assert [ax.get_title() for ax in fig.axes[:3]] == ["-1", "0", "1"]
    assert [ax.get_title() for ax in fig.axes[12:15]] == ["-1", "0", "1"]
    tops = [ax.get_position().y1 for ax in (fig.axes[0], fig.axes[12])]
    assert tops[0] == pytest.approx(tops[1], abs=0.02)


def test_prior_and_codes_shade_q_and_outline_p_and_letter_the_holes():
    from vaelib.aggregate_posterior import DensityMap

    axis = torch.linspace(-3, 3, 25)
    z2, z1 = torch.meshgrid(axis, axis, indexing="ij")
    log_p = -0.5 * (z1**2 + z2**2) - math.log(2 * math.pi)
    log_q = -0.5 * ((z1 - 1) ** 2 + z2**2) / 0.25 - math.log(2 * math.pi * 0.25)
    fig = plotting.prior_and_codes(DensityMap(axis, axis, log_p, log_q), torch.tensor([[-1.0, 0.5], [0.0, -1.5]]))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["A", "B"]
    assert ax.get_legend() is not None and "holes" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert len(fig.axes) == 2, "the map and its colour bar"
    assert len(plotting.prior_and_codes(DensityMap(axis, axis, log_p, log_q)).axes[0].texts) == 0


def test_code_on_the_map_marks_the_code_and_shows_its_image():
    from vaelib.aggregate_posterior import DensityMap

    axis = torch.linspace(-3, 3, 7)
    z2, z1 = torch.meshgrid(axis, axis, indexing="ij")
    log_p = -0.5 * (z1**2 + z2**2)
    fig = plotting.code_on_the_map(DensityMap(axis, axis, log_p, log_p - z1), [1.0, -2.0], torch.rand(784))
    ax, image = fig.axes[:2]
    assert list(ax.lines[-1].get_xdata()) == [1.0] and list(ax.lines[-1].get_ydata()) == [-2.0]
    assert image.images[0].get_array().shape == (28, 28)
    assert image.get_title() == "z = (1.0, -2.0)\nlog p(z) = -2.5, log q(z) = -3.5"
