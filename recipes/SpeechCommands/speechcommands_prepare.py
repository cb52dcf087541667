"""Speech Commands v2 data preparation: the official 35-word splits.

Google Speech Commands v0.02 (Warden 2018) unpacks to one folder per word,
``<word>/<speaker>_nohash_<n>.wav`` (16 kHz, up to 1 s), plus
``_background_noise_/`` and the two lists that define the standard split:

* ``validation_list.txt`` and ``testing_list.txt``: one relative path
  (``right/bb05582b_nohash_3.wav``) per line;
* every other clip of a word folder is a training clip.

This is the SPC-2 task of the Audio-MAE paper (Sec. 4.1: 35 commands,
84,843 / 9,981 / 11,005 training / validation / test clips, accuracy).
SpeechBrain's ``recipes/Google-speech-commands/prepare_GSC.py`` is a recipe
file, not part of the ``speechbrain`` package, and it splits by a hash of
the file names with a 12-class (10 words + unknown + silence) setup, which
is SPC-1's label set, not this task. This script reads the official lists
(standard library only) and writes ``train.json``, ``valid.json``,
``test.json`` with entries ``{"wav", "duration", "sample_rate", "labels":
[class index], "word", "speaker"}`` (``labels`` as in the AudioSet
manifests, so the fine-tuning code is shared) and ``class_labels.json``
(the words in class order: sorted folder names). The background-noise
folder is not a class and is skipped.

Example command (from ``recipes/SpeechCommands``)::

    python speechcommands_prepare.py /data/speech_commands_v0.02 \\
        results/speechcommands/manifests

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

from speechbrain_masksr.data.manifest import (
    mark_prepare_done,
    prepare_done,
    write_manifest,
)
from speechbrain_masksr.data.prepare import prepare_on_main, run_prepare_cli
from speechbrain_masksr.dataio import AudioError, audio_info, save_audio
from speechbrain_masksr.utils.files import atomic_open

logger = logging.getLogger(__name__)

#: The 35 words of Speech Commands v0.02 (sorted: the class order).
SPC2_WORDS = (
    "backward bed bird cat dog down eight five follow forward four go happy "
    "house learn left marvin nine no off on one right seven sheila six stop "
    "three tree two up visual wow yes zero"
).split()
LIST_FILES = {"valid": "validation_list.txt", "test": "testing_list.txt"}
NOISE_FOLDER = "_background_noise_"


def read_list(path):
    """Relative clip paths listed in a split file.

    Arguments
    ---------
    path : str or Path
        ``validation_list.txt`` or ``testing_list.txt``.

    Returns
    -------
    set of str
        ``word/file.wav`` paths (``/`` separated).

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "testing_list.txt"
    >>> _ = path.write_text("right/a_nohash_0.wav\\n\\nyes/b_nohash_1.wav\\n")
    >>> sorted(read_list(path))
    ['right/a_nohash_0.wav', 'yes/b_nohash_1.wav']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: split list not found (data_folder must be the "
            "speech_commands_v0.02 folder with validation_list.txt and "
            "testing_list.txt)"
        )
    with open(path, encoding="utf-8") as fin:
        return {line.strip() for line in fin if line.strip()}


def find_words(data_folder):
    """Word folders of the corpus, sorted (the class order).

    Arguments
    ---------
    data_folder : str or Path
        Corpus root.

    Returns
    -------
    list of str
        Folder names, without ``_background_noise_`` and hidden folders.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> for name in ("yes", "no", "_background_noise_"):
    ...     (tmp / name).mkdir()
    >>> find_words(tmp)
    ['no', 'yes']
    """
    data_folder = Path(data_folder)
    if not data_folder.is_dir():
        raise FileNotFoundError(f"{data_folder}: corpus folder not found")
    return sorted(
        p.name
        for p in data_folder.iterdir()
        if p.is_dir() and not p.name.startswith(("_", "."))
    )


