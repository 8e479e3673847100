"""The one pixel conversion: uint8 [0, 255] <-> float [-1, 1]."""

import numpy as np
import torch

from ganforge.pixels import from_uint8, to_uint8


def test_every_uint8_value_round_trips() -> None:
    x = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    f = from_uint8(x)
    assert f.dtype == torch.float32 and float(f.min()) == -1.0 and float(f.max()) == 1.0
    np.testing.assert_array_equal(to_uint8(f), x.numpy())
    np.testing.assert_array_equal(to_uint8(f.double().numpy()), x.numpy())


def test_out_of_range_values_are_clamped_and_arrays_accepted() -> None:
    out = to_uint8(np.array([-3.0, -1.0, 0.0, 1.0, 7.5]))
    assert out.dtype == np.uint8 and out.tolist() == [0, 0, 128, 255, 255]
    assert to_uint8(torch.tensor([0.0], dtype=torch.bfloat16)).tolist() == [128]
