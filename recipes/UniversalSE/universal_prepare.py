"""Data preparation of the universal-enhancer pretraining (plain folders).

A thin wrapper of :func:`speechbrain_masksr.data.folders.prepare_folders`:
the "speech" is the **noisy-only** audio the model is pretrained on (no
clean reference is needed), the noise and room-impulse-response folders
feed the augmentation stack, and an optional folder of interfering speech
is listed separately. Writes to ``save_folder``:

* ``train.json`` and ``valid.json`` (a random ``valid_ratio`` of the noisy
  audio, or the ``--valid`` folder);
* ``noise.json`` and ``rir.json`` when those folders are given;
* ``speakers/train.json`` (all of the interfering speech) when a speaker
  folder is given; it is returned as ``speaker``.

Entries are ``{"wav", "duration", "sample_rate"}`` with **absolute** paths.
Unreadable files are reported by path and skipped.

Usage::

    python universal_prepare.py results/save --speech /data/noisy_speech \\
        --noise /data/noise --rir /data/rirs --speaker /data/interferers

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import sys
from pathlib import Path

from speechbrain_masksr.data.folders import (
    add_folder_arguments,
    folder_hparams_kwargs,
    prepare_folders,
)
from speechbrain_masksr.data.prepare import prepare_on_main, run_prepare_cli

DEFAULT_VALID_RATIO = 0.05
SPEAKER_SUBFOLDER = "speakers"
#: Help of the command-line arguments that differ from ``folders_prepare``.
ARGUMENT_HELP = {
    "speech": "folder of noisy-only speech",
    "speaker": "folder of interfering speech (speakers/train.json)",
    "valid": "folder of validation audio (else a random split)",
    "min_duration": "skip pretraining audio shorter than this (seconds)",
}


def prepare_universal(
    save_folder,
    speech_folder,
    noise_folder=None,
    rir_folder=None,
    speaker_folder=None,
    valid_folder=None,
    valid_ratio=DEFAULT_VALID_RATIO,
    seed=1234,
    min_duration=0.0,
    skip_prep=False,
):
    """Write the pretraining manifests (see the module docstring).

    Arguments
    ---------
    save_folder : str or Path
        Where the manifests go.
    speech_folder : str or Path
        Noisy-only speech (input and target of the pretraining).
    noise_folder : str or Path, optional
        Noises of the augmentation stack.
    rir_folder : str or Path, optional
        Room impulse responses of the augmentation stack.
    speaker_folder : str or Path, optional
        Interfering speech of the augmentation stack.
    valid_folder : str or Path, optional
        Validation audio (else ``valid_ratio`` of ``speech_folder``).
    valid_ratio : float
        Held-out fraction of ``speech_folder``.
    seed : int
        Seed of the split.
    min_duration : float
        Shorter pretraining files (seconds) are skipped.
    skip_prep : bool
        Return the manifests already written.

    Returns
    -------
    dict
        ``{name: path}``: ``train``, ``valid`` and, when their folders are
        given, ``noise``, ``rir``, ``speaker``.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir")
    >>> for folder in ("noisy", "talkers"):
    ...     for i in range(3):
    ...         save_audio(str(root / folder / f"u{i}.wav"),
    ...                    0.1 * torch.randn(1600), 16000)
    >>> out = prepare_universal(str(root / "save"), str(root / "noisy"),
    ...                         speaker_folder=str(root / "talkers"),
    ...                         valid_ratio=0.3)
    >>> sorted(out)
    ['speaker', 'train', 'valid']
    >>> Path(out["speaker"]).parent.name
    'speakers'
    """
    written = prepare_folders(
        save_folder,
        speech_folder,
        noise_folder=noise_folder,
        rir_folder=rir_folder,
        valid_folder=valid_folder,
        valid_ratio=valid_ratio,
        seed=seed,
        min_duration=min_duration,
        skip_prep=skip_prep,
    )
    if speaker_folder:
        speakers = prepare_folders(
            Path(save_folder) / SPEAKER_SUBFOLDER,
            speaker_folder,
            valid_ratio=0.0,
            seed=seed,
            skip_prep=skip_prep,
        )
        written["speaker"] = speakers["train"]
    return written


def prepare_from_hparams(hparams):
    """Prepare the manifests (main process only) from recipe hparams.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``speech_folder`` (noisy-only
        audio), ``save_folder``, ``skip_prep`` and the optional
        ``noise_folder``, ``rir_folder``, ``speaker_folder``,
        ``valid_folder``, ``valid_ratio`` (default 0.05), ``seed`` (default
        1234) and ``min_duration`` (default 0). A missing, ``None`` or
        empty folder means "not given".

    Returns
    -------
    dict
        ``{name: path}`` of the manifests (see :func:`prepare_universal`).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir")
    >>> for i in range(4):
    ...     save_audio(str(root / "noisy" / f"u{i}.wav"),
    ...                0.1 * torch.randn(1600), 16000)
    >>> hparams = {"speech_folder": str(root / "noisy"), "speaker_folder": "",
    ...            "save_folder": str(root / "save"), "skip_prep": False}
    >>> sorted(prepare_from_hparams(hparams))
    ['train', 'valid']
    """
    return prepare_on_main(
        prepare_universal,
        speaker_folder=hparams.get("speaker_folder") or None,
        **folder_hparams_kwargs(hparams, DEFAULT_VALID_RATIO),
    )


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> main([str(tmp / "save"), "--speech", str(tmp / "no_such_folder")])
    2
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_folder_arguments(
        parser,
        DEFAULT_VALID_RATIO,
        helps=ARGUMENT_HELP,
        extra_folders=("speaker",),
    )
    args = parser.parse_args(argv)
    return run_prepare_cli(prepare_universal, **vars(args))


if __name__ == "__main__":
    sys.exit(main())
