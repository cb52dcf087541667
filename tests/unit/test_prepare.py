"""Tests for the DNS and VCTK data-preparation scripts.

Authors
 * speechbrain-masksr contributors 2026
"""

import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile
from helpers import load_recipe

from speechbrain_masksr.data.manifest import load_manifest

SR = 16000


dns = load_recipe("recipes/DNS/dns_prepare.py")
vctk = load_recipe("recipes/VCTK/vctk_prepare.py")


def _wav(path, seconds=0.25, sr=SR, value=None, seed=0):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(round(seconds * sr))
    if value is None:
        x = 0.1 * np.random.default_rng(seed).standard_normal(n)
    else:
        x = np.full(n, value)
    fmt = "FLAC" if path.suffix == ".flac" else "WAV"
    soundfile.write(str(path), x, sr, format=fmt, subtype="PCM_16")
    return path


def _dns_layout(root):
    d = root / "datasets"
    for i in range(10):
        _wav(d / "clean" / f"book_{i:02d}.wav", 0.25 + 0.01 * i, seed=i)
    _wav(d / "clean" / "short.wav", 0.05)
    (d / "clean" / "corrupt.wav").write_bytes(b"RIFF....not really audio")
    soundfile.write(str(d / "clean" / "empty.wav"), np.zeros(0), SR)
    _wav(d / "noise" / "fan.wav", 0.5)
    _wav(d / "noise" / "sub" / "hum.wav", 0.5)
    (d / "noise" / "bad.wav").write_text("garbage")
    _wav(d / "impulse_responses" / "SLR26" / "room1" / "rir_1.wav", 0.1)
    syn = d / "test_set" / "synthetic"
    for fid in (1, 15, 158):
        _wav(syn / "no_reverb" / "clean" / f"clean_fileid_{fid}.wav", seed=fid)
        _wav(
            syn / "no_reverb" / "noisy" / f"clnsp1_train_69005_1_snr15"
            f"_tl-21_fileid_{fid}.wav",
            seed=100 + fid,
        )
    _wav(syn / "no_reverb" / "noisy" / "clnsp9_bus_1_snr0_tl-30_fileid_999.wav")
    _wav(syn / "with_reverb" / "clean" / "clean_fileid_7.wav")
    _wav(syn / "with_reverb" / "noisy" / "clnsp2_x_snr3_tl-25_fileid_7.wav")
    _wav(d / "test_set" / "real_recordings" / "audioset_realrec_car_a.wav")
    return root


def test_fileid_key_matches_dns_names():
    key = dns.fileid_key
    assert key("clnsp1_train_69005_1_snr15_tl-21_fileid_158.wav") == "158"
    assert key("clean_fileid_158.wav") == "158"
    assert key("clean_fileid_15.wav") == "15"
    assert key("audioset_realrec_car_a.wav") is None


