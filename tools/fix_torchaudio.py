"""Make torchaudio importable on a CPU-only torch.

The torchaudio 2.11 wheel on PyPI is a CUDA build whose C++ extension links
libtorch_cuda. On a CPU-only torch ``import torchaudio`` then fails. Everything
this project uses from torchaudio is pure Python, so on such machines (and only
there) the extension libraries are removed and torchaudio falls back to Python.
GPU installs are left untouched.
"""

import importlib.util
import pathlib
import subprocess
import sys


def torchaudio_imports():
    """Return True when ``import torchaudio`` works in a fresh interpreter."""
    cmd = [sys.executable, "-c", "import torchaudio"]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def main():
    """Remove the CUDA-linked extension only when it breaks the import."""
    if torchaudio_imports():
        print("torchaudio imports fine; nothing to do")
        return
    import torch

    if torch.version.cuda is not None:
        sys.exit("torchaudio fails to import on a CUDA torch; reinstall it")
    spec = importlib.util.find_spec("torchaudio")
    lib = pathlib.Path(spec.origin).parent / "lib"
    for so in lib.glob("*.so"):
        so.unlink()
        print("removed", so)
    if not torchaudio_imports():
        sys.exit("torchaudio still fails to import")


if __name__ == "__main__":
    main()
