"""The claim checks that hold the book's sentences to its outputs."""

import json

import pytest
import torch

from vaelib import claims


@pytest.fixture
def full(monkeypatch):
    monkeypatch.delenv("VAELIB_FAST", raising=False)
    monkeypatch.delenv("VAELIB_CLAIMS", raising=False)


def test_a_claim_that_holds_passes_silently(full, capsys):
    assert claims.check(3 > 2, "three is more than two", 3, 2)
    assert capsys.readouterr().out == ""


def test_a_false_claim_fails_the_strict_build_and_names_the_sentence(full, monkeypatch):
    monkeypatch.setenv("VAELIB_CLAIMS", "strict")
    with pytest.raises(claims.ClaimError, match="the codes beat the pixels.*0.81.*0.85"):
        claims.check(0.81 > 0.85, "the codes beat the pixels", 0.81, torch.tensor(0.85))


def test_a_false_claim_only_prints_a_note_for_a_reader(full, capsys):
    assert claims.check(torch.tensor(False), "the estimate rises with K", 1.0) is False
    out = capsys.readouterr().out
    assert "the estimate rises with K" in out and "Note:" in out


def test_claims_are_not_checked_in_fast_mode(monkeypatch):
    monkeypatch.setenv("VAELIB_FAST", "1")
    monkeypatch.setenv("VAELIB_CLAIMS", "strict")
    assert claims.mode() == "skip"
    assert claims.check(False, "a sentence about full settings")


def test_claim_settings_are_validated(full, monkeypatch):
    monkeypatch.setenv("VAELIB_CLAIMS", "loud")
    with pytest.raises(ValueError, match="VAELIB_CLAIMS"):
        claims.mode()
    monkeypatch.setenv("VAELIB_CLAIMS", "strict")
    with pytest.raises(TypeError, match="sentence"):
        claims.check(True, "")


def test_claims_of_a_section_run_at_full_settings_and_not_in_fast_mode(full, monkeypatch, capsys):
    ran = []

    @claims.at_full_settings
    def section():
        ran.append(True)
        claims.check(True, "a sentence")

    assert ran == [True]
    monkeypatch.setenv("VAELIB_FAST", "1")

    @claims.at_full_settings
    def too_short_to_check():
        return [1][2]  # a curve of one epoch has no third epoch

    assert ran == [True]


def test_an_error_inside_the_claims_is_a_failed_claim(full, monkeypatch, capsys):
    def broken():
        return [1][2]

    claims.at_full_settings(broken)  # a reader: a note, and the notebook goes on
    assert "could not be checked: IndexError" in capsys.readouterr().out
    monkeypatch.setenv("VAELIB_CLAIMS", "strict")
    with pytest.raises(claims.ClaimError, match="IndexError"):
        claims.at_full_settings(broken)
    with pytest.raises(claims.ClaimError, match="a false sentence"):
        claims.at_full_settings(lambda: claims.check(False, "a false sentence"))


def test_a_report_lists_every_false_claim_and_never_stops(full, monkeypatch, tmp_path, capsys):
    report = tmp_path / "claims.jsonl"
    monkeypatch.setenv("VAELIB_CLAIMS", "report")
    monkeypatch.setenv("VAELIB_CLAIMS_REPORT", str(report))
    assert claims.check(False, "the first sentence", 0.5) is False
    assert claims.check(True, "a sentence that holds")
    assert claims.check(torch.tensor(False), "the second sentence", torch.tensor(2.0), 3) is False

    @claims.at_full_settings
    def section():
        raise KeyError("third epoch")

    lines = [json.loads(line) for line in report.read_text().splitlines()]
    said = [line["sentence"] for line in lines]
    assert said == ["the first sentence", "the second sentence", "(this cell's claims could not be checked)"]
    assert lines[0]["measured"] == "0.5" and lines[1]["measured"] == "2, 3" and "KeyError" in lines[2]["measured"]
    assert capsys.readouterr().out.count("Note:") == 3, "a reader's notes too"
    monkeypatch.delenv("VAELIB_CLAIMS_REPORT")
    with pytest.raises(ValueError, match="VAELIB_CLAIMS_REPORT"):
        claims.mode()
