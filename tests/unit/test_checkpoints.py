"""The one strict checkpoint loader (speechbrain_masksr.utils.checkpoints)."""

import pytest
import torch

from speechbrain_masksr.inference import restoration
from speechbrain_masksr.utils.checkpoints import (
    ModelFileError,
    load_state_dict_strict,
    read_state_dict,
)


def test_error_is_file_and_runtime_error():
    assert issubclass(ModelFileError, FileNotFoundError)
    assert issubclass(ModelFileError, RuntimeError)
    assert restoration.ModelFileError is ModelFileError  # re-export


def test_read_state_dict_errors_name_the_file(tmp_path):
    path = tmp_path / "w.ckpt"
    torch.save({"a": torch.arange(3)}, path)
    assert torch.equal(read_state_dict(path)["a"], torch.arange(3))
    with pytest.raises(ModelFileError, match=r"nope\.ckpt.*not found"):
        read_state_dict(tmp_path / "nope.ckpt")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(
        ModelFileError, match=r"junk\.ckpt.*weights_only.*corrupt"
    ):
        read_state_dict(junk)
    torch.save([1, 2], tmp_path / "list.ckpt")
    with pytest.raises(
        ModelFileError, match=r"list\.ckpt: not a state dict. Hi"
    ):
        read_state_dict(tmp_path / "list.ckpt", hint="Hi")


def test_load_state_dict_strict_lists_every_mismatch():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    good = {k: v.clone() + 1 for k, v in model.state_dict().items()}
    load_state_dict_strict(model, good, "good.ckpt")
    assert torch.equal(model[0].weight, good["0.weight"])
    bad = dict(good)
    del bad["1.bias"]
    bad["extra"] = torch.zeros(1)
    bad["0.weight"] = torch.zeros(4, 2)
    with pytest.raises(ModelFileError) as err:
        load_state_dict_strict(model, bad, "bad.ckpt", "the net", "Hint.")
    assert str(err.value) == (
        "bad.ckpt does not match the net: missing keys ['1.bias'], "
        "unexpected keys ['extra'], shape mismatches "
        "['0.weight: (4, 2) in file, (3, 2) in model']. Hint."
    )
    # nothing was loaded
    assert torch.equal(model[0].weight, good["0.weight"])


def test_long_key_lists_are_cut_with_a_count():
    model = torch.nn.ModuleList(torch.nn.Linear(1, 1) for _ in range(8))
    with pytest.raises(ModelFileError, match=r"\(\+6 more\)"):
        load_state_dict_strict(model, {}, "empty")
