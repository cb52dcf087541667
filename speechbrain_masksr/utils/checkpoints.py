"""Strict checkpoint reading and loading, with errors that name the problem.

Every checkpoint the package loads (model folders, HiFi-GAN and DAC
weights, Audio-MAE conversions, the speaker encoder, pretrained enhancer
parts) is read with ``torch.load(weights_only=True)`` by
:func:`read_state_dict` and loaded with :func:`load_state_dict_strict`,
which refuses any missing or unexpected key or shape mismatch and lists
them (SpeechBrain's default transfer hook only logs mismatches). Both raise
:class:`ModelFileError`.

Authors
 * speechbrain-masksr contributors 2026
"""

import os

import torch

from speechbrain_masksr.errors import ModelFileError

__all__ = ["ModelFileError", "read_state_dict", "load_state_dict_strict"]

#: Keys listed per category in a mismatch message.
MAX_LISTED = 10


def read_state_dict(path, hint=""):
    """Read a ``torch.save``-d dict with ``weights_only=True``.

    Arguments
    ---------
    path : str or Path
        The file.
    hint : str
        Appended to the error messages (e.g. the expected format).

    Returns
    -------
    dict
        What the file holds.

    Raises
    ------
    ModelFileError
        If the file is missing, unreadable or not a dict; the message
        names the file.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "w.ckpt")
    >>> torch.save({"a": torch.ones(1)}, path)
    >>> read_state_dict(path)
    {'a': tensor([1.])}
    >>> read_state_dict(path + ".missing")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: ...not found
    """
    path = str(path)
    hint = f". {hint}" if hint else ""
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: checkpoint file not found{hint}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ModelFileError(
            f"{path}: cannot read the checkpoint with "
            "torch.load(weights_only=True): the file is corrupt, truncated "
            f"or not a torch.save state dict ({type(err).__name__}: {err})"
            f"{hint}"
        ) from err
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: not a state dict{hint}")
    return state


def _listed(keys):
    extra = len(keys) - MAX_LISTED
    more = f" (+{extra} more)" if extra > 0 else ""
    return f"{keys[:MAX_LISTED]}{more}"


def load_state_dict_strict(module, state, source, target="the model", hint=""):
    """Load ``state`` into ``module`` strictly, naming every mismatch.

    Arguments
    ---------
    module : torch.nn.Module
        Module to load into.
    state : dict
        State dict.
    source : str or Path
        Where ``state`` came from (a file, or e.g. ``"pretrained
        encoder"``), named first in the message.
    target : str
        What it should fit, for the message.
    hint : str
        Appended to the message (e.g. which configuration to check).

    Raises
    ------
    ModelFileError
        If keys are missing or unexpected or shapes differ; the message
        lists them (up to :data:`MAX_LISTED` of each).

    Example
    -------
    >>> lin = torch.nn.Linear(2, 3)
    >>> load_state_dict_strict(lin, torch.nn.Linear(2, 3).state_dict(), "x")
    >>> load_state_dict_strict(lin, {"weight": torch.ones(3, 2)}, "x.ckpt")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: x.ckpt does not match the model: missing keys ['bias'], unexpected keys [], shape mismatches []
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: {tuple(state[k].shape)} in file, {tuple(v.shape)} in model"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        raise ModelFileError(
            f"{source} does not match {target}: missing keys "
            f"{_listed(missing)}, unexpected keys {_listed(unexpected)}, "
            f"shape mismatches {_listed(shapes)}"
            + (f". {hint}" if hint else "")
        )
    module.load_state_dict(state, strict=True)
