"""ESC-50 and Speech Commands recipes on tiny generated corpora.

``esc50_prepare`` (the five folds, the held-out validation share of whole
source recordings), ``speechcommands_prepare`` (the official validation /
testing lists, 35-word class order), a tiny ESC-50 5-fold cross-validation
(one model per fold, mean accuracy in ``cv_results.json``) and a tiny
Speech Commands fine-tuning (accuracy reported for the checkpoint chosen
on the validation list), both from a small "pretrained" encoder whose
positional table is longer than the fine-tuning grid.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import sys
from pathlib import Path

import pytest
import torch
from helpers import read_train_log, run_recipe_script

ROOT = Path(__file__).resolve().parents[2]
ESC = ROOT / "recipes" / "ESC50"
SPC = ROOT / "recipes" / "SpeechCommands"
sys.path.insert(0, str(ESC))
sys.path.insert(0, str(SPC))

from esc50_prepare import (  # noqa: E402
    make_toy_esc50,
    prepare_esc50,
    read_esc50_meta,
)
from speechcommands_prepare import (  # noqa: E402
    SPC2_WORDS,
    make_toy_speech_commands,
    prepare_speech_commands,
)

N_CLASSES = 4
# Tiny model and input: 32 frames x 64 mel bins -> a 2 x 4 patch grid; the
# "pretrained" encoder below has a 4 x 4 grid (a longer input).
TINY = [
    "--num_mel_bins=64",
    "--target_length=32",
    "--d_model=32",
    "--encoder_depth=2",
    "--encoder_heads=2",
    "--num_workers=0",
    "--device=cpu",
    "--warmup_epochs=0",
    "--freq_mask=8",
    "--time_mask=8",
]


@pytest.fixture(scope="module")
def esc(tmp_path_factory):
    """Toy ESC-50-master: 4 classes x 2 clips x 5 folds, 22.05 kHz."""
    out = tmp_path_factory.mktemp("esc") / "ESC-50-master"
    return make_toy_esc50(out, n_classes=N_CLASSES, duration=0.4)


@pytest.fixture(scope="module")
def spc(tmp_path_factory):
    """Toy Speech Commands: 4 words x (4 train, 2 valid, 2 test) clips."""
    out = tmp_path_factory.mktemp("spc") / "speech_commands_v0.02"
    return make_toy_speech_commands(out, clips=(4, 2, 2), duration=0.4)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """An encoder checkpoint (``encoder.*`` keys) with a 4 x 4 grid."""
    from speechbrain_masksr.lobes.audio_mae import AudioMAEEncoder

    torch.manual_seed(0)
    enc = AudioMAEEncoder(grid=(4, 4), d_model=32, depth=2, num_heads=2)
    path = tmp_path_factory.mktemp("pretrained") / "model.ckpt"
    torch.save({"encoder." + k: v for k, v in enc.state_dict().items()}, path)
    return path


def run_recipe(folder, hparams, output, *args):
    """Runs ``finetune.py`` of a recipe folder; fails with its log tail."""
    return run_recipe_script(
        folder / "finetune.py",
        ROOT / "hparams" / hparams,
        output,
        [*TINY, *args],
    )


def load(path):
    """A JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------
# Data preparation
# ----------------------------------------------------------------------------


def test_esc50_prepare_folds(esc, tmp_path):
    rows = read_esc50_meta(esc / "meta" / "esc50.csv")
    assert len(rows) == 40 and {r["fold"] for r in rows} == {1, 2, 3, 4, 5}
    fold_of = {Path(r["filename"]).stem: r["fold"] for r in rows}
    tested = []
    for fold in (1, 2, 3, 4, 5):
        out = prepare_esc50(
            esc, tmp_path / f"f{fold}", test_fold=fold, valid_ratio=0.25
        )
        train, valid, test = (load(out[k]) for k in ("train", "valid", "test"))
        # the test set is the fold, all 4 classes x 2 clips
        assert {fold_of[k] for k in test} == {fold} and len(test) == 8
        assert sorted(e["labels"][0] for e in test.values()) == [
            0,
            0,
            1,
            1,
            2,
            2,
            3,
            3,
        ]
        # the four other folds are split into train and a held-out quarter
        assert set(train) | set(valid) == {
            k for k, f in fold_of.items() if f != fold
        }
        assert not set(train) & set(valid)
        assert len(valid) == 8 and len(train) == 24
        for k in range(N_CLASSES):  # 2 of the 8 clips of every class
            assert sum(e["labels"] == [k] for e in valid.values()) == 2
        train_sources = {e["src_file"] for e in train.values()}
        assert not train_sources & {e["src_file"] for e in valid.values()}
        assert load(out["labels"]) == [f"tone {k}" for k in range(4)]
        assert all(e["sample_rate"] == 22050 for e in test.values())
        tested += list(test)
    assert sorted(tested) == sorted(fold_of)  # each clip tested once

    # valid_ratio 0: validation on the test fold (the released protocol);
    # 16 kHz copies with resample_folder
    out = prepare_esc50(
        esc,
        tmp_path / "zero",
        test_fold=4,
        valid_ratio=0.0,
        resample_folder=tmp_path / "16k",
    )
    assert load(out["valid"]) == load(out["test"])
    assert all(e["sample_rate"] == 16000 for e in load(out["train"]).values())
    with pytest.raises(ValueError, match="test_fold"):
        prepare_esc50(esc, tmp_path / "bad", test_fold=6)
    with pytest.raises(FileNotFoundError, match="esc50.csv"):
        prepare_esc50(tmp_path, tmp_path / "none")


