"""Data preparation for VoiceBank-DEMAND (speech-enhancement recipes).

A thin wrapper of :func:`speechbrain_masksr.data.voicebank.
prepare_voicebank_demand`: it reads ``clean_trainset_28spk_wav``,
``noisy_trainset_28spk_wav``, ``clean_testset_wav`` and ``noisy_testset_wav``
(or their ``*_16k`` versions, or the ``56spk`` training set) under
``data_folder``, pairs noisy and clean files by name and writes
``vbd_train.json``, ``vbd_valid.json`` (training speakers ``p226`` and
``p287``) and ``vbd_test.json`` to ``save_folder``. Entries are
``{"noisy_wav", "clean_wav", "duration", "sample_rate",
"clean_sample_rate", "speaker"}`` with paths starting with ``{data_root}``
(replace it with ``data_folder`` when loading).

Usage::

    python voicebank_prepare.py /data/VoiceBank-DEMAND results/vbd/save

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import sys

from speechbrain_masksr.data.prepare import prepare_on_main, run_prepare_cli
from speechbrain_masksr.data.voicebank import prepare_voicebank_demand


def prepare_from_hparams(hparams):
    """Prepare the manifests (main process only) from recipe hparams.

    :func:`prepare_voicebank_demand` runs on the main process, then every
    process reads the list of manifests written.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``data_folder``, ``save_folder`` and
        ``skip_prep``.

    Returns
    -------
    dict
        ``{name: path}`` of the manifests (``vbd_train``, ``vbd_valid``,
        ``vbd_test``).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir") / "vbd"
    >>> for d in ["clean_testset_wav", "noisy_testset_wav"]:
    ...     save_audio(str(root / d / "p232_001.wav"), torch.zeros(160), 16000)
    >>> hparams = {"data_folder": str(root), "save_folder": str(root / "s"),
    ...            "skip_prep": False}
    >>> sorted(prepare_from_hparams(hparams))
    ['vbd_test']
    """
    return prepare_on_main(
        prepare_voicebank_demand,
        data_folder=hparams["data_folder"],
        save_folder=hparams["save_folder"],
        skip_prep=hparams["skip_prep"],
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
    >>> main([str(tmp / "no_such_folder"), str(tmp / "save")])
    2
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_folder", help="VoiceBank-DEMAND folder")
    parser.add_argument("save_folder", help="where the manifests go")
    parser.add_argument(
        "--min-duration",
        type=float,
        default=0.0,
        help="skip training/validation pairs shorter than this (seconds)",
    )
    args = parser.parse_args(argv)
    return run_prepare_cli(prepare_voicebank_demand, **vars(args))


if __name__ == "__main__":
    sys.exit(main())
