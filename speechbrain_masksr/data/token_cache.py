"""Codec-token cache and frame-aligned crops for MaskSR training.

MaskSR learns to predict the codec tokens of clean speech. Running the codec
encoder inside every training step would cost more than the model itself, so
each clean file is encoded **once**, as a whole (mono at the codec's rate,
zero-padded to a multiple of the codec hop), and its codes are stored as an
``int16`` ``.npy`` file. A training example is then a random crop that
starts on a frame boundary: frames ``[f, f + F)`` of the cached codes and
the clean samples ``[f * hop, (f + F) * hop)``, which the distortion
pipeline degrades on the fly. :func:`speechbrain_masksr.dataio.load_segment`
reads only that window of the file (with a small margin when the file must
be resampled), so long DNS files cost no more than their crop.

The codec geometry (``sample_rate``, ``hop_length``: 44.1 kHz and 512 for
DAC, 22.05 kHz and 256 for the mel codec) is always the caller's, never a
default.

The cache folder name holds a fingerprint of the codec weights (path and
size), so tokens made with another codec are never mixed in.

Authors
 * speechbrain-masksr contributors 2026
"""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import torch
from speechbrain.utils.logger import get_logger

from speechbrain_masksr.codecs.base import codec_frames
from speechbrain_masksr.dataio import load_audio, load_segment
from speechbrain_masksr.utils.files import atomic_open, atomic_write

logger = get_logger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def codec_fingerprint(codec_path):
    """Short hash naming the codec weights (resolved path and file size).

    Arguments
    ---------
    codec_path : str or Path or None
        The codec weights file, or a folder holding ``weights.pth``.
        ``None`` means the codec's default location.

    Returns
    -------
    str
        12 hex characters, or ``"default"`` for ``None``.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "a.pth").write("1234")
    >>> _ = (tmp / "b.pth").write("12345")
    >>> fa = codec_fingerprint(tmp / "a.pth")
    >>> len(fa), fa == codec_fingerprint(str(tmp / "a.pth"))
    (12, True)
    >>> fa == codec_fingerprint(tmp / "b.pth")
    False
    >>> codec_fingerprint(None)
    'default'
    """
    if codec_path is None:
        return "default"
    path = Path(codec_path).expanduser().resolve()
    if path.is_dir() and (path / "weights.pth").is_file():
        path = path / "weights.pth"
    size = path.stat().st_size if path.is_file() else -1
    return hashlib.sha1(f"{path}:{size}".encode()).hexdigest()[:12]


def pad_to_multiple(wav, multiple):
    """Zero-pad the last dimension to a multiple of ``multiple``.

    Arguments
    ---------
    wav : torch.Tensor
        Audio ``[..., time]``.
    multiple : int
        The codec hop length.

    Returns
    -------
    torch.Tensor
        Audio ``[..., ceil(time / multiple) * multiple]``.

    Example
    -------
    >>> pad_to_multiple(torch.ones(700), 512).shape
    torch.Size([1024])
    >>> pad_to_multiple(torch.ones(2, 1024), 512).shape
    torch.Size([2, 1024])
    """
    extra = codec_frames(wav.shape[-1], multiple) * int(multiple)
    extra -= wav.shape[-1]
    if extra == 0:
        return wav
    return torch.nn.functional.pad(wav, (0, extra))


def random_frame_offset(total_frames, crop_frames, generator=None):
    """Draw the first frame of a crop, uniformly over the valid offsets.

    Arguments
    ---------
    total_frames : int
        Frames of the whole file.
    crop_frames : int
        Frames of the crop.
    generator : torch.Generator, optional
        Source of randomness.

    Returns
    -------
    int
        An offset in ``[0, max(total_frames - crop_frames, 0)]``.

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> offs = [random_frame_offset(10, 4, g) for _ in range(200)]
    >>> min(offs), max(offs)
    (0, 6)
    >>> random_frame_offset(3, 4)
    0
    """
    high = int(total_frames) - int(crop_frames)
    if high <= 0:
        return 0
    return int(torch.randint(0, high + 1, (1,), generator=generator))


