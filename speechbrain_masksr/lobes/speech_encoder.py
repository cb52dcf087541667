"""MaskSR conditioning: the speech encoder and its input-feature options.

The conditioning turns the degraded waveform into one vector per codec
frame (``ceil(time / hop_length)`` frames, the codec's frame geometry,
:func:`~speechbrain_masksr.codecs.base.codec_frames`). The hop is always
the codec's (512 for DAC 44.1 kHz, 256 for the mel codec): an argument, or
read from the codec object, never a default. Three inputs are available,
the input-feature ablation of the MaskSR paper (appendix, Table 5), chosen
by :func:`build_speech_encoder`:

* ``"stft"`` (MaskSR, the default): :class:`SpeechEncoder` on
  ``|STFT(x)|^0.3`` (Hann window 2048, hop = the codec hop,
  ``center=True`` with zero padding, so any length works). To align STFT
  frames with codec frames exactly, the waveform is zero-padded to a
  multiple of the hop (as the codec does) and the extra frame that a
  centred STFT produces (``n / hop + 1`` frames) is dropped, leaving
  ``n / hop`` frames;
* ``"waveform"``: :class:`SpeechEncoder` with a learned front end, a 1-D
  convolution (kernel 2048, stride = the codec hop, 2048 channels) on the
  zero-padded waveform, ReLU, LayerNorm and a linear layer, then the same
  transformer blocks;
* ``"dac"``: :class:`CodecTokenConditioner`, no speech encoder: the
  degraded waveform is tokenised by the same frozen codec as the targets
  (DAC in the paper) and the condition of a frame is the sum of learned
  per-codebook embeddings of its tokens.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
import torch.nn.functional as F
from torch import nn

from speechbrain_masksr.codecs.base import CodecFrames, codec_geometry
from speechbrain_masksr.errors import AudioError
from speechbrain_masksr.lobes.codec_lm import SummedCodebookEmbedding
from speechbrain_masksr.lobes.transformer import (
    TransformerStack,
    relative_to_frame_lengths,
)
from speechbrain_masksr.utils.lengths import length_mask

__all__ = [
    "FRONT_ENDS",
    "INPUT_FEATURES",
    "CodecTokenConditioner",
    "SpeechEncoder",
    "build_speech_encoder",
    "check_wavs",
]

#: Front ends of :class:`SpeechEncoder`.
FRONT_ENDS = ("stft", "waveform")
#: Conditioning inputs of :func:`build_speech_encoder` (paper, Table 5).
INPUT_FEATURES = (*FRONT_ENDS, "dac")


def check_wavs(wavs, name="wavs"):
    """Validate a waveform batch ``[batch, time]`` at the model boundary.

    Arguments
    ---------
    wavs : torch.Tensor
        Waveform batch.
    name : str
        Name used in error messages.

    Returns
    -------
    wavs : torch.Tensor
        The same tensor (unchanged).

    Example
    -------
    >>> check_wavs(torch.zeros(2, 100)).shape
    torch.Size([2, 100])
    >>> check_wavs(torch.zeros(100))
    Traceback (most recent call last):
    ...
    ValueError: wavs must have shape [batch, time], got (100,)...
    """
    if not isinstance(wavs, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(wavs)}")
    if wavs.dim() != 2:
        raise ValueError(
            f"{name} must have shape [batch, time], got {tuple(wavs.shape)}"
            " (mono audio; for a single waveform use wav.unsqueeze(0), for"
            " [batch, 1, time] use wavs.squeeze(1))"
        )
    if not wavs.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got {wavs.dtype}")
    if wavs.shape[0] == 0 or wavs.shape[1] == 0:
        raise AudioError(f"{name} is empty: shape {tuple(wavs.shape)}")
    if not torch.isfinite(wavs).all():
        raise AudioError(f"{name} contains NaN or Inf values")
    return wavs


class SpeechEncoder(CodecFrames, nn.Module):
    """Conditioning encoder of MaskSR: a front end and transformer blocks.

    Front ends (``front_end``), both one frame per codec frame:

    * ``"stft"``: ``|STFT|^power`` (``n_fft // 2 + 1`` bins) -> ``Linear
      -> GELU -> Linear`` (module ``mlp``);
    * ``"waveform"``: ``Conv1d(1, conv_channels, conv_kernel, stride=
      hop_length)`` on the zero-padded waveform (module ``conv``) -> ReLU
      -> ``LayerNorm -> Linear`` (module ``mlp``). The waveform is padded
      to whole frames plus ``conv_kernel - hop_length`` samples split
      evenly between both ends, so frame ``t`` sees samples
      ``[t * hop - pad_left, t * hop - pad_left + conv_kernel)``, centred
      on the codec frame's own ``hop`` samples.

    Then sinusoidal positions -> ``num_layers`` pre-norm transformer blocks
    -> LayerNorm. Output frames are aligned with the codec's frames:
    ``ceil(time / hop_length)`` frames for any ``time``.

    Arguments
    ---------
    d_model : int
        Output dimension.
    num_layers : int
        Number of transformer blocks.
    nhead : int
        Attention heads.
    n_fft : int
        FFT size and Hann window length (``"stft"``).
    hop_length : int
        Frame hop (STFT hop or convolution stride): the codec's
        ``hop_length`` (512 for DAC 44.1 kHz, 256 for the mel codec).
        Required, keyword only.
    power : float
        Magnitude compression exponent (``"stft"``).
    dropout : float
        Dropout in the transformer.
    front_end : str
        ``"stft"`` (MaskSR) or ``"waveform"`` (learned convolution).
    conv_channels : int
        Output channels of the convolution (``"waveform"``).
    conv_kernel : int
        Kernel size of the convolution (``"waveform"``), at least
        ``hop_length``.

    Example
    -------
    >>> enc = SpeechEncoder(d_model=32, num_layers=1, nhead=4, hop_length=512)
    >>> wavs = torch.randn(2, 44100)
    >>> enc(wavs).shape  # ceil(44100 / 512) = 87 frames
    torch.Size([2, 87, 32])
    >>> wave = SpeechEncoder(d_model=32, num_layers=1, nhead=4, hop_length=512,
    ...                      front_end="waveform", conv_channels=64)
    >>> wave(wavs).shape
    torch.Size([2, 87, 32])
    >>> wave.conv.kernel_size, wave.conv.stride, wave.input_features
    ((2048,), (512,), 'waveform')
    """

    def __init__(
        self,
        d_model=512,
        num_layers=6,
        nhead=16,
        n_fft=2048,
        *,
        hop_length,
        power=0.3,
        dropout=0.1,
        front_end="stft",
        conv_channels=2048,
        conv_kernel=2048,
    ):
        super().__init__()
        if front_end not in FRONT_ENDS:
            raise ValueError(
                f"front_end must be one of {FRONT_ENDS}, got {front_end!r}"
            )
        self.d_model = d_model
        self.num_layers = num_layers
        self.front_end = front_end
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.power = power
        self.conv_channels = conv_channels
        self.conv_kernel = conv_kernel
        if front_end == "stft":
            n_bins = n_fft // 2 + 1
            self.register_buffer(
                "window", torch.hann_window(n_fft), persistent=False
            )
            self.mlp = nn.Sequential(
                nn.Linear(n_bins, d_model),
                nn.GELU(),
                nn.Linear(d_model, d_model),
            )
        else:
            if conv_kernel < hop_length:
                raise ValueError(
                    f"conv_kernel ({conv_kernel}) must be at least the hop "
                    f"({hop_length}): frames would skip samples"
                )
            self.conv = nn.Conv1d(
                1, conv_channels, conv_kernel, stride=hop_length
            )
            self.mlp = nn.Sequential(
                nn.LayerNorm(conv_channels),
                nn.Linear(conv_channels, d_model),
            )
        self.transformer = TransformerStack(
            d_model, num_layers, nhead, dropout=dropout
        )

    @property
    def input_features(self):
        """The conditioning input, ``"stft"`` or ``"waveform"``."""
        return self.front_end

    def features(self, wavs):
        """Front-end features, one frame per codec frame.

        Arguments
        ---------
        wavs : torch.Tensor
            Waveforms ``[batch, time]``.

        Returns
        -------
        feats : torch.Tensor
            ``[batch, ceil(time / hop), n_fft // 2 + 1]`` compressed
            magnitudes ``|X|^power`` (``"stft"``) or ``[batch, ceil(time /
            hop), conv_channels]`` rectified convolution outputs
            (``"waveform"``).

        Example
        -------
        >>> enc = SpeechEncoder(32, 1, 4, hop_length=512)
        >>> enc.features(torch.randn(1, 1024)).shape
        torch.Size([1, 2, 1025])
        """
        check_wavs(wavs)
        n_frames = self.num_frames(wavs.shape[1])
        pad = n_frames * self.hop_length - wavs.shape[1]
        if self.front_end == "waveform":
            # kernel - hop extra samples (split evenly) give exactly
            # n_frames outputs at stride hop.
            extra = self.conv_kernel - self.hop_length
            wavs = F.pad(
                wavs.to(self.conv.weight.dtype),
                (extra // 2, pad + extra - extra // 2),
            )
            return F.relu(self.conv(wavs[:, None])).transpose(1, 2)
        wavs = F.pad(wavs.float(), (0, pad))
        spec = torch.stft(
            wavs,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.n_fft,
            window=self.window.to(wavs.device),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        # center=True gives n / hop + 1 frames: drop the extra last one.
        spec = spec[..., :n_frames]
        return spec.abs().pow(self.power).transpose(1, 2)

    def forward(self, wavs, wav_lens=None):
        """Encode degraded waveforms into conditioning vectors.

        Arguments
        ---------
        wavs : torch.Tensor
            Waveforms ``[batch, time]`` at the codec sample rate.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]`` in ``(0, 1]``; padded frames are
            excluded from attention.

        Returns
        -------
        cond : torch.Tensor
            ``[batch, ceil(time / hop_length), d_model]``.
        """
        feats = self.features(wavs)
        frames = relative_to_frame_lengths(
            wav_lens, wavs.shape[1], feats.shape[1], self.hop_length
        )
        valid = length_mask(frames, feats.shape[1], feats.device)
        return self.transformer(self.mlp(feats), valid)


class CodecTokenConditioner(CodecFrames, nn.Module):
    """Codec tokens of the degraded input as the condition (no speech encoder).

    The input-feature ablation of the MaskSR paper (appendix, Table 5):
    the degraded waveform is tokenised by the same frozen codec (DAC in the
    paper) that makes the clean targets (:meth:`tokenize`), and the
    condition of a frame is the sum of learned per-codebook embeddings of
    its tokens
    (:class:`~speechbrain_masksr.lobes.codec_lm.SummedCodebookEmbedding`).
    The paper gives the codec LM 14 blocks instead in this setting.

    The codec is held by reference, not registered as a submodule: it is
    frozen and stored on its own (``codec_path`` / ``codec.pth``), so the
    model's state dict holds only the embeddings, and its device is the
    codec object's (the Brain and the interfaces move it). Tokens are
    computed in float32 outside any autocast context.

    The codec geometry (``n_codebooks``, ``codebook_size``,
    ``hop_length``) is the codec's: each left ``None`` is read from the
    codec, so a codec whose weights are loaded after construction (as a
    model folder's pretrainer does) needs all three given.

    Arguments
    ---------
    codec : Codec
        The frozen codec (its weights may be loaded after construction).
    d_model : int
        Output dimension.
    n_codebooks : int, optional
        Codebooks of the codec (default: ``codec.n_codebooks``).
    codebook_size : int, optional
        Entries per codebook (default: ``codec.codebook_size``).
    hop_length : int, optional
        Samples per codec frame (default: ``codec.hop_length``).

    Example
    -------
    >>> from speechbrain_masksr.codecs.dac import DACTokenizer, save_tiny_dac
    >>> codec = DACTokenizer(save_tiny_dac(getfixture("tmpdir")))
    >>> cond = CodecTokenConditioner(codec, d_model=16)
    >>> cond.n_codebooks, cond.codebook_size, cond.hop_length  # the codec's
    (9, 1024, 512)
    >>> wavs = 0.1 * torch.randn(2, 1500)
    >>> cond(wavs).shape  # ceil(1500 / 512) = 3 frames
    torch.Size([2, 3, 16])
    >>> tokens = codec.encode(wavs)
    >>> torch.equal(cond(wavs), cond.embeddings(tokens))
    True
    >>> sorted(cond.state_dict())[:2]  # the codec is not part of the model
    ['embeddings.0.weight', 'embeddings.1.weight']
    """

    #: No transformer blocks before the codec LM.
    num_layers = 0
    input_features = "dac"

    def __init__(
        self,
        codec,
        d_model=512,
        n_codebooks=None,
        codebook_size=None,
        hop_length=None,
    ):
        super().__init__()
        if codec is None or not hasattr(codec, "encode"):
            raise TypeError(
                "CodecTokenConditioner needs the codec (e.g. a DACTokenizer)"
                f", got {type(codec).__name__}"
            )
        geometry = codec_geometry(
            "CodecTokenConditioner",
            codec,
            n_codebooks=n_codebooks,
            codebook_size=codebook_size,
            hop_length=hop_length,
        )
        # A plain attribute, not a submodule (see the class docstring).
        self.__dict__["codec"] = codec
        self.d_model = d_model
        self.n_codebooks = n_codebooks = geometry["n_codebooks"]
        self.codebook_size = codebook_size = geometry["codebook_size"]
        self.hop_length = geometry["hop_length"]
        self.embeddings = SummedCodebookEmbedding(
            n_codebooks, codebook_size, d_model
        )
        # The sum of Q tables has unit variance per channel, like the
        # normalised output of the speech encoder.
        for table in self.embeddings:
            nn.init.normal_(table.weight, std=n_codebooks**-0.5)

    def _check_codec(self):
        found = tuple(
            getattr(self.codec, k, None)
            for k in ("n_codebooks", "codebook_size", "hop_length")
        )
        wanted = (self.n_codebooks, self.codebook_size, self.hop_length)
        if None in found:
            raise RuntimeError(
                "the codec of CodecTokenConditioner has no weights yet "
                "(e.g. DACTokenizer(load_pretrained=False)): load them first"
            )
        if found != wanted:
            raise ValueError(
                "the codec has (n_codebooks, codebook_size, hop_length) "
                f"= {found}, the conditioner was built for {wanted}"
            )

    def tokenize(self, wavs):
        """Codec tokens of the degraded waveforms (frozen codec, float32).

        Arguments
        ---------
        wavs : torch.Tensor
            Waveforms ``[batch, time]`` at the codec sample rate.

        Returns
        -------
        tokens : torch.Tensor
            Long ``[batch, n_codebooks, ceil(time / hop_length)]`` on the
            device of ``wavs``.

        Example
        -------
        >>> from speechbrain_masksr.codecs.dac import (
        ...     DACTokenizer, save_tiny_dac)
        >>> codec = DACTokenizer(save_tiny_dac(getfixture("tmpdir")))
        >>> cond = CodecTokenConditioner(codec, d_model=8)
        >>> wavs = 0.1 * torch.randn(1, 700)
        >>> torch.equal(cond.tokenize(wavs), codec.encode(wavs))
        True
        """
        check_wavs(wavs)
        self._check_codec()
        with torch.autocast(device_type=wavs.device.type, enabled=False):
            tokens = self.codec.encode(wavs.float())
        return tokens.to(wavs.device)

    def forward(self, wavs, wav_lens=None):
        """Condition from the codec tokens of degraded waveforms.

        Arguments
        ---------
        wavs : torch.Tensor
            Degraded waveforms ``[batch, time]`` at the codec sample rate.
        wav_lens : torch.Tensor, optional
            Relative lengths; unused (frames are independent here, and the
            codec LM masks padded frames).

        Returns
        -------
        cond : torch.Tensor
            ``[batch, ceil(time / hop_length), d_model]``.
        """
        return self.embeddings(self.tokenize(wavs))


def build_speech_encoder(
    input_features="stft",
    d_model=512,
    num_layers=6,
    nhead=16,
    n_fft=2048,
    hop_length=None,
    power=0.3,
    conv_channels=2048,
    conv_kernel=2048,
    dropout=0.1,
    codec=None,
    n_codebooks=None,
    codebook_size=None,
):
    """Build the conditioning module for one input of the Table 5 ablation.

    Arguments
    ---------
    input_features : str
        ``"stft"`` or ``"waveform"`` (:class:`SpeechEncoder` with that
        front end) or ``"dac"`` (:class:`CodecTokenConditioner`).
    d_model : int
        Output dimension.
    num_layers : int
        Transformer blocks of the speech encoder (unused for ``"dac"``).
    nhead : int
        Attention heads (unused for ``"dac"``).
    n_fft : int
        STFT size (``"stft"``).
    hop_length : int, optional
        Frame hop: the codec's ``hop_length`` (default: read from
        ``codec``; one of the two is required).
    power : float
        Magnitude compression (``"stft"``).
    conv_channels : int
        Convolution channels (``"waveform"``).
    conv_kernel : int
        Convolution kernel (``"waveform"``).
    dropout : float
        Transformer dropout (unused for ``"dac"``).
    codec : Codec, optional
        The frozen codec: required for ``"dac"``; otherwise only read for
        ``hop_length`` when that is not given.
    n_codebooks : int, optional
        Codebooks of the codec (``"dac"``; default: the codec's).
    codebook_size : int, optional
        Entries per codebook (``"dac"``; default: the codec's).

    Returns
    -------
    encoder : torch.nn.Module
        Maps ``(wavs [batch, time], wav_lens)`` to ``[batch, frames,
        d_model]``; has ``d_model``, ``hop_length``, ``num_layers``,
        ``input_features`` and ``num_frames``.

    Example
    -------
    >>> enc = build_speech_encoder("waveform", d_model=16, num_layers=1,
    ...                            nhead=2, hop_length=512, conv_channels=32)
    >>> type(enc).__name__, enc.front_end, enc.hop_length
    ('SpeechEncoder', 'waveform', 512)
    >>> build_speech_encoder("stft", d_model=16, num_layers=1, nhead=2)
    Traceback (most recent call last):
    ...
    TypeError: build_speech_encoder needs hop_length (the codec's): pass it, or pass the codec
    >>> build_speech_encoder("mel")
    Traceback (most recent call last):
    ...
    ValueError: input_features must be one of ('stft', 'waveform', 'dac'), got 'mel'
    """
    if input_features not in INPUT_FEATURES:
        raise ValueError(
            f"input_features must be one of {INPUT_FEATURES}, got "
            f"{input_features!r}"
        )
    if input_features == "dac":
        return CodecTokenConditioner(
            codec,
            d_model=d_model,
            n_codebooks=n_codebooks,
            codebook_size=codebook_size,
            hop_length=hop_length,
        )
    hop_length = codec_geometry(
        "build_speech_encoder", codec, hop_length=hop_length
    )["hop_length"]
    return SpeechEncoder(
        d_model=d_model,
        num_layers=num_layers,
        nhead=nhead,
        n_fft=n_fft,
        hop_length=hop_length,
        power=power,
        dropout=dropout,
        front_end=input_features,
        conv_channels=conv_channels,
        conv_kernel=conv_kernel,
    )
