"""The Brains log their evaluation metrics through SpeechBrain ``MetricStats``.

Each test runs one evaluation stage of a tiny Brain by hand
(``on_stage_start`` -> ``evaluate_batch`` -> ``on_stage_end``) with a
train logger that records what it is given, and checks the logged *values*
against the metrics computed directly on the same outputs.
"""

import math

import pytest
import speechbrain as sb
import torch
from speechbrain.dataio.batch import PaddedBatch

from speechbrain_masksr.metrics import compute_metrics, si_sdr
from speechbrain_masksr.metrics.stats import ScoreStats, multi_metric_stats
from speechbrain_masksr.utils.lengths import relative_to_absolute


class RecordingLogger:
    """A ``train_logger`` that keeps every ``log_stats`` call."""

    def __init__(self):
        self.calls = []

    def log_stats(
        self,
        stats_meta,
        train_stats=None,
        valid_stats=None,
        test_stats=None,
        verbose=True,
    ):
        self.calls.append(
            {
                "meta": stats_meta,
                "train": train_stats,
                "valid": valid_stats,
                "test": test_stats,
            }
        )


class NoCheckpointer:
    """Records ``save_and_keep_only`` metas instead of writing files."""

    def __init__(self):
        self.metas = []

    def save_and_keep_only(self, meta=None, **kwargs):
        self.metas.append(meta)

    def add_recoverable(self, *args, **kwargs):
        pass


class Counter:
    current = 1


def test_score_stats_leave_nan_out():
    stats = ScoreStats()
    stats.append(["a", "b"], torch.tensor([2.0, float("nan")]))
    stats.append(["c"], torch.tensor([5.0], dtype=torch.float64))
    assert stats.summarize("average") == 3.5
    assert stats.summary["min_id"] == "a" and stats.summary["max_id"] == "c"
    empty = ScoreStats()
    empty.append(["x"], torch.tensor([float("nan")]))
    assert math.isnan(empty.summarize("average"))


def test_multi_metric_stats_match_compute_metrics():
    torch.manual_seed(0)
    ref = torch.randn(2, 8000)
    est = ref + 0.3 * torch.randn(2, 8000)
    lens = torch.tensor([1.0, 0.6])
    stats = multi_metric_stats(["lsd", "si_sdr"], 16000)
    stats.append(["a", "b"], est, ref, lens)
    rows = [
        compute_metrics(ref[0], est[0], 16000, metrics=("lsd", "si_sdr")),
        compute_metrics(
            ref[1, :4800], est[1, :4800], 16000, metrics=("lsd", "si_sdr")
        ),
    ]
    means = stats.summarize("average")
    for column in ("lsd", "si_sdr"):
        assert means[column] == (rows[0][column] + rows[1][column]) / 2


def _enhance_brain():
    from speechbrain_masksr.brains.enhance_brain import MAEEnhanceBrain
    from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    from speechbrain_masksr.lobes.spectral import CompressedSTFT

    torch.manual_seed(0)
    enhancer = build_mae_enhancer(
        CompressedSTFT(512, 128),
        4096,
        "multiplicative",
        d_model=32,
        depth=1,
        num_heads=2,
        decoder_dim=16,
        decoder_depth=1,
        decoder_num_heads=2,
    )
    hparams = {"train_logger": RecordingLogger(), "epoch_counter": Counter()}
    brain = MAEEnhanceBrain(
        {"enhancer": enhancer},
        lambda p: torch.optim.Adam(p, 1e-3),
        hparams=hparams,
        run_opts={"device": "cpu"},
        checkpointer=NoCheckpointer(),
    )
    brain.init_optimizers()
    brain.modules.eval()
    return brain, enhancer