def crop_tokens(tokens, offset, crop_frames):
    """Frames ``[offset, offset + crop_frames)`` of ``tokens[Q, frames]``.

    Arguments
    ---------
    tokens : torch.Tensor
        Codes ``[n_codebooks, frames]``.
    offset : int
        First frame.
    crop_frames : int
        Number of frames (fewer if the file ends first).

    Returns
    -------
    torch.Tensor
        ``[n_codebooks, min(crop_frames, frames - offset)]``.

    Example
    -------
    >>> codes = torch.arange(20).view(2, 10)
    >>> crop_tokens(codes, 3, 4)
    tensor([[ 3,  4,  5,  6],
            [13, 14, 15, 16]])
    """
    return tokens[:, int(offset) : int(offset) + int(crop_frames)]


def frames_to_samples(offset, crop_frames, hop_length):
    """Sample range ``[start, stop)`` covered by a range of codec frames.

    Arguments
    ---------
    offset : int
        First frame.
    crop_frames : int
        Number of frames.
    hop_length : int
        Codec hop.

    Returns
    -------
    tuple of int
        ``(offset * hop, (offset + crop_frames) * hop)``.

    Example
    -------
    >>> frames_to_samples(3, 4, 512)
    (1536, 3584)
    """
    return int(offset) * hop_length, (
        int(offset) + int(crop_frames)
    ) * hop_length


def crop_example(
    tokens,
    audio,
    crop_frames,
    sample_rate,
    hop_length,
    generator=None,
):
    """Random frame-aligned crop of one clean file and of its tokens.

    Frames ``[f, f + crop_frames)`` of ``tokens`` (``f`` from
    :func:`random_frame_offset`) and the clean samples they cover, read with
    :func:`~speechbrain_masksr.dataio.load_segment` (past the end: zeros).

    Arguments
    ---------
    tokens : torch.Tensor
        Codes of the whole file ``[n_codebooks, frames]``.
    audio : str or Path or bytes
        The clean file (or its bytes, e.g. from a shard).
    crop_frames : int
        Frames of the crop.
    sample_rate : int
        Rate of the returned samples (the codec's).
    hop_length : int
        Codec hop.
    generator : torch.Generator, optional
        Source of randomness.

    Returns
    -------
    clean : torch.Tensor
        ``[frames_kept * hop_length]`` samples.
    tokens : torch.Tensor
        ``[n_codebooks, frames_kept]`` codes.

    Example
    -------
    >>> from speechbrain_masksr.dataio import save_audio
    >>> path = str(getfixture("tmpdir") / "c.wav")
    >>> save_audio(path, torch.arange(2048) / 4096.0, 44100)
    >>> codes = torch.arange(8).view(2, 4)
    >>> g = torch.Generator().manual_seed(0)
    >>> clean, toks = crop_example(codes, path, 2, 44100, 512, generator=g)
    >>> clean.shape, toks.shape
    (torch.Size([1024]), torch.Size([2, 2]))
    >>> bool(abs(clean[0] * 4096 - 512 * toks[0, 0]) < 1e-3)
    True
    """
    offset = random_frame_offset(tokens.shape[1], crop_frames, generator)
    tokens = crop_tokens(tokens, offset, crop_frames)
    start, stop = frames_to_samples(offset, tokens.shape[1], hop_length)
    return load_segment(audio, start, stop, sample_rate), tokens


def training_example(
    tokens,
    audio,
    distortion,
    crop_frames,
    sample_rate,
    hop_length,
    generator=None,
):
    """One MaskSR example: a crop (:func:`crop_example`), degraded.

    The folder pipeline (``recipes/DNS/train.py``) and the WebDataset
    shards (:mod:`speechbrain_masksr.data.shards`) both make their
    examples with this function, so equal inputs and generator states give
    equal examples.

    Arguments
    ---------
    tokens : torch.Tensor
        Codes of the whole clean file ``[n_codebooks, frames]``.
    audio : str or Path or bytes
        The clean file (or its bytes).
    distortion : callable
        ``distortion(clean[1, time], generator=...) -> degraded[1, time]``
        (a ``GSRPipeline``).
    crop_frames : int
        Frames of the crop.
    sample_rate : int
        Rate of the audio (the codec's).
    hop_length : int
        Codec hop.
    generator : torch.Generator, optional
        Draws the crop, then the degradation.

    Returns
    -------
    clean : torch.Tensor
        Clean crop ``[time]``.
    degraded : torch.Tensor
        Degraded crop ``[time]``.
    tokens : torch.Tensor
        Codes ``[frames, n_codebooks]`` (frame-major, as ``PaddedBatch``
        pads them).

    Example
    -------
    >>> from speechbrain_masksr.dataio import save_audio
    >>> path = str(getfixture("tmpdir") / "c.wav")
    >>> save_audio(path, torch.ones(2048) / 2, 44100)
    >>> half = lambda x, generator=None: x / 2
    >>> clean, degraded, toks = training_example(
    ...     torch.zeros(9, 4, dtype=torch.long), path, half, 2, 44100, 512)
    >>> clean.shape, float(degraded[0]), toks.shape
    (torch.Size([1024]), 0.25, torch.Size([2, 9]))
    """
    clean, tokens = crop_example(
        tokens, audio, crop_frames, sample_rate, hop_length, generator
    )
    with torch.no_grad():
        degraded = distortion(clean.unsqueeze(0), generator=generator)[0]
    return clean, degraded, tokens.t()


