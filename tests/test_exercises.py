"""Each check passes its reference solution, fails known-wrong answers with the
right hint, says "not attempted" for the stub, and never raises."""

import pytest
import torch
import torch.nn.functional as F

from vaelib import exercises


def stub(*args):
    raise NotImplementedError


def crashes(*args):
    return args[0].nonexistent


def assert_common_behaviour(check, solution):
    assert check(solution).passed
    assert check(stub).status == "not attempted" and "not attempted" in repr(check(stub))
    result = check(crashes)
    assert result.status == "fail" and "AttributeError" in result.message
    assert check(42).status == "fail"
    assert repr(check(solution)).endswith(": passed. Well done!")


# -- reconstruction_error ---------------------------------------------------


def reconstruction_solution(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


def test_reconstruction_error_check():
    assert_common_behaviour(exercises.check_reconstruction_error, reconstruction_solution)


def test_reconstruction_error_by_probabilities_meets_log_zero():
    def via_probabilities(x, logits):  # right formula, unstable: log(0) for large logits
        p = torch.sigmoid(logits)
        return -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)

    result = exercises.check_reconstruction_error(via_probabilities)
    assert result.status == "fail" and "inf or NaN" in result.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, l: reconstruction_solution(x, l) / 784, "averaged over the 784 pixels"),
        (lambda x, l: F.binary_cross_entropy_with_logits(l, x), "averaged over everything"),
        (lambda x, l: reconstruction_solution(x, l).mean(), "one number for the whole batch"),
        (lambda x, l: reconstruction_solution(x, l).sum(), "summed over the batch"),
        (lambda x, l: -reconstruction_solution(x, l), "sign is flipped"),
        (lambda x, l: ((torch.sigmoid(l) - x) ** 2).sum(1), "squared error"),
        (lambda x, l: F.binary_cross_entropy(l.clamp(0, 1), x, reduction="none").sum(1), "returns logits"),
        (lambda x, l: torch.zeros(len(x)), "Expected tensor of shape [5]"),
    ],
)
def test_reconstruction_error_hints(wrong, hint):
    result = exercises.check_reconstruction_error(wrong)
    assert result.status == "fail" and hint in result.message


# -- roc_auc ----------------------------------------------------------------


def auc_solution(normal, anomalous):
    diff = anomalous[:, None] - normal[None, :]
    return ((diff > 0).float() + 0.5 * (diff == 0).float()).mean().item()


def test_roc_auc_check():
    assert_common_behaviour(exercises.check_roc_auc, auc_solution)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, a: 1 - auc_solution(n, a), "chance that a *normal* image scores higher"),
        (lambda n, a: (a[:, None] > n[None, :]).float().mean().item(), "ties count as one half"),
        (lambda n, a: (a[:, None] >= n[None, :]).float().mean().item(), "a tie is not a win"),
        (lambda n, a: 0.5, "Expected 0.8"),
    ],
)
def test_roc_auc_hints(wrong, hint):
    result = exercises.check_roc_auc(wrong)
    assert result.status == "fail" and hint in result.message


# -- standardize ------------------------------------------------------------


def standardize_solution(train, test):
    mean, std = train.mean(0), train.std(0)
    return (train - mean) / std, (test - mean) / std


def test_standardize_check():
    assert_common_behaviour(exercises.check_standardize, standardize_solution)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda tr, te: ((tr - tr.mean(0)) / tr.std(0), (te - te.mean(0)) / te.std(0)), "its own mean and std"),
        (lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / tr.std()), "one mean and one std"),
        (lambda tr, te: (tr - tr.mean(0), te - tr.mean(0)), "did not divide"),
        (lambda tr, te: (tr, te), "Expected ("),
    ],
)
def test_standardize_hints(wrong, hint):
    result = exercises.check_standardize(wrong)
    assert result.status == "fail" and hint in result.message
