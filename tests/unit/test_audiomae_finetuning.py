"""Audio-MAE paper settings: decoder depths, fine-tuning defaults, helpers.

The decoder depth of each attention type is the paper's (Table 1c: global
8, local 16, hybrid 8 local + 4 global), in the lobe and in
``hparams/audiomae_pretrain.yaml`` (``decoder_depth: null``,
``decoder_global_layers``); the fine-tuning YAMLs select checkpoints on a
held-out validation split and carry the paper's per-dataset settings; the
helpers of the ESC-50 / Speech Commands recipes (positional-table cut,
single-label loss and accuracy, fbank noise, fold summary) give the
expected values.

Authors
 * speechbrain-masksr contributors 2026
"""

from pathlib import Path

import pytest
import torch
from hyperpyyaml import load_hyperpyyaml

from speechbrain_masksr.brains.audiomae_brain import (
    AudioMAESingleLabelBrain,
    accuracy,
    multi_hot,
)
from speechbrain_masksr.brains.audiomae_recipes import summarize_folds
from speechbrain_masksr.brains.audiomae_training import (
    SpecAugment,
    fbank_noise,
    fit_pos_embed,
)
from speechbrain_masksr.lobes.attention import SwinBlock
from speechbrain_masksr.lobes.audio_mae import (
    AudioMAEClassifierModel,
    AudioMAEDecoder,
    AudioMAEEncoder,
    AudioMAEFbank,
)
from speechbrain_masksr.lobes.transformer import TransformerBlock

ROOT = Path(__file__).resolve().parents[2]
# Small model, same structure (the depths are the point).
TINY_YAML = {
    "data_folder": "unused",
    "pretrained_path": None,
    "num_mel_bins": 64,
    "embed_dim": 32,
    "encoder_depth": 1,
    "encoder_heads": 2,
    "decoder_dim": 16,
    "decoder_heads": 2,
}


def load_yaml(name, **overrides):
    """Loads ``hparams/<name>`` with the tiny sizes and ``overrides``."""
    values = {k: v for k, v in TINY_YAML.items()}
    text = (ROOT / "hparams" / name).read_text(encoding="utf-8")
    keys = {line.split(":")[0] for line in text.splitlines()}
    values = {k: v for k, v in values.items() if k in keys}
    values.update(overrides)
    return load_hyperpyyaml(text, values)


def block_types(decoder):
    """``"L"`` (shifted-window) / ``"G"`` (global) per decoder block."""
    names = {SwinBlock: "L", TransformerBlock: "G"}
    return "".join(names[type(b)] for b in decoder.decoder_blocks)


# ----------------------------------------------------------------------------
# Decoder depths (paper Table 1c)
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("local", "L" * 16), ("global", "G" * 8), ("hybrid", "L" * 8 + "G" * 4)],
)
def test_decoder_default_depths_are_the_papers(mode, expected):
    dec = AudioMAEDecoder((8, 4), 16, 16, num_heads=2, mode=mode)
    assert block_types(dec) == expected


def test_hybrid_depth_follows_the_number_of_global_layers():
    dec = AudioMAEDecoder(
        (8, 4), 16, 16, num_heads=2, mode="hybrid", n_global=2
    )
    assert block_types(dec) == "L" * 8 + "G" * 2
    dec = AudioMAEDecoder(
        (8, 4), 16, 16, depth=6, num_heads=2, mode="hybrid", n_global=2
    )
    assert block_types(dec) == "L" * 4 + "G" * 2


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "L" * 16),  # the paper's default decoder
        ({"decoder_mode": "global"}, "G" * 8),
        ({"decoder_mode": "hybrid"}, "L" * 8 + "G" * 4),
        (
            {"decoder_mode": "hybrid", "decoder_global_layers": 2},
            "L" * 8 + "GG",
        ),
        ({"decoder_mode": "global", "decoder_depth": 3}, "GGG"),
    ],
)
def test_pretrain_yaml_decoder(overrides, expected):
    hparams = load_yaml("audiomae_pretrain.yaml", **overrides)
    assert block_types(hparams["decoder"]) == expected
    assert hparams["decoder"].decoder_dim == 16