class TokenCache:
    """Folder of cached codec tokens, one ``int16`` ``.npy`` file per id.

    Files live in ``<cache_dir>/codec-<fingerprint>/<id>.npy`` where the
    fingerprint names the codec weights (see :func:`codec_fingerprint`).
    Each file holds ``[n_codebooks, frames]`` codes of the whole clean file
    at ``sample_rate``, padded to a multiple of ``hop_length``.

    Arguments
    ---------
    cache_dir : str or Path
        Root folder of the cache.
    codec_path : str or Path or None
        Codec weights; part of the folder name.
    sample_rate : int
        Rate the audio is resampled to before encoding: the codec's
        (keyword only).
    hop_length : int
        The codec's hop (keyword only).

    Example
    -------
    >>> dac = dict(sample_rate=44100, hop_length=512)  # DAC 44.1 kHz
    >>> cache = TokenCache(getfixture("tmpdir"), codec_path=None, **dac)
    >>> cache.folder.name
    'codec-default'
    >>> cache.save("spk1/utt 1", torch.tensor([[1, 2], [3, 1023]]))
    >>> cache.exists("spk1/utt 1")
    True
    >>> cache.load("spk1/utt 1")
    tensor([[   1,    2],
            [   3, 1023]])
    """

    def __init__(
        self,
        cache_dir,
        codec_path=None,
        *,
        sample_rate,
        hop_length,
    ):
        self.folder = Path(cache_dir) / f"codec-{codec_fingerprint(codec_path)}"
        self.codec_path = None if codec_path is None else str(codec_path)
        self.sample_rate = int(sample_rate)
        self.hop_length = int(hop_length)

    def path(self, utt_id):
        """File holding the codes of ``utt_id`` (unsafe characters escaped).

        Arguments
        ---------
        utt_id : str
            Utterance id.

        Returns
        -------
        Path
            The ``.npy`` path.

        Example
        -------
        >>> cache = TokenCache("/c", sample_rate=44100, hop_length=512)
        >>> cache.path("a/b c").name
        'a_b_c-9f597a63.npy'
        >>> cache.path("abc").name
        'abc.npy'
        """
        name = _UNSAFE.sub("_", str(utt_id))
        if name != str(utt_id):
            digest = hashlib.sha1(str(utt_id).encode()).hexdigest()[:8]
            name = f"{name}-{digest}"
        return self.folder / f"{name}.npy"

    def exists(self, utt_id):
        """Whether the codes of ``utt_id`` are cached.

        Arguments
        ---------
        utt_id : str
            Utterance id.

        Returns
        -------
        bool
            True if the file exists.

        Example
        -------
        >>> cache = TokenCache(getfixture("tmpdir"), sample_rate=8000,
        ...                    hop_length=4)
        >>> cache.exists("nope")
        False
        """
        return self.path(utt_id).is_file()

    def save(self, utt_id, codes):
        """Store codes ``[n_codebooks, frames]`` (atomically).

        Arguments
        ---------
        utt_id : str
            Utterance id.
        codes : torch.Tensor
            Integer codes ``[n_codebooks, frames]`` in ``[0, 32767]``.

        Example
        -------
        >>> cache = TokenCache(getfixture("tmpdir"), sample_rate=8000,
        ...                    hop_length=4)
        >>> cache.save("u", torch.zeros(9, 3, dtype=torch.long))
        >>> cache.load("u").shape
        torch.Size([9, 3])
        """
        codes = torch.as_tensor(codes).detach().cpu()
        if codes.dim() != 2:
            raise ValueError(
                f"codes must be [n_codebooks, frames], got {tuple(codes.shape)}"
            )
        if codes.numel() and (codes.min() < 0 or codes.max() > 32767):
            raise ValueError("codes do not fit in int16")
        path = self.path(utt_id)
        with atomic_write(path) as tmp:
            np.save(tmp, codes.numpy().astype(np.int16))

    def load(self, utt_id):
        """Load the cached codes of ``utt_id``.

        Arguments
        ---------
        utt_id : str
            Utterance id.

        Returns
        -------
        torch.Tensor
            Long codes ``[n_codebooks, frames]``.

        Raises
        ------
        FileNotFoundError
            If the codes were never extracted (the message says how).

        Example
        -------
        >>> cache = TokenCache(getfixture("tmpdir"), sample_rate=8000,
        ...                    hop_length=4)
        >>> cache.load("missing")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no cached tokens for 'missing' ...
        """
        path = self.path(utt_id)
        if not path.is_file():
            raise FileNotFoundError(
                f"no cached tokens for {utt_id!r} ({path}); run "
                "recipes/DNS/extract_tokens.py with the same hparams file "
                "and codec_path, or let train.py extract them"
            )
        return torch.from_numpy(np.load(path).astype(np.int64))

    def encode_file(self, codec, wav_path):
        """Encode a whole file with the codec (no caching).

        The file is read as mono at ``sample_rate`` and zero-padded to a
        multiple of ``hop_length``.

        Arguments
        ---------
        codec : Codec-like
            Has ``encode(wavs[batch, time]) -> codes[batch, Q, frames]``.
        wav_path : str or Path
            The clean audio file.

        Returns
        -------
        torch.Tensor
            Codes ``[n_codebooks, ceil(time / hop)]`` (on the CPU).

        Example
        -------
        >>> from speechbrain_masksr.dataio import save_audio
        >>> class Codec:  # stand-in: the sign of each frame's mean
        ...     def encode(self, wavs):
        ...         m = wavs.view(wavs.shape[0], 1, -1, 512).mean(-1)
        ...         return (m > 0).long()
        >>> path = str(getfixture("tmpdir") / "x.wav")
        >>> save_audio(path, torch.cat([torch.ones(512), -torch.ones(100)]), 44100)
        >>> cache = TokenCache("/c", sample_rate=44100, hop_length=512)
        >>> cache.encode_file(Codec(), path)
        tensor([[1, 0]])
        """
        wav, _ = load_audio(wav_path, sample_rate=self.sample_rate)
        wav = pad_to_multiple(wav, self.hop_length)
        device = getattr(codec, "device", None)
        batch = wav.unsqueeze(0)
        if device is not None:
            batch = batch.to(device)
        with torch.no_grad():
            codes = codec.encode(batch)
        codes = codes[0].detach().cpu()
        expected = codec_frames(wav.shape[-1], self.hop_length)
        if codes.shape[-1] != expected:
            raise RuntimeError(
                f"codec returned {codes.shape[-1]} frames for {wav_path}, "
                f"expected {expected} (hop {self.hop_length})"
            )
        return codes

    def extract(self, codec, entries, overwrite=False, shard=(0, 1)):
        """Encode and cache every entry that is not cached yet.

        Arguments
        ---------
        codec : Codec-like
            The frozen codec.
        entries : dict
            ``{utt_id: wav_path}``.
        overwrite : bool
            Re-encode entries that are already cached.
        shard : tuple of int
            ``(index, count)``: only handle every ``count``-th entry (in
            sorted id order) starting at ``index``, to split the work
            between processes.

        Returns
        -------
        int
            Number of files encoded.

        Example
        -------
        >>> from speechbrain_masksr.dataio import save_audio
        >>> class Codec:
        ...     def encode(self, wavs):
        ...         return torch.zeros(wavs.shape[0], 2, wavs.shape[1] // 512).long()
        >>> tmp = getfixture("tmpdir")
        >>> save_audio(str(tmp / "a.wav"), torch.zeros(1000), 44100)
        >>> cache = TokenCache(tmp / "cache", sample_rate=44100,
        ...                    hop_length=512)
        >>> cache.extract(Codec(), {"a": str(tmp / "a.wav")})
        1
        >>> cache.extract(Codec(), {"a": str(tmp / "a.wav")})
        0
        """
        index, count = shard
        # Shard the full sorted list (not the missing ones), so that every
        # process gets the same split whatever the others already wrote.
        mine = sorted(entries.items())[index::count]
        todo = [(u, p) for u, p in mine if overwrite or not self.exists(u)]
        if not todo:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_meta(codec)
        logger.info(
            "Extracting codec tokens of %d files to %s", len(todo), self.folder
        )
        for i, (uid, path) in enumerate(todo):
            self.save(uid, self.encode_file(codec, path))
            if (i + 1) % 500 == 0:
                logger.info("  %d / %d files encoded", i + 1, len(todo))
        return len(todo)

    def missing(self, entries):
        """Ids of ``entries`` whose codes are not cached.

        Arguments
        ---------
        entries : dict
            ``{utt_id: wav_path}`` (or any mapping keyed by id).

        Returns
        -------
        list of str
            Sorted missing ids.

        Example
        -------
        >>> cache = TokenCache(getfixture("tmpdir"), sample_rate=8000,
        ...                    hop_length=4)
        >>> cache.missing({"b": "", "a": ""})
        ['a', 'b']
        """
        return sorted(uid for uid in entries if not self.exists(uid))

    def _write_meta(self, codec):
        meta = {
            "codec_path": self.codec_path,
            "sample_rate": self.sample_rate,
            "hop_length": self.hop_length,
            "n_codebooks": getattr(codec, "n_codebooks", None),
            "codebook_size": getattr(codec, "codebook_size", None),
            "format": "int16 npy [n_codebooks, frames], whole file, padded",
        }
        path = self.folder / "meta.json"
        if not path.is_file():
            with atomic_open(path) as fout:
                fout.write(json.dumps(meta, indent=2) + "\n")


