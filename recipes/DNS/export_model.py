#!/usr/bin/env python3
"""Export a MaskSR recipe checkpoint into a model folder for inference.

The folder holds ``hyperparams.yaml`` (the checked-in template
``speechbrain_masksr/inference/templates/masksr.yaml`` with the model config
copied from the training YAML; its ``pretrainer`` loads the two files below),
``model.ckpt`` (the ``MaskSR`` weights) and ``codec.pth`` (the DAC weights
the model was trained with, copied or symlinked). It is loaded with
``speechbrain_masksr.inference.SpeechRestoration.from_folder(source=...)``
(which checks the YAML's constructors against an allowlist first; the
export is verified that way) and used by ``masksr-restore --source``. The folder can be uploaded as is
to a Hugging Face model repo.

Usage::

    python recipes/DNS/export_model.py --hparams RESULTS/hyperparams.yaml \\
        --output demo/model [--checkpoint CKPT_DIR] [--codec copy|link] \\
        [--min-key KEY | --max-key KEY] [--overrides "{key: value}"]

``--hparams`` is the YAML the recipe saved in its output folder (overrides
already applied). Without ``--checkpoint``, the checkpoint is picked from
the YAML's ``save_folder``: the best by ``--min-key`` / ``--max-key`` when
given, else the one whose meta has the lowest ``loss``/``valid_loss`` when
all have it, else the latest. The weights are loaded strictly, and the
written folder is loaded back and checked to compute the same outputs as
the trained model before the script exits (status 0).

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from hyperpyyaml import load_hyperpyyaml

from speechbrain_masksr.inference.restoration import (
    CONFIG_KEYS,
    MODEL_FILE,
    SpeechRestoration,
    load_model_weights,
    write_model_folder,
)
from speechbrain_masksr.utils.checkpoints import SafeCheckpointer

# Model-folder keys read from the instantiated speech encoder (the built
# encoder is the authority; e.g. the DAC-token input ablation has no
# encoder_layers key in its YAML): folder key -> encoder attribute.
ENCODER_ATTRS = {
    "input_features": "input_features",
    "encoder_layers": "num_layers",
    "n_fft": "n_fft",
    "hop_length": "hop_length",
    "power": "power",
    "conv_channels": "conv_channels",
    "conv_kernel": "conv_kernel",
}
#: Training-YAML keys copied as they are (decoding and long-audio windowing).
WINDOW_KEYS = ("upper_levels", "window_seconds", "overlap_seconds", "crossfade")
AUTO_MIN_KEYS = ("loss", "valid_loss")
#: Storage types of model.ckpt (``--weights-dtype``).
WEIGHT_DTYPES = {"float32": torch.float32, "float16": torch.float16}


class ExportError(RuntimeError):
    """Export cannot proceed (message says why)."""


def parse_args(argv=None):
    """Parse the command line.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        Options.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hparams", required=True, help="training YAML saved by the recipe"
    )
    parser.add_argument("--output", required=True, help="model folder to write")
    parser.add_argument(
        "--checkpoint",
        default=None,
        help="CKPT+... folder (or its model.ckpt); default: picked from "
        "save_folder",
    )
    parser.add_argument(
        "--codec",
        choices=("copy", "link"),
        default="copy",
        help="copy the codec weights into the folder, or symlink them",
    )
    parser.add_argument(
        "--weights-dtype",
        choices=tuple(WEIGHT_DTYPES),
        default="float32",
        help="type model.ckpt stores the weights in (float16: half the "
        "file; the exported model is checked with the rounded weights)",
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--min-key", default=None, help="best = lowest meta")
    keys.add_argument("--max-key", default=None, help="best = highest meta")
    parser.add_argument(
        "--overrides",
        default=None,
        help="YAML overrides for loading --hparams, e.g. '{device: cpu}'",
    )
    return parser.parse_args(argv)


def find_checkpoint(save_folder, min_key=None, max_key=None):
    """Choose the checkpoint folder to export.

    Arguments
    ---------
    save_folder : str or Path
        The recipe's checkpoint folder (holding ``CKPT+*`` folders).
    min_key : str, optional
        Pick the lowest value of this meta key.
    max_key : str, optional
        Pick the highest value of this meta key.

    Returns
    -------
    path : Path
        The chosen ``CKPT+*`` folder. Damaged checkpoints (unreadable
        ``CKPT.yaml``, no or a truncated ``model.ckpt``, e.g. left by a
        kill during a save) are skipped with a warning naming them.
    """
    save_folder = Path(save_folder)
    if not save_folder.is_dir():
        raise ExportError(
            f"save_folder {save_folder} does not exist: train first, or "
            "pass --checkpoint"
        )
    checkpointer = SafeCheckpointer(
        save_folder, required=[Path(MODEL_FILE).stem]
    )
    ckpts = checkpointer.find_checkpoints()  # the valid ones
    if not ckpts:
        raise ExportError(
            f"no valid CKPT+* checkpoint in {save_folder}: train first, or "
            "pass --checkpoint"
        )
    if min_key is None and max_key is None:
        for key in AUTO_MIN_KEYS:
            if all(key in c.meta for c in ckpts):
                min_key = key
                break
    for key in (min_key, max_key):
        if key is not None and not all(key in c.meta for c in ckpts):
            raise ExportError(
                f"meta key '{key}' is missing from some checkpoints in "
                f"{save_folder} (meta keys: {sorted(ckpts[0].meta)})"
            )
    ckpt = checkpointer.find_checkpoint(min_key=min_key, max_key=max_key)
    how = (
        f"lowest {min_key}"
        if min_key
        else f"highest {max_key}"
        if max_key
        else "latest"
    )
    print(f"checkpoint: {ckpt.path} ({how}; meta {ckpt.meta})")
    return Path(ckpt.path)


def model_config(hparams):
    """Collect the inference config from the loaded training hparams.

    Arguments
    ---------
    hparams : dict
        Loaded training YAML.

    Returns
    -------
    config : dict
        Keys of :data:`CONFIG_KEYS`, ``noise`` (from ``sampling_noise``),
        those of :data:`WINDOW_KEYS` the YAML sets (the test stage's
        hierarchical decoding and windowing) and the speech encoder's
        settings (:data:`ENCODER_ATTRS`: input features, blocks, STFT or
        convolution front end).
    """
    for key in ("model", "codec_path"):
        if key not in hparams:
            raise ExportError(f"the training YAML lacks the key {key!r}")
    encoder = getattr(hparams["model"], "encoder", None)
    config = {
        key: getattr(encoder, attr)
        for key, attr in ENCODER_ATTRS.items()
        if hasattr(encoder, attr)
    }
    missing = [k for k in CONFIG_KEYS if k not in hparams and k not in config]
    if missing:
        raise ExportError(f"the training YAML lacks the keys {missing}")
    config.update(
        {k: hparams[k] for k in CONFIG_KEYS if k in hparams and k not in config}
    )
    if "sampling_noise" in hparams:
        config["noise"] = hparams["sampling_noise"]
    # Same decoding and windowing as the recipe's test stage.
    for key in WINDOW_KEYS:
        if hparams.get(key) is not None:
            config[key] = hparams[key]
    return config


@torch.no_grad()
def check_same_model(trained, loaded, n_codebooks, codebook_size, hop_length):
    """Check that the exported model computes what the trained one does.

    Compares parameters exactly, then encoder outputs and LM logits (eval
    mode) on a fixed random input: this catches config mismatches that keep
    parameter shapes (heads, STFT settings).

    Arguments
    ---------
    trained : torch.nn.Module
        The ``MaskSR`` from the training YAML (checkpoint loaded).
    loaded : torch.nn.Module
        The ``MaskSR`` from the exported folder.
    n_codebooks : int
        Codebooks.
    codebook_size : int
        Entries per codebook.
    hop_length : int
        Samples per codec frame.
    """
    state_a, state_b = trained.state_dict(), loaded.state_dict()
    for key, value in state_a.items():
        if not torch.equal(value.cpu(), state_b[key].cpu()):
            raise ExportError(f"exported weights differ at {key}")
    was_training = trained.training
    trained.eval()
    loaded.eval()
    try:
        gen = torch.Generator().manual_seed(0)
        wavs = 0.1 * torch.randn(1, hop_length * 12, generator=gen)
        device_a = next(trained.parameters()).device
        device_b = next(loaded.parameters()).device
        cond_a = trained.encoder(wavs.to(device_a)).cpu()
        cond_b = loaded.encoder(wavs.to(device_b)).cpu()
        if not torch.allclose(cond_a, cond_b, atol=1e-5, rtol=1e-4):
            raise ExportError(
                "the exported speech encoder computes different outputs: "
                "its config in hyperparams.yaml does not match training"
            )
        tokens = torch.randint(
            0, codebook_size + 1, (1, n_codebooks, 12), generator=gen
        )
        logits_a = trained.lm(tokens.to(device_a), cond_a.to(device_a))
        logits_b = loaded.lm(tokens.to(device_b), cond_a.to(device_b))
        if not torch.allclose(
            logits_a.cpu(), logits_b.cpu(), atol=1e-4, rtol=1e-4
        ):
            raise ExportError(
                "the exported codec LM computes different outputs: its "
                "config in hyperparams.yaml does not match training"
            )
    finally:
        trained.train(was_training)


def verify_folder(folder, model, config):
    """Load a written folder with SpeechRestoration and check it.

    Arguments
    ---------
    folder : Path
        The model folder.
    model : torch.nn.Module
        The trained ``MaskSR`` it was written from.
    config : dict
        Its model config.
    """
    with tempfile.TemporaryDirectory() as tmp:
        restorer = SpeechRestoration.from_folder(
            source=str(Path(folder).resolve()),
            savedir=tmp,
            run_opts={"device": "cpu"},
        )
        check_same_model(
            model.cpu(),
            restorer.mods.model,
            config["n_codebooks"],
            config["codebook_size"],
            restorer.mods.codec.hop_length,
        )
        # A full (tiny) restoration pass: generate + decode.
        wav = 0.05 * torch.randn(1, restorer.min_samples)
        out = restorer.restore_batch(wav, steps=1, seed=0)
        if out.shape != wav.shape or not torch.isfinite(out).all():
            raise ExportError("the exported model failed a restoration pass")


def export(
    hparams_file,
    output,
    checkpoint=None,
    codec="copy",
    min_key=None,
    max_key=None,
    overrides=None,
    weights_dtype="float32",
):
    """Export a checkpoint of the recipe into a model folder, and verify it.

    Arguments
    ---------
    hparams_file : str or Path
        Training YAML saved by the recipe.
    output : str or Path
        Model folder to write.
    checkpoint : str or Path, optional
        ``CKPT+*`` folder or its ``model.ckpt`` (default: chosen by
        :func:`find_checkpoint` in ``save_folder``).
    codec : str
        ``"copy"`` or ``"link"`` the codec weights.
    min_key : str, optional
        See :func:`find_checkpoint`.
    max_key : str, optional
        See :func:`find_checkpoint`.
    overrides : str or dict, optional
        Overrides for loading ``hparams_file``.
    weights_dtype : str
        ``"float32"`` or ``"float16"``: the type ``model.ckpt`` stores the
        weights in. With ``"float16"`` the model's weights are rounded to it
        before the folder is written and checked.

    Returns
    -------
    output : Path
        The written folder.
    """
    hparams_file = Path(hparams_file)
    if not hparams_file.is_file():
        raise ExportError(f"{hparams_file}: hparams file not found")
    try:
        with open(hparams_file, encoding="utf-8") as fin:
            hparams = load_hyperpyyaml(fin, overrides or {})
    except (ExportError, OSError):
        raise
    except Exception as err:  # YAML syntax, bad !new: targets, overrides
        raise ExportError(
            f"{hparams_file}: cannot load the training YAML "
            f"({type(err).__name__}: {err})"
        ) from err
    if not isinstance(hparams, dict):
        raise ExportError(f"{hparams_file}: not a YAML mapping of hparams")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ExportError(f"--output {output} exists and is not a folder")
    config = model_config(hparams)

    if checkpoint is None:
        if "save_folder" not in hparams:
            raise ExportError(
                f"{hparams_file} has no save_folder: pass --checkpoint"
            )
        checkpoint = find_checkpoint(hparams["save_folder"], min_key, max_key)
    checkpoint = Path(checkpoint)
    ckpt_file = checkpoint / MODEL_FILE if checkpoint.is_dir() else checkpoint
    if not ckpt_file.is_file():
        raise ExportError(
            f"{ckpt_file} not found: --checkpoint must be a CKPT+* folder "
            f"holding {MODEL_FILE} (the recoverable named 'model')"
        )
    model = hparams["model"]
    load_model_weights(model, ckpt_file)
    if weights_dtype not in WEIGHT_DTYPES:
        raise ExportError(
            f"weights_dtype must be one of {sorted(WEIGHT_DTYPES)}, "
            f"got {weights_dtype!r}"
        )
    dtype = WEIGHT_DTYPES[weights_dtype]
    with torch.no_grad():
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.copy_(value.to(dtype))

    # Write into a staging folder next to the output, verify, then move the
    # files in: a failed export never leaves a half-valid model folder.
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=output.parent))
    try:
        write_model_folder(
            staging,
            model,
            config,
            hparams["codec_path"],
            codec=codec,
            weights_dtype=dtype,
        )
        verify_folder(staging, model, config)
        output.mkdir(parents=True, exist_ok=True)
        for item in sorted(staging.iterdir()):
            os.replace(item, output / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(
        f"exported {ckpt_file} -> {output}/ (verified with SpeechRestoration)"
    )
    return output


def main(argv=None):
    """Command-line entry.

    Arguments
    ---------
    argv : list of str, optional
        Arguments.

    Returns
    -------
    status : int
        0 on success, 1 on a reported error.
    """
    args = parse_args(argv)
    try:
        export(
            args.hparams,
            args.output,
            checkpoint=args.checkpoint,
            codec=args.codec,
            min_key=args.min_key,
            max_key=args.max_key,
            overrides=args.overrides,
            weights_dtype=args.weights_dtype,
        )
    except (ExportError, OSError, KeyError) as err:
        print(f"export_model.py: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
