"""Frozen DAC 44.1 kHz tokenizer (descript-audio-codec) for MaskSR.

Tokenisation runs DAC's ``preprocess`` (right-pad to a multiple of the hop)
and ``encode`` on the whole input, never ``compress`` (which loudness
normalises to -16 LUFS and encodes in chunks, giving different codes).
Detokenisation is ``quantizer.from_codes`` followed by ``decode``. The codec
is always in eval mode (RVQ dropout off), has no trainable parameters and
runs without gradients.

Weights come from a local ``weights.pth`` (the format of the official
release: ``{"state_dict", "metadata": {"kwargs"}}``), a folder holding one,
or the standard DAC cache ``~/.cache/descript/dac/`` (filled by
``python -m dac download`` or ``download=True``). They are loaded with
``torch.load(weights_only=True)`` and a strict key check; there is never a
silent fallback to random weights.

Authors
 * speechbrain-masksr contributors 2026
"""

import inspect
import warnings
from pathlib import Path

import torch

from speechbrain_masksr.codecs.base import Codec
from speechbrain_masksr.errors import ModelFileError
from speechbrain_masksr.utils.checkpoints import (
    load_state_dict_strict,
    read_state_dict,
)
from speechbrain_masksr.utils.windowing import (
    add_window,
    progress_reporter,
    window_starts,
)

__all__ = [
    "DAC_HOP_LENGTH",
    "DAC_SAMPLE_RATE",
    "DACTokenizer",
    "load_dac_weights",
    "save_tiny_dac",
    "dac_cache_path",
    "dac_weights_url",
    "TINY_DAC_KWARGS",
]

#: Sample rate of the DAC 44.1 kHz model MaskSR uses.
DAC_SAMPLE_RATE = 44100
#: Samples per codec frame (token) of DAC 44.1 kHz: the product of its
#: encoder strides ``2 * 4 * 8 * 8``.
DAC_HOP_LENGTH = 512


#: Tiny DAC architecture (hop 512, 9 x 1024 codes) for tests and demos.
TINY_DAC_KWARGS = dict(
    encoder_dim=4,
    encoder_rates=[2, 4, 8, 8],
    decoder_dim=16,
    decoder_rates=[8, 8, 4, 2],
    n_codebooks=9,
    codebook_size=1024,
    codebook_dim=8,
    sample_rate=DAC_SAMPLE_RATE,
)

_OPTION_HINT = (
    "pass its path with `load_path` (DACTokenizer(load_path=...); YAML key "
    "`codec_path`)"
)


def _import_dac():
    try:
        import dac
        import dac.utils
    except ImportError as err:  # pragma: no cover - dependency of the package
        raise ImportError(
            "DACTokenizer needs descript-audio-codec: "
            "pip install descript-audio-codec==1.0.0"
        ) from err
    return dac


def _resolve_tag(model_type, model_bitrate, tag):
    dac = _import_dac()
    latest = dac.utils.__MODEL_LATEST_TAGS__
    key = (model_type.lower(), model_bitrate.lower())
    if key not in latest:
        raise ValueError(f"unknown DAC model {key}; known: {sorted(latest)}")
    return latest[key] if tag.lower() == "latest" else tag.lower()


def dac_cache_path(model_type="44khz", model_bitrate="8kbps", tag="latest"):
    """Path of the DAC weights in the standard DAC download cache.

    Mirrors ``dac.utils.download``:
    ``~/.cache/descript/dac/weights_{type}_{bitrate}_{tag}.pth``.

    Arguments
    ---------
    model_type : str
        ``"44khz"``, ``"24khz"`` or ``"16khz"``.
    model_bitrate : str
        ``"8kbps"`` or ``"16kbps"``.
    tag : str
        Release tag or ``"latest"``.

    Returns
    -------
    path : pathlib.Path
        The cache file (it may not exist).

    Example
    -------
    >>> dac_cache_path().name
    'weights_44khz_8kbps_0.0.1.pth'
    """
    tag = _resolve_tag(model_type, model_bitrate, tag)
    name = f"weights_{model_type.lower()}_{model_bitrate.lower()}_{tag}.pth"
    return Path.home() / ".cache" / "descript" / "dac" / name