def prepare_speech_commands(data_folder, save_folder, skip_prep=False):
    """Write the Speech Commands v2 manifests of the official split.

    Arguments
    ---------
    data_folder : str or Path
        The ``speech_commands_v0.02`` folder (word folders + lists).
    save_folder : str or Path
        Where ``train.json``, ``valid.json``, ``test.json``,
        ``class_labels.json`` and ``prepare_report.json`` (clips per split,
        unreadable files) are written.
    skip_prep : bool
        Only return the manifest paths (assumed written).

    Returns
    -------
    dict
        ``{"train", "valid", "test", "labels", "report"}`` -> path.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> data = make_toy_speech_commands(tmp / "spc", words=("no", "yes"),
    ...     clips=(3, 1, 1), duration=0.1)
    >>> out = prepare_speech_commands(data, tmp / "m")
    >>> {k: len(json.loads(Path(out[k]).read_text()))
    ...  for k in ("train", "valid", "test")}
    {'train': 6, 'valid': 2, 'test': 2}
    >>> json.loads(Path(out["test"]).read_text())["yes/spk4_nohash_0"]["labels"]
    [1]
    """
    save_folder = Path(save_folder)
    written = {
        "train": str(save_folder / "train.json"),
        "valid": str(save_folder / "valid.json"),
        "test": str(save_folder / "test.json"),
        "labels": str(save_folder / "class_labels.json"),
        "report": str(save_folder / "prepare_report.json"),
    }
    if skip_prep:
        return written
    data_folder = Path(data_folder)
    options = {"data_folder": str(data_folder.resolve())}
    if prepare_done(save_folder, "speechcommands", options):
        logger.info("Speech Commands manifests in %s, skipping", save_folder)
        return written

    lists = {k: read_list(data_folder / f) for k, f in LIST_FILES.items()}
    words = find_words(data_folder)
    if words != sorted(SPC2_WORDS):
        logger.warning(
            "%s has %d word folders, not the 35 of Speech Commands v0.02: "
            "the classes are the folders found",
            data_folder,
            len(words),
        )
    index = {word: k for k, word in enumerate(words)}
    manifests = {"train": {}, "valid": {}, "test": {}}
    unreadable = []
    for word in words:
        for path in sorted((data_folder / word).glob("*.wav")):
            rel = f"{word}/{path.name}"
            split = "train"
            for name, listed in lists.items():
                if rel in listed:
                    split = name
            try:
                info = audio_info(path)
            except AudioError as err:
                unreadable.append(str(err))
                continue
            manifests[split][f"{word}/{path.stem}"] = {
                "wav": str(path),
                "duration": round(info.duration, 4),
                "sample_rate": info.sample_rate,
                "labels": [index[word]],
                "word": word,
                "speaker": path.stem.split("_nohash_")[0],
            }
    report = {split: len(entries) for split, entries in manifests.items()}
    for split, listed in lists.items():
        report[f"{split}_listed"] = len(listed)
    report["unreadable"] = unreadable
    for split, entries in manifests.items():
        if not entries:
            raise FileNotFoundError(
                f"no {split} clip found under {data_folder}"
            )
        write_manifest(entries, written[split])
        logger.info("Speech Commands %s: %d clips", split, len(entries))
    with atomic_open(written["labels"]) as fout:
        json.dump(words, fout, indent=1)
    with atomic_open(written["report"]) as fout:
        json.dump(report, fout, indent=1)
    mark_prepare_done(save_folder, "speechcommands", options, written)
    return written


def prepare_from_hparams(hparams):
    """Run :func:`prepare_speech_commands` (main process only).

    Arguments
    ---------
    hparams : dict
        ``data_folder``, ``manifest_folder`` and ``skip_prep``.

    Returns
    -------
    dict
        The manifest paths.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> data = make_toy_speech_commands(tmp / "spc", ("go",), (1, 1, 1), 0.1)
    >>> out = prepare_from_hparams({"data_folder": data,
    ...     "manifest_folder": tmp / "m", "skip_prep": False})
    >>> sorted(json.loads(Path(out["valid"]).read_text()))
    ['go/spk1_nohash_0']
    """
    return prepare_on_main(
        prepare_speech_commands,
        data_folder=hparams["data_folder"],
        save_folder=hparams["manifest_folder"],
        skip_prep=hparams["skip_prep"],
    )