def test_speechcommands_prepare_splits(spc, tmp_path):
    out = prepare_speech_commands(spc, tmp_path / "m")
    train, valid, test = (load(out[k]) for k in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (16, 8, 8)
    listed = {
        name: {
            line.removesuffix(".wav")
            for line in (spc / name).read_text().split()
        }
        for name in ("validation_list.txt", "testing_list.txt")
    }
    assert set(valid) == listed["validation_list.txt"]
    assert set(test) == listed["testing_list.txt"]
    assert not set(train) & (set(valid) | set(test))
    words = load(out["labels"])
    assert words == ["down", "go", "left", "no"]  # sorted folders, no noise
    for entries in (train, valid, test):
        for key, entry in entries.items():
            assert entry["labels"] == [words.index(key.split("/")[0])]
    assert load(out["report"])["unreadable"] == []
    assert len(SPC2_WORDS) == 35 and SPC2_WORDS == sorted(SPC2_WORDS)
    with pytest.raises(FileNotFoundError, match="validation_list"):
        prepare_speech_commands(tmp_path, tmp_path / "none")


# ----------------------------------------------------------------------------
# Recipes
# ----------------------------------------------------------------------------


def test_esc50_five_fold_cross_validation(esc, pretrained, tmp_path):
    run_recipe(
        ESC,
        "audiomae_esc50.yaml",
        tmp_path,
        f"--data_folder={esc}",
        f"--pretrained_path={pretrained}",
        f"--n_classes={N_CLASSES}",
        "--valid_ratio=0.25",
        "--number_of_epochs=1",
        "--batch_size=8",
    )
    summary = load(tmp_path / "cv_results.json")
    assert summary["n_folds"] == 5 and sorted(summary["folds"]) == list("12345")
    accs = []
    for fold in range(1, 6):
        folder = tmp_path / f"fold{fold}"
        stats = load(folder / "test_stats.json")
        assert stats["acc"] == summary["folds"][str(fold)]
        assert stats["acc"] * 8 == pytest.approx(round(stats["acc"] * 8))
        *epochs, test = read_train_log(folder / "train_log.txt")
        assert len(epochs) == 1 and "valid acc" in epochs[0]
        assert test["test acc"] == pytest.approx(stats["acc"], abs=5e-3)
        # each fold is tested on its own clips
        test_ids = load(folder / "manifests" / "test.json")
        assert {int(k.split("-")[0]) for k in test_ids} == {fold}
        assert (folder / "model" / "model.ckpt").is_file()
        accs.append(stats["acc"])
    assert summary["mean"] == pytest.approx(sum(accs) / 5)
    assert summary["std"] == pytest.approx(torch.tensor(accs).std(0, False))


def test_speechcommands_finetune_reports_accuracy(spc, pretrained, tmp_path):
    from speechbrain_masksr.inference import AudioMAEClassifier

    run_recipe(
        SPC,
        "audiomae_speechcommands.yaml",
        tmp_path,
        f"--data_folder={spc}",
        f"--pretrained_path={pretrained}",
        f"--n_classes={N_CLASSES}",
        "--number_of_epochs=2",
        "--batch_size=4",
    )
    *epochs, test = read_train_log(tmp_path / "train_log.txt")
    assert len(epochs) == 2 and all("valid acc" in e for e in epochs)
    stats = load(tmp_path / "test_stats.json")
    assert 0.0 <= stats["acc"] <= 1.0
    assert stats["acc"] * 8 == pytest.approx(round(stats["acc"] * 8))
    assert test["test acc"] == pytest.approx(stats["acc"], abs=5e-3)
    # the kept checkpoint is the best on the validation list
    best = max(e["valid acc"] for e in epochs)
    assert epochs[int(test["Epoch loaded"]) - 1]["valid acc"] == best
    clf = AudioMAEClassifier.from_hparams(source=str(tmp_path / "model"))
    assert clf.label_names == ["down", "go", "left", "no"]
    assert tuple(clf.mods.model.encoder.grid) == (2, 4)