def test_enhance_brain_logs_valid_si_sdr():
    brain, enhancer = _enhance_brain()
    g = torch.Generator().manual_seed(1)
    items = []
    for uid, n in (("a", 4096), ("b", 3000)):
        clean = 0.1 * torch.randn(n, generator=g)
        noisy = clean + 0.05 * torch.randn(n, generator=g)
        items.append({"id": uid, "input_sig": noisy, "target_sig": clean})
    batch = PaddedBatch(items)
    brain.on_stage_start(sb.Stage.VALID, epoch=1)
    loss = brain.evaluate_batch(batch, sb.Stage.VALID)
    brain.on_stage_end(sb.Stage.VALID, float(loss), epoch=1)

    (call,) = brain.hparams.train_logger.calls
    logged = call["valid"]
    inputs, lens = batch.input_sig
    targets, _ = batch.target_sig
    with torch.no_grad():
        est = enhancer.waveform(enhancer(inputs, mask_ratio=0.0))
    assert est.shape == targets.shape
    n = relative_to_absolute(lens, targets.shape[1]).tolist()
    want = sum(si_sdr(targets[i, :k], est[i, :k]) for i, k in enumerate(n))
    want_in = sum(
        si_sdr(targets[i, :k], inputs[i, :k]) for i, k in enumerate(n)
    )
    assert logged["loss"] == pytest.approx(float(loss))
    assert logged["si_sdr"] == pytest.approx(want / 2, abs=1e-6)
    assert logged["si_sdr_input"] == pytest.approx(want_in / 2, abs=1e-6)
    assert brain.last_stats == logged


class FakeCodec:
    """Decodes tokens to a fixed waveform per token (no DAC needed)."""

    hop_length = 512

    def decode(self, tokens):
        frames = tokens.float().mean(dim=1)  # [batch, frames]
        wav = frames.repeat_interleave(self.hop_length, dim=-1) / 8.0 - 0.4
        ramp = torch.linspace(0, 60, wav.shape[-1]).sin()
        return 0.1 * wav + 0.05 * ramp


def _masksr_brain(tmp_path):
    from speechbrain_masksr.brains.masksr_brain import MaskSRBrain
    from speechbrain_masksr.lobes.masksr import build_masksr

    torch.manual_seed(0)
    model = build_masksr(
        d_model=16,
        encoder_layers=1,
        lm_layers=1,
        nhead=2,
        n_codebooks=2,
        codebook_size=8,
        hop_length=512,
    )
    hparams = dict(
        seed=1,
        eval_seed=2,
        sample_rate=44100,
        segment_seconds=3.0,
        codec=FakeCodec(),
        sampling_steps=1,
        guidance=0.0,
        sampling_noise="none",
        valid_restore_clips=2,
        valid_restore_every=1,
        valid_metrics=["lsd", "si_sdr"],
        test_metrics=["lsd", "estoi"],
        restore_folder=str(tmp_path / "restored"),
        train_logger=RecordingLogger(),
        epoch_counter=Counter(),
    )
    brain = MaskSRBrain(
        {"model": model},
        opt_class=lambda p: torch.optim.Adam(p, 1e-3),
        hparams=hparams,
        run_opts={"device": "cpu"},
        checkpointer=NoCheckpointer(),
    )
    brain.init_optimizers()
    brain.modules.eval()
    g = torch.Generator().manual_seed(3)
    batch = PaddedBatch(
        [
            {
                "id": uid,
                "degraded_sig": 0.1 * torch.randn(2048, generator=g),
                "clean_sig": 0.1 * torch.randn(2048, generator=g),
                "tokens": torch.randint(0, 8, (4, 2), generator=g),
            }
            for uid in ("a", "b", "c")
        ]
    )
    return brain, model, batch


def _expected_accuracy(brain, model, batch):
    """Token accuracy of the masks the evaluation stage draws."""
    from speechbrain_masksr.brains.masksr_brain import batch_seed

    degraded, lengths = batch.degraded_sig
    tokens = batch.tokens.data.transpose(1, 2).long()
    gen = torch.Generator().manual_seed(
        batch_seed(brain.hparams.eval_seed, batch.id)
    )
    with torch.no_grad():
        out = model(degraded, tokens, wav_lens=lengths, generator=gen)
        _, acc = model.loss(out["logits"], tokens, out["mask"])
    return [round(float(a), 6) for a in acc]


def test_masksr_brain_logs_accuracy_and_restoration_scores(tmp_path):
    brain, model, batch = _masksr_brain(tmp_path)
    brain.on_stage_start(sb.Stage.VALID, epoch=1)
    loss = brain.evaluate_batch(batch, sb.Stage.VALID)
    brain.on_stage_end(sb.Stage.VALID, float(loss), epoch=1)

    (call,) = brain.hparams.train_logger.calls
    logged = call["valid"]
    per_q = _expected_accuracy(brain, model, batch)
    assert [logged["acc_q1"], logged["acc_q2"]] == per_q
    assert logged["acc"] == round(sum(per_q) / 2, 6)
    assert brain.checkpointer.metas == [
        {"loss": logged["loss"], "acc": logged["acc"]}
    ]

    # valid_restore_clips = 2: the first two clips, restored again here.
    degraded, lengths = batch.degraded_sig
    clean, _ = batch.clean_sig
    restored = brain.restore(degraded[:2], lengths[:2], seed=2)
    for tag, wavs in (("unprocessed", degraded), ("masksr", restored)):
        rows = [
            compute_metrics(clean[i], wavs[i], 44100, ("lsd", "si_sdr"))
            for i in range(2)
        ]
        for column in ("lsd", "si_sdr"):
            want = round((rows[0][column] + rows[1][column]) / 2, 6)
            assert logged[f"{tag}_{column}"] == want, (tag, column)


