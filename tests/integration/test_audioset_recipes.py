"""AudioSet recipes end to end on a tiny generated AudioSet-format corpus.

``audioset_prepare`` (missing / unreadable clips, labels, AS-2M weights,
the held-out validation split), tiny Audio-MAE pretraining (the loss goes
down), fine-tuning from its export (the toy tone-tagging task is learnt:
validation loss, eval mAP and the exported interface's top-1 class on fresh
clips; the checkpoint is chosen on the validation split, not on the eval
set), and a two-process ``torchrun`` (gloo) pretraining run and fine-tuning
run with the AS-2M weighted sampler.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import sys
from pathlib import Path

import pytest
import torch
import yaml
from helpers import read_train_log, run_recipe_script

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "AudioSet"
sys.path.insert(0, str(RECIPE))

from audioset_prepare import (  # noqa: E402
    make_toy_audioset,
    prepare_audioset,
    sample_weights,
)

N_CLASSES = 4
# Tiny model and input: 64 frames x 64 mel bins -> a 4 x 4 patch grid.
TINY = [
    "--num_mel_bins=64",
    "--target_length=64",
    "--d_model=32",
    "--encoder_depth=2",
    "--encoder_heads=2",
    "--num_workers=0",
    "--device=cpu",
]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """Toy corpus: 20 balanced + 20 unbalanced training clips, 12 eval."""
    out = tmp_path_factory.mktemp("audioset")
    make_toy_audioset(
        out,
        n_train=20,
        n_eval=12,
        n_classes=N_CLASSES,
        duration=0.64,
        sample_rate=16000,
    )
    return out


def run_recipe(script, hparams, output, *args, nproc=None):
    """Runs a recipe script in a subprocess; fails with its log tail."""
    return run_recipe_script(
        RECIPE / script,
        ROOT / "hparams" / hparams,
        output,
        [*TINY, *args],
        nproc=nproc,
    )


def tone(k, seconds=0.64, sample_rate=16000):
    """A fresh clip of toy class ``k``."""
    t = torch.arange(int(seconds * sample_rate)) / sample_rate
    gen = torch.Generator().manual_seed(k)
    noise = 0.02 * torch.randn(len(t), generator=gen)  # the corpus' floor
    return 0.3 * torch.sin(2 * torch.pi * 250.0 * 2.2**k * t) + noise


# ----------------------------------------------------------------------------
# Data preparation
# ----------------------------------------------------------------------------


def test_prepare_balanced_counts_and_weights(toy, tmp_path):
    report = prepare_audioset(
        toy / "audio", tmp_path / "bal", csv_folder=toy, train_set="balanced"
    )
    counts = [report["train"][k] for k in ("listed", "found", "missing")]
    assert counts == [21, 20, 1] and report["train"]["unreadable"] == 0
    assert report["train"]["missing_ids"] == ["balgone"]
    assert (report["eval"]["found"], report["eval"]["unreadable"]) == (12, 1)
    train = json.loads((tmp_path / "bal" / "train.json").read_text())
    valid = valid_of(tmp_path / "bal")
    listed = [{**train, **valid}[k] for k in sorted({**train, **valid})]
    entry = listed[1]  # bal001: stored as Ybal001.wav, labels "/m/toy1,..."
    assert entry["wav"].endswith("Ybal001.wav") and 1 in entry["labels"]
    assert abs(entry["duration"] - 0.64) < 1e-3
    # AS-2M weights over the whole prepared training list
    weights = sample_weights([e["labels"] for e in listed], N_CLASSES)
    assert [e["weight"] for e in listed] == pytest.approx(weights)
    # Default: 10% of the training clips (2 of 20) held out for validation,
    # none of them in train.json or eval.json.
    evals = json.loads((tmp_path / "bal" / "eval.json").read_text())
    assert len(valid) == 2 and len(train) == 18
    assert not set(valid) & (set(train) | set(evals))
    assert all(k.startswith("bal") for k in valid)
    # valid = eval when valid_ratio is 0 (the official protocol)
    prepare_audioset(
        toy / "audio", tmp_path / "off", csv_folder=toy, valid_ratio=0.0
    )
    assert sorted(valid_of(tmp_path / "off")) == sorted(evals)


def _prepare_full(src, tmp_path):
    """AS-2M list, held-out validation, 16 kHz copies in ``tmp_path/16k``."""
    return prepare_audioset(
        src / "audio",
        tmp_path / "full",
        csv_folder=src,
        train_set="full",
        valid_ratio=0.25,
        resample_folder=tmp_path / "16k",
    )


@pytest.fixture
def toy_22k(tmp_path):
    """A 22.05 kHz toy corpus (4 balanced + 4 unbalanced training clips)."""
    return make_toy_audioset(
        tmp_path / "src", 4, 2, N_CLASSES, 0.2, sample_rate=22050
    )


def test_prepare_full_holds_out_valid_and_resamples(toy_22k, tmp_path):
    _prepare_full(toy_22k, tmp_path)
    train = json.loads((tmp_path / "full" / "train.json").read_text())
    valid = json.loads((tmp_path / "full" / "valid.json").read_text())
    assert len(train) + len(valid) == 8 and len(valid) == 2
    assert not set(train) & set(valid)
    assert all(e["sample_rate"] == 16000 for e in train.values())
    assert all(
        Path(e["wav"]).parent == tmp_path / "16k" for e in train.values()
    )


def test_prepare_with_the_same_options_redoes_nothing(toy_22k, tmp_path):
    report = _prepare_full(toy_22k, tmp_path)
    (tmp_path / "16k" / "Yunb000.wav").unlink()
    again = _prepare_full(toy_22k, tmp_path)
    assert again == json.loads(json.dumps(report))
    assert not (tmp_path / "16k" / "Yunb000.wav").exists()


def valid_of(folder):
    """Entries of a prepared ``valid.json``."""
    return json.loads((Path(folder) / "valid.json").read_text())


def test_prepare_errors(toy, tmp_path):
    with pytest.raises(ValueError, match="train_set"):
        prepare_audioset(toy / "audio", tmp_path, csv_folder=toy, train_set="x")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no train clip"):
        prepare_audioset(empty, tmp_path / "o", csv_folder=toy)


# ----------------------------------------------------------------------------
# Recipes
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pretrained(toy, tmp_path_factory):
    """Tiny pretraining run; returns its output folder."""
    out = tmp_path_factory.mktemp("pretrain")
    run_recipe(
        "train.py",
        "audiomae_pretrain.yaml",
        out,
        f"--data_folder={toy / 'audio'}",
        f"--csv_folder={toy}",
        "--train_set=balanced",
        "--valid_ratio=0.2",
        "--decoder_dim=32",
        "--decoder_depth=2",
        "--decoder_heads=2",
        "--number_of_epochs=4",
        "--warmup_epochs=1",
        "--batch_size=4",
        "--blr=0.064",
    )
    return out


def run_finetune(toy, pretrained, output, *args, nproc=None):
    """``finetune.py`` on the toy corpus from the tiny pretrained encoder."""
    return run_recipe(
        "finetune.py",
        "audiomae_finetune.yaml",
        output,
        f"--data_folder={toy / 'audio'}",
        f"--csv_folder={toy}",
        f"--pretrained_path={pretrained / 'model' / 'model.ckpt'}",
        f"--n_classes={N_CLASSES}",
        *args,
        nproc=nproc,
    )


def test_pretraining_lowers_the_loss(pretrained):
    from speechbrain_masksr.inference import AudioMAEReconstruction

    log = read_train_log(pretrained / "train_log.txt")
    assert len(log) == 4  # no test stage in pretraining
    assert log[-1]["train loss"] < 0.9 * log[0]["train loss"]
    assert log[-1]["valid loss"] < log[0]["valid loss"]
    mae = AudioMAEReconstruction.from_hparams(source=str(pretrained / "model"))
    assert mae.mods.model.decoder.mode == "local"
    out = mae.reconstruct_batch(tone(1)[None], mask_ratio=0.5)
    assert out["reconstruction"].shape == (1, 64, 64)


def test_finetuning_learns_toy_task(pretrained, toy, tmp_path):
    from speechbrain_masksr.inference import AudioMAEClassifier

    run_finetune(
        toy,
        pretrained,
        tmp_path,
        "--valid_ratio=0.2",  # 4 of the 20 training clips
        "--number_of_epochs=6",
        "--warmup_epochs=0",
        "--batch_size=2",
        "--blr=1.28",  # lr 1e-2 at batch 2, kept constant by min_lr
        "--min_lr=0.01",
        "--mixup_prob=0.0",
        "--freq_mask=0",
        "--time_mask=0",
        "--mask_f_prob=0.0",  # a tone lives in one frequency column
        "--drop_path=0.0",
        "--roll_mag_aug=False",
    )
    *epochs, test = read_train_log(tmp_path / "train_log.txt")
    assert len(epochs) == 6
    assert epochs[-1]["valid loss"] < 0.7 * epochs[0]["valid loss"]
    assert test["test mAP"] >= 0.75
    clf = AudioMAEClassifier.from_hparams(source=str(tmp_path / "model"))
    assert clf.label_names == [f"Tone {k}" for k in range(N_CLASSES)]
    wavs = torch.stack([tone(k) for k in range(N_CLASSES)])
    scores, _, top, _ = clf.classify_batch(wavs, topk=1)
    assert scores.shape == (N_CLASSES, N_CLASSES)
    assert int((top[:, 0] == torch.arange(N_CLASSES)).sum()) >= 3


def test_finetuning_selects_checkpoint_on_valid_split(
    pretrained, toy, tmp_path
):
    """The checkpoint tested on eval.json is the best one on valid.json."""
    from speechbrain_masksr.brains.audiomae_brain import (
        mean_average_precision,
        multi_hot,
    )
    from speechbrain_masksr.dataio import load_audio
    from speechbrain_masksr.inference import AudioMAEClassifier

    manifests = tmp_path / "manifests"
    prepare_audioset(toy / "audio", manifests, csv_folder=toy, valid_ratio=0.25)
    # Rotate the validation labels (class k -> k + 1): the validation mAP of
    # the kept checkpoint can then only come from valid.json, and it differs
    # from what the eval set gives.
    valid = json.loads((manifests / "valid.json").read_text())
    evals = json.loads((manifests / "eval.json").read_text())
    assert len(valid) == 5 and not set(valid) & set(evals)
    for entry in valid.values():
        entry["labels"] = sorted((k + 1) % N_CLASSES for k in entry["labels"])
    (manifests / "valid.json").write_text(json.dumps(valid))
    run_finetune(
        toy,
        pretrained,
        tmp_path,
        "--skip_prep=True",  # keep the edited manifests
        "--number_of_epochs=3",
        "--warmup_epochs=0",
        "--batch_size=2",
        "--blr=1.28",
        "--min_lr=0.01",
        "--mixup_prob=0.0",
        "--mask_f_prob=0.0",
    )
    *epochs, test = read_train_log(tmp_path / "train_log.txt")
    (meta_file,) = (tmp_path / "save").glob("CKPT+*/CKPT.yaml")
    kept = yaml.safe_load(meta_file.read_text())["mAP"]
    best = max(e["valid mAP"] for e in epochs)  # logged with 3 digits
    assert kept == pytest.approx(best, abs=5e-3)
    loaded = epochs[int(test["Epoch loaded"]) - 1]
    assert loaded["valid mAP"] == pytest.approx(kept, abs=5e-3)

    # The exported model is that checkpoint: its mAP on valid.json is the
    # stored selection value, its mAP on eval.json the reported test mAP.
    clf = AudioMAEClassifier.from_hparams(source=str(tmp_path / "model"))

    def mean_ap(entries):
        wavs = torch.stack(
            [load_audio(e["wav"], sample_rate=16000)[0] for e in entries]
        )
        targets = torch.stack(
            [multi_hot(e["labels"], N_CLASSES) for e in entries]
        )
        scores = clf.classify_batch(wavs)[0]
        return mean_average_precision(scores.numpy(), targets.numpy())[0]

    assert mean_ap(list(valid.values())) == pytest.approx(kept, abs=1e-6)
    eval_map = mean_ap(list(evals.values()))
    assert eval_map == pytest.approx(test["test mAP"], abs=5e-3)
    assert abs(eval_map - kept) > 1e-3


def test_finetuning_ddp_two_processes(pretrained, toy, tmp_path):
    run_finetune(
        toy,
        pretrained,
        tmp_path,
        "--train_set=full",
        "--weighted_sampler=True",
        "--epoch_len=16",
        "--number_of_epochs=2",
        "--warmup_epochs=1",
        "--batch_size=4",
        "--freq_mask=8",
        "--time_mask=16",
        "--distributed_backend=gloo",
        nproc=2,
    )
    log = read_train_log(tmp_path / "train_log.txt")
    assert len(log) == 3 and 0.0 <= log[-1]["test mAP"] <= 1.0
    assert (tmp_path / "model" / "model.ckpt").is_file()


def test_pretraining_ddp_two_processes(toy, tmp_path):
    run_recipe(
        "train.py",
        "audiomae_pretrain.yaml",
        tmp_path,
        f"--data_folder={toy / 'audio'}",
        f"--csv_folder={toy}",
        "--train_set=balanced",
        "--valid_ratio=0.2",
        "--decoder_dim=32",
        "--decoder_depth=2",
        "--decoder_heads=2",
        "--number_of_epochs=2",
        "--warmup_epochs=1",
        "--batch_size=4",
        "--distributed_backend=gloo",
        nproc=2,
    )
    log = read_train_log(tmp_path / "train_log.txt")
    assert len(log) == 2  # written once (main process), no test stage
    assert all(torch.isfinite(torch.tensor(r["train loss"])) for r in log)
    ckpts = list((tmp_path / "save").glob("CKPT+*/model.ckpt"))
    assert ckpts and (tmp_path / "model" / "model.ckpt").is_file()