def cache_key(set_name, uid, paired=False):
    """Token-cache key of one item of a named set.

    Clean-speech sets (``train``, ``valid``, ``test``) share one pool of
    ids, so the key is the id; paired test sets (DNS 2020 ``fileid_<N>``
    ids repeat across conditions) are prefixed with the set name.

    Arguments
    ---------
    set_name : str
        Name of the manifest (``"train"``, ``"test_no_reverb"``, ...).
    uid : str
        Utterance id.
    paired : bool
        Whether the set pairs degraded files with clean references.

    Returns
    -------
    str
        The key.

    Example
    -------
    >>> cache_key("train", "u1"), cache_key("test_no_reverb", "fileid_3", True)
    ('u1', 'test_no_reverb_fileid_3')
    """
    return f"{set_name}_{uid}" if paired else str(uid)


def manifest_cache_entries(manifests, names, data_root=None):
    """Collect ``{cache key: clean wav path}`` from named JSON manifests.

    Entries with a ``wav`` field are clean speech; entries with a
    ``clean_wav`` field are paired test items (keys from
    :func:`cache_key`); entries with neither (noisy-only recordings) are
    skipped.

    Arguments
    ---------
    manifests : dict
        ``{name: json path}`` (as returned by ``prepare_dns``).
    names : list of str
        The sets to collect; names without a manifest are skipped with a
        log line.
    data_root : str or Path, optional
        Replacement for the ``{data_root}`` placeholder.

    Returns
    -------
    dict
        ``{key: path}``.

    Raises
    ------
    ValueError
        If one key maps to two different files.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "t.json").write('{"u": {"wav": "{data_root}/u.wav"}}')
    >>> _ = (tmp / "p.json").write(
    ...     '{"f1": {"noisy_wav": "n.wav", "clean_wav": "{data_root}/c.wav"}}')
    >>> manifest_cache_entries({"test": tmp / "t.json", "dns": tmp / "p.json"},
    ...                        ["test", "dns", "valid"], data_root="/d")
    {'u': '/d/u.wav', 'dns_f1': '/d/c.wav'}
    """
    out = {}
    for name in names:
        if name not in manifests or not Path(manifests[name]).is_file():
            logger.info("No manifest for set %s; skipped", name)
            continue
        with open(manifests[name], encoding="utf-8") as fin:
            entries = json.load(fin)
        for uid, entry in entries.items():
            if "wav" in entry:
                key, path = cache_key(name, uid), str(entry["wav"])
            elif "clean_wav" in entry:
                key = cache_key(name, uid, paired=True)
                path = str(entry["clean_wav"])
            else:
                continue
            if data_root is not None:
                path = path.replace("{data_root}", str(data_root))
            if out.get(key, path) != path:
                raise ValueError(
                    f"token cache key {key!r} names two files: "
                    f"{out[key]} and {path}"
                )
            out[key] = path
    return out