def test_pretrain_yaml_paper_values():
    hparams = load_yaml("audiomae_pretrain.yaml")
    assert hparams["decoder_depth"] is None
    assert hparams["decoder_global_layers"] == 4
    assert hparams["mask_ratio"] == 0.8
    assert hparams["min_lr"] == 1e-6  # paper Table 3 (script: 0)
    assert hparams["number_of_epochs"] == 33  # released script (paper: 32)
    assert hparams["blr"] == 2e-4 and hparams["weight_decay"] == 1e-4


# ----------------------------------------------------------------------------
# Fine-tuning YAMLs
# ----------------------------------------------------------------------------


def test_audioset_finetune_yaml_selects_on_a_held_out_split():
    hparams = load_yaml("audiomae_finetune.yaml")
    assert hparams["valid_ratio"] == 0.1
    assert hparams["valid_annotation"] != hparams["test_annotation"]
    assert hparams["test_annotation"].endswith("eval.json")
    # released scripts' masking (paper 0.3 / 0.3), paper weight decay
    assert (hparams["mask_t_prob"], hparams["mask_f_prob"]) == (0.2, 0.2)
    assert hparams["weight_decay"] == 1e-4


@pytest.mark.parametrize(
    ("name", "grid", "expected"),
    [
        (
            "audiomae_esc50.yaml",
            (32, 4),
            {
                "n_classes": 50,
                "loss_type": "ce",
                "mixup_prob": 0.0,
                "fbank_noise": False,
                "freq_mask": 24,
                "time_mask": 96,
                "batch_size": 16,
                "folds": [1, 2, 3, 4, 5],
            },
        ),
        (
            "audiomae_speechcommands.yaml",
            (8, 4),
            {
                "n_classes": 35,
                "loss_type": "bce",
                "mixup_prob": 0.5,
                "fbank_noise": True,
                "freq_mask": 48,
                "time_mask": 48,
                "batch_size": 64,
            },
        ),
    ],
)
def test_downstream_yamls_carry_the_paper_settings(name, grid, expected):
    hparams = load_yaml(name)
    for key, value in expected.items():
        assert hparams[key] == value, key
    assert tuple(hparams["model"].encoder.grid) == grid
    assert (hparams["mask_t_prob"], hparams["mask_f_prob"]) == (0.3, 0.3)
    assert hparams["model"].head.out_features == expected["n_classes"]
    fbank = hparams["compute_fbank"]
    assert fbank.norm_mean == hparams["norm_mean"] != -4.2677393
    # SpecAugment fills with the normalised zero of the same statistics
    assert hparams["spec_augment"].mask_value == pytest.approx(
        float(fbank.normalize(torch.tensor(0.0)))
    )
    assert hparams["valid_annotation"] != hparams["test_annotation"]


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------


def test_fit_pos_embed_keeps_the_first_time_rows():
    src = AudioMAEEncoder(grid=(8, 2), embed_dim=8, depth=1, num_heads=2)
    state = {"encoder." + k: v for k, v in src.state_dict().items()}
    out = fit_pos_embed(state, (3, 2))
    table = out["encoder.pos_embed"]
    assert table.shape == (1, 1 + 3 * 2, 8)
    assert torch.equal(table[:, 0], src.pos_embed[:, 0])  # cls row
    rows = src.pos_embed[:, 1:].reshape(1, 8, 2, 8)[:, :3].reshape(1, 6, 8)
    assert torch.equal(table[:, 1:], rows)
    assert out["encoder.cls_token"] is state["encoder.cls_token"]
    assert (
        fit_pos_embed(state, (8, 2))["encoder.pos_embed"]
        is state["encoder.pos_embed"]
    )
    with pytest.raises(ValueError, match="fewer time rows"):
        fit_pos_embed(state, (9, 2))
    # the cut table loads into a classifier of the shorter grid
    clf = AudioMAEClassifierModel(
        AudioMAEEncoder(grid=(3, 2), embed_dim=8, depth=1, num_heads=2), 5
    )
    clf.load_pretrained_encoder(out)
    assert torch.equal(clf.encoder.pos_embed, table)


