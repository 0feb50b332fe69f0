import pytest

from vaelib import side_by_side


def test_each_job_runs_in_a_process_of_its_own_and_comes_back_in_order():
    done = list(side_by_side.run("vaelib.side_by_side:cores", [{}, {}, {}]))
    assert [index for index, _ in done] == [0, 1, 2]
    assert all(result == side_by_side.cores() for _, result in done)  # each process sees the same cores


def test_only_functions_of_vaelib_run():
    with pytest.raises(ValueError, match="a function of vaelib"):
        list(side_by_side.run("os:system", [{"command": "true"}]))
    with pytest.raises(ValueError, match="a function of vaelib"):
        list(side_by_side.run("vaelib.side_by_side", [{}]))


def test_a_failed_job_says_which_and_why():
    with pytest.raises(RuntimeError, match=r"job 0 \(vaelib.side_by_side:cores\) failed(.|\n)*unexpected keyword"):
        list(side_by_side.run("vaelib.side_by_side:cores", [{"wrong": 1}]))
