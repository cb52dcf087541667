"""Audio input/output with clear errors at the boundary.

Every file that enters the package (recipes, metrics, command-line tools,
pretrained interfaces) goes through :func:`load_audio`, which turns the many
ways a file can be wrong (missing, not audio, empty, NaN, wrong shape) into one
:class:`AudioError` that names the file. Reading and writing use SpeechBrain's
soundfile-based ``speechbrain.dataio.audio_io`` (``torchaudio.load`` needs
torchcodec, which is not usable on CPU-only installs).

Authors
 * speechbrain-masksr contributors 2026
"""

import os
from pathlib import Path

import torch
import torchaudio
from speechbrain.dataio import audio_io

from speechbrain_masksr.errors import AudioError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


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
            rate = (
                f" ({wav.shape[-1] / sample_rate:.3g} s at {sample_rate} Hz,"
                f" the minimum is {min_samples / sample_rate:.3g} s)"
            )
        raise AudioError(
            f"{name}: audio has {wav.shape[-1]} samples, "
            f"at least {min_samples} are needed{rate}"
        )
    wav = wav.float()
    if not torch.isfinite(wav).all():
        raise AudioError(f"{name}: audio contains NaN or Inf values")
    return wav


def _check_path(path):
    """Clear error for a missing file or a folder."""
    if os.path.isdir(path):
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not os.path.isfile(path):
        raise AudioError(f"{path}: file not found")


def audio_info(path):
    """Length and rate of an audio file, read from its header.

    Arguments
    ---------
    path : str or Path
        The file.

    Returns
    -------
    num_frames : int
        Samples per channel.
    sample_rate : int
        The file's rate.

    Raises
    ------
    AudioError
        If the file is missing or not audio.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "a.wav"), torch.zeros(800), 8000)
    >>> audio_info(str(tmp / "a.wav"))
    (800, 8000)
    """
    path = str(path)
    _check_path(path)
    try:
        info = audio_io.info(path)
    except Exception as err:  # soundfile raises several error types
        raise AudioError(f"{path}: not a readable audio file ({err})") from err
    return int(info.frames), int(info.sample_rate)


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
    path : str or Path
        The file.
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
    """
    path = str(path)
    _check_path(path)
    try:  # [channels, time]
        wav, sr = audio_io.load(
            path, frame_offset=int(frame_offset), num_frames=int(num_frames)
        )
    except Exception as err:  # soundfile raises several error types
        raise AudioError(f"{path}: not a readable audio file ({err})") from err
    wav = check_waveform(wav, path)
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    if mono:
        wav = wav.mean(dim=0)
    if sample_rate is not None:
        wav = resample(wav, sr, sample_rate)
        sr = sample_rate
    return check_waveform(wav, path, min_samples, sample_rate=sr), int(sr)


def save_audio(path, wav, sample_rate):
    """Write audio as 16-bit PCM (WAV/FLAC by extension), creating folders.

    Arguments
    ---------
    path : str or Path
        Output file.
    wav : torch.Tensor
        ``[time]`` or ``[channels, time]``; values are clamped to [-1, 1].
    sample_rate : int
        Rate of ``wav``.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "sub" / "b.flac")
    >>> save_audio(path, torch.zeros(160), 16000)
    >>> Path(path).exists()
    True
    """
    wav = torch.as_tensor(wav).detach().float().cpu()
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    audio_io.save(
        str(path), wav.clamp(-1, 1), int(sample_rate), subtype="PCM_16"
    )


def find_audio_files(path, extensions=AUDIO_EXTENSIONS):
    """List audio files: the file itself, or a folder searched recursively.

    Arguments
    ---------
    path : str or Path
        A file or a folder.
    extensions : tuple of str
        File endings that count as audio.

    Returns
    -------
    list of Path
        Sorted paths.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "x" / "1.wav"), torch.zeros(16), 16000)
    >>> [p.name for p in find_audio_files(str(tmp / "x"))]
    ['1.wav']
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise AudioError(f"{path}: no such file or folder")
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in extensions
    )
