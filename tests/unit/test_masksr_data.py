"""MaskSR training data: sources, evaluation speakers, 44.1 kHz resampling.

* ``prepare_dns`` with MaskSR's sources: the DNS 2022 ``read_speech`` and
  ``vctk_wav48_silence_trimmed`` subsets and AISHELL-1; the files of the
  VCTK evaluation speakers never reach the manifests, even when they sit in
  a training folder;
* 48 kHz (DNS / VCTK) and 16 kHz (AISHELL-1) clean files come out of the
  recipe's data pipeline at 44.1 kHz, tokens and crops alike.

Authors
 * speechbrain-masksr contributors 2026
"""

import logging
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile
import torch
from helpers import load_recipe

from speechbrain_masksr.data.manifest import load_manifest
from speechbrain_masksr.data.speakers import EVALUATION_SPEAKERS, vctk_speaker
from speechbrain_masksr.data.token_cache import TokenCache

dns = load_recipe("recipes/DNS/dns_prepare.py")
recipe = load_recipe("recipes/DNS/train.py", "masksr_dns_train")


def _sine(path, freq, sr, seconds=1.0):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(round(seconds * sr))) / sr
    soundfile.write(str(path), 0.5 * np.sin(2 * np.pi * freq * t), sr)
    return path


#: file -> (frequency, rate); DNS 4 layout + a VCTK test speaker in a
#: training folder (read_speech) + AISHELL-1.
CLEAN = "datasets_fullband/clean_fullband"
FILES = {
    f"{CLEAN}/read_speech/book_00001_chp_0001_reader_00001_0_seg_1.wav": (
        1500,
        48000,
    ),
    f"{CLEAN}/read_speech/book_00002_chp_0002_reader_00002_0_seg_1.wav": (
        1500,
        48000,
    ),
    f"{CLEAN}/read_speech/p360_004_mic1.wav": (1500, 48000),  # misplaced
    f"{CLEAN}/german_speech/other.wav": (1500, 48000),  # not a MaskSR subset
}
for spk in ("p225", "p226", "p360", "s5", "p232"):
    for utt in ("001", "002"):
        name = f"{CLEAN}/vctk_wav48_silence_trimmed/{spk}/{spk}_{utt}_mic1.wav"
        FILES[name] = (1000, 48000)
