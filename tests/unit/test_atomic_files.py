"""Atomic writes: an interrupted write never replaces a complete file.

Each writer of the package is interrupted half-way (its underlying writer
monkeypatched to write part of the data, then raise); the earlier complete
file must stay as it was and no temporary file may be left behind.

Authors
 * speechbrain-masksr contributors 2026
"""

import numpy as np
import pytest
import torch

from speechbrain_masksr.data.manifest import write_manifest
from speechbrain_masksr.data.token_cache import TokenCache
from speechbrain_masksr.inference import model_folder
from speechbrain_masksr.inference.model_folder import TEMPLATES, write_folder
from speechbrain_masksr.utils.files import atomic_open, atomic_write


def listing(folder):
    """Every name in ``folder`` (hidden ones included), recursively."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_atomic_write_keeps_the_earlier_file(tmp_path):
    path = tmp_path / "table.md"
    with atomic_open(path) as fout:
        fout.write("complete\n")
    for error in (RuntimeError("disk full"), KeyboardInterrupt()):
        with pytest.raises(type(error)):
            with atomic_open(path) as fout:
                fout.write("half")
                raise error
        assert path.read_text() == "complete\n"
        assert listing(tmp_path) == ["table.md"]
    with atomic_write(tmp_path / "a.wav") as tmp:  # same extension, hidden
        assert tmp.suffix == ".wav" and tmp.name.startswith(".")
        assert tmp.parent == tmp_path
        tmp.write_bytes(b"RIFF")
    with pytest.raises(ValueError, match="whole files"):
        with atomic_open(path, "a"):
            pass


def test_token_cache_write_is_atomic(tmp_path, monkeypatch):
    cache = TokenCache(tmp_path)
    cache.save("u", torch.ones(9, 4, dtype=torch.long))
    before = cache.path("u").read_bytes()
    real_save = np.save

    def save_part_then_die(file, arr, *args, **kwargs):
        real_save(file, arr[:, :1], *args, **kwargs)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(np, "save", save_part_then_die)
    with pytest.raises(KeyboardInterrupt):
        cache.save("u", torch.zeros(9, 100, dtype=torch.long))
    assert cache.path("u").read_bytes() == before
    assert listing(cache.path("u").parent) == ["u.npy"]
    monkeypatch.undo()
    assert cache.load("u").shape == (9, 4)


def test_model_folder_export_is_atomic(tmp_path, monkeypatch):
    template = TEMPLATES / "mae_enhancer_stft.yaml"
    out = write_folder(
        tmp_path / "m", template, {"depth": 2}, {"enhancer.ckpt": {"w": 1}}
    )
    before = {name: (out / name).read_bytes() for name in listing(out)}
    real_save = torch.save

    def save_part_then_die(obj, f, *args, **kwargs):
        real_save({"w": 0}, f, *args, **kwargs)
        with open(f, "r+b") as handle:
            handle.truncate(10)
        raise OSError("No space left on device")

    monkeypatch.setattr(model_folder.torch, "save", save_part_then_die)
    with pytest.raises(OSError, match="No space"):
        write_folder(
            out,
            template,
            {"depth": 3},
            {"enhancer.ckpt": {"w": 2}},
            overwrite=True,
        )
    assert {name: (out / name).read_bytes() for name in listing(out)} == before


def test_manifest_write_is_atomic(tmp_path, monkeypatch):
    import json

    path = tmp_path / "train.json"
    write_manifest({"a": {"wav": "a.wav"}}, path)
    before = path.read_bytes()

    def dump_then_die(obj, fout, **kwargs):
        fout.write('{"a": ')
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(json, "dump", dump_then_die)
    with pytest.raises(KeyboardInterrupt):
        write_manifest({"b": {"wav": "b.wav"}}, path)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["train.json"]