def test_masksr_brain_test_stage_results(tmp_path):
    brain, model, batch = _masksr_brain(tmp_path)
    brain.test_set_name = "toy"
    brain.on_stage_start(sb.Stage.TEST)
    loss = brain.evaluate_batch(batch, sb.Stage.TEST)
    brain.on_stage_end(sb.Stage.TEST, float(loss))

    (call,) = brain.hparams.train_logger.calls
    logged = call["test"]
    result = brain.test_results["toy"]
    assert result["clips"] == 3
    assert list(result["systems"]) == [
        "Unprocessed",
        "MaskSR",
        "Codec resynthesis",
        "Target",
    ]
    degraded, _ = batch.degraded_sig
    clean, _ = batch.clean_sig
    rows = [
        compute_metrics(clean[i], degraded[i], 44100, ("lsd", "estoi"))
        for i in range(3)
    ]
    want = round(sum(r["lsd"] for r in rows) / 3, 6)
    assert result["systems"]["Unprocessed"]["lsd"] == want
    assert logged["unprocessed_lsd"] == want
    # ESTOI cannot score clips this short: NaN everywhere -> None, not logged
    assert all(math.isnan(r["estoi"]) for r in rows)
    assert result["systems"]["Unprocessed"]["estoi"] is None
    assert "unprocessed_estoi" not in logged
    assert logged["target_lsd"] == result["systems"]["Target"]["lsd"]
    assert result["accuracy"] == _expected_accuracy(brain, model, batch)
    assert (tmp_path / "restored" / "toy" / "a.wav").is_file()


def test_audiomae_classifier_brain_logs_map():
    from speechbrain_masksr.brains.audiomae_brain import (
        AudioMAEClassifierBrain,
        mean_average_precision,
        multi_hot,
    )
    from speechbrain_masksr.lobes.audio_mae import (
        AudioMAEClassifierModel,
        AudioMAEEncoder,
        AudioMAEFbank,
    )

    torch.manual_seed(0)
    enc = AudioMAEEncoder(grid=(4, 2), d_model=16, depth=1, num_heads=2)
    model = AudioMAEClassifierModel(enc, n_classes=3)
    hparams = {
        "compute_fbank": AudioMAEFbank(num_mel_bins=32, target_length=64),
        "label_smoothing": 0.0,
        "train_logger": RecordingLogger(),
        "epoch_counter": Counter(),
    }
    brain = AudioMAEClassifierBrain(
        {"model": model},
        hparams=hparams,
        run_opts={"device": "cpu"},
        checkpointer=NoCheckpointer(),
    )
    brain.modules.eval()
    g = torch.Generator().manual_seed(4)
    batches = [
        PaddedBatch(
            [
                {
                    "id": f"{k}{i}",
                    "sig": torch.randn(8000, generator=g),
                    "targets": multi_hot(labels, 3),
                }
                for i, labels in enumerate(([0], [2], [0, 1]))
            ]
        )
        for k in "xy"
    ]
    brain.on_stage_start(sb.Stage.VALID, epoch=1)
    for batch in batches:
        brain.evaluate_batch(batch, sb.Stage.VALID)
    brain.on_stage_end(sb.Stage.VALID, 0.5, epoch=1)

    scores, targets = [], []
    with torch.no_grad():
        for batch in batches:
            wavs, lens = batch.sig
            logits = model(brain.fbank(wavs, lens))
            scores.append(torch.sigmoid(logits.float()))
            targets.append(batch.targets.data)
    want, ap = mean_average_precision(
        torch.cat(scores).numpy(), torch.cat(targets).numpy()
    )
    (call,) = brain.hparams.train_logger.calls
    assert call["valid"] == {"loss": 0.5, "mAP": want}
    assert brain.last_ap.tolist() == ap.tolist()
    assert brain.checkpointer.metas == [{"mAP": want}]
