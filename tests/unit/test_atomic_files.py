"""Atomic writes: an interrupted write never replaces a complete file.

Each writer of the package is interrupted half-way (its underlying writer
monkeypatched to write part of the data, then raise); the earlier complete
file must stay as it was and no temporary file may be left behind. A writer
killed outright leaves its temporary file: it is removed later only once no
live process holds it; claims are exclusive while their process lives.

Authors
 * speechbrain-masksr contributors 2026
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from speechbrain_masksr.data.manifest import write_manifest
from speechbrain_masksr.data.token_cache import TokenCache
from speechbrain_masksr.errors import OutputError, OutputTakenError
from speechbrain_masksr.inference import model_folder
from speechbrain_masksr.inference.model_folder import TEMPLATES, write_folder
from speechbrain_masksr.utils.files import (
    atomic_open,
    atomic_write,
    check_output_path,
    claim_output,
    claim_path,
    remove_stale_files,
)


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
    cache = TokenCache(tmp_path, sample_rate=44100, hop_length=512)
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


# --------------------------------------------------------------------------
# Killed writers, claims and exclusive publishing
# --------------------------------------------------------------------------
def _run_child(code, *args):
    """Start ``python -c code args``; return it once it printed its line."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line, "the child process failed before its first line"
    return proc, line


KILLED_WRITER = """
import os, signal, sys
from speechbrain_masksr.utils.files import atomic_write
with atomic_write(sys.argv[1]) as tmp:
    tmp.write_bytes(b"RIFF, half of the data")
    print(tmp, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""

CLAIM_HOLDER = """
import os, sys
from speechbrain_masksr.utils.files import claim_output
with claim_output(sys.argv[1]):
    print(os.getpid(), flush=True)
    sys.stdin.readline()
"""


def test_temp_files_of_killed_writers_are_removed_live_ones_kept(tmp_path):
    proc, line = _run_child(KILLED_WRITER, tmp_path / "a.wav")
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    stale = Path(line)
    assert stale.read_bytes() == b"RIFF, half of the data"  # left behind
    assert stale.name.startswith(".a.") and stale.name.endswith(".tmp.wav")
    (tmp_path / ".notes.1234abcd.txt").write_text("not our pattern")
    (tmp_path / ".b.1234abcd.tmp.csv").write_text("another suffix")
    with atomic_write(tmp_path / "c.wav") as live:  # a live writer
        live.write_bytes(b"RIFF")
        # too recent: an unlocked temp file newer than the run is only listed
        removed, left = remove_stale_files(tmp_path, (".wav",), before=0)
        assert removed == [] and left == [stale]
        removed, left = remove_stale_files(
            tmp_path, (".wav",), before=time.time() + 1
        )
        assert removed == [stale] and left == []
        assert live.exists()  # locked by its (live) writer: kept
    assert not stale.exists()
    assert listing(tmp_path) == [
        ".b.1234abcd.tmp.csv",
        ".notes.1234abcd.txt",
        "c.wav",
    ]


def test_a_claim_is_exclusive_and_dies_with_its_process(tmp_path):
    out = tmp_path / "out" / "a.wav"
    proc, pid = _run_child(CLAIM_HOLDER, out)
    try:
        with pytest.raises(OutputTakenError) as err:
            with claim_output(out):
                pass
        assert str(out) in str(err.value) and f"process {pid}" in str(err.value)
        assert isinstance(err.value, FileExistsError)
    finally:
        proc.kill()  # killed while holding it: the claim file stays
        proc.wait(timeout=60)
    assert claim_path(out).exists()
    with claim_output(out) as claim:  # a dead process's claim is taken over
        assert claim.read_text().strip() == str(os.getpid())
    assert not claim_path(out).exists()  # released and removed
    # a stale claim is also removed by the cleanup of stale files
    claim_path(out).write_text("999999999\n")
    removed, _ = remove_stale_files(out.parent, (".wav",), time.time() + 1)
    assert removed == [claim_path(out)]


def test_exclusive_publish_never_replaces_a_file_written_meanwhile(tmp_path):
    path = tmp_path / "a.wav"
    with pytest.raises(OutputTakenError, match="a.wav was created by another"):
        with atomic_write(path, overwrite=False) as tmp:
            tmp.write_bytes(b"second run")
            path.write_bytes(b"first run")  # another writer finishes first
    assert path.read_bytes() == b"first run"
    assert listing(tmp_path) == ["a.wav"]  # no temporary file left
    with atomic_write(tmp_path / "b.wav", overwrite=False) as tmp:
        tmp.write_bytes(b"new")
    assert (tmp_path / "b.wav").read_bytes() == b"new"


def test_exclusive_publish_without_hard_links(tmp_path, monkeypatch):
    import errno

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)  # e.g. FAT: check + rename
    path = tmp_path / "a.wav"
    with atomic_write(path, overwrite=False) as tmp:
        tmp.write_bytes(b"first")
    with pytest.raises(OutputTakenError):
        with atomic_write(path, overwrite=False) as tmp:
            tmp.write_bytes(b"second")
    assert path.read_bytes() == b"first"
    assert listing(tmp_path) == ["a.wav"]


def test_output_paths_are_checked_by_a_real_write(tmp_path):
    check_output_path(tmp_path / "new" / "deeper" / "a.wav")
    assert listing(tmp_path) == []  # nothing created by the check
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        check_output_path(tmp_path / "file" / "a.wav")
    if Path("/proc/self").is_dir():  # unwritable even for root
        with pytest.raises(OutputError, match="/proc/masksr/a.wav") as err:
            check_output_path("/proc/masksr/a.wav")
        assert isinstance(err.value, OSError)
