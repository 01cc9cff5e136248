"""What the speed work must not change: seeded random weights stay the same on any number of threads."""

import pytest
import torch

from toolkit.vgg import weights


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(weights, "RANDOM_CHUNK", 1000)  # features.0.weight (1728 values) spans two streams


def test_random_weights_do_not_depend_on_the_number_of_threads(small_chunks):
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = weights.random_state_dict(3)
        torch.set_num_threads(4)
        four = weights.random_state_dict(3)
    finally:
        torch.set_num_threads(threads)
    assert one.keys() == four.keys() and all(torch.equal(one[k], four[k]) for k in one)


def test_each_chunk_of_random_weights_has_its_own_stream(small_chunks):
    w = weights.random_state_dict(0)["features.0.weight"].view(-1)
    assert not torch.equal(w[:700], w[1000:1700])  # a repeated seed would repeat the numbers
    assert abs(w.std().item() - (2 / (64 * 9)) ** 0.5) < 0.005 and abs(w.mean().item()) < 0.005
