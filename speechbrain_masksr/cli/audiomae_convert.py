"""``audiomae-convert``: official Audio-MAE checkpoints -> model folders.

Converts the released facebookresearch/AudioMAE checkpoints

* ``pretrained.pth`` (ViT-B encoder + 16-block shifted-window decoder) into
  a folder for ``AudioMAEReconstruction.from_folder(source=OUT_DIR)``;
* ``finetuned.pth`` (ViT-B + 527-class AudioSet head) into a folder for
  ``AudioMAEClassifier.from_folder(source=OUT_DIR)``,

writing ``hyperparams.yaml`` (a checked-in template with the model's
values) and ``model.ckpt`` (plus ``label_encoder.txt`` for classifiers).
The model configuration is read from the tensor shapes (width, depth, patch grid, decoder type, number
of classes; heads = width / 64 for the encoder, the size of ``attn.tau``
for local decoder blocks). Every official key must map onto the model and
every model key must be filled, otherwise the conversion fails and lists
them. The checkpoint's positional tables are kept: the official code built
them on a transposed (8 x 64) grid, and only that table reproduces the
official outputs.

Checkpoints are read with ``torch.load(weights_only=True)``; training
checkpoints that also pickle the run's ``argparse.Namespace`` are accepted
by allowing that one class. Anything else that needs full unpickling is
refused unless ``--trust-checkpoint`` is given (unpickling can run code: use
it only for files from a source you trust).

Class names come from ``--labels class_labels_indices.csv``; without it the
classifier's classes are named ``class_000``, ``class_001``, ...

``OUT_DIR`` may exist; other files in it are left alone. If it already
holds a model folder (``hyperparams.yaml``, ``model.ckpt`` or
``label_encoder.txt``) the conversion is refused unless ``--overwrite`` is
given, and the files are then replaced together (a folder converted from a 527-class checkpoint becomes a
consistent 10-class one, say). Nothing is written when the conversion
fails. Exit status: 0 converted, 1 conversion error, 2 usage error.

Example::

    audiomae-convert finetuned.pth models/audiomae-as2m \\
        --labels class_labels_indices.csv

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import pickle
import re
import sys
import zipfile
from pathlib import Path

import torch

from speechbrain_masksr.errors import ModelFileError
from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEClassifierModel,
    AudioMAEDecoder,
    AudioMAEEncoder,
    AudioMAEFbank,
    load_official_state_dict,
)

__all__ = [
    "ConversionError",
    "build_model",
    "convert_checkpoint",
    "infer_config",
    "load_checkpoint",
    "main",
]


#: Errors of the conversion (unknown layout, key mismatch, unreadable file,
#: an output folder that already holds a model) are the package's
#: :class:`~speechbrain_masksr.errors.ModelFileError` (a ``RuntimeError``,
#: as before); ``ConversionError`` is kept as its name here.
ConversionError = ModelFileError

#: Command-line flag of each Python argument named in an error message.
_FLAGS = {
    "trust_checkpoint=True": "--trust-checkpoint",
    "overwrite=True": "--overwrite",
    "kind=": "--kind",
}


def load_checkpoint(path, trust_checkpoint=False):
    """Read an official checkpoint and return its model weights.

    Arguments
    ---------
    path : str or Path
        ``.pth`` file: a state dict or ``{"model": state_dict, ...}``.
    trust_checkpoint : bool
        Allow full unpickling (``weights_only=False``) when the safe loader
        refuses the file.

    Returns
    -------
    dict
        The state dict (a DDP ``module.`` prefix removed).

    Example
    -------
    >>> import argparse
    >>> path = str(getfixture("tmpdir") / "ckpt.pth")
    >>> torch.save({"model": {"cls_token": torch.zeros(1, 1, 4)},
    ...             "args": argparse.Namespace(lr=1e-3)}, path)
    >>> sorted(load_checkpoint(path))
    ['cls_token']
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"{path}: checkpoint not found. Download pretrained.pth or "
            "finetuned.pth from the facebookresearch/AudioMAE README."
        )
    with open(path, "rb") as fin:
        magic = fin.read(4)
    # torch.save writes a zip archive (legacy files: a pickle, 0x80 first)
    if not (zipfile.is_zipfile(path) or magic[:1] == b"\x80"):
        raise ModelFileError(
            _not_a_checkpoint(path, ValueError(f"starts with {magic!r}"))
        )
    try:
        ckpt = _torch_load(path)
    except pickle.UnpicklingError:
        # Training checkpoints also pickle the run's argparse.Namespace.
        try:
            with torch.serialization.safe_globals([argparse.Namespace]):
                ckpt = _torch_load(path)
        except pickle.UnpicklingError as err:
            if not trust_checkpoint:
                raise ModelFileError(
                    f"{path}: holds Python objects that safe loading "
                    f"(weights_only=True) refuses ({err}). If the file comes "
                    "from a source you trust, load it with "
                    "trust_checkpoint=True (full unpickling can execute code)."
                ) from err
            ckpt = _torch_load(path, weights_only=False)
    if isinstance(ckpt, dict) and isinstance(ckpt.get("model"), dict):
        ckpt = ckpt["model"]
    if not isinstance(ckpt, dict) or not all(
        torch.is_tensor(v) for v in ckpt.values()
    ):
        raise ModelFileError(f"{path}: no state dict of tensors found")
    if ckpt and all(k.startswith("module.") for k in ckpt):
        ckpt = {k[len("module.") :]: v for k, v in ckpt.items()}
    return ckpt


