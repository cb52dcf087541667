"""Audio input/output with clear errors at the boundary.

This module is the package's only audio reader. Every file that enters the
package (data pipelines, data preparation, metrics, command-line tools,
pretrained interfaces) is read by :func:`load_audio` (the whole file or a
window of it), :func:`load_segment` (a window counted at another rate, for
training crops) or, for its header only, :func:`audio_info`. They share one
set of checks, which turn the many ways a file can be wrong (missing, a
folder, not audio, empty, NaN, too short) into one :class:`AudioError` that
names the file; channels are averaged to mono and other rates resampled with
:func:`resample`. A file whose samples reach far outside [-1, 1] (float
audio stored unscaled) is read as it is, with an
:class:`~speechbrain_masksr.errors.AudioWarning` naming it and its peak. The three also read a file's bytes held in memory (a
``bytes`` object, e.g. a member of a WebDataset shard). Reading and writing use SpeechBrain's soundfile-based
``speechbrain.dataio.audio_io`` (``torchaudio.load`` needs torchcodec, which
is not usable on CPU-only installs).

Authors
 * speechbrain-masksr contributors 2026
"""

import io
import math
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import torch
import torchaudio
from speechbrain.dataio import audio_io

from speechbrain_masksr.errors import AudioError, AudioWarning
from speechbrain_masksr.utils.files import atomic_write

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
#: Peak above which :func:`load_audio` warns that a file is not in [-1, 1].
PEAK_WARNING = 2.0


def resample(wav, orig_sr, new_sr):
    """Resample the last dimension of ``wav`` (no-op when rates match).

    Arguments
    ---------
    wav : torch.Tensor
        Audio ``[..., time]``.
    orig_sr : int
        Rate of ``wav``.
    new_sr : int
        Wanted rate.

    Returns
    -------
    torch.Tensor
        Resampled audio ``[..., time * new_sr / orig_sr]``.

    Example
    -------
    >>> resample(torch.zeros(2, 16000), 16000, 44100).shape
    torch.Size([2, 44100])
    """
    if int(orig_sr) == int(new_sr):
        return wav
    return torchaudio.functional.resample(wav, int(orig_sr), int(new_sr))


def check_waveform(wav, name="audio", min_samples=1, sample_rate=None):
    """Validate a waveform tensor and return it as float32.

    Arguments
    ---------
    wav : torch.Tensor
        Audio, any shape with time last.
    name : str
        Used in the error message (a file name, say).
    min_samples : int
        Shortest accepted length.
    sample_rate : int, optional
        Rate of ``wav``; when given, a too-short error states durations.

    Returns
    -------
    torch.Tensor
        ``wav`` as float32.

    Raises
    ------
    AudioError
        If the audio is empty, too short or holds NaN/Inf.

    Example
    -------
    >>> check_waveform(torch.ones(10)).dtype
    torch.float32
    >>> check_waveform(torch.tensor([float("nan")]), "bad.wav")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.AudioError: bad.wav: audio contains NaN or Inf values
    """
    if not torch.is_tensor(wav):
        wav = torch.as_tensor(wav)
    if wav.numel() == 0 or wav.shape[-1] == 0:
        raise AudioError(f"{name}: audio is empty")
    if wav.shape[-1] < min_samples:
        rate = ""
        if sample_rate:
            have, need = _seconds(wav.shape[-1], min_samples, sample_rate)
            rate = f" ({have} s at {sample_rate} Hz, the minimum is {need} s)"
        raise AudioError(
            f"{name}: audio has {wav.shape[-1]} samples, "
            f"at least {min_samples} are needed{rate}"
        )
    wav = wav.float()
    if not torch.isfinite(wav).all():
        raise AudioError(f"{name}: audio contains NaN or Inf values")
    return wav


def _seconds(samples, other, sample_rate):
    """Two sample counts as seconds, with the digits that tell them apart.

    Example
    -------
    >>> _seconds(4409, 4410, 44100)
    ('0.09998', '0.1')
    """
    for digits in range(3, 12):
        texts = tuple(f"{n / sample_rate:.{digits}g}" for n in (samples, other))
        if texts[0] != texts[1]:
            break
    return texts


def _warn_peak(wav, name):
    """Warn (naming the file) about samples far outside [-1, 1]."""
    peak = float(wav.abs().max())
    if peak > PEAK_WARNING:
        warnings.warn(
            f"{name}: samples reach {peak:.4g}, far outside [-1, 1] (float "
            "audio not scaled to [-1, 1]?); it is used as it is, expect "
            "useless results",
            AudioWarning,
            stacklevel=3,
        )


def _check_path(path):
    """Clear error for a missing file or a folder."""
    if os.path.isdir(path):
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not os.path.isfile(path):
        raise AudioError(f"{path}: file not found")


def _name(path):
    """How errors name a file (or in-memory audio)."""
    if isinstance(path, (bytes, bytearray, memoryview)):
        return "<audio bytes>"
    return str(path)


def _source(path):
    """``(what soundfile reads, name for errors)`` of a path or of bytes."""
    name = _name(path)
    if isinstance(path, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(path)), name
    _check_path(name)
    return name, name