@pytest.fixture(scope="module")
def dns_prepared(tmp_path_factory):
    """``(root, out, log)``: ``prepare_dns`` run once on :func:`_dns_layout`,
    its manifest paths and the text of its INFO+ log records."""
    root = _dns_layout(tmp_path_factory.mktemp("dns_layout") / "dns")
    save = tmp_path_factory.mktemp("dns_save")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    logger = logging.getLogger()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        out = dns.prepare_dns(
            root, save, valid_ratio=0.2, test_ratio=0.1, min_duration=0.1
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return root, out, stream.getvalue()


def test_prepare_dns_writes_every_manifest(dns_prepared):
    _, out, _ = dns_prepared
    assert set(out) == {
        "train",
        "valid",
        "test",
        "noise",
        "rir",
        "test_no_reverb",
        "test_with_reverb",
        "test_real",
    }


def _splits(out):
    return [load_manifest(out[k]) for k in ("train", "valid", "test")]


def test_prepare_dns_splits_the_clean_speech(dns_prepared):
    train, valid, test = _splits(dns_prepared[1])
    assert (len(train), len(valid), len(test)) == (7, 2, 1)
    ids = set(train) | set(valid) | set(test)
    assert ids == {f"book_{i:02d}" for i in range(10)}
    assert not (set(train) & set(valid) or set(train) & set(test))


def test_prepare_dns_entry_fields(dns_prepared):
    train, valid, test = _splits(dns_prepared[1])
    entry = {**train, **valid, **test}["book_03"]
    assert entry["wav"] == "{data_root}/datasets/clean/book_03.wav"
    assert entry["sample_rate"] == SR
    assert entry["duration"] == pytest.approx(0.28)


def test_prepare_dns_reports_and_skips_bad_files(dns_prepared):
    """Corrupt, empty and short files: reported (with the path), skipped."""
    log = dns_prepared[2]
    assert "corrupt.wav" in log and "empty.wav" in log and "bad.wav" in log
    assert "skipped 1 files shorter than 0.100 s" in log
    assert "2 unreadable" in log


def test_prepare_dns_noise_and_rir(dns_prepared):
    _, out, _ = dns_prepared
    assert sorted(load_manifest(out["noise"])) == ["fan", "sub_hum"]
    assert list(load_manifest(out["rir"])) == ["SLR26_room1_rir_1"]


def test_prepare_dns_pairs_the_test_set_by_fileid(dns_prepared):
    """The unpaired noisy file is reported."""
    root, out, log = dns_prepared
    pairs = load_manifest(out["test_no_reverb"], data_root=str(root))
    assert sorted(pairs) == ["fileid_1", "fileid_15", "fileid_158"]
    for fid in ("1", "15", "158"):
        assert pairs[f"fileid_{fid}"]["clean_wav"].endswith(
            f"clean/clean_fileid_{fid}.wav"
        )
        assert pairs[f"fileid_{fid}"]["noisy_wav"].endswith(
            f"_fileid_{fid}.wav"
        )
    assert "fileid_999.wav" in log and "no clean reference" in log


def test_prepare_dns_reverb_and_real_test_sets(dns_prepared):
    _, out, _ = dns_prepared
    assert list(load_manifest(out["test_with_reverb"])) == ["fileid_7"]
    real = load_manifest(out["test_real"])
    assert sorted(real["audioset_realrec_car_a"]) == [
        "duration",
        "noisy_wav",
        "sample_rate",
    ]


def test_prepare_dns_keeps_the_test_set_out_of_training(dns_prepared):
    _, out, _ = dns_prepared
    train, noise = load_manifest(out["train"]), load_manifest(out["noise"])
    assert all("test_set" not in e["wav"] for e in {**train, **noise}.values())


def test_dns_manifest_loads_in_speechbrain(tmp_path):
    from speechbrain.dataio.dataio import read_audio
    from speechbrain.dataio.dataset import DynamicItemDataset

    root = _dns_layout(tmp_path / "dns")
    out = dns.prepare_dns(root, tmp_path / "save", valid_ratio=0.2)
    data = DynamicItemDataset.from_json(
        out["test_no_reverb"], replacements={"data_root": str(root)}
    )
    data.add_dynamic_item(read_audio, takes="clean_wav", provides="clean")
    data.set_output_keys(["id", "clean", "noisy_wav"])
    item = data[0]
    expected, _ = soundfile.read(
        root / "datasets/test_set/synthetic/no_reverb/clean/clean_fileid_1.wav"
    )
    assert item["id"] == "fileid_1"
    np.testing.assert_allclose(item["clean"].numpy(), expected, atol=1e-6)


def test_prepare_dns_split_is_seeded_and_skips(tmp_path, caplog):
    root = _dns_layout(tmp_path / "dns")
    a = dns.prepare_dns(root, tmp_path / "a", valid_ratio=0.3, seed=1)
    b = dns.prepare_dns(root, tmp_path / "b", valid_ratio=0.3, seed=1)
    assert load_manifest(a["valid"]) == load_manifest(b["valid"])
    valid_sets = {
        tuple(
            sorted(
                load_manifest(
                    dns.prepare_dns(
                        root, tmp_path / f"s{s}", valid_ratio=0.3, seed=s
                    )["valid"]
                )
            )
        )
        for s in range(4)
    }
    assert len(valid_sets) > 1
    # same options again: skipped; changed options: redone
    stamp = Path(a["train"]).stat().st_mtime_ns
    with caplog.at_level(logging.INFO):
        again = dns.prepare_dns(root, tmp_path / "a", valid_ratio=0.3, seed=1)
    assert again == a and "up to date" in caplog.text
    assert Path(a["train"]).stat().st_mtime_ns == stamp
    redo = dns.prepare_dns(root, tmp_path / "a", valid_ratio=0.5, seed=1)
    assert len(load_manifest(redo["valid"])) == 6  # 11 clean files (short kept)
    assert dns.prepare_dns(root, tmp_path / "a", skip_prep=True) == redo
    # manifests made elsewhere (no options record): found by their names
    (tmp_path / "a" / "dns_prepare_options.json").unlink()
    assert dns.prepare_dns(root, tmp_path / "a", skip_prep=True) == redo


def test_prepare_dns_missing_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*datasets/clean"):
        dns.prepare_dns(tmp_path / "nowhere", tmp_path / "save")
    (tmp_path / "empty" / "datasets" / "noise").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="No clean-speech folder"):
        dns.prepare_dns(tmp_path / "empty", tmp_path / "save")