def _brain(loss_type, smoothing=0.0):
    enc = AudioMAEEncoder(grid=(4, 2), embed_dim=16, depth=1, num_heads=2)
    hparams = {
        "compute_fbank": AudioMAEFbank(num_mel_bins=32, target_length=64),
        "label_smoothing": smoothing,
        "loss_type": loss_type,
    }
    return AudioMAESingleLabelBrain(
        {"model": AudioMAEClassifierModel(enc, n_classes=3)},
        hparams=hparams,
        run_opts={"device": "cpu"},
    )


def test_single_label_losses_and_accuracy():
    import speechbrain as sb

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.3, 3.0]])
    labels = torch.tensor([0, 1])
    targets = torch.stack([multi_hot([k], 3) for k in labels.tolist()])
    ce = _brain("ce").classification_loss(logits, targets, sb.Stage.VALID)
    assert float(ce) == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits, labels))
    )
    bce = _brain("bce").classification_loss(logits, targets, sb.Stage.VALID)
    assert float(bce) == pytest.approx(
        float(
            torch.nn.functional.binary_cross_entropy_with_logits(
                logits, targets
            )
        )
    )
    # label smoothing spreads smooth / n_classes over the classes
    smooth = _brain("ce", 0.3).classification_loss(
        logits, targets, sb.Stage.TRAIN
    )
    assert float(smooth) == pytest.approx(
        float(
            torch.nn.functional.cross_entropy(
                logits, labels, label_smoothing=0.3
            )
        )
    )
    # mixed (soft) targets: the expected cross-entropy
    soft = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.4, 0.6]])
    value = _brain("ce").classification_loss(logits, soft, sb.Stage.TRAIN)
    expected = -(soft * logits.log_softmax(-1)).sum(-1).mean()
    assert float(value) == pytest.approx(float(expected))
    scores = _brain("ce").class_scores(logits)
    assert torch.allclose(scores.sum(-1), torch.ones(2))
    assert accuracy(scores.numpy(), targets.numpy()) == 0.5
    with pytest.raises(ValueError, match="loss_type"):
        _brain("mse").classification_loss(logits, targets, sb.Stage.VALID)


def test_single_label_brain_selects_on_accuracy():
    assert AudioMAESingleLabelBrain.select_key == "acc"
    brain = _brain("ce")
    stats = brain.stage_metrics(
        torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]]).numpy(),
        torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).numpy(),
    )
    assert stats == {"acc": 0.5}


def test_fbank_noise_level_and_roll():
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 10, 3)
    y = fbank_noise(x, max_level=0.1, max_shift=0, generator=gen)
    assert float(y.min()) >= 0.0 and float(y.max()) < 0.1
    # the noise level varies across examples (U(0, max_level) each)
    peaks = y.amax(dim=(1, 2))
    assert float(peaks.min()) < 0.03 and float(peaks.max()) > 0.07
    ramp = torch.arange(10.0)[None, :, None].repeat(64, 1, 3)
    rolled = fbank_noise(ramp, max_level=0.0, max_shift=10, generator=gen)
    shifts = {
        next(k for k in range(-10, 10) if torch.equal(r, ramp[0].roll(k, 0)))
        for r in rolled
    }
    assert len(shifts) > 5 and shifts <= set(range(-10, 10))


def test_spec_augment_fill_value_follows_the_statistics():
    aug = SpecAugment(freq_mask=4, time_mask=4, norm_mean=-6.0, norm_std=5.0)
    assert aug.mask_value == pytest.approx(0.6)
    fbank = AudioMAEFbank(norm_mean=-6.0, norm_std=5.0)
    assert float(fbank.normalize(torch.tensor(0.0))) == pytest.approx(0.6)


def test_summarize_folds():
    summary = summarize_folds({1: {"acc": 0.5}, 2: {"acc": 1.0}})
    assert summary == {
        "folds": {"1": 0.5, "2": 1.0},
        "mean": 0.75,
        "std": 0.25,
        "n_folds": 2,
    }
    with pytest.raises(ValueError):
        summarize_folds({})