def make_toy_speech_commands(
    out_dir,
    words=("down", "go", "left", "no"),
    clips=(4, 2, 2),
    duration=1.0,
    sample_rate=16000,
    seed=0,
):
    """Write a tiny Speech-Commands-format corpus (smoke tests, demos).

    Word ``k`` is a tone at ``250 * 2.2**(k % 6)`` Hz plus noise. Each word
    folder gets ``sum(clips)`` clips ``spk<i>_nohash_0.wav`` (speaker ``i``
    counted over the word's clips): the first ``clips[0]`` are training
    clips, the next ``clips[1]`` are listed in ``validation_list.txt`` and
    the last ``clips[2]`` in ``testing_list.txt``. A
    ``_background_noise_`` folder (not a class) is written too.

    Arguments
    ---------
    out_dir : str or Path
        Corpus root.
    words : sequence of str
        Word folders.
    clips : tuple of int
        Training, validation and test clips per word.
    duration : float
        Clip length in seconds.
    sample_rate : int
        Rate of the files.
    seed : int
        Random seed.

    Returns
    -------
    Path
        ``out_dir``.

    Example
    -------
    >>> out = make_toy_speech_commands(getfixture("tmpdir") / "spc",
    ...     ("no", "yes"), (1, 1, 1), 0.1)
    >>> (out / "testing_list.txt").read_text().split()
    ['no/spk2_nohash_0.wav', 'yes/spk2_nohash_0.wav']
    """
    out_dir = Path(out_dir)
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(int(duration * sample_rate)) / sample_rate
    lists = {"valid": [], "test": []}
    for k, word in enumerate(words):
        (out_dir / word).mkdir(parents=True, exist_ok=True)
        f0 = 250.0 * 2.2 ** (k % 6)
        for i in range(sum(clips)):
            name = f"spk{i}_nohash_0.wav"
            phase = 6.283 * float(torch.rand(1, generator=gen))
            wav = 0.3 * torch.sin(6.2832 * f0 * t + phase)
            wav += 0.02 * torch.randn(len(t), generator=gen)
            save_audio(out_dir / word / name, wav, sample_rate)
            if clips[0] <= i < clips[0] + clips[1]:
                lists["valid"].append(f"{word}/{name}")
            elif i >= clips[0] + clips[1]:
                lists["test"].append(f"{word}/{name}")
    noise = out_dir / NOISE_FOLDER
    noise.mkdir(parents=True, exist_ok=True)
    save_audio(
        noise / "white_noise.wav",
        0.1 * torch.randn(len(t), generator=gen),
        sample_rate,
    )
    for split, name in LIST_FILES.items():
        (out_dir / name).write_text(
            "".join(f"{p}\n" for p in lists[split]), encoding="utf-8"
        )
    return out_dir


def main(argv=None):
    """Command-line entry point (``python speechcommands_prepare.py -h``).

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> data = make_toy_speech_commands(tmp / "spc", ("go",), (1, 1, 1), 0.1)
    >>> main([str(data), str(tmp / "o")])
    train: .../o/train.json
    valid: .../o/valid.json
    test: .../o/test.json
    labels: .../o/class_labels.json
    report: .../o/prepare_report.json
    0
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_folder", help="speech_commands_v0.02 folder")
    parser.add_argument("save_folder", help="where manifests are written")
    args = parser.parse_args(argv)
    return run_prepare_cli(
        prepare_speech_commands, args.data_folder, args.save_folder
    )


if __name__ == "__main__":
    sys.exit(main())
