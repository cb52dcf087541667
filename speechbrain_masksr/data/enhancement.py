"""Datasets of (input, target) waveforms for the MAE speech enhancers.

Two manifest layouts give the same dataset items ``id``, ``input_sig`` and
``target_sig`` (aligned waveforms at the model's rate):

* ``"paired"`` - entries ``{"noisy_wav", "clean_wav"}`` (VoiceBank-DEMAND,
  DNS synthetic test sets): input = noisy, target = clean.
* ``"single"`` - entries ``{"wav"}`` and a ``distortion`` (a
  :mod:`speechbrain_masksr.augment` effect or pipeline): target = the file,
  input = the distortion applied to it. With clean speech this is
  on-the-fly mixing (clean + noise + RIRs); with already-noisy speech it is
  the universal enhancer's self-supervised pretraining (the target is the
  input *before* augmentation).

Training items are random ``segment_samples`` crops (new crop and new
distortion at every epoch); ``"valid"`` items are fixed crops with a fixed
distortion per utterance (seeded by its id) so that validation scores are
comparable across epochs; ``"test"`` items are whole files.

Authors
 * speechbrain-masksr contributors 2026
"""

import hashlib

import speechbrain as sb
import torch
from torch import nn

from speechbrain_masksr.dataio import audio_info, load_audio, load_segment

__all__ = ["LAYOUTS", "enhancement_dataset", "item_seed", "read_crops"]

LAYOUTS = ("paired", "single")
STAGES = ("train", "valid", "test")


def item_seed(base, uid):
    """Deterministic 62-bit seed of one utterance (fixed eval distortions).

    Arguments
    ---------
    base : int
        Evaluation seed.
    uid : str
        Utterance id.

    Returns
    -------
    int
        The seed.

    Example
    -------
    >>> item_seed(0, "a") == item_seed(0, "a") != item_seed(1, "a")
    True
    """
    digest = hashlib.sha1(f"{base}:{uid}".encode()).hexdigest()
    return int(digest[:15], 16)


def read_crops(paths, sample_rate, segment, generator, random):
    """Same ``segment``-sample crop of every file, resampled after cropping.

    Only the crop (plus a margin for the resampling filter) is decoded and
    resampled (:func:`~speechbrain_masksr.dataio.load_segment`), so random
    crops of long files cost the crop, not the file. Files shorter than
    ``segment`` are read whole and zero-padded. Files are trimmed to the
    shortest one first.

    Arguments
    ---------
    paths : list of str
        Aligned files (e.g. noisy and clean of one utterance).
    sample_rate : int
        Rate of the returned crops.
    segment : int
        Crop length at ``sample_rate``.
    generator : torch.Generator
        Draws the crop start (``random=True``).
    random : bool
        Random start; ``False`` starts at 0.

    Returns
    -------
    list of torch.Tensor
        ``[segment]`` crops, in the order of ``paths``.

    Example
    -------
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> ramp = torch.linspace(-0.5, 0.5, 8000)
    >>> save_audio(str(tmp / "r.wav"), ramp, 8000)
    >>> (crop,) = read_crops([str(tmp / "r.wav")], 8000, 100,
    ...                      torch.Generator().manual_seed(0), random=True)
    >>> start = int(torch.argmin((ramp - crop[0]).abs()))
    >>> bool(torch.allclose(crop, ramp[start:start + 100], atol=1e-4))
    True
    """
    infos = [audio_info(path) for path in paths]
    length = min(
        (info.num_samples * sample_rate) // info.sample_rate for info in infos
    )  # at the output rate
    if length <= segment:
        wavs = [load_audio(path, sample_rate=sample_rate)[0] for path in paths]
        length = min(w.shape[0] for w in wavs)
        return [
            nn.functional.pad(w[:length], (0, segment - length)) for w in wavs
        ]
    start = 0
    if random:
        start = int(
            torch.randint(0, length - segment + 1, (1,), generator=generator)
        )
    return [
        load_segment(path, start, start + segment, sample_rate)
        for path in paths
    ]


def enhancement_dataset(
    manifest,
    stage,
    layout,
    sample_rate,
    segment_samples,
    distortion=None,
    eval_seed=0,
    replacements=None,
    max_items=None,
):
    """A ``DynamicItemDataset`` of ``id``, ``input_sig``, ``target_sig``.

    Arguments
    ---------
    manifest : str or Path
        SpeechBrain JSON manifest.
    stage : str
        ``"train"`` (random crops, fresh distortions), ``"valid"`` (fixed
        crops and distortions) or ``"test"`` (whole files, fixed
        distortions).
    layout : str
        ``"paired"`` or ``"single"`` (see the module docstring).
    sample_rate : int
        Rate of the returned audio (files are resampled).
    segment_samples : int
        Crop length (train / valid).
    distortion : callable, optional
        ``distortion(wavs [1, time], generator=...)`` for ``"single"``.
    eval_seed : int
        Seed of the fixed valid / test distortions.
    replacements : dict, optional
        Manifest placeholders (``{"data_root": ...}``).
    max_items : int, optional
        Keep only the first items (debug runs).

    Returns
    -------
    DynamicItemDataset
        The dataset.

    Example
    -------
    >>> from speechbrain_masksr.data.manifest import write_manifest
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "a.wav"), 0.1 * torch.randn(8000), 8000)
    >>> write_manifest({"a": {"wav": str(tmp / "a.wav")}}, tmp / "m.json")
    >>> data = enhancement_dataset(tmp / "m.json", "train", "single", 8000,
    ...                            4000, distortion=lambda w, generator: 2 * w)
    >>> item = data[0]
    >>> item["input_sig"].shape, bool(torch.allclose(
    ...     item["input_sig"], 2 * item["target_sig"]))
    (torch.Size([4000]), True)
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    if layout == "single" and distortion is None:
        raise ValueError("layout 'single' needs a distortion")
    sample_rate, segment = int(sample_rate), int(segment_samples)

    def generator_for(uid):
        if stage == "train":  # per-rank, per-worker global RNG: new each epoch
            seed = int(torch.randint(0, 2**62, (1,)))
        else:
            seed = item_seed(eval_seed, uid)
        return torch.Generator().manual_seed(seed)

    def read(paths, generator):
        if stage == "test":  # whole files, trimmed to the shorter one
            wavs = [load_audio(p, sample_rate=sample_rate)[0] for p in paths]
            length = min(w.shape[0] for w in wavs)
            return [w[:length] for w in wavs]
        return read_crops(
            paths, sample_rate, segment, generator, random=stage == "train"
        )

    if layout == "paired":

        @sb.utils.data_pipeline.takes("id", "noisy_wav", "clean_wav")
        @sb.utils.data_pipeline.provides("input_sig", "target_sig")
        def pipeline(uid, noisy_wav, clean_wav):
            noisy, clean = read([noisy_wav, clean_wav], generator_for(uid))
            yield noisy
            yield clean

    else:

        @sb.utils.data_pipeline.takes("id", "wav")
        @sb.utils.data_pipeline.provides("input_sig", "target_sig")
        def pipeline(uid, wav):
            generator = generator_for(uid)
            (target,) = read([wav], generator)
            with torch.no_grad():
                distorted = distortion(target[None], generator=generator)[0]
            yield distorted
            yield target

    data = sb.dataio.dataset.DynamicItemDataset.from_json(
        str(manifest), replacements=replacements or {}
    )
    if max_items is not None:
        data = data.filtered_sorted(select_n=int(max_items))
    sb.dataio.dataset.add_dynamic_item([data], pipeline)
    sb.dataio.dataset.set_output_keys([data], ["id", "input_sig", "target_sig"])
    return data