def test_dns_cli(tmp_path, capsys):
    root = _dns_layout(tmp_path / "dns")
    assert dns.main([str(root), str(tmp_path / "save"), "--seed", "3"]) == 0
    assert "test_no_reverb:" in capsys.readouterr().out
    assert dns.main([str(tmp_path / "missing"), str(tmp_path / "s")]) == 2
    assert "missing" in capsys.readouterr().err


def _vctk_092(root):
    wav = root / "wav48_silence_trimmed"
    for spk in ("p225", "p226", "p227", "p228", "p280", "p360", "s5"):
        for utt in ("001", "002"):
            for mic in ("mic1", "mic2"):
                _wav(wav / spk / f"{spk}_{utt}_{mic}.flac", 0.1, sr=48000)
    (wav / "log.txt").write_text("not audio, not scanned")
    _wav(wav / "p225" / "README.wav", 0.1, sr=48000)
    return root


def test_prepare_vctk_holds_out_speakers(tmp_path, caplog):
    root = _vctk_092(tmp_path / "VCTK-Corpus-0.92")
    with caplog.at_level(logging.INFO):
        out = vctk.prepare_vctk(root, tmp_path / "save", valid_speakers=1)
    train, valid, test = (
        load_manifest(out[k]) for k in ("train", "valid", "test")
    )
    spk = {
        n: {e["speaker"] for e in m.values()}
        for n, m in (("train", train), ("valid", valid), ("test", test))
    }
    assert spk["test"] == {"p360", "s5"}
    assert len(spk["valid"]) == 1
    assert spk["train"] | spk["valid"] == {"p225", "p226", "p227", "p228"}
    assert not spk["train"] & spk["valid"]
    every = {**train, **valid, **test}
    assert len(every) == 12  # 6 speakers x 2 utterances, mic1 only
    assert all(uid.endswith("_mic1") for uid in every)
    assert every["s5_001_mic1"]["wav"] == (
        "{data_root}/wav48_silence_trimmed/s5/s5_001_mic1.flac"
    )
    assert every["s5_001_mic1"]["sample_rate"] == 48000
    assert (
        "test speakers not found: p361 p362 p363 p364 p374 p376" in caplog.text
    )


def test_prepare_vctk_old_layout_and_bad_valid(tmp_path):
    root = tmp_path / "VCTK-Corpus"
    for spk in ("p225", "p226", "p361"):
        _wav(root / "wav48" / spk / f"{spk}_003.wav", 0.1, sr=48000)
    out = vctk.prepare_vctk(root, tmp_path / "save", valid_speakers=["p226"])
    assert list(load_manifest(out["test"])) == ["p361_003"]
    assert list(load_manifest(out["valid"])) == ["p226_003"]
    assert load_manifest(out["train"])["p225_003"]["speaker"] == "p225"
    with pytest.raises(ValueError, match="p361"):
        vctk.prepare_vctk(root, tmp_path / "s2", valid_speakers=["p361"])
    with pytest.raises(FileNotFoundError, match="wav48_silence_trimmed"):
        vctk.prepare_vctk(tmp_path / "none", tmp_path / "s3")


