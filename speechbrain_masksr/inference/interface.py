"""The base of the package's ``Pretrained`` interfaces: one audio reader.

:class:`AudioInterface` is SpeechBrain's ``Pretrained`` whose
``load_audio`` reads files with the package's reader,
:func:`speechbrain_masksr.dataio.load_audio`: any rate and channel count
becomes mono at the model's rate, and a missing, non-audio, empty, NaN or
too-short file raises one :class:`~speechbrain_masksr.errors.AudioError`
naming the file. Every ``*_file`` method of the interfaces reads through it.
As in SpeechBrain, a path that is not a local file is fetched (URL or
``repo/file`` on the Hugging Face hub) into ``savedir`` first.

A model folder is executable configuration: its ``hyperparams.yaml`` names
the constructors and functions that loading it calls. Both loaders of the
interfaces, :meth:`~AudioInterface.from_folder` and ``from_hparams``
(SpeechBrain's name for the same thing), check those names against the
exact allowlist of :mod:`speechbrain_masksr.trust` before
anything in the file runs; ``trust_source=True`` is the explicit opt-out
for folders from a source you trust.

Authors
 * speechbrain-masksr contributors 2026
"""

import os

from speechbrain.inference.interfaces import Pretrained
from speechbrain.utils.data_utils import split_path
from speechbrain.utils.fetching import fetch

from speechbrain_masksr.dataio import load_audio
from speechbrain_masksr.errors import AudioError
from speechbrain_masksr.inference.model_folder import HPARAMS_FILE
from speechbrain_masksr.trust import check_model_folder

__all__ = ["AudioInterface"]


class AudioInterface(Pretrained):
    """``Pretrained`` reading its input files with the package's reader.

    Subclasses set ``self.sample_rate`` (the model's rate) and may set
    ``self.min_samples`` (the shortest usable input at that rate; default 1)
    in their ``__init__``.

    Load model folders with :meth:`from_folder` (or ``from_hparams``, the
    same): a model folder's ``hyperparams.yaml`` is code that runs at load
    time, and both first check that it names only the exact classes and
    functions of the allowlist (see
    :mod:`speechbrain_masksr.trust`); ``trust_source=True``
    skips the check for sources you trust.

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

    @classmethod
    def from_hparams(
        cls, source, hparams_file=HPARAMS_FILE, trust_source=False, **kwargs
    ):
        """Load a model folder after checking what its YAML would run.

        SpeechBrain's ``Pretrained.from_hparams``, with the trust check
        first: the folder's ``hyperparams.yaml`` is fetched and checked
        with :func:`~speechbrain_masksr.trust.check_model_folder`
        (nothing in it runs), then loaded.

        Arguments
        ---------
        source : str or Path
            Model folder or Hugging Face hub repo.
        hparams_file : str
            The hyperparameters file of the folder.
        trust_source : bool
            Skip the check: for folders from a source you trust that use
            constructors outside the allowlist (the YAML then runs as
            written).
        **kwargs : dict
            Passed to SpeechBrain's ``from_hparams`` (``savedir``,
            ``overrides``, ``run_opts``, ...).

        Returns
        -------
        AudioInterface
            The loaded interface (of the class this is called on).

        Raises
        ------
        UntrustedModelError
            (a :class:`~speechbrain_masksr.errors.ModelFileError`) The
            YAML names something outside the allowlist; the message names
            the file, the line and the tag.
        ModelFileError
            The ``hyperparams.yaml`` cannot be fetched or read.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> _ = (tmp / "hyperparams.yaml").write(
        ...     f"x: !apply:os.system [touch {tmp}/pwned]\\nmodules: {{}}\\n")
        >>> AudioInterface.from_hparams(str(tmp))
        Traceback (most recent call last):
        ...
        speechbrain_masksr.errors.UntrustedModelError: ...line 1: tag '!apply:os.system' ...
        >>> (tmp / "pwned").exists()
        False
        """
        if not trust_source:
            fetch_kwargs = {
                k: kwargs[k]
                for k in ("local_strategy", "fetch_config")
                if k in kwargs
            }
            check_model_folder(
                source,
                hparams_file,
                savedir=kwargs.get("savedir"),
                overrides=kwargs.get("overrides"),
                overrides_must_match=kwargs.get("overrides_must_match", True),
                **fetch_kwargs,
            )
        return super().from_hparams(source, hparams_file=hparams_file, **kwargs)

    @classmethod
    def from_folder(
        cls, source, hparams_file=HPARAMS_FILE, trust_source=False, **kwargs
    ):
        """Load a model folder after checking it (:meth:`from_hparams`).

        Arguments
        ---------
        source : str or Path
            Model folder or Hugging Face hub repo.
        hparams_file : str
            The hyperparameters file of the folder.
        trust_source : bool
            Skip the check (a folder from a source you trust).
        **kwargs : dict
            Passed to :meth:`from_hparams`.

        Returns
        -------
        AudioInterface
            The loaded interface (of the class this is called on).

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> _ = (tmp / "hyperparams.yaml").write(
        ...     f"x: !apply:os.system [touch {tmp}/pwned]\\nmodules: {{}}\\n")
        >>> AudioInterface.from_folder(str(tmp))
        Traceback (most recent call last):
        ...
        speechbrain_masksr.errors.UntrustedModelError: ...line 1: tag '!apply:os.system' ...
        """
        return cls.from_hparams(
            source, hparams_file, trust_source=trust_source, **kwargs
        )

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
