"""The base of the package's ``Pretrained`` interfaces: one audio reader.

:class:`AudioInterface` is SpeechBrain's ``Pretrained`` whose
``load_audio`` reads files with the package's reader,
:func:`speechbrain_masksr.dataio.load_audio`: any rate and channel count
becomes mono at the model's rate, and a missing, non-audio, empty, NaN or
too-short file raises one :class:`~speechbrain_masksr.errors.AudioError`
naming the file. Every ``*_file`` method of the interfaces reads through it.
As in SpeechBrain, a path that is not a local file is fetched (URL or
``repo/file`` on the Hugging Face hub) into ``savedir`` first.

Authors
 * speechbrain-masksr contributors 2026
"""

import os

from speechbrain.inference.interfaces import Pretrained
from speechbrain.utils.data_utils import split_path
from speechbrain.utils.fetching import fetch

from speechbrain_masksr.dataio import load_audio
from speechbrain_masksr.errors import AudioError

__all__ = ["AudioInterface"]


class AudioInterface(Pretrained):
    """``Pretrained`` reading its input files with the package's reader.

    Subclasses set ``self.sample_rate`` (the model's rate) and may set
    ``self.min_samples`` (the shortest usable input at that rate; default 1)
    in their ``__init__``.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> class Interface(AudioInterface):
    ...     def __init__(self, *args, **kwargs):
    ...         super().__init__(*args, **kwargs)
    ...         self.sample_rate, self.min_samples = 16000, 400
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "a.wav"), torch.zeros(2, 800) + 0.1, 8000)
    >>> interface = Interface(modules={}, hparams={})
    >>> interface.load_audio(str(tmp / "a.wav")).shape
    torch.Size([1600])
    >>> interface.load_audio(str(tmp / "none.wav"))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.AudioError: ...none.wav: file not found
    """

    min_samples = 1

    def load_audio(self, path, savedir=None):
        """Read an audio file as mono at the model's rate, with clear errors.

        Arguments
        ---------
        path : str or Path
            Local file or, as in SpeechBrain, a URL / ``repo/file``.
        savedir : str, optional
            Where remote files are downloaded (``None``: local files only).

        Returns
        -------
        torch.Tensor
            ``[time]`` at ``sample_rate`` on the interface's device.

        Raises
        ------
        AudioError
            If the file cannot be fetched or read, is empty, holds NaN/Inf
            or is shorter than ``min_samples`` at the model's rate.
        """
        if savedir is not None and not os.path.exists(str(path)):
            source, name = split_path(str(path))
            try:
                path = fetch(name, source=source, savedir=savedir)
            except Exception as err:
                raise AudioError(f"{path}: cannot load audio ({err})") from err
        wav, _ = load_audio(
            path, sample_rate=self.sample_rate, min_samples=self.min_samples
        )
        return wav.to(self.device)
