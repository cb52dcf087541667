"""Banks of audio clips (noises, room impulse responses, speakers).

:class:`AudioBank` turns what a user can reasonably pass in a YAML file or in
Python (tensors, audio files, folders, SpeechBrain JSON/CSV manifests, or a
list mixing them) into a list of clips that the distortions draw from. Files
are read lazily with :func:`speechbrain_masksr.dataio.load_audio`, resampled
to the bank's rate and kept in a small LRU cache; a missing or unreadable file
raises :class:`~speechbrain_masksr.errors.AudioError` naming it.

Authors
 * speechbrain-masksr contributors 2026
"""

from collections import OrderedDict
from pathlib import Path

import torch
from speechbrain.dataio.dataio import load_data_csv, load_data_json

from speechbrain_masksr.dataio import (
    AUDIO_EXTENSIONS,
    check_waveform,
    find_audio_files,
    load_audio,
)
from speechbrain_masksr.errors import AudioError


class AudioBank:
    """A list of audio clips drawn at random by the distortions.

    Arguments
    ---------
    sources : tensor, str, Path, or list of them
        Each item is one of: a 1-D tensor (one clip); a 2-D tensor
        ``[n_clips, time]``; an audio file; a folder (searched recursively
        for audio files); a SpeechBrain ``.json`` manifest
        (``{"id": {"wav": path, ...}}``) or ``.csv`` manifest (``wav``
        column).
    sample_rate : int
        Rate clips are resampled to when read from files. Tensors are assumed
        to be at this rate already.
    name : str
        What the clips are ("noise", "RIR", ...), used in error messages.
    replacements : dict, optional
        Placeholder values for manifests (e.g. ``{"data_root": "/data"}``).
    cache_size : int
        How many decoded files to keep in memory.

    Example
    -------
    >>> bank = AudioBank([torch.ones(5), torch.zeros(2, 3) + 0.5], 16000)
    >>> len(bank)
    3
    >>> bank.get(1)
    tensor([0.5000, 0.5000, 0.5000])
    >>> g = torch.Generator().manual_seed(0)
    >>> bank.sample(2, 4, generator=g).shape
    torch.Size([2, 4])
    """

    def __init__(
        self,
        sources,
        sample_rate,
        name="audio",
        replacements=None,
        cache_size=64,
    ):
        self.sample_rate = int(sample_rate)
        self.name = name
        self.replacements = replacements or {}
        self.cache_size = int(cache_size)
        self._cache = OrderedDict()
        self.items = []
        if sources is None:
            raise ValueError(f"no {name} sources given")
        self._add(sources)
        if not self.items:
            raise AudioError(f"no {name} clips found in {sources!r}")

    def _add(self, source):
        if torch.is_tensor(source):
            self._add_tensor(source)
        elif isinstance(source, (str, Path)):
            self._add_path(Path(source))
        elif isinstance(source, (list, tuple)):
            for item in source:
                self._add(item)
        else:
            raise TypeError(
                f"{self.name} sources must be tensors, paths or lists of "
                f"them, got {type(source).__name__}"
            )

    def _add_tensor(self, wav):
        label = f"{self.name} tensor #{len(self.items)}"
        if wav.dim() == 1:
            self.items.append(check_waveform(wav.detach().cpu(), label))
        elif wav.dim() == 2:
            for row in wav.detach().cpu():
                self._add_tensor(row)
        else:
            raise AudioError(
                f"{label}: expected [time] or [n_clips, time], got shape "
                f"{tuple(wav.shape)}"
            )

    def _add_path(self, path):
        suffix = path.suffix.lower()
        if suffix in (".json", ".csv"):
            if not path.is_file():
                raise AudioError(f"{path}: {self.name} manifest not found")
            if suffix == ".json":
                data = load_data_json(str(path), self.replacements)
            else:
                data = load_data_csv(str(path), self.replacements)
            for key, entry in data.items():
                if "wav" not in entry:
                    raise AudioError(
                        f"{path}: entry {key!r} has no 'wav' field"
                    )
                wav_path = Path(entry["wav"])
                if not wav_path.is_file():
                    raise AudioError(
                        f"{wav_path}: {self.name} file not found "
                        f"(listed in {path})"
                    )
                self.items.append(str(wav_path))
        elif path.is_dir():
            self.items.extend(str(p) for p in find_audio_files(path))
        elif path.is_file():
            if suffix not in AUDIO_EXTENSIONS:
                raise AudioError(
                    f"{path}: not an audio file or manifest (expected one of "
                    f"{AUDIO_EXTENSIONS + ('.json', '.csv')})"
                )
            self.items.append(str(path))
        else:
            raise AudioError(f"{path}: {self.name} file or folder not found")

    def __len__(self):
        return len(self.items)

    def get(self, index):
        """Return clip ``index`` as a float tensor ``[time]``.

        Arguments
        ---------
        index : int
            Position in the bank.

        Returns
        -------
        torch.Tensor
            The clip ``[time]`` at the bank's sample rate.

        Example
        -------
        >>> AudioBank(torch.ones(3), 8000).get(0)
        tensor([1., 1., 1.])
        """
        item = self.items[int(index)]
        if torch.is_tensor(item):
            return item
        if item in self._cache:
            self._cache.move_to_end(item)
            return self._cache[item]
        wav, _ = load_audio(item, sample_rate=self.sample_rate)
        if self.cache_size > 0:
            self._cache[item] = wav
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return wav

    def choose(self, n, generator=None):
        """Draw ``n`` clip indices uniformly (with replacement).

        Arguments
        ---------
        n : int
            How many.
        generator : torch.Generator, optional
            Random generator.

        Returns
        -------
        list of int
            Indices into the bank.

        Example
        -------
        >>> AudioBank(torch.ones(3), 8000).choose(2)
        [0, 0]
        """
        idx = torch.randint(len(self.items), (int(n),), generator=generator)
        return idx.tolist()

    def sample(self, n, length, generator=None, tile=True):
        """Draw ``n`` random excerpts of ``length`` samples.

        Each excerpt comes from a random clip at a random offset. A clip
        shorter than ``length`` is repeated end to end (``tile=True``, for
        noise) or placed at a random offset in zeros (``tile=False``, for
        speech).

        Arguments
        ---------
        n : int
            Number of excerpts.
        length : int
            Samples per excerpt.
        generator : torch.Generator, optional
            Random generator.
        tile : bool
            Repeat short clips instead of zero-padding them.

        Returns
        -------
        torch.Tensor
            Excerpts ``[n, length]``.

        Example
        -------
        >>> bank = AudioBank(torch.arange(1.0, 4.0), 8000)
        >>> out = bank.sample(1, 7, generator=torch.Generator().manual_seed(1))
        >>> sorted(set(out[0].tolist()))
        [1.0, 2.0, 3.0]
        """
        length = int(length)
        out = torch.zeros(int(n), length)
        for row, index in enumerate(self.choose(n, generator)):
            out[row] = crop_or_pad(self.get(index), length, generator, tile)
        return out