def dac_weights_url(model_type="44khz", model_bitrate="8kbps", tag="latest"):
    """Download URL of the official DAC weights.

    Arguments
    ---------
    model_type : str
        ``"44khz"``, ``"24khz"`` or ``"16khz"``.
    model_bitrate : str
        ``"8kbps"`` or ``"16kbps"``.
    tag : str
        Release tag or ``"latest"``.

    Returns
    -------
    url : str
        The GitHub release URL.

    Example
    -------
    >>> dac_weights_url()
    'https://github.com/descriptinc/descript-audio-codec/releases/download/0.0.1/weights.pth'
    """
    dac = _import_dac()
    tag = _resolve_tag(model_type, model_bitrate, tag)
    key = (model_type.lower(), tag, model_bitrate.lower())
    urls = dac.utils.__MODEL_URLS__
    if key not in urls:
        raise ValueError(f"no DAC release for {key}; known: {sorted(urls)}")
    return urls[key]


def _missing_weights_error(path, model_type, model_bitrate, tag):
    cache = dac_cache_path(model_type, model_bitrate, tag)
    return ModelFileError(
        f"DAC codec weights not found at '{path}'. Download "
        f"{cache.name} from {dac_weights_url(model_type, model_bitrate, tag)} "
        f"(or run `python -m dac download` on a machine with internet, which "
        f"writes {cache}), then {_OPTION_HINT}."
    )