def test_prepare_voicebank_demand(tmp_path, caplog):
    root = tmp_path / "vbd"
    for spk in ("p226", "p287", "p230"):
        for seed, d in enumerate(
            ("clean_trainset_28spk_wav_16k", "noisy_trainset_28spk_wav_16k")
        ):
            _wav(root / d / f"{spk}_001.wav", 0.1, seed=seed)
    _wav(root / "noisy_trainset_28spk_wav_16k" / "p230_002.wav", 0.1)
    for d in ("clean_testset_wav_16k", "noisy_testset_wav_16k"):
        _wav(root / d / "p232_001.wav", 0.1)
    with caplog.at_level(logging.WARNING):
        out = vctk.prepare_voicebank_demand(root, tmp_path / "save")
    train = load_manifest(out["vbd_train"])
    valid = load_manifest(out["vbd_valid"])
    assert list(train) == ["p230_001"]
    assert sorted(valid) == ["p226_001", "p287_001"]
    entry = load_manifest(out["vbd_test"])["p232_001"]
    assert (
        entry["noisy_wav"] == "{data_root}/noisy_testset_wav_16k/p232_001.wav"
    )
    assert (
        entry["clean_wav"] == "{data_root}/clean_testset_wav_16k/p232_001.wav"
    )
    assert entry["speaker"] == "p232"
    assert "p230_002.wav" in caplog.text
    with pytest.raises(FileNotFoundError, match="clean_trainset_28spk_wav"):
        vctk.prepare_voicebank_demand(tmp_path, tmp_path / "s2")


def _voicefixer_layout(root):
    sr = 44100
    for n, name in ((1, "1_p360_005_mic1"), (12, "12_p361_002_mic1")):
        _wav(root / "ALL_GSR/simulated" / f"{name}.wav", 0.05, sr, seed=n)
        _wav(root / "ALL_GSR/target" / f"{n}_clean.wav", 0.05, sr, seed=50 + n)
    for utt in ("p360_001", "p362_004"):
        _wav(root / "SR/GroundTruth" / f"{utt}_mic1.wav", 0.05, sr)
        _wav(root / "DECLI/GroundTruth" / f"{utt}_mic1.wav", 0.05, sr)
        _wav(root / "DEREV/GroundTruth" / f"{utt}_mic1.wav", 0.05, sr)
        _wav(root / "DEREV/Reverb_Speech" / f"{utt}_mic1.wav", 0.05, sr)
        for cut in ("1000", "12000"):
            _wav(root / "SR/cheby1" / cut / f"{utt}_mic1.wav", 0.05, sr)
        for thr in ("0.1", "0.25"):
            _wav(root / "DECLI" / thr / f"{utt}.wav", 0.05, sr)
    _wav(root / "DECLI/0.25/p399_009.wav", 0.05, sr)  # no reference
    vd = root / "DENOISE/vd_test"
    _wav(vd / "noisy_testset_wav/p232_001.wav", 0.05, sr)
    _wav(vd / "clean_testset_wav/p232_001.wav", 0.05, sr)
    return root


def test_prepare_voicefixer_testsets(tmp_path, caplog):
    root = _voicefixer_layout(tmp_path / "TestSets")
    with caplog.at_level(logging.WARNING):
        out = vctk.prepare_voicefixer_testsets(root, tmp_path / "save")
    assert sorted(out) == [
        "test_decli_0.1",
        "test_decli_0.25",
        "test_denoise",
        "test_derev",
        "test_gsr",
        "test_sr_cheby1_1000",
        "test_sr_cheby1_12000",
    ]
    gsr = load_manifest(out["test_gsr"])
    assert gsr["1_p360_005_mic1"]["clean_wav"].endswith("target/1_clean.wav")
    assert gsr["12_p361_002_mic1"]["clean_wav"].endswith("target/12_clean.wav")
    decli = load_manifest(out["test_decli_0.25"])
    assert sorted(decli) == ["p360_001", "p362_004"]
    assert decli["p362_004"]["clean_wav"] == (
        "{data_root}/DECLI/GroundTruth/p362_004_mic1.wav"
    )
    assert "p399_009.wav" in caplog.text
    sr = load_manifest(out["test_sr_cheby1_12000"])["p360_001_mic1"]
    assert sr["noisy_wav"] == "{data_root}/SR/cheby1/12000/p360_001_mic1.wav"
    assert sr["clean_wav"] == "{data_root}/SR/GroundTruth/p360_001_mic1.wav"
    assert sr["sample_rate"] == sr["clean_sample_rate"] == 44100
    with open(tmp_path / "save" / "voicefixer_prepare_options.json") as fin:
        assert len(json.load(fin)["manifests"]) == 7
    with pytest.raises(FileNotFoundError, match="ALL_GSR"):
        vctk.prepare_voicefixer_testsets(tmp_path / "save", tmp_path / "s2")
