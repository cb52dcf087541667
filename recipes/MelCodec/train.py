#!/usr/bin/env python3
"""Recipe: a MaskSR codec built here (residual VQ of the HiFi-GAN log-mel).

Learns the codebooks of :class:`~speechbrain_masksr.codecs.mel.MelCodec`
from a folder of clean speech by residual k-means
(:func:`~speechbrain_masksr.codecs.mel.train_residual_vq`), writes the
codec file (weights only: statistics, codebooks and mel settings; loaded
strictly by ``load_mel_codec_weights``), then scores copy-synthesis on the
held-out speech (and any ``eval_folders``): the HiFi-GAN on the unquantized
mel (the ceiling) and the codec at each of ``table_levels`` codebooks, with
PESQ, ESTOI, DNSMOS, the log-mel error of the output and the bit rate, in
``<output_folder>/metrics.md``. An existing codec file is reused, never
replaced (delete it, or use another ``--output_folder``, to retrain).

To run this recipe (from the repository root)::

    python recipes/MelCodec/train.py hparams/mel_codec.yaml \\
        --train_folder=/data/clean_speech/train \\
        --valid_folder=/data/clean_speech/valid

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import sys
import time
from pathlib import Path

import speechbrain as sb
import torch
from hyperpyyaml import load_hyperpyyaml
from mel_codec_prepare import prepare_from_hparams
from speechbrain.utils.logger import get_logger

from speechbrain_masksr.codecs.mel import (
    load_mel_codec,
    save_mel_codec,
    train_residual_vq,
)
from speechbrain_masksr.dataio import find_audio_files, load_audio
from speechbrain_masksr.metrics import mean_metrics, metrics_table
from speechbrain_masksr.metrics.codec import copy_synthesis_scores
from speechbrain_masksr.utils.files import atomic_open, atomic_write

logger = get_logger(__name__)


def manifest_files(path):
    """The audio paths of a JSON manifest, sorted by id."""
    with open(path, encoding="utf-8") as fin:
        entries = json.load(fin)
    return [Path(entries[uid]["wav"]) for uid in sorted(entries)]


def log_mel_frames(files, mel):
    """Every log-mel frame ``[frames, n_mels]`` of ``files``."""
    frames = []
    for path in files:
        wav, _ = load_audio(path, mel.sample_rate)
        extra = -wav.shape[-1] % mel.hop_length
        wav = torch.nn.functional.pad(wav, (0, extra))
        frames.append(mel(wav[None])[0])
    return torch.cat(frames)


def score_set(codec, files, hparams):
    """Mean copy-synthesis scores of a set: ``{row: {column: value}}``."""
    per_level = {}
    files = files[: hparams["max_eval_files"]]
    for index, path in enumerate(files):
        logger.info("copy-synthesis %d/%d: %s", index + 1, len(files), path)
        wav, _ = load_audio(path, codec.sample_rate)
        rows = copy_synthesis_scores(
            codec, wav, hparams["table_levels"], hparams["table_metrics"]
        )
        for name, row in rows.items():
            per_level.setdefault(name, []).append(row)
    table = {}
    for name, rows in per_level.items():
        means = mean_metrics(rows)
        for extra in ("mel_l1", "kbps"):
            means[extra] = sum(r[extra] for r in rows) / len(rows)
        table[name] = means
    return table


if __name__ == "__main__":
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )
    manifests = prepare_from_hparams(hparams)
    codec_file = Path(hparams["codec_file"])
    if codec_file.is_file():
        logger.info("codec file %s exists: reused (not retrained)", codec_file)
    else:
        start = time.time()
        feats = log_mel_frames(
            manifest_files(manifests["train"]), hparams["mel"]
        )
        logger.info("%d log-mel frames of training speech", feats.shape[0])
        vq = train_residual_vq(
            feats,
            hparams["n_codebooks"],
            hparams["codebook_size"],
            hparams["kmeans_iterations"],
            hparams["max_frames"],
            hparams["seed"],
            log=lambda k, mse: logger.info(
                "codebooks 1-%d: normalised mel MSE %.4f", k, mse
            ),
        )
        with atomic_write(codec_file) as tmp:
            save_mel_codec(vq, hparams["mel"], tmp)
        logger.info(
            "codec file %s written (%.1f min)",
            codec_file,
            (time.time() - start) / 60,
        )

    codec = load_mel_codec(codec_file, hparams["vocoder"])
    sets = {"valid": manifest_files(manifests["valid"])}
    for name, folder in (hparams["eval_folders"] or {}).items():
        sets[name] = find_audio_files(folder)
    lines = [f"# Mel codec copy-synthesis ({codec_file})", ""]
    for name, files in sets.items():
        table = score_set(codec, files, hparams)
        shown = min(len(files), hparams["max_eval_files"])
        lines += [f"## {name} ({shown} files)", "", metrics_table(table), ""]
        logger.info("%s:\n%s", name, metrics_table(table))
    with atomic_open(Path(hparams["output_folder"]) / "metrics.md") as fout:
        fout.write("\n".join(lines))
