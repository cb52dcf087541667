"""Tests for the speech-enhancement data preparation (folders, VoiceBank).

Authors
 * speechbrain-masksr contributors 2026
"""

import logging
from pathlib import Path

import pytest
import soundfile
import torch
from helpers import load_recipe

from speechbrain_masksr.data.folders import prepare_folders
from speechbrain_masksr.data.manifest import load_manifest
from speechbrain_masksr.data.voicebank import (
    VBD_VALID_SPEAKERS,
    prepare_voicebank_demand,
)
from speechbrain_masksr.dataio import save_audio

SR = 16000


vbd_recipe = load_recipe("recipes/VoiceBank/voicebank_prepare.py")
folders_recipe = load_recipe("recipes/Folders/folders_prepare.py")
vctk_recipe = load_recipe("recipes/VCTK/vctk_prepare.py")


def _wav(path, seconds=0.1, sr=SR, seed=0):
    gen = torch.Generator().manual_seed(seed)
    n = int(round(seconds * sr))
    wav = 0.1 * torch.randn(n, generator=gen)
    path = Path(path)
    if path.suffix == ".ogg":  # save_audio writes PCM only
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), wav.numpy(), sr, subtype="VORBIS")
    else:
        save_audio(str(path), wav, sr)
    return path


def _speech(folder, n=10, ext=".wav"):
    """``n`` files in two sub-folders; returns the expected ids."""
    ids = []
    for i in range(n):
        sub = f"spk{i % 2}"
        _wav(Path(folder) / sub / f"utt{i:02d}{ext}", 0.05 + 0.01 * i, seed=i)
        ids.append(f"{sub}_utt{i:02d}")
    return sorted(ids)


def test_folders_random_split(tmp_path, caplog):
    ids = _speech(tmp_path / "speech", 10)
    _wav(tmp_path / "speech" / "extra.flac", 0.1)
    (tmp_path / "speech" / "broken.wav").write_text("not audio")
    (tmp_path / "speech" / "notes.txt").write_text("ignored")
    ids = sorted(ids + ["extra"])
    with caplog.at_level(logging.WARNING):
        out = prepare_folders(
            tmp_path / "save", tmp_path / "speech", valid_ratio=0.2, seed=3
        )
    assert sorted(out) == ["train", "valid"]
    assert "broken.wav" in caplog.text
    train = load_manifest(out["train"])
    valid = load_manifest(out["valid"])
    assert len(valid) == 2 and len(train) == 9
    assert not set(train) & set(valid)
    assert sorted(list(train) + list(valid)) == ids
    entry = train.get("extra") or valid["extra"]
    assert sorted(entry) == ["duration", "sample_rate", "wav"]
    assert entry["sample_rate"] == SR and entry["duration"] == 0.1
    assert Path(entry["wav"]).is_absolute() and Path(entry["wav"]).is_file()
    assert "{data_root}" not in entry["wav"]
    assert not (tmp_path / "save" / "noise.json").exists()
    # same seed -> same split; another seed -> re-prepared
    again = prepare_folders(
        tmp_path / "save2", tmp_path / "speech", valid_ratio=0.2, seed=3
    )
    assert load_manifest(again["valid"]) == valid


def test_folders_valid_folder_noise_rir(tmp_path):
    ids = _speech(tmp_path / "speech", 6)
    valid_ids = _speech(tmp_path / "dev", 3, ext=".flac")
    _wav(tmp_path / "noise" / "fan.wav", 0.2)
    _wav(tmp_path / "noise" / "street" / "car.ogg", 0.2)
    _wav(tmp_path / "rir" / "room1.wav", 0.05)
    out = prepare_folders(
        tmp_path / "save",
        tmp_path / "speech",
        noise_folder=tmp_path / "noise",
        rir_folder=tmp_path / "rir",
        valid_folder=tmp_path / "dev",
        valid_ratio=0.5,
    )
    assert sorted(out) == ["noise", "rir", "train", "valid"]
    assert sorted(load_manifest(out["train"])) == ids
    valid = load_manifest(out["valid"])
    assert sorted(valid) == valid_ids
    assert all("/dev/" in e["wav"] for e in valid.values())
    noise = load_manifest(out["noise"])
    assert sorted(noise) == ["fan", "street_car"]
    assert noise["street_car"]["wav"].endswith("noise/street/car.ogg")
    assert list(load_manifest(out["rir"])) == ["room1"]


