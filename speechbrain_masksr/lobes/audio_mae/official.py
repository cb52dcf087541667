"""Official Audio-MAE checkpoint layout <-> our module names.

:func:`official_to_ours` / :func:`ours_to_official` /
:func:`load_official_state_dict` - the official checkpoint layout.

Official <-> ours state-dict keys
---------------------------------
Submodule names are the official ones; only a prefix is added:

========================================  ==================================
official key (``checkpoint["model"]``)    ours
========================================  ==================================
``patch_embed.proj.{weight,bias}``        ``encoder.patch_embed.proj.*``
``cls_token``                             ``encoder.cls_token``
``pos_embed``                             ``encoder.pos_embed``
``blocks.N.{norm1,attn.qkv,attn.proj,``   ``encoder.blocks.N.*`` (same tail)
``norm2,mlp.fc1,mlp.fc2}.{weight,bias}``
``norm.{weight,bias}``                    ``encoder.norm.*``
``decoder_embed.*`` (pretrained)          ``decoder.decoder_embed.*``
``mask_token``                            ``decoder.mask_token``
``decoder_pos_embed``                     ``decoder.decoder_pos_embed``
``decoder_blocks.N.*``                    ``decoder.decoder_blocks.N.*``
  (local: ``attn.{qkv,proj,meta_mlp.fc1,``
  ``meta_mlp.fc2}.*``, ``attn.tau``,
  ``norm1.*``, ``mlp.fc{1,2}.*``,
  ``norm2.*``; global: as ``blocks.N``)
``decoder_norm.*``                        ``decoder.decoder_norm.*``
``decoder_pred.*``                        ``decoder.decoder_pred.*``
``fc_norm.*`` (finetuned)                 ``fc_norm.*``
``head.*`` (finetuned)                    ``head.*``
========================================  ==================================

The released ``pretrained.pth`` holds a 16-block local decoder: build
``AudioMAEDecoder(mode="local")`` for it. The released fine-tuned model
uses global pooling, so it has ``fc_norm`` and no ``norm``. Both store their
positional tables, which were generated on the transposed 8 x 64 grid
(``sincos_pos_embed_2d(..., layout="official")``); loading a checkpoint
replaces the regenerated tables (``keep_pos_embed=True``).

Configuration names follow the package (SpeechBrain's ``d_model`` for the
model width): the official ``embed_dim`` / ``decoder_embed_dim`` are our
``d_model`` / ``decoder_dim``. Only constructor arguments are named so;
the state-dict keys above are the official ones.

Authors
 * speechbrain-masksr contributors 2026
"""

import re

from speechbrain_masksr.lobes.audio_mae.decoder import AudioMAEDecoder
from speechbrain_masksr.lobes.audio_mae.encoder import (
    _CONFIG_HINT,
    AudioMAEEncoder,
)
from speechbrain_masksr.lobes.audio_mae.model import AudioMAE
from speechbrain_masksr.utils.checkpoints import load_state_dict_strict

__all__ = [
    "OFFICIAL_KEY_MAP",
    "load_official_state_dict",
    "official_to_ours",
    "ours_to_official",
]

_ENCODER_KEY = (
    r"patch_embed\.proj\.(weight|bias)|cls_token|pos_embed"
    r"|blocks\.\d+\..+|norm\.(weight|bias)"
)
_DECODER_KEY = (
    r"decoder_embed\.(weight|bias)|mask_token|decoder_pos_embed"
    r"|decoder_blocks\.\d+\..+|decoder_norm\.(weight|bias)"
    r"|decoder_pred\.(weight|bias)"
)
_HEAD_KEY = r"fc_norm\.(weight|bias)|head\.(weight|bias)"

#: Official-key regular expressions and the prefix they get in our models.
OFFICIAL_KEY_MAP = {
    "pretrained": ((_ENCODER_KEY, "encoder."), (_DECODER_KEY, "decoder.")),
    "finetuned": ((_ENCODER_KEY, "encoder."), (_HEAD_KEY, "")),
}

# Buffers that some versions save and that our modules rebuild.
_REBUILT_BUFFERS = ("relative_coordinates_log", "attn_mask")


def _unwrap_checkpoint(state_dict):
    """Returns the model weights of an official training checkpoint."""
    if "model" in state_dict and isinstance(state_dict["model"], dict):
        state_dict = state_dict["model"]
    keys = list(state_dict)
    if keys and all(key.startswith("module.") for key in keys):
        state_dict = {key[len("module.") :]: v for key, v in state_dict.items()}
    return state_dict


