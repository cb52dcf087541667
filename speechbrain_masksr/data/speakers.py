"""VCTK speakers of the evaluation sets, kept out of training data.

MaskSR is evaluated on VoiceFixer's test sets, which are made from held-out
VCTK speakers, and its training data (the DNS Challenge 2022 clean speech)
contains a copy of VCTK (``clean_fullband/vctk_wav48_silence_trimmed``).
The MaskSR paper excludes the test speakers from training; the data
preparation scripts do it with :func:`drop_speakers`, which recognises VCTK
files by their name (``<spk>_<utt>`` or ``<spk>_<utt>_mic<N>``, e.g.
``p360_001_mic1.wav``), wherever they are stored.

Speaker lists:

* :data:`VOICEFIXER_TEST_SPEAKERS`: the VCTK-0.92 test speakers of
  VoiceFixer / NVSR (``p360 p361 p362 p363 p364 p374 p376 s5``; source:
  haoheliu/ssr_eval ``README.md``, "Dataset Details"); VoiceFixer's GSR,
  SR, DECLI and DEREV test sets use them.
* :data:`VOICEFIXER_EXCLUDED_SPEAKERS`: ``p280 p315``, which that split
  leaves out "for technical issues".
* :data:`VBD_TEST_SPEAKERS`: ``p232 p257``, the test speakers of
  VoiceBank-DEMAND (Valentini et al.), which is also VoiceFixer's
  ``DENOISE/vd_test`` set.
* :data:`EVALUATION_SPEAKERS`: the union of the two test lists, the default
  exclusion of the DNS preparation.

Authors
 * speechbrain-masksr contributors 2026
"""

import re
from pathlib import Path

from speechbrain.utils.logger import get_logger

__all__ = [
    "VOICEFIXER_TEST_SPEAKERS",
    "VOICEFIXER_EXCLUDED_SPEAKERS",
    "VBD_TEST_SPEAKERS",
    "EVALUATION_SPEAKERS",
    "VCTK_NAME",
    "vctk_speaker",
    "drop_speakers",
]

logger = get_logger(__name__)

# haoheliu/ssr_eval README.md, "Dataset Details" (VCTK 0.92 test speakers
# of NVSR / VoiceFixer; p280 and p315 omitted "for technical issues").
VOICEFIXER_TEST_SPEAKERS = (
    "p360",
    "p361",
    "p362",
    "p363",
    "p364",
    "p374",
    "p376",
    "s5",
)
VOICEFIXER_EXCLUDED_SPEAKERS = ("p280", "p315")
# VoiceBank-DEMAND test set (clean_testset_wav: p232_*, p257_*).
VBD_TEST_SPEAKERS = ("p232", "p257")
EVALUATION_SPEAKERS = VOICEFIXER_TEST_SPEAKERS + VBD_TEST_SPEAKERS

#: VCTK file stems: ``p225_001``, ``p225_001_mic1``, ``s5_010_mic2``.
VCTK_NAME = re.compile(r"^([ps]\d+)_(\d+)(?:_(mic\d))?$")


def vctk_speaker(path):
    """Return the VCTK speaker of a file name (``p225_001_mic1`` -> ``p225``).

    Arguments
    ---------
    path : str or Path
        A VCTK-style file name.

    Returns
    -------
    str or None
        The speaker, or ``None`` if the name does not follow VCTK's pattern.

    Example
    -------
    >>> vctk_speaker("wav48/p225/p225_001_mic1.flac"), vctk_speaker("x.wav")
    ('p225', None)
    >>> vctk_speaker("BAC009S0002W0122.wav") is None  # AISHELL-1 name
    True
    """
    match = VCTK_NAME.match(Path(path).stem)
    return match.group(1) if match else None


def drop_speakers(paths, speakers, what="audio"):
    """Leave out the files of some VCTK speakers (matched by file name).

    Files whose name does not follow VCTK's ``<spk>_<utt>[_micN]`` pattern
    (DNS read speech, AISHELL-1, ...) are always kept. The number of files
    left out per speaker is logged.

    Arguments
    ---------
    paths : list of str or Path
        Candidate files.
    speakers : sequence of str
        VCTK speakers to leave out (e.g. :data:`EVALUATION_SPEAKERS`).
    what : str
        Name of the file group for the log message.

    Returns
    -------
    kept : list
        The files of other speakers, in the input order.
    dropped : dict
        ``{speaker: number of files left out}``.

    Example
    -------
    >>> kept, dropped = drop_speakers(
    ...     ["a/p225_001_mic1.wav", "b/p360_002_mic1.wav", "c/book_01.wav",
    ...      "d/p360_003.wav"], EVALUATION_SPEAKERS)
    >>> [str(p) for p in kept], dropped
    (['a/p225_001_mic1.wav', 'c/book_01.wav'], {'p360': 2})
    """
    excluded = set(speakers or ())
    kept, dropped = [], {}
    for path in paths:
        speaker = vctk_speaker(path) if excluded else None
        if speaker in excluded:
            dropped[speaker] = dropped.get(speaker, 0) + 1
        else:
            kept.append(path)
    if dropped:
        logger.info(
            "%s: %d files of evaluation speakers left out (%s)",
            what,
            sum(dropped.values()),
            ", ".join(f"{s}: {n}" for s, n in sorted(dropped.items())),
        )
    return kept, dropped