def _torch_load(path, weights_only=True):
    """``torch.load`` that reports a file that is no checkpoint at all."""
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError as err:
        if weights_only and "Weights only load failed" in str(err):
            raise  # a real checkpoint holding pickled objects
        raise ModelFileError(_not_a_checkpoint(path, err)) from err
    except Exception as err:  # zip / EOF / key errors from torch.load
        raise ModelFileError(_not_a_checkpoint(path, err)) from err


def _not_a_checkpoint(path, err):
    return (
        f"{path}: not a PyTorch checkpoint, or a corrupt / truncated one "
        f"({type(err).__name__}: {err}). Expected the official Audio-MAE "
        "pretrained.pth or finetuned.pth."
    )


def _block_indices(state, prefix):
    """Sorted block indices of ``prefix.N.*`` keys."""
    pattern = re.compile(re.escape(prefix) + r"\.(\d+)\.")
    return sorted({int(m.group(1)) for k in state if (m := pattern.match(k))})


def infer_config(
    state,
    kind="auto",
    num_heads=None,
    decoder_num_heads=16,
    num_mel_bins=128,
    target_length=None,
):
    """Read the model configuration from an official state dict.

    Arguments
    ---------
    state : dict
        Official weights.
    kind : str
        ``"pretrained"``, ``"finetuned"`` or ``"auto"`` (decoder keys ->
        pretrained, ``head.*`` -> finetuned).
    num_heads : int, optional
        Encoder heads (default ``d_model // 64``: 6 / 12 / 16 for
        ViT-S / B / L).
    decoder_num_heads : int
        Heads of a global decoder (local blocks store theirs in ``tau``).
    num_mel_bins : int
        Fbank bins (sets the frequency side of the patch grid).
    target_length : int, optional
        Frames of the input (default: from the positional table).

    Returns
    -------
    dict
        ``kind``, ``fbank``, ``encoder`` and ``decoder`` / ``classifier``
        keyword arguments.

    Example
    -------
    >>> state = {"patch_embed.proj.weight": torch.zeros(64, 1, 16, 16),
    ...          "pos_embed": torch.zeros(1, 513, 64),
    ...          "blocks.0.mlp.fc1.weight": torch.zeros(256, 64),
    ...          "head.weight": torch.zeros(5, 64),
    ...          "fc_norm.weight": torch.zeros(64)}
    >>> cfg = infer_config(state)
    >>> cfg["kind"], cfg["encoder"]["grid"], cfg["classifier"]["n_classes"]
    ('finetuned', (64, 8), 5)
    """
    required = ("patch_embed.proj.weight", "pos_embed")
    missing = [k for k in required if k not in state]
    if missing:
        raise ModelFileError(
            f"not an Audio-MAE/ViT checkpoint: keys {missing} are missing"
        )
    if kind == "auto":
        if "decoder_embed.weight" in state:
            kind = "pretrained"
        elif "head.weight" in state:
            kind = "finetuned"
        else:
            raise ModelFileError(
                "cannot tell the checkpoint kind (no decoder_embed.* and no "
                "head.*); pass kind='pretrained' or kind='finetuned'"
            )
    proj = state["patch_embed.proj.weight"]
    patch, in_chans = int(proj.shape[-1]), int(proj.shape[1])
    if proj.shape[-2] != proj.shape[-1]:
        raise ModelFileError(f"non-square patches {tuple(proj.shape[-2:])}")
    d_model = int(state["pos_embed"].shape[-1])
    n_patches = int(state["pos_embed"].shape[1]) - 1
    if target_length is not None:
        n_time = int(target_length) // patch
        n_freq = n_patches // max(n_time, 1)
    else:
        n_freq = num_mel_bins // patch
        n_time = n_patches // max(n_freq, 1)
    if n_time * n_freq != n_patches:
        raise ModelFileError(
            f"{n_patches} positions do not form a patch grid with "
            f"{num_mel_bins} mel bins / target_length {target_length}"
        )
    depth = len(_block_indices(state, "blocks"))
    if depth == 0:
        raise ModelFileError("no encoder blocks (blocks.N.*) found")
    fc1 = state.get("blocks.0.mlp.fc1.weight")
    mlp_ratio = fc1.shape[0] / d_model if fc1 is not None else 4.0
    config = {
        "kind": kind,
        "fbank": {
            "num_mel_bins": n_freq * patch,
            "target_length": n_time * patch,
        },
        "encoder": {
            "grid": (n_time, n_freq),
            "patch_size": patch,
            "d_model": d_model,
            "depth": depth,
            "num_heads": int(num_heads or max(1, d_model // 64)),
            "mlp_ratio": mlp_ratio,
            "in_chans": in_chans,
            "pos_layout": "official",
        },
    }
    if kind == "pretrained":
        config["decoder"] = _decoder_config(
            state, config["encoder"], decoder_num_heads
        )
    elif kind == "finetuned":
        if "head.weight" not in state:
            raise ModelFileError("finetuned checkpoint without head.weight")
        pool = "fc_norm.weight" in state
        config["classifier"] = {
            "n_classes": int(state["head.weight"].shape[0]),
            "global_pool": pool,
            "pos_trainable": False,
        }
    else:
        raise ModelFileError(f"unknown kind {kind!r}")
    return config


def _decoder_config(state, encoder, decoder_num_heads):
    """Decoder keyword arguments from ``decoder_*`` tensors."""
    if "decoder_embed.weight" not in state:
        raise ModelFileError("pretrained checkpoint without decoder_embed")
    dim = int(state["decoder_embed.weight"].shape[0])
    blocks = _block_indices(state, "decoder_blocks")
    if not blocks:
        raise ModelFileError("no decoder blocks (decoder_blocks.N.*) found")
    local = [f"decoder_blocks.{i}.attn.tau" in state for i in blocks]
    n_local = sum(local)
    if n_local == 0:
        mode = "global"
    elif n_local == len(blocks):
        mode = "local"
    elif all(local[:n_local]):
        mode = "hybrid"
    else:
        raise ModelFileError("local blocks must precede global blocks")
    if n_local:
        heads = int(state["decoder_blocks.0.attn.tau"].shape[0])
        hidden = int(
            state["decoder_blocks.0.attn.meta_mlp.fc1.weight"].shape[0]
        )
        if hidden != 384:
            raise ModelFileError(
                f"position-bias MLP width {hidden} (expected 384)"
            )
    else:
        heads = int(decoder_num_heads)
    fc1 = state.get(f"decoder_blocks.{blocks[0]}.mlp.fc1.weight")
    config = {
        "grid": encoder["grid"],
        "d_model": encoder["d_model"],
        "decoder_dim": dim,
        "depth": len(blocks),
        "num_heads": heads,
        "mode": mode,
        "patch_size": encoder["patch_size"],
        "in_chans": encoder["in_chans"],
        "mlp_ratio": fc1.shape[0] / dim if fc1 is not None else 4.0,
        "pos_layout": "official",
    }
    if mode == "hybrid":
        config["n_global"] = len(blocks) - n_local
    return config


def build_model(config):
    """Build our model for an inferred configuration.

    Arguments
    ---------
    config : dict
        Output of :func:`infer_config`.

    Returns
    -------
    tuple
        ``(model, compute_fbank)``: an ``AudioMAE`` (pretrained) or
        ``AudioMAEClassifierModel`` (finetuned), and the ``AudioMAEFbank``.

    Example
    -------
    >>> cfg = {"kind": "finetuned",
    ...        "fbank": {"num_mel_bins": 32, "target_length": 64},
    ...        "encoder": {"grid": (4, 2), "d_model": 16, "depth": 1,
    ...                    "num_heads": 2},
    ...        "classifier": {"n_classes": 3}}
    >>> model, fbank = build_model(cfg)
    >>> type(model).__name__, fbank.target_length
    ('AudioMAEClassifierModel', 64)
    """
    fbank = AudioMAEFbank(**config["fbank"])
    encoder = AudioMAEEncoder(**config["encoder"])
    if config["kind"] == "pretrained":
        decoder = AudioMAEDecoder(**config["decoder"])
        # The released model: norm_pix_loss on, 80% random masking.
        model = AudioMAE(encoder, decoder, mask_ratio=0.8, norm_pix_loss=True)
    else:
        model = AudioMAEClassifierModel(encoder, **config["classifier"])
    return model.eval(), fbank


def convert_checkpoint(
    checkpoint,
    out_dir,
    kind="auto",
    labels=None,
    trust_checkpoint=False,
    num_heads=None,
    target_length=None,
    overwrite=False,
):
    """Convert an official checkpoint into a model folder.

    Arguments
    ---------
    checkpoint : str or Path
        Official ``pretrained.pth`` / ``finetuned.pth``.
    out_dir : str or Path
        Output folder (``hyperparams.yaml`` + ``model.ckpt``); must not be
        the checkpoint's own path.
    kind : str
        ``"auto"``, ``"pretrained"`` or ``"finetuned"``.
    labels : str or Path, optional
        ``class_labels_indices.csv`` for the class names.
    trust_checkpoint : bool
        See :func:`load_checkpoint`.
    num_heads : int, optional
        Encoder heads (default ``d_model // 64``).
    target_length : int, optional
        Input frames (default: from the positional table).
    overwrite : bool
        Replace the ``hyperparams.yaml`` / ``model.ckpt`` of an existing
        model folder in ``out_dir`` (other files are never touched).

    Returns
    -------
    dict
        The configuration used.

    Raises
    ------
    ModelFileError
        The checkpoint is missing, unreadable or cannot be converted, or
        ``out_dir`` is a file or already holds a model (without
        ``overwrite``); the message names the file and the reason.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import ours_to_official
    >>> model, _ = build_model({"kind": "finetuned",
    ...     "fbank": {"num_mel_bins": 128, "target_length": 64},
    ...     "encoder": {"grid": (4, 8), "d_model": 64, "depth": 1,
    ...                 "num_heads": 1}, "classifier": {"n_classes": 3}})
    >>> tmp = Path(getfixture("tmpdir"))
    >>> torch.save({"model": ours_to_official(model.state_dict(), "finetuned")},
    ...            str(tmp / "ft.pth"))
    >>> cfg = convert_checkpoint(tmp / "ft.pth", tmp / "out")
    >>> cfg["kind"], sorted(p.name for p in (tmp / "out").iterdir())
    ('finetuned', ['hyperparams.yaml', 'label_encoder.txt', 'model.ckpt'])
    """
    from speechbrain_masksr.inference.audio_mae import (
        read_label_names,
        write_model_folder,
    )

    if Path(out_dir).resolve() == Path(checkpoint).resolve():
        raise ModelFileError(f"{out_dir}: would overwrite the checkpoint")
    _check_out_dir(out_dir, overwrite)
    state = load_checkpoint(checkpoint, trust_checkpoint)
    config = infer_config(
        state, kind, num_heads=num_heads, target_length=target_length
    )
    model, fbank = build_model(config)
    try:
        load_official_state_dict(model, state, config["kind"])
    except (KeyError, RuntimeError) as err:
        text = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise ModelFileError(f"{checkpoint}: {text}") from err
    names = None
    if config["kind"] == "finetuned":
        n_classes = config["classifier"]["n_classes"]
        if labels is not None:
            names = read_label_names(labels)
            if len(names) != n_classes:
                raise ModelFileError(
                    f"{labels} names {len(names)} classes, the checkpoint "
                    f"has {n_classes}"
                )
    write_model_folder(
        out_dir, model, fbank, label_names=names, overwrite=overwrite
    )
    return config


def _check_out_dir(out_dir, overwrite):
    """Refuse an ``out_dir`` that is a file or already holds a model."""
    from speechbrain_masksr.inference.audio_mae import LABEL_FILE, MODEL_FILE
    from speechbrain_masksr.inference.model_folder import HPARAMS_FILE

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ModelFileError(f"{out_dir}: exists and is not a folder")
    taken = [
        name
        for name in (HPARAMS_FILE, MODEL_FILE, LABEL_FILE)
        if (out_dir / name).exists() or (out_dir / name).is_symlink()
    ]
    if taken and not overwrite:
        raise ModelFileError(
            f"{out_dir} already holds {' and '.join(taken)}; pass "
            "overwrite=True to replace them, or choose another out_dir"
        )


def main(argv=None):
    """Command-line entry point of ``audiomae-convert``.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status (0 on success, 1 on a conversion error; argparse
        exits with 2 on usage errors).

    Example
    -------
    >>> # "error: ...missing.pth: checkpoint not found..." on stderr
    >>> main([str(getfixture("tmpdir") / "missing.pth"), "out"])
    1
    """
    parser = argparse.ArgumentParser(
        prog="audiomae-convert",
        description="Convert an official Audio-MAE checkpoint into a "
        "SpeechBrain model folder (hyperparams.yaml + model.ckpt).",
    )
    parser.add_argument("checkpoint", help="pretrained.pth or finetuned.pth")
    parser.add_argument("out_dir", help="output model folder")
    parser.add_argument(
        "--kind", choices=("auto", "pretrained", "finetuned"), default="auto"
    )
    parser.add_argument(
        "--labels", default=None, help="class_labels_indices.csv (names)"
    )
    parser.add_argument(
        "--trust-checkpoint",
        action="store_true",
        help="allow full unpickling if safe loading refuses the file",
    )
    parser.add_argument("--num-heads", type=int, default=None)
    parser.add_argument("--target-length", type=int, default=None)
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace hyperparams.yaml / model.ckpt already in OUT_DIR",
    )
    args = parser.parse_args(argv)
    try:
        config = convert_checkpoint(
            args.checkpoint,
            args.out_dir,
            kind=args.kind,
            labels=args.labels,
            trust_checkpoint=args.trust_checkpoint,
            num_heads=args.num_heads,
            target_length=args.target_length,
            overwrite=args.overwrite,
        )
    except (ModelFileError, OSError, ValueError) as err:
        print(f"error: {_with_flags(err)}", file=sys.stderr)
        return 1
    enc = config["encoder"]
    what = (
        f"{config['decoder']['depth']}-block {config['decoder']['mode']} "
        "decoder"
        if config["kind"] == "pretrained"
        else f"{config['classifier']['n_classes']}-class head"
    )
    print(
        f"converted {config['kind']} checkpoint: ViT {enc['d_model']}-d, "
        f"{enc['depth']} blocks, {enc['num_heads']} heads, grid "
        f"{enc['grid'][0]}x{enc['grid'][1]}, {what} -> {args.out_dir}"
    )
    return 0


def _with_flags(err):
    """An error message with the command-line flags of the Python arguments
    it names.

    Example
    -------
    >>> _with_flags(ValueError("pass overwrite=True to replace it"))
    'pass overwrite=True to replace it (command line: --overwrite)'
    """
    text = str(err)
    flags = [flag for arg, flag in _FLAGS.items() if arg in text]
    if flags:
        text += f" (command line: {', '.join(flags)})"
    return text


if __name__ == "__main__":
    sys.exit(main())