def _load_dac_file(path):
    """Build a ``dac.DAC`` from a weights file with a strict key check."""
    dac = _import_dac()
    ckpt = read_state_dict(
        path,
        hint="Expected the official DAC weights.pth format ({'state_dict', "
        "'metadata': {'kwargs'}}), as written by DAC.save(path, "
        "package=False).",
    )
    if (
        not isinstance(ckpt, dict)
        or "state_dict" not in ckpt
        or "kwargs" not in ckpt.get("metadata", {})
    ):
        raise ModelFileError(
            f"'{path}' is not a DAC weights file: expected a dict with "
            "'state_dict' and 'metadata' -> 'kwargs' keys."
        )
    accepted = inspect.signature(dac.DAC).parameters
    kwargs = {
        k: v for k, v in ckpt["metadata"]["kwargs"].items() if k in accepted
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*weight_norm.*")
        model = dac.DAC(**kwargs)
    load_state_dict_strict(
        model,
        ckpt["state_dict"],
        f"DAC weights '{path}'",
        f"the architecture {kwargs}",
    )
    return model


class DACTokenizer(Codec):
    """Frozen DAC codec: waveforms <-> token codegrams (the :class:`Codec`
    contract).

    Arguments
    ---------
    load_path : str or pathlib.Path, optional
        A DAC ``weights.pth`` file, or a folder containing ``weights.pth``
        (or the cache file name). ``None`` uses the standard DAC cache
        ``~/.cache/descript/dac/weights_44khz_8kbps_0.0.1.pth``.
    model_type : str
        DAC model type for the cache / download (``"44khz"``).
    model_bitrate : str
        DAC bitrate for the cache / download (``"8kbps"``: 9 codebooks).
    tag : str
        Release tag (``"latest"`` = ``0.0.1`` for 44 kHz 8 kbps).
    download : bool
        With ``load_path=None``, download missing weights into the cache
        through ``dac.utils.download`` (needs internet).
    load_pretrained : bool
        ``False`` builds an empty tokenizer whose weights (and architecture,
        stored in the weights file) are loaded later by :meth:`load_weights`
        (e.g. through a ``Pretrainer`` hook, :func:`load_dac_weights`); it
        cannot encode or decode before.

    Example
    -------
    >>> path = save_tiny_dac(getfixture("tmpdir") / "weights.pth")
    >>> codec = DACTokenizer(load_path=path)
    >>> codes = codec.encode(torch.randn(2, 1000) * 0.1)
    >>> codes.shape, codes.dtype  # ceil(1000 / 512) = 2 frames
    (torch.Size([2, 9, 2]), torch.int64)
    >>> codec.decode(codes).shape
    torch.Size([2, 1024])
    """

    def __init__(
        self,
        load_path=None,
        model_type="44khz",
        model_bitrate="8kbps",
        tag="latest",
        download=False,
        load_pretrained=True,
    ):
        super().__init__()
        self.load_path = None
        self.model = None
        self.sample_rate = self.hop_length = None
        self.n_codebooks = self.codebook_size = None
        if load_pretrained:
            self.load_weights(
                self._resolve_path(
                    load_path, model_type, model_bitrate, tag, download
                )
            )

    def load_weights(self, path):
        """Build the DAC model from a weights file (strict key check).

        Arguments
        ---------
        path : str or pathlib.Path
            A DAC ``weights.pth`` (its architecture is read from it).

        Example
        -------
        >>> path = save_tiny_dac(getfixture("tmpdir") / "w.pth")
        >>> codec = DACTokenizer(load_pretrained=False)
        >>> codec.load_weights(path)
        >>> codec.n_codebooks, codec.hop_length
        (9, 512)
        """
        model = _load_dac_file(path)
        model.requires_grad_(False)
        model.eval()
        self.model = model
        self.load_path = str(path)
        self.sample_rate = int(model.sample_rate)
        self.hop_length = int(model.hop_length)
        self.n_codebooks = int(model.n_codebooks)
        self.codebook_size = int(model.codebook_size)

    @staticmethod
    def _resolve_path(load_path, model_type, model_bitrate, tag, download):
        cache = dac_cache_path(model_type, model_bitrate, tag)
        if load_path is None:
            if download and not cache.exists():
                dac = _import_dac()
                try:
                    return Path(
                        dac.utils.download(
                            model_type=model_type,
                            model_bitrate=model_bitrate,
                            tag=tag,
                        )
                    )
                except Exception as err:
                    raise _missing_weights_error(
                        cache, model_type, model_bitrate, tag
                    ) from err
            if not cache.exists():
                raise _missing_weights_error(
                    cache, model_type, model_bitrate, tag
                )
            return cache
        path = Path(load_path).expanduser()
        if path.is_dir():
            for name in ("weights.pth", cache.name):
                if (path / name).is_file():
                    return path / name
            raise _missing_weights_error(
                path / "weights.pth", model_type, model_bitrate, tag
            )
        if not path.is_file():
            raise _missing_weights_error(path, model_type, model_bitrate, tag)
        return path

    def _encode(self, wavs):
        """DAC ``preprocess`` + ``encode`` on the whole (padded) input."""
        audio = self.model.preprocess(wavs[:, None, :], self.sample_rate)
        _, codes, *_ = self.model.encode(audio)
        return codes

    def _decode(self, codes):
        """``quantizer.from_codes`` + ``decode``."""
        z, _, _ = self.model.quantizer.from_codes(codes)
        return self.model.decode(z)[:, 0]

    def decode_windowed(
        self,
        codes,
        window_frames=258,
        overlap_frames=43,
        max_batch=8,
        progress=False,
    ):
        """Detokenise long codegrams window by window, in bounded memory.

        :meth:`decode` runs the DAC decoder on the whole sequence at once,
        so its working memory (decoder activations at the audio rate) grows
        with the length: fine for the 3 s windows MaskSR decodes, too much
        for an hour of tokens. This cuts the frames into windows of
        ``window_frames`` overlapping by ``overlap_frames``
        (:func:`~speechbrain_masksr.utils.windowing.window_starts`, the
        last window moved back to end with the codes), decodes them
        ``max_batch`` at a time and adds each decoded window at once into
        the preallocated output with a raised-cosine cross-fade
        (:func:`~speechbrain_masksr.utils.windowing.add_window`). Codes
        no longer than one window are decoded exactly as :meth:`decode`
        does; longer ones differ from it only around the window joins (the
        decoder sees less context there).

        Arguments
        ---------
        codes : torch.Tensor
            Integer ``[batch, n_codebooks, frames]``.
        window_frames : int
            Frames per window (258: 3 s at 44.1 kHz).
        overlap_frames : int
            Frames of cross-fade between windows (43: 0.5 s); at most half
            a window.
        max_batch : int
            Windows per decoder call.
        progress : bool or callable
            ``True``: a progress bar over the windows (when there is more
            than one batch); a callable: ``progress(done, total)`` after
            each window.

        Returns
        -------
        wavs : torch.Tensor
            ``[batch, frames * hop_length]`` waveforms at 44.1 kHz.

        Example
        -------
        >>> codec = DACTokenizer(load_path=save_tiny_dac(getfixture("tmpdir")))
        >>> codes = torch.randint(0, 1024, (2, 9, 30))
        >>> codec.decode_windowed(codes, window_frames=12).shape
        torch.Size([2, 15360])
        >>> short = codes[:, :, :10]
        >>> torch.equal(codec.decode_windowed(short, 12), codec.decode(short))
        True
        """
        if not isinstance(codes, torch.Tensor) or codes.dim() != 3:
            raise ValueError(
                "codes must be an integer [batch, n_codebooks, frames] tensor"
            )
        batch, _, frames = codes.shape
        if frames == 0:
            raise ValueError(f"codes is empty: shape {tuple(codes.shape)}")
        win = min(int(window_frames), frames)
        if win < 1:
            raise ValueError(f"window_frames must be >= 1, got {window_frames}")
        overlap = min(max(0, int(overlap_frames)), win // 2)
        starts = window_starts(frames, win, overlap, align=1)
        hop = self.hop_length
        sample_starts = [s * hop for s in starts]
        items = [(b, i) for b in range(batch) for i in range(len(starts))]
        size = max(1, int(max_batch))
        update, close = progress_reporter(progress, len(items), size)
        out = None
        try:
            for first in range(0, len(items), size):
                todo = items[first : first + size]
                chunk_codes = torch.stack(
                    [codes[b, :, starts[i] : starts[i] + win] for b, i in todo]
                )
                wavs = self.decode(chunk_codes)
                del chunk_codes
                if out is None:
                    out = torch.zeros(
                        batch,
                        frames * hop,
                        dtype=wavs.dtype,
                        device=wavs.device,
                    )
                for (b, i), wav in zip(todo, wavs):
                    add_window(out[b], wav[: win * hop], sample_starts, i)
                    update()
                del wavs
        finally:
            close()
        return out

    def forward(self, wavs):
        """Alias of :meth:`encode`.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` waveforms.

        Returns
        -------
        codes : torch.Tensor
            ``[batch, n_codebooks, frames]``.
        """
        return self.encode(wavs)


def load_dac_weights(codec, path):
    """``Pretrainer`` hook: load a DAC weights file into a tokenizer.

    Arguments
    ---------
    codec : DACTokenizer
        Usually built with ``load_pretrained=False``.
    path : str or pathlib.Path
        The DAC ``weights.pth``.

    Raises
    ------
    ModelFileError
        (a ``FileNotFoundError``) The file does not exist, or is not a DAC
        weights file.

    Example
    -------
    >>> path = save_tiny_dac(getfixture("tmpdir") / "w.pth")
    >>> codec = DACTokenizer(load_pretrained=False)
    >>> load_dac_weights(codec, path)
    >>> codec.sample_rate
    44100
    """
    if not Path(path).is_file():
        raise ModelFileError(f"{path}: DAC codec weights file not found")
    codec.load_weights(path)


def save_tiny_dac(path, seed=0, **overrides):
    """Save a tiny random-weight DAC in the official ``weights.pth`` format.

    Same hop (512), codebooks (9 x 1024) and sample rate as the real
    44.1 kHz model, but about 0.2 M parameters, so tests and demos can run
    the full tokenizer code path offline. Its codes carry no meaning.

    Arguments
    ---------
    path : str or pathlib.Path
        Output file, or an existing folder (then ``weights.pth`` inside it).
    seed : int
        Seed of the random weights (the global RNG is left untouched).
    **overrides
        Replace entries of :data:`TINY_DAC_KWARGS`.

    Returns
    -------
    path : str
        The written file.

    Example
    -------
    >>> p = save_tiny_dac(getfixture("tmpdir"))
    >>> p.endswith("weights.pth")
    True
    """
    dac = _import_dac()
    path = Path(path)
    if path.is_dir():
        path = path / "weights.pth"
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = dict(TINY_DAC_KWARGS, **overrides)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*weight_norm.*")
            model = dac.DAC(**kwargs)
    model.save(str(path), package=False)
    return str(path)