class AudioInfo(NamedTuple):
    """What :func:`audio_info` reads from a file's header.

    Example
    -------
    >>> AudioInfo(num_samples=8000, sample_rate=16000, channels=1).duration
    0.5
    """

    num_samples: int
    sample_rate: int
    channels: int

    @property
    def duration(self):
        """Length in seconds."""
        return self.num_samples / self.sample_rate


def audio_info(path):
    """Length, rate and channels of an audio file, read from its header.

    Arguments
    ---------
    path : str or Path or bytes
        The file (or its bytes).

    Returns
    -------
    AudioInfo
        ``num_samples`` (per channel), ``sample_rate``, ``channels`` (and
        ``duration`` in seconds).

    Raises
    ------
    AudioError
        If the file is missing, not audio, or holds no samples.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "a.wav"), torch.zeros(800), 8000)
    >>> audio_info(str(tmp / "a.wav"))
    AudioInfo(num_samples=800, sample_rate=8000, channels=1)
    >>> audio_info((tmp / "a.wav").read_binary()).num_samples
    800
    """
    source, path = _source(path)
    try:
        info = audio_io.info(source)
    except Exception as err:  # soundfile raises several error types
        raise AudioError(f"{path}: not a readable audio file ({err})") from err
    if info.frames <= 0 or info.sample_rate <= 0:
        raise AudioError(f"{path}: audio is empty")
    return AudioInfo(
        int(info.frames), int(info.sample_rate), int(info.channels)
    )


def load_audio(
    path,
    sample_rate=None,
    mono=True,
    min_samples=1,
    frame_offset=0,
    num_frames=-1,
):
    """Read an audio file as a float tensor, with a clear error if unusable.

    Arguments
    ---------
    path : str or Path or bytes
        The file (or its bytes).
    sample_rate : int, optional
        Resample to this rate (``None`` keeps the file's rate).
    mono : bool
        Average channels to one. With ``False`` the result is
        ``[channels, time]``.
    min_samples : int
        Shortest accepted length, counted at the output rate.
    frame_offset : int
        First sample read, at the file's rate (segments of long files are
        read without decoding the rest).
    num_frames : int
        Samples read at the file's rate (``-1``: to the end).

    Returns
    -------
    wav : torch.Tensor
        ``[time]`` (mono) or ``[channels, time]``.
    sample_rate : int
        The rate of ``wav``.

    Raises
    ------
    AudioError
        If the file is missing, not audio, empty, or holds NaN/Inf.

    Warns
    -----
    AudioWarning
        If samples reach beyond :data:`PEAK_WARNING` (the file is named).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> path = str(tmp / "a.wav")
    >>> save_audio(path, torch.zeros(2, 800) + 0.1, 8000)
    >>> wav, sr = load_audio(path, sample_rate=16000)
    >>> wav.shape, sr
    (torch.Size([1600]), 16000)
    >>> load_audio(str(tmp / "missing.wav"))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.AudioError: ...missing.wav: file not found
    >>> load_audio((tmp / "a.wav").read_binary())[0].shape
    torch.Size([800])
    """
    source, path = _source(path)
    try:  # [channels, time]
        wav, sr = audio_io.load(
            source, frame_offset=int(frame_offset), num_frames=int(num_frames)
        )
    except Exception as err:  # soundfile raises several error types
        raise AudioError(f"{path}: not a readable audio file ({err})") from err
    wav = check_waveform(wav, path)
    _warn_peak(wav, path)
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    if mono:  # one channel: the same values without a full-length copy
        wav = wav[0] if wav.shape[0] == 1 else wav.mean(dim=0)
    if sample_rate is not None:
        wav = resample(wav, sr, sample_rate)
        sr = sample_rate
    return check_waveform(wav, path, min_samples, sample_rate=sr), int(sr)


