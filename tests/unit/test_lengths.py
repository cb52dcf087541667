"""The one relative-to-absolute length rule (speechbrain_masksr.utils)."""

import pytest
import torch
from speechbrain.dataio.dataio import relative_time_to_absolute

from speechbrain_masksr.utils.lengths import length_mask, relative_to_absolute


def test_rounding_is_speechbrain_round_half_to_even():
    # exact binary fractions: x.5 ties go to the even neighbour
    rel = torch.tensor([1.0, 0.375, 0.625, 0.875, 0.5])
    out = relative_to_absolute(rel, 4)  # 4, 1.5, 2.5, 3.5, 2
    assert out.dtype == torch.long
    assert out.tolist() == [4, 2, 2, 4, 2]
    expected = relative_time_to_absolute(torch.zeros(5, 4), rel.double(), 1)
    assert out.tolist() == expected.long().tolist()
    # float32 inputs are widened to float64 before the product
    assert relative_to_absolute(torch.tensor([0.7]), 5).tolist() == [3]
    assert relative_to_absolute(torch.tensor([0.6]), 12000).tolist() == [7200]
    assert relative_to_absolute([2600 / 6000], 6000).tolist() == [2600]


def test_none_sequences_and_minimum_of_one():
    assert relative_to_absolute(None, 7, batch=3).tolist() == [7, 7, 7]
    assert relative_to_absolute([1.0, 0.25], 8, batch=2).tolist() == [8, 2]
    # a positive length never rounds to an empty item
    assert relative_to_absolute(torch.tensor([1e-6]), 100).tolist() == [1]
    assert relative_to_absolute(torch.tensor([1.0]), 0).tolist() == [0]


@pytest.mark.parametrize(
    "bad", [[0.0], [-0.1], [1.0001], [3.0], [float("nan")], [float("inf")]]
)
def test_values_outside_0_1_raise(bad):
    with pytest.raises(
        ValueError, match=r"values in \(0, 1\], got shape \(1,\)"
    ):
        relative_to_absolute(torch.tensor(bad), 10)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match=r"\[batch\] = \[2\].*\(3,\)"):
        relative_to_absolute(torch.ones(3), 10, batch=2)
    with pytest.raises(ValueError, match=r"got shape \(2, 1\)"):
        relative_to_absolute(torch.ones(2, 1), 10)
    with pytest.raises(ValueError, match="needs batch"):
        relative_to_absolute(None, 10)


def test_length_mask_values():
    mask = length_mask(relative_to_absolute([1.0, 0.5, 0.1], 4), 4)
    assert mask.dtype == torch.bool
    assert mask.int().tolist() == [
        [1, 1, 1, 1],
        [1, 1, 0, 0],
        [1, 0, 0, 0],
    ]
    assert length_mask(None, 4) is None
    assert length_mask(torch.tensor([2]), 3, device="cpu").device.type == "cpu"