def test_folders_subfolders_left_out_of_speech(tmp_path):
    ids = _speech(tmp_path / "corpus" / "train", 4)
    _wav(tmp_path / "corpus" / "noise" / "hum.wav")
    _wav(tmp_path / "corpus" / "valid" / "v1.wav")
    out = prepare_folders(
        tmp_path / "save",
        tmp_path / "corpus",
        noise_folder=tmp_path / "corpus" / "noise",
        valid_folder=tmp_path / "corpus" / "valid",
    )
    assert sorted(load_manifest(out["train"])) == [f"train_{i}" for i in ids]
    assert list(load_manifest(out["valid"])) == ["v1"]
    assert list(load_manifest(out["noise"])) == ["hum"]


def test_folders_rerun_is_noop(tmp_path, caplog):
    _speech(tmp_path / "speech", 5)
    out = prepare_folders(tmp_path / "save", tmp_path / "speech")
    stamps = {k: Path(p).stat().st_mtime_ns for k, p in out.items()}
    _wav(tmp_path / "speech" / "late.wav")
    with caplog.at_level(logging.INFO):
        again = prepare_folders(tmp_path / "save", tmp_path / "speech")
    assert again == out
    assert {k: Path(p).stat().st_mtime_ns for k, p in again.items()} == stamps
    assert "up to date" in caplog.text
    skipped = prepare_folders(tmp_path / "save", "/nowhere", skip_prep=True)
    assert skipped == out
    # a changed option prepares again (and sees the new file)
    changed = prepare_folders(
        tmp_path / "save", tmp_path / "speech", valid_ratio=0.4
    )
    n = len(load_manifest(changed["train"])) + len(
        load_manifest(changed["valid"])
    )
    assert n == 6


def test_folders_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such"):
        prepare_folders(tmp_path / "save", tmp_path / "no_such")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "bad.wav").write_text("junk")
    with pytest.raises(FileNotFoundError, match="No readable speech"):
        prepare_folders(tmp_path / "save", tmp_path / "empty")
    _speech(tmp_path / "speech", 2)
    with pytest.raises(FileNotFoundError, match="noise folder"):
        prepare_folders(
            tmp_path / "save",
            tmp_path / "speech",
            noise_folder=tmp_path / "missing_noise",
        )


def test_folders_recipe(tmp_path, capsys):
    _speech(tmp_path / "speech", 4)
    _wav(tmp_path / "noise" / "n.wav")
    out = folders_recipe.prepare_from_hparams(
        {
            "speech_folder": str(tmp_path / "speech"),
            "noise_folder": str(tmp_path / "noise"),
            "save_folder": str(tmp_path / "save"),
            "skip_prep": False,
        }
    )
    assert sorted(out) == ["noise", "train", "valid"]
    assert len(load_manifest(out["valid"])) == 1  # default ratio 0.1
    status = folders_recipe.main(
        [
            str(tmp_path / "cli"),
            "--speech",
            str(tmp_path / "speech"),
            "--valid",
            str(tmp_path / "noise"),
            "--valid-ratio",
            "0.5",
        ]
    )
    assert status == 0
    assert "train: " in capsys.readouterr().out
    assert list(load_manifest(tmp_path / "cli" / "valid.json")) == ["n"]


def _vbd_layout(root, train_tag="28spk", suffix=""):
    speakers = ("p230", "p250") + tuple(VBD_VALID_SPEAKERS)
    for spk in speakers:
        for utt in ("001", "002"):
            for seed, kind in enumerate(("clean", "noisy")):
                folder = root / f"{kind}_trainset_{train_tag}_wav{suffix}"
                _wav(folder / f"{spk}_{utt}.wav", 0.1, seed=seed)
    _wav(root / f"noisy_trainset_{train_tag}_wav{suffix}" / "p230_099.wav")
    for utt in ("001", "002"):
        for kind in ("clean", "noisy"):
            _wav(root / f"{kind}_testset_wav{suffix}" / f"p232_{utt}.wav")
    return speakers