AISHELL = {
    f"data_aishell/wav/{split}/S0002/BAC009S0002W0{i}.wav": (2500, 16000)
    for i, split in enumerate(("train", "train", "dev", "test"))
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("masksr_data")
    for rel, (freq, sr) in FILES.items():
        _sine(root / "dns" / rel, freq, sr)
    for rel, (freq, sr) in AISHELL.items():
        _sine(root / "aishell" / rel, freq, sr)
    return root


def _all_entries(out):
    entries = {}
    for name in ("train", "valid", "test"):
        entries.update(load_manifest(out[name]))
    return entries


def _prepare_masksr_sources(corpus, save_folder):
    """MaskSR's sources of the toy corpus (DNS + VCTK + AISHELL-1)."""
    return dns.prepare_dns(
        corpus / "dns",
        save_folder,
        valid_ratio=0.2,
        test_ratio=0.2,
        clean_subsets=dns.MASKSR_CLEAN_SUBSETS,
        aishell_folder=corpus / "aishell",
    )


def test_masksr_sources_without_evaluation_speakers(corpus, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        out = _prepare_masksr_sources(corpus, tmp_path / "save")
    entries = _all_entries(out)
    speakers = {vctk_speaker(e["wav"]) for e in entries.values()}
    assert speakers == {None, "p225", "p226"}
    train = load_manifest(out["train"])
    assert not any(
        vctk_speaker(e["wav"]) in EVALUATION_SPEAKERS for e in train.values()
    )
    # the VCTK test speaker placed in read_speech/ is left out too
    assert "read_speech_p360_004_mic1" not in entries
    assert "p360: 3" in caplog.text and "s5: 2" in caplog.text
    # DNS subsets (not german_speech) and all AISHELL-1 splits
    assert sorted(entries) == sorted(
        [
            "read_speech_book_00001_chp_0001_reader_00001_0_seg_1",
            "read_speech_book_00002_chp_0002_reader_00002_0_seg_1",
            "vctk_wav48_silence_trimmed_p225_p225_001_mic1",
            "vctk_wav48_silence_trimmed_p225_p225_002_mic1",
            "vctk_wav48_silence_trimmed_p226_p226_001_mic1",
            "vctk_wav48_silence_trimmed_p226_p226_002_mic1",
        ]
        + [f"aishell_BAC009S0002W0{i}" for i in range(4)]
    )
    aishell = entries["aishell_BAC009S0002W02"]
    assert aishell["sample_rate"] == 16000
    assert Path(aishell["wav"]).is_absolute()
    assert Path(aishell["wav"]).is_file()
    vctk = entries["vctk_wav48_silence_trimmed_p225_p225_001_mic1"]
    assert vctk["sample_rate"] == 48000
    assert vctk["wav"].startswith("{data_root}/datasets_fullband/")

    # control: without the exclusion, the evaluation speakers are there
    every = _all_entries(
        dns.prepare_dns(
            corpus / "dns",
            tmp_path / "all",
            clean_subsets=dns.MASKSR_CLEAN_SUBSETS,
            exclude_speakers=(),
        )
    )
    assert {vctk_speaker(e["wav"]) for e in every.values()} == {
        None,
        "p225",
        "p226",
        "p232",
        "p360",
        "s5",
    }
    assert len(every) == 13


def test_masksr_sources_from_hparams_and_errors(corpus, tmp_path, caplog):
    hparams = {
        "data_folder": str(corpus / "dns"),
        "save_folder": str(tmp_path / "save"),
        "skip_prep": False,
        "valid_ratio": 0.0,
        "test_ratio": 0.0,
        "seed": 1,
        "segment_seconds": 0.5,
        "dns_clean_subsets": ["vctk_wav48_silence_trimmed"],
        "aishell_folder": None,
        "exclude_speakers": ["p225"],
    }
    with caplog.at_level(logging.WARNING):
        out = dns.prepare_from_hparams(hparams)
    assert "AISHELL-1 is left out" in caplog.text
    train = load_manifest(out["train"])
    assert sorted({vctk_speaker(e["wav"]) for e in train.values()}) == [
        "p226",
        "p232",
        "p360",
        "s5",
    ]
    with pytest.raises(FileNotFoundError, match=r"subset\(s\) \['vctk'\]"):
        dns.prepare_dns(corpus / "dns", tmp_path / "e1", clean_subsets=["vctk"])
    with pytest.raises(FileNotFoundError, match="AISHELL-1 folder not found"):
        dns.prepare_dns(
            corpus / "dns", tmp_path / "e2", aishell_folder=tmp_path / "none"
        )
    with pytest.raises(FileNotFoundError, match=r"split\(s\) \['eval'\]"):
        dns.prepare_dns(
            corpus / "dns",
            tmp_path / "e3",
            aishell_folder=corpus / "aishell",
            aishell_splits=("train", "eval"),
        )


def test_sources_are_resampled_to_44k1_in_the_training_pipeline(
    corpus, tmp_path
):
    sr, hop = 44100, 512
    out = _prepare_masksr_sources(corpus, tmp_path / "save")
    hparams = {
        "sample_rate": sr,
        "codec": SimpleNamespace(hop_length=hop),
        "segment_seconds": 0.5,
        "eval_seed": 1,
        "data_folder": str(corpus / "dns"),
        "save_folder": str(tmp_path / "save"),
        "test_sets": ["test"],
        "train_shards": None,
    }

    class Codec:  # stand-in: one code per 512-sample frame
        def encode(self, wavs):
            return torch.zeros(wavs.shape[0], 2, wavs.shape[1] // hop).long()

    cache = TokenCache(tmp_path / "tokens", sample_rate=sr, hop_length=hop)

    def identity(wavs, generator=None):
        return wavs

    datasets = recipe.dataio_prep(hparams, out, cache, identity)
    cache.extract(Codec(), recipe.token_entries(hparams, out, datasets))
    rates = {**FILES, **AISHELL}
    entries = _all_entries(out)
    crop = round(0.5 * sr / hop)  # 43 frames
    n_items = 0
    for name, data in datasets.items():
        for item in data:
            n_items += 1
            entry = entries[item["id"]]
            source = Path(entry["wav"].replace("{data_root}/", ""))
            freq, file_sr = next(
                v for k, v in rates.items() if source.as_posix().endswith(k)
            )
            assert entry["sample_rate"] == file_sr != sr
            # tokens of the whole file at 44.1 kHz: 1 s -> ceil(44100 / 512)
            assert cache.load(item["id"]).shape[1] == math.ceil(sr / hop)
            clean = item["clean_sig"]
            frames = item["tokens"].shape[0]
            assert clean.shape[0] == frames * hop
            # train / valid: 0.5 s crops; test: whole files
            assert frames == (math.ceil(sr / hop) if name == "test" else crop)
            # the sine keeps its frequency at 44.1 kHz (a file read at the
            # wrong rate would move it by 48/44.1 or 16/44.1)
            spectrum = torch.fft.rfft(clean * torch.hann_window(len(clean)))
            peak = float(spectrum.abs().argmax()) * sr / len(clean)
            assert abs(peak - freq) < 3, (item["id"], peak)
            assert 0.45 < float(clean.abs().max()) < 0.55
    assert n_items == len(entries) == 10