def crop_or_pad(wav, length, generator=None, tile=True):
    """Cut a random excerpt of ``length`` samples from ``wav``.

    Arguments
    ---------
    wav : torch.Tensor
        Clip ``[time]``.
    length : int
        Wanted length.
    generator : torch.Generator, optional
        Random generator for the offset.
    tile : bool
        If the clip is shorter than ``length``: repeat it (``True``) or put
        it at a random offset in zeros (``False``).

    Returns
    -------
    torch.Tensor
        Excerpt ``[length]``.

    Example
    -------
    >>> out = crop_or_pad(torch.tensor([1.0, 2.0]), 5, tile=False)
    >>> out.shape, float(out.sum())
    (torch.Size([5]), 3.0)
    >>> crop_or_pad(torch.tensor([1.0, 2.0]), 5, tile=True).shape
    torch.Size([5])
    """
    n = wav.shape[-1]
    if n >= length:
        start = int(torch.randint(n - length + 1, (1,), generator=generator))
        return wav[start : start + length]
    if tile:
        reps = length // n + 2
        start = int(torch.randint(n, (1,), generator=generator))
        return wav.repeat(reps)[start : start + length]
    out = torch.zeros(length, dtype=wav.dtype)
    start = int(torch.randint(length - n + 1, (1,), generator=generator))
    out[start : start + n] = wav
    return out