@pytest.mark.parametrize("train_tag,suffix", [("28spk", ""), ("56spk", "_16k")])
def test_voicebank_pairs_and_valid_speakers(
    tmp_path, caplog, train_tag, suffix
):
    speakers = _vbd_layout(tmp_path / "vbd", train_tag, suffix)
    with caplog.at_level(logging.WARNING):
        out = prepare_voicebank_demand(tmp_path / "vbd", tmp_path / "save")
    assert sorted(out) == ["vbd_test", "vbd_train", "vbd_valid"]
    assert "p230_099.wav" in caplog.text  # noisy file without clean partner
    train = load_manifest(out["vbd_train"])
    valid = load_manifest(out["vbd_valid"])
    test = load_manifest(out["vbd_test"])
    assert sorted(valid) == sorted(
        f"{s}_{u}" for s in VBD_VALID_SPEAKERS for u in ("001", "002")
    )
    assert {e["speaker"] for e in train.values()} == set(speakers) - set(
        VBD_VALID_SPEAKERS
    )
    assert sorted(test) == ["p232_001", "p232_002"]
    for uid, entry in {**train, **valid, **test}.items():
        noisy, clean = entry["noisy_wav"], entry["clean_wav"]
        assert noisy.startswith("{data_root}/noisy_")
        assert clean.startswith("{data_root}/clean_")
        assert Path(noisy).name == Path(clean).name == f"{uid}.wav"
    assert (
        f"trainset_{train_tag}_wav{suffix}/" in train["p230_001"]["clean_wav"]
    )
    resolved = load_manifest(out["vbd_train"], data_root=tmp_path / "vbd")
    assert Path(resolved["p230_001"]["noisy_wav"]).is_file()
    # re-running is a no-op, skip_prep returns the same manifests
    mtime = Path(out["vbd_train"]).stat().st_mtime_ns
    assert prepare_voicebank_demand(tmp_path / "vbd", tmp_path / "save") == out
    assert Path(out["vbd_train"]).stat().st_mtime_ns == mtime
    assert (
        prepare_voicebank_demand("/nowhere", tmp_path / "save", skip_prep=True)
        == out
    )


def test_voicebank_prefers_28spk(tmp_path):
    _vbd_layout(tmp_path / "vbd", "28spk")
    _wav(tmp_path / "vbd" / "clean_trainset_56spk_wav" / "p300_001.wav")
    _wav(tmp_path / "vbd" / "noisy_trainset_56spk_wav" / "p300_001.wav")
    out = prepare_voicebank_demand(tmp_path / "vbd", tmp_path / "save")
    assert "p300_001" not in load_manifest(out["vbd_train"])
    assert "p230_001" in load_manifest(out["vbd_train"])


def test_voicebank_recipe_and_vctk_reexport(tmp_path, capsys):
    _vbd_layout(tmp_path / "vbd")
    out = vbd_recipe.prepare_from_hparams(
        {
            "data_folder": str(tmp_path / "vbd"),
            "save_folder": str(tmp_path / "save"),
            "skip_prep": False,
        }
    )
    assert sorted(out) == ["vbd_test", "vbd_train", "vbd_valid"]
    assert vbd_recipe.main([str(tmp_path / "vbd"), str(tmp_path / "cli")]) == 0
    assert "vbd_valid: " in capsys.readouterr().out
    assert vbd_recipe.main([str(tmp_path / "none"), str(tmp_path / "x")]) == 2
    assert vctk_recipe.prepare_voicebank_demand is prepare_voicebank_demand
    assert (
        vctk_recipe.main(["vbd", str(tmp_path / "vbd"), str(tmp_path / "v")])
        == 0
    )
    with pytest.raises(FileNotFoundError, match="clean_trainset_28spk_wav"):
        prepare_voicebank_demand(tmp_path, tmp_path / "s2")
