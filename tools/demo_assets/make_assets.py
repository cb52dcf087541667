"""Build the small, redistributable set of real audio used by the demo.

Reads the developers' ``dev-data`` folder (see its ``MANIFEST.md``) and
writes, next to this script (or to ``--out``):

* ``speech/``  clean LibriSpeech ``train-clean-100`` utterances (CC BY 4.0),
  one per speaker, from ``librispeech/train/`` only, skipping files with
  ``qc_flags``; each cut to at most 12 s at a quiet frame, 16 kHz mono
  16-bit FLAC; speakers are added in id order until the byte budget is met.
* ``noise/``   real ambient noise whose per-file licence is CC0, Public
  Domain or CC BY (``noise_ambient/blanket``, ``suggested_split == "train"``)
  plus the Speech Commands background recordings (CC BY 4.0) and one
  Freesound CC0 clip.  Moodist files ("Pixabay Content License or CC0"),
  ESC-50 and ``_NC`` files are never used.  Downmixed to mono, resampled to
  16 kHz (polyphase), one centred excerpt per file; all excerpts share one
  length cap (at most 45 s) chosen so that the FLACs fit the byte budget.
* ``test/``    the VoiceBank-DEMAND p287 ``noisy/`` and ``clean/`` 16 kHz wav
  pairs, copied byte for byte.
* ``ATTRIBUTION.md`` and ``manifest.csv``.

Inputs are checked against the dev-data manifests (git blob sha1 or
sha256).  Existing outputs are never replaced unless ``--overwrite`` is
given, so a rerun is a no-op.  Usage::

    python tools/demo_assets/make_assets.py /work/shared/dev-data
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import shutil
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SR = 16000
MAX_SPEECH_S = 12.0
MAX_NOISE_S = 45.0
SPEECH_BUDGET = 7_900_000  # bytes
NOISE_BUDGET = 3_900_000  # bytes
FADE_S = 0.02

# Per-file licences accepted for noise_ambient/ (exact manifest values).
OK_AMBIENT_LICENCES = {"CC0", "Public Domain", "CC BY", "CC BY 3.0"}

# noise/ files of the top-level manifest, which has no licence field.
EXTRA_NOISE = {
    "noise/speechcommands_doing_the_dishes_16k.flac": (
        "doing_the_dishes",
        "CC BY 4.0",
        "Speech Commands _background_noise_ (Warden 2018), "
        "via LCAV/pyroomacoustics",
    ),
    "noise/speechcommands_exercise_bike_16k.flac": (
        "exercise_bike",
        "CC BY 4.0",
        "Speech Commands _background_noise_ (Warden 2018), "
        "via LCAV/pyroomacoustics",
    ),
    "noise/speechcommands_running_tap_16k.flac": (
        "running_tap",
        "CC BY 4.0",
        "Speech Commands _background_noise_ (Warden 2018), "
        "via LCAV/pyroomacoustics",
    ),
    "noise/freesound_573577_48k.wav": (
        "unlabelled (DeepFilterNet example noise)",
        "CC0 1.0",
        "freesound.org sound 573577 (licence per Rikorose/DeepFilterNet "
        "assets/README.md)",
    ),
}

LIBRI_LICENCE = "CC BY 4.0"
VBD_LICENCE = "CC BY 4.0"


def git_blob_sha1(data: bytes) -> str:
    """Return the git blob id of ``data``."""
    head = f"blob {len(data)}\0".encode()
    return hashlib.sha1(head + data).hexdigest()


def check_input(path: Path, *, blob: str = "", sha256: str = "") -> None:
    """Fail if ``path`` does not match the hash recorded in a manifest."""
    data = path.read_bytes()
    if blob and git_blob_sha1(data) != blob:
        sys.exit(f"hash mismatch (git blob) for {path}")
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        sys.exit(f"hash mismatch (sha256) for {path}")


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float in [-1, 1] to int16, scaling down (never clipping) overshoot."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 0.999:
        x = x * (0.999 / peak)
    return np.round(x * 32767.0).astype(np.int16)


def fade(x: np.ndarray, n: int, start: bool, end: bool) -> np.ndarray:
    """Apply raised-cosine fades of ``n`` samples to a float signal."""
    x = x.copy()
    n = min(n, len(x) // 2)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, n))
    if start:
        x[:n] *= ramp
    if end:
        x[len(x) - n :] *= ramp[::-1]
    return x


def flac_bytes(x: np.ndarray) -> bytes:
    """Encode int16 mono samples at 16 kHz as FLAC."""
    buf = io.BytesIO()
    sf.write(buf, x, SR, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def quiet_cut(x: np.ndarray, max_len: int) -> int:
    """Cut point <= ``max_len`` at the quietest 20 ms frame of the last 1.5 s."""
    if len(x) <= max_len:
        return len(x)
    win = int(0.02 * SR)
    lo = max_len - int(1.5 * SR)
    seg = x[lo:max_len].astype(np.float64)
    nfr = len(seg) // win
    energy = (seg[: nfr * win].reshape(nfr, win) ** 2).mean(axis=1)
    best = int(np.argmin(energy))
    return lo + best * win + win // 2


def load_mono_16k(path: Path) -> np.ndarray:
    """Decode any soundfile-readable file to float64 mono at 16 kHz."""
    x, sr = sf.read(path, dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        r = Fraction(SR, sr)
        x = resample_poly(x, r.numerator, r.denominator)
    return x


def write_once(path: Path, data: bytes, overwrite: bool) -> bool:
    """Write ``data`` unless ``path`` exists and ``overwrite`` is false."""
    if path.exists() and not overwrite:
        print(f"exists, kept: {path} (use --overwrite to replace)")
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def build_speech(root: Path, out: Path, overwrite: bool) -> list[dict]:
    """Select and write LibriSpeech train utterances within the budget."""
    entries = json.loads((root / "librispeech/manifest.json").read_text())
    cands = [
        e
        for e in entries
        if e["file"].startswith("librispeech/train/")
        and e.get("suggested_split") == "train"
        and not e.get("qc_flags")
        and e.get("licence", "").startswith(LIBRI_LICENCE)
    ]
    cands.sort(key=lambda e: (int(e["speaker"]), e["file"]))
    rows, used, speakers = [], 0, set()
    for e in cands:
        if e["speaker"] in speakers:
            continue
        src = root / e["file"]
        check_input(src, blob=e["blob_sha"])
        x, sr = sf.read(src, dtype="int16")
        assert sr == SR and x.ndim == 1, src
        n = quiet_cut(x, int(MAX_SPEECH_S * SR))
        y = x[:n]
        if n < len(x):
            yf = fade(
                y.astype(np.float64) / 32768.0, int(0.01 * SR), False, True
            )
            y = np.round(yf * 32768.0).clip(-32768, 32767).astype(np.int16)
        data = flac_bytes(y)
        if used + len(data) > SPEECH_BUDGET:
            break
        used += len(data)
        speakers.add(e["speaker"])
        name = f"speech/{Path(e['file']).name}"
        write_once(out / name, data, overwrite)
        rows.append(
            {
                "file": name,
                "kind": "speech",
                "seconds": round(len(y) / SR, 3),
                "sample_rate": SR,
                "licence": LIBRI_LICENCE,
                "source": (
                    f"LibriSpeech train-clean-100 speaker {e['speaker']} "
                    f"(LibriVox reader), {e['source_repo']}"
                    f"@{e['snapshot_head'][:12]}:{e['path']}"
                ),
                "trimmed": n < len(x),
                "orig_seconds": round(len(x) / SR, 3),
            }
        )
    return rows


def noise_candidates(root: Path) -> list[dict]:
    """Noise files with a clear, redistributable licence (train split)."""
    out = []
    amb = json.loads((root / "noise_ambient/manifest.json").read_text())
    for e in sorted(amb, key=lambda e: e["file"]):
        lic = e.get("licence", "")
        if lic not in OK_AMBIENT_LICENCES:
            continue
        if e.get("suggested_split") != "train":
            continue
        check_input(root / e["file"], blob=e["blob_sha"])
        stem = "blanket_" + Path(e["file"]).stem.replace("-", "_")
        out.append(
            {
                "src": e["file"],
                "name": f"noise/{stem}.flac",
                "licence": lic,
                "category": e["category"],
                "source": (
                    f"{e['source_repo']}@{e['snapshot_head'][:12]}:{e['path']}; "
                    f"original {e['origin_url']} by {e['author']}"
                ),
            }
        )
    top = {
        e["file"]: e for e in json.loads((root / "manifest.json").read_text())
    }
    for rel, (cat, lic, origin) in EXTRA_NOISE.items():
        e = top[rel]
        check_input(root / rel, sha256=e["out_sha256"])
        stem = Path(rel).stem.rsplit("_", 1)[0]
        out.append(
            {
                "src": rel,
                "name": f"noise/{stem}.flac",
                "licence": lic,
                "category": cat,
                "source": (
                    f"{origin}; {e['repo']}@{e['commit'][:12]}:{e['path']}"
                ),
            }
        )
    return out


def build_noise(root: Path, out: Path, overwrite: bool) -> list[dict]:
    """Write centred noise excerpts sharing one length cap within budget."""
    cands = noise_candidates(root)
    sigs = [load_mono_16k(root / c["src"]) for c in cands]
    full = [flac_bytes(to_int16(s)) for s in sigs]
    rate = [len(b) / (len(s) / SR) for b, s in zip(full, sigs)]
    durs = [len(s) / SR for s in sigs]

    def total(cap: float) -> float:
        return sum(min(d, cap) * r for d, r in zip(durs, rate))

    lo, hi = 1.0, MAX_NOISE_S
    if total(hi) > NOISE_BUDGET * 0.98:
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            lo, hi = (
                (mid, hi) if total(mid) <= NOISE_BUDGET * 0.98 else (lo, mid)
            )
        cap = lo
    else:
        cap = hi
    cap = math.floor(cap * 10) / 10
    rows = []
    for c, s, d in zip(cands, sigs, durs):
        n = min(len(s), int(round(cap * SR)))
        start = (len(s) - n) // 2
        seg = fade(s[start : start + n], int(FADE_S * SR), True, True)
        data = flac_bytes(to_int16(seg))
        write_once(out / c["name"], data, overwrite)
        rows.append(
            {
                "file": c["name"],
                "kind": "noise",
                "seconds": round(n / SR, 3),
                "sample_rate": SR,
                "licence": c["licence"],
                "source": c["source"],
                "category": c["category"],
                "excerpt": f"{start / SR:.2f}-{(start + n) / SR:.2f} s of {d:.2f} s",
                "src": c["src"],
            }
        )
    return rows


def build_test(root: Path, out: Path, overwrite: bool) -> list[dict]:
    """Copy the VoiceBank-DEMAND p287 pairs unchanged."""
    top = {
        e["file"]: e for e in json.loads((root / "manifest.json").read_text())
    }
    rows = []
    for sub in ("noisy", "clean"):
        for src in sorted((root / "vbdemand_16k_p287" / sub).glob("*.wav")):
            rel = f"vbdemand_16k_p287/{sub}/{src.name}"
            e = top[rel]
            check_input(src, sha256=e["out_sha256"])
            dst = out / "test" / sub / src.name
            if dst.exists() and not overwrite:
                print(f"exists, kept: {dst} (use --overwrite to replace)")
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
            info = sf.info(src)
            rows.append(
                {
                    "file": f"test/{sub}/{src.name}",
                    "kind": f"test_{sub}",
                    "seconds": round(info.frames / info.samplerate, 3),
                    "sample_rate": info.samplerate,
                    "licence": VBD_LICENCE,
                    "source": (
                        f"VoiceBank-DEMAND 16 kHz ({sub}_trainset, speaker "
                        f"p287), {e['repo']}@{e['commit'][:12]}:{e['path']}"
                    ),
                }
            )
    return rows


def manifest_csv(rows: list[dict]) -> bytes:
    """Render ``manifest.csv``."""
    buf = io.StringIO()
    cols = ["file", "kind", "seconds", "sample_rate", "licence", "source"]
    w = csv.DictWriter(buf, cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def attribution_md(speech, noise, test) -> bytes:
    """Render ``ATTRIBUTION.md``."""
    cap = max(r["seconds"] for r in noise)
    n_trim = sum(r["trimmed"] for r in speech)
    lines = [
        "# Demo audio: sources, licences and credits",
        "",
        "Real recordings for the demo (train a small enhancer on speech + "
        "noise mixed on the fly, then restore a real noisy recording it "
        "never saw).  Made by `make_assets.py` in this folder from the "
        "project's `dev-data` collection; `manifest.csv` lists every file "
        "with its duration, licence and source.",
        "",
        "## How the set was made",
        "",
        f"- `speech/` ({len(speech)} files, one per speaker): LibriSpeech "
        "train-clean-100 utterances taken from dev-data `librispeech/train/` "
        "only (speaker-disjoint from its `val/`); files flagged with "
        "background sound (`qc_flags`) were skipped. Already 16 kHz 16-bit; "
        f"{n_trim} utterances longer than {MAX_SPEECH_S:g} s were cut at the "
        "quietest 20 ms frame of their last 1.5 s before the limit with a "
        "10 ms fade-out; samples are otherwise unchanged. Speakers were "
        "added in id order until about 8 MB. Stored as FLAC (lossless).",
        "- `noise/`: decoded (Blanket files are Ogg Vorbis, i.e. lossy at "
        "source), averaged to mono, resampled to 16 kHz with a polyphase "
        f"filter (scipy `resample_poly`), one centred excerpt of at most "
        f"{cap:g} s per file with 20 ms raised-cosine fades, scaled down "
        "only where resampling overshot full scale, stored as 16-bit FLAC.",
        "- `test/`: the VoiceBank-DEMAND p287 `noisy/` and `clean/` 16 kHz "
        "wav pairs copied byte for byte. The demo does not train on them.",
        "- Noise excluded: every file of dev-data `noise_ambient/moodist/` "
        '(licence "Pixabay Content License or CC0" with no per-file '
        "mapping: ambiguous, and Pixabay content may not be redistributed "
        "as such), ESC-50 clips and `_NC` files (non-commercial), and all "
        "held-out/test noise (the dev-data held-out ambient files are not "
        'shipped; only `suggested_split == "train"` files were used).',
        "",
        "## Licences",
        "",
        "- LibriSpeech: CC BY 4.0 (https://www.openslr.org/12). Audio from "
        "LibriVox public-domain audiobook recordings.",
        "- VoiceBank-DEMAND: CC BY 4.0 (https://doi.org/10.7488/ds/2117).",
        "- Speech Commands background noise: CC BY 4.0.",
        "- Blanket sounds (https://github.com/rafaelmardojai/blanket, "
        "`SOUNDS_LICENSING.md`): per file CC0, Public Domain, CC BY or "
        'CC BY 3.0 (Blanket gives no version for "CC BY"); several were '
        "edited by Porrumentzio for Blanket.",
        "- Freesound 573577: CC0 1.0.",
        "",
        "CC BY requires crediting the authors below and indicating changes "
        "(here: excerpting, downmixing, resampling, FLAC encoding).",
        "",
        "## Citations",
        "",
        '- V. Panayotov, G. Chen, D. Povey, S. Khudanpur, "LibriSpeech: an '
        'ASR corpus based on public domain audio books", ICASSP 2015.',
        "- C. Valentini-Botinhao, X. Wang, S. Takaki, J. Yamagishi, "
        '"Investigating RNN-based speech enhancement methods for '
        'noise-robust Text-to-Speech", SSW 9, 2016; "Noisy speech database '
        'for training speech enhancement algorithms and TTS models", '
        "University of Edinburgh DataShare, 2017, "
        "https://doi.org/10.7488/ds/2117.",
        '- J. Thiemann, N. Ito, E. Vincent, "The Diverse Environments '
        'Multi-channel Acoustic Noise Database (DEMAND)", ICA 2013 (noise '
        "in the VoiceBank-DEMAND noisy files).",
        '- P. Warden, "Speech Commands: A Dataset for Limited-Vocabulary '
        'Speech Recognition", arXiv:1804.03209, 2018.',
        "",
        "## Files",
        "",
        "### speech/ (LibriSpeech, CC BY 4.0)",
        "",
        "| file | seconds | source |",
        "|---|---|---|",
    ]
    for r in speech:
        cut = f" (cut from {r['orig_seconds']:g} s)" if r["trimmed"] else ""
        lines.append(
            f"| `{r['file']}` | {r['seconds']:g}{cut} | {r['source']} |"
        )
    lines += [
        "",
        "### noise/",
        "",
        "| file | category | seconds (excerpt) | licence | source / credit |",
        "|---|---|---|---|---|",
    ]
    for r in noise:
        lines.append(
            f"| `{r['file']}` | {r['category']} | {r['seconds']:g} "
            f"({r['excerpt']}) | {r['licence']} | {r['source']} |"
        )
    lines += [
        "",
        "### test/ (VoiceBank-DEMAND, CC BY 4.0)",
        "",
        "| file | seconds | source |",
        "|---|---|---|",
    ]
    for r in test:
        lines.append(f"| `{r['file']}` | {r['seconds']:g} | {r['source']} |")
    return ("\n".join(lines) + "\n").encode()


def verify(out: Path, rows: list[dict]) -> None:
    """Every listed file reads, is mono 16 kHz and not silent."""
    for r in rows:
        x, sr = sf.read(out / r["file"], dtype="float64", always_2d=True)
        rms_db = 10 * np.log10(np.mean(x**2) + 1e-20)
        ok = sr == SR and x.shape[1] == 1 and rms_db > -60.0
        ok = ok and abs(x.shape[0] / sr - r["seconds"]) < 1e-3
        if not ok:
            sys.exit(
                f"verification failed: {r['file']} sr={sr} {rms_db:.1f} dB"
            )
    print(f"verified {len(rows)} files: mono, {SR} Hz, non-silent")


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dev_data", type=Path, help="dev-data root folder")
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output folder (default: this script's folder)",
    )
    ap.add_argument("--overwrite", action="store_true", help="replace outputs")
    args = ap.parse_args()
    root, out = args.dev_data.resolve(), args.out.resolve()
    speech = build_speech(root, out, args.overwrite)
    noise = build_noise(root, out, args.overwrite)
    test = build_test(root, out, args.overwrite)
    rows = speech + noise + test
    write_once(out / "manifest.csv", manifest_csv(rows), args.overwrite)
    attr = attribution_md(speech, noise, test)
    write_once(out / "ATTRIBUTION.md", attr, args.overwrite)
    verify(out, rows)
    for kind in ("speech", "noise", "test_noisy", "test_clean"):
        sel = [r for r in rows if r["kind"] == kind]
        secs = sum(r["seconds"] for r in sel)
        print(f"{kind}: {len(sel)} files, {secs:.1f} s")


if __name__ == "__main__":
    main()