def load_segment(path, start, stop, sample_rate):
    """Read samples ``[start, stop)`` of a file as if resampled to a rate.

    The partial-read form of :func:`load_audio` (same checks and errors).
    Only the needed window of the file is decoded. When the file's rate
    differs from ``sample_rate``, a window with a margin is read from an
    offset on the common sampling grid of both rates, resampled, and cut, so
    the result matches (to float precision) the same slice of the whole file
    resampled with :func:`resample` (what ``load_audio(path, sample_rate)``
    returns). Samples past the end are zeros. Multi-channel files are
    averaged to mono.

    Arguments
    ---------
    path : str or Path or bytes
        Audio file (or its bytes).
    start : int
        First sample, counted at ``sample_rate``.
    stop : int
        One past the last sample, counted at ``sample_rate``.
    sample_rate : int
        Rate of the returned samples.

    Returns
    -------
    torch.Tensor
        Audio ``[stop - start]`` at ``sample_rate``.

    Raises
    ------
    AudioError
        If the file is missing, not audio, empty, or holds NaN/Inf.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "a.wav")
    >>> save_audio(path, torch.arange(100) / 200.0, 8000)
    >>> seg = load_segment(path, 90, 110, 8000)
    >>> seg.shape, float(seg[-1])
    (torch.Size([20]), 0.0)
    >>> with open(path, "rb") as fin:
    ...     data = fin.read()
    >>> torch.equal(load_segment(data, 10, 30, 16000),
    ...             load_segment(path, 10, 30, 16000))
    True
    """
    start, stop = int(start), int(stop)
    if stop <= start or start < 0:
        raise ValueError(f"bad segment [{start}, {stop}) for {_name(path)}")
    info = audio_info(path)
    file_sr, file_len = info.sample_rate, info.num_samples
    if file_sr == int(sample_rate):
        src_start, src_stop, out_offset = start, min(stop, file_len), 0
    else:
        # Rates on a common grid: file sample k*up <-> output sample k*down.
        g = math.gcd(file_sr, int(sample_rate))
        up, down = file_sr // g, int(sample_rate) // g
        margin = 64 * up  # far wider than the resampling kernel
        first = max(0, (start * up // down - margin) // up)
        src_start = first * up
        src_stop = min(file_len, -(-stop * up // down) + margin)
        out_offset = start - first * down
    wav = torch.zeros(0)
    if src_stop > src_start:
        wav, _ = load_audio(
            path,
            sample_rate=sample_rate,
            frame_offset=src_start,
            num_frames=src_stop - src_start,
        )
        wav = wav[out_offset : out_offset + stop - start]
    if wav.shape[0] < stop - start:
        wav = torch.nn.functional.pad(wav, (0, stop - start - wav.shape[0]))
    return wav


def save_audio(path, wav, sample_rate, overwrite=True):
    """Write audio as 16-bit PCM (WAV/FLAC by extension), creating folders.

    The file is written atomically (a temporary file in the same folder,
    renamed into place; see :func:`~speechbrain_masksr.utils.files.atomic_write`):
    an interrupted write leaves an earlier file at ``path`` complete, and
    a symlink at ``path`` is replaced, not written through. With
    ``overwrite=False`` an existing ``path`` (even one that another process
    creates while this one writes) is never replaced:
    :class:`~speechbrain_masksr.errors.OutputTakenError` is raised.

    Arguments
    ---------
    path : str or Path
        Output file.
    wav : torch.Tensor
        ``[time]`` or ``[channels, time]``; values are clamped to [-1, 1].
    sample_rate : int
        Rate of ``wav``.
    overwrite : bool
        Replace an existing file (default).

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "sub" / "b.flac")
    >>> save_audio(path, torch.zeros(160), 16000)
    >>> Path(path).exists()
    True
    >>> save_audio(path, torch.ones(160), 16000, overwrite=False)
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.OutputTakenError: .../b.flac was created by another writer...
    """
    wav = torch.as_tensor(wav).detach().float().cpu()
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    with atomic_write(path, overwrite=overwrite) as tmp:
        audio_io.save(
            str(tmp), wav.clamp(-1, 1), int(sample_rate), subtype="PCM_16"
        )


def find_audio_files(path, extensions=AUDIO_EXTENSIONS, exclude=()):
    """List audio files: the file itself, or a folder searched recursively.

    This is how every command-line tool and data preparation of the
    package lists a folder's inputs. Hidden files and files inside hidden
    folders (names starting with a dot, below ``path``) are never listed:
    among them are the temporary files of writes in progress or killed
    (``.<stem>.<random>.tmp.wav``, see
    :func:`~speechbrain_masksr.utils.files.atomic_write`), readable but
    truncated. A file given as ``path`` itself is returned as it is.

    Arguments
    ---------
    path : str or Path
        A file or a folder.
    extensions : tuple of str
        File endings that count as audio.
    exclude : tuple of str or Path
        Folders whose files are left out (e.g. an output folder inside the
        searched one); compared after resolving links.

    Returns
    -------
    list of Path
        Sorted paths.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "x" / "1.wav"), torch.zeros(16), 16000)
    >>> save_audio(str(tmp / "x" / ".1.0123abcd.tmp.wav"), torch.zeros(8), 16000)
    >>> save_audio(str(tmp / "x" / ".cache" / "2.wav"), torch.zeros(16), 16000)
    >>> save_audio(str(tmp / "x" / "out" / "3.wav"), torch.zeros(16), 16000)
    >>> [p.name for p in find_audio_files(str(tmp / "x"))]
    ['1.wav', '3.wav']
    >>> [p.name for p in find_audio_files(tmp / "x", exclude=[tmp / "x" / "out"])]
    ['1.wav']
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise AudioError(f"{path}: no such file or folder")
    excluded = [Path(e).resolve() for e in exclude]
    files = []
    for p in path.rglob("*"):
        if p.suffix.lower() not in extensions:
            continue
        if any(part.startswith(".") for part in p.relative_to(path).parts):
            continue  # hidden: temporary files of (killed) writers among them
        if not p.is_file():
            continue
        if excluded and any(p.resolve().is_relative_to(e) for e in excluded):
            continue
        files.append(p)
    return sorted(files)
