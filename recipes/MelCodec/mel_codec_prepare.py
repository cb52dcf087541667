"""Data preparation of the mel codec recipe: folders of clean speech.

A thin wrapper of :func:`speechbrain_masksr.data.folders.prepare_folders`:
``train_folder`` (the speech the codebooks are learned from) and
``valid_folder`` (held-out speech for the copy-synthesis table, or a random
``valid_ratio`` of the training folder) give ``train.json`` and
``valid.json`` in ``save_folder`` (entries ``{"wav", "duration",
"sample_rate"}``, absolute paths; unreadable files are reported by path and
skipped).

Authors
 * speechbrain-masksr contributors 2026
"""

from speechbrain_masksr.data.folders import prepare_folders
from speechbrain_masksr.data.prepare import prepare_on_main


def prepare_from_hparams(hparams):
    """Prepare the manifests (main process only) from recipe hparams.

    Arguments
    ---------
    hparams : dict
        ``train_folder``, ``valid_folder`` (or ``None``), ``valid_ratio``,
        ``save_folder``, ``seed`` and ``skip_prep``.

    Returns
    -------
    dict
        ``{"train": path, "valid": path}`` of the JSON manifests.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir")
    >>> for i in range(3):
    ...     save_audio(str(root / "speech" / f"u{i}.wav"),
    ...                0.1 * torch.randn(1600), 16000)
    >>> hparams = {"train_folder": str(root / "speech"), "valid_folder": None,
    ...            "valid_ratio": 0.34, "save_folder": str(root / "save"),
    ...            "seed": 0, "skip_prep": False}
    >>> sorted(prepare_from_hparams(hparams))
    ['train', 'valid']
    """
    return prepare_on_main(
        prepare_folders,
        save_folder=hparams["save_folder"],
        speech_folder=hparams["train_folder"],
        valid_folder=hparams.get("valid_folder") or None,
        valid_ratio=hparams["valid_ratio"],
        seed=hparams["seed"],
        skip_prep=hparams["skip_prep"],
    )
