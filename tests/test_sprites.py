import time

import pytest
import torch

from vaelib import sprites


@pytest.fixture(scope="module")
def data():
    return sprites.make_sprites(size=32, n_scales=3, n_rotations=4, n_positions=5)


def test_the_data_set_is_the_full_grid_of_factors(data):
    assert len(data) == 3 * 3 * 4 * 5 * 5 and data.factor_sizes == (3, 3, 4, 5, 5)
    assert len({tuple(f) for f in data.factors.tolist()}) == len(data)
    assert data.x.shape == (len(data), 32 * 32)


def test_pixels_are_binary_and_every_sprite_is_visible(data):
    assert set(data.x.unique().tolist()) <= {0.0, 1.0}
    assert (data.x.sum(1) > 10).all()  # no empty or near-empty image


def test_each_factor_sweeps_exactly_its_range(data):
    for k, n in enumerate(data.factor_sizes):
        assert sorted(data.factors[:, k].unique().tolist()) == list(range(n))
    values = data.values
    assert sorted(values[:, 0].unique().tolist()) == [0.0, 1.0, 2.0]
    assert torch.allclose(values[:, 1].unique(), torch.tensor([0.5, 0.75, 1.0]))
    assert torch.allclose(values[:, 2].unique(), torch.tensor([0.0, 1.0, 2.0, 3.0]) * (torch.pi / 2) / 4)
    assert torch.allclose(values[:, 3].unique(), torch.linspace(0.3, 0.7, 5))


def test_the_same_seed_gives_the_same_data_and_another_seed_another_order():
    a = sprites.make_sprites(size=16, n_scales=2, n_rotations=2, n_positions=3, seed=1)
    b = sprites.make_sprites(size=16, n_scales=2, n_rotations=2, n_positions=3, seed=1)
    c = sprites.make_sprites(size=16, n_scales=2, n_rotations=2, n_positions=3, seed=2)
    assert torch.equal(a.x, b.x) and torch.equal(a.factors, b.factors)
    assert not torch.equal(a.factors, c.factors)


def test_factors_move_the_picture_as_they_say(data):
    def image(shape, scale, rotation, x, y):
        index = ((data.factors == torch.tensor([shape, scale, rotation, x, y])).all(1)).nonzero().item()
        return data.x[index].reshape(32, 32)

    def centre(img):
        rows, cols = img.nonzero(as_tuple=True)
        return cols.float().mean().item(), rows.float().mean().item()

    left, right = centre(image(0, 1, 0, 0, 2)), centre(image(0, 1, 0, 4, 2))
    assert right[0] - left[0] > 10 and abs(right[1] - left[1]) < 1  # x moves right only
    top, bottom = centre(image(1, 1, 0, 2, 4)), centre(image(1, 1, 0, 2, 0))
    assert bottom[1] - top[1] > 10  # larger y is higher up in the picture
    assert image(2, 2, 0, 2, 2).sum() > 1.5 * image(2, 0, 0, 2, 2).sum()  # scale grows the area
    assert not torch.equal(image(1, 2, 0, 2, 2), image(1, 2, 1, 2, 2))  # rotation turns the ellipse


def test_pixels_changed_counts_the_pixels_one_step_of_a_factor_moves(data):
    changed = sprites.pixels_changed(data)
    assert list(changed) == list(sprites.FACTORS)
    # By hand for x: every pair of sprites one x-step apart, the others fixed.
    counts = []
    for i, f in enumerate(data.factors.tolist()):
        if f[3] + 1 < 5:
            j = ((data.factors == torch.tensor([*f[:3], f[3] + 1, f[4]])).all(1)).nonzero().item()
            counts.append((data.x[i] != data.x[j]).sum().item())
    assert changed["x"] == pytest.approx(sum(counts) / len(counts))
    assert changed["rotation"] < changed["x"]  # a quarter turn in 4 steps moves fewer pixels than a step across
    single = sprites.make_sprites(size=16, n_scales=1, n_rotations=2, n_positions=2)
    assert "scale" not in sprites.pixels_changed(single)  # one value: no step to take


def test_renders_in_seconds():
    start = time.perf_counter()
    full = sprites.make_sprites()
    assert time.perf_counter() - start < 10 and len(full) == 3 * 4 * 8 * 10 * 10


def test_moments_find_the_position_and_grow_with_the_scale_of_a_sprite():
    data = sprites.make_sprites(size=32, n_scales=3, n_rotations=2, n_positions=4)
    ink, x, y = sprites.moments(data.x, data.size).T
    symmetric = data.factors[:, 0] < 2  # squares and ellipses: the centre of their ink is (x, y)
    torch.testing.assert_close(x[symmetric], data.values[symmetric, 3], atol=0.02, rtol=0)
    torch.testing.assert_close(y[symmetric], data.values[symmetric, 4], atol=0.02, rtol=0)
    for shape in range(3):
        mine = data.factors[:, 0] == shape
        means = [ink[mine & (data.factors[:, 1] == k)].mean() for k in range(3)]
        assert means[0] < means[1] < means[2]  # more ink at a larger scale
    torch.testing.assert_close(ink, data.x.sum(dim=1))