def official_to_ours(state_dict, kind="pretrained"):
    """Renames an official Audio-MAE state dict to our module names.

    Arguments
    ---------
    state_dict : dict
        Official weights, or a training checkpoint holding them under
        ``"model"`` (a DDP ``module.`` prefix is stripped).
    kind : str
        ``"pretrained"`` (encoder + decoder, for :class:`AudioMAE`) or
        ``"finetuned"`` (encoder + ``fc_norm`` / ``head``, for
        :class:`AudioMAEClassifierModel`).

    Returns
    -------
    dict
        Renamed weights (same tensors).

    Raises
    ------
    KeyError
        Listing every key that matches no rule of ``kind``.

    Example
    -------
    >>> import torch
    >>> sd = {"cls_token": torch.zeros(1, 1, 4), "head.bias": torch.zeros(2)}
    >>> sorted(official_to_ours(sd, kind="finetuned"))
    ['encoder.cls_token', 'head.bias']
    """
    if kind not in OFFICIAL_KEY_MAP:
        raise ValueError(f"kind must be one of {sorted(OFFICIAL_KEY_MAP)}")
    state_dict = _unwrap_checkpoint(state_dict)
    converted, leftovers = {}, []
    for key, value in state_dict.items():
        if key.rsplit(".", 1)[-1] in _REBUILT_BUFFERS:
            continue
        for pattern, prefix in OFFICIAL_KEY_MAP[kind]:
            if re.fullmatch(pattern, key):
                converted[prefix + key] = value
                break
        else:
            leftovers.append(key)
    if leftovers:
        raise KeyError(
            f"Keys not part of an official {kind!r} Audio-MAE model: "
            f"{sorted(leftovers)}"
        )
    return converted


def ours_to_official(state_dict, kind="pretrained"):
    """Inverse of :func:`official_to_ours` (for export and comparisons).

    Arguments
    ---------
    state_dict : dict
        Our :class:`AudioMAE` or :class:`AudioMAEClassifierModel` weights.
    kind : str
        ``"pretrained"`` or ``"finetuned"``.

    Returns
    -------
    dict
        Official key names.

    Example
    -------
    >>> import torch
    >>> sorted(ours_to_official({"decoder.mask_token": torch.zeros(1)}))
    ['mask_token']
    """
    if kind not in OFFICIAL_KEY_MAP:
        raise ValueError(f"kind must be one of {sorted(OFFICIAL_KEY_MAP)}")
    converted, leftovers = {}, []
    for key, value in state_dict.items():
        for pattern, prefix in OFFICIAL_KEY_MAP[kind]:
            if key.startswith(prefix) and re.fullmatch(
                pattern, key[len(prefix) :]
            ):
                converted[key[len(prefix) :]] = value
                break
        else:
            leftovers.append(key)
    if leftovers:
        raise KeyError(f"Keys without an official name: {sorted(leftovers)}")
    return converted


def load_official_state_dict(model, state_dict, kind=None, keep_pos_embed=True):
    """Loads official weights into our model (strict).

    Arguments
    ---------
    model : AudioMAE or AudioMAEClassifierModel
        Target model, configured like the checkpoint (e.g. ViT-B, grid
        ``(64, 8)``, ``AudioMAEDecoder(mode="local")`` for the released
        ``pretrained.pth``).
    state_dict : dict
        Official weights (``torch.load(path, weights_only=True)``).
    kind : str, optional
        ``"pretrained"`` or ``"finetuned"``; inferred from the model type.
    keep_pos_embed : bool
        Keep the checkpoint's positional tables (needed to reproduce the
        official outputs); if False they are regenerated afterwards.

    Raises
    ------
    ModelFileError
        (a ``RuntimeError``) With the missing / unexpected keys and shape
        mismatches.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel,
    ...     AudioMAEEncoder,
    ... )
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=32, depth=1, num_heads=2)
    >>> clf = AudioMAEClassifierModel(enc, n_classes=3)
    >>> official = ours_to_official(clf.state_dict(), "finetuned")
    >>> load_official_state_dict(clf, official)
    """
    if kind is None:
        kind = "pretrained" if isinstance(model, AudioMAE) else "finetuned"
    converted = official_to_ours(state_dict, kind)
    load_state_dict_strict(
        model,
        converted,
        f"official {kind} weights",
        type(model).__name__,
        _CONFIG_HINT,
    )
    if not keep_pos_embed:
        for module in model.modules():
            if isinstance(module, (AudioMAEEncoder, AudioMAEDecoder)):
                module.reset_pos_embed()
