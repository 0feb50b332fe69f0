"""source.show puts the package's own code on the page."""

import inspect

import pytest

from vaelib import gaussian, models, source


def test_the_page_shows_exactly_the_package_code():
    shown = source.show(models.VAE, gaussian.reparameterize)
    assert (
        repr(shown)
        == inspect.getsource(models.VAE).rstrip()
        + "\n\n\n"
        + inspect.getsource(gaussian.reparameterize).rstrip()
        + "\n"
    )
    page = shown._repr_html_()
    assert "vaelib.models.VAE, vaelib.gaussian.reparameterize" in page
    assert "white-space: pre-wrap" in page  # long lines wrap, never scroll sideways
    assert "to_logvar" in page and "<script" not in page


def test_show_refuses_what_has_no_source():
    with pytest.raises(TypeError, match="functions and classes"):
        source.show(3)
    with pytest.raises(TypeError, match="at least one"):
        source.show()
