"""The mel codec recipe end to end (recipes/MelCodec/train.py).

Generated speech-like files stand in for the clean-speech folders; a tiny
grid (3 x 32 codes, 3 k-means iterations) keeps it fast. The recipe must
write a codec file that loads strictly, a copy-synthesis table whose error
falls with each codebook, and reuse (never replace) the file on a rerun.

Authors
 * speechbrain-masksr contributors 2026
"""

from helpers import ROOT, run_recipe_script, speech_like

from speechbrain_masksr.codecs.mel import load_mel_codec
from speechbrain_masksr.dataio import save_audio


def test_codec_recipe_trains_scores_and_reuses(tmp_path):
    for split, count, seed in (("train", 6, 0), ("valid", 2, 100)):
        for i in range(count):
            wav = speech_like(1.5, 16000, seed=seed + i, formants=[(700, 130)])
            save_audio(tmp_path / split / f"u{i}.wav", wav, 16000)
    out = tmp_path / "run"
    args = [
        f"--train_folder={tmp_path / 'train'}",
        f"--valid_folder={tmp_path / 'valid'}",
        "--n_codebooks=3",
        "--codebook_size=32",
        "--kmeans_iterations=3",
        "--table_levels=[0, 1, 3]",
        "--table_metrics=[]",
    ]
    script = ROOT / "recipes/MelCodec/train.py"
    run_recipe_script(script, ROOT / "hparams/mel_codec.yaml", out, args)
    codec_file = out / "codec.ckpt"
    codec = load_mel_codec(codec_file)
    assert (codec.n_codebooks, codec.codebook_size) == (3, 32)
    table = (out / "metrics.md").read_text()
    lines = [ln for ln in table.splitlines() if ln.startswith("| ")]
    header = [c.strip().split(" ")[0] for c in lines[0].split("|")[1:-1]]
    err = {}
    for line in lines:
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if "codebook" in cells[0] or "unquantized" in cells[0]:
            err[cells[0]] = float(cells[header.index("mel_l1")])
    assert (
        err["1 codebook"]
        > err["3 codebooks"]
        > err["decoder on the unquantized mel"]
    ), table
    stamp = codec_file.stat().st_mtime_ns
    proc = run_recipe_script(script, ROOT / "hparams/mel_codec.yaml", out, args)
    assert codec_file.stat().st_mtime_ns == stamp
    assert "exists: reused" in proc.stdout + proc.stderr
