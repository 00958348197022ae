"""Built-in audio made on first use by real Debian tools, then cached.

spoken-digits: the words zero..nine from espeak-ng, over accents x voice variants x speeds x
pitches. Whole voice variants are held out for the test split, so a probe measures
generalisation to unseen speakers. gm-instruments: every General MIDI program of the
FluidR3 sampled soundfont, rendered by fluidsynth at several pitches and velocities, labelled
by instrument family (program // 8, the 16 GM families). As in NSynth, the test split holds
out whole instruments (every fifth program, 1-2 per family), so near-identical notes of one
instrument never sit on both sides and a probe measures generalisation to new instruments.

Clips are 16 kHz mono, at most 1 s. The cache (int16 + lengths) lives in $SSLCTL_CACHE, else
$XDG_CACHE_HOME/sslctl, else ~/.cache/sslctl, and is written atomically.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from sslctl.cache import cache_dir
from sslctl.errors import UserError
from sslctl.io.atomic import save_npz
from sslctl.optional import import_optional
from sslctl.sources.builtin import SourceCheck, parse_builtin

RATE = 16000
CLIP = RATE  # 1 s
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-029"]
CLIPS_PER_WORD = 3  # per voice variant; each with its own accent, speed, pitch, loudness, onset
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
GM_PITCHES = [45, 57, 69, 81]
GM_VELOCITIES = [60, 100, 127]
GM_SLOT_MS, GM_HOLD_MS = 2000, 800


# What each set is made with: (program on PATH or file, Debian package holding it)
REQUIRES = {
    "spoken-digits": [("espeak-ng", "espeak-ng")],
    "gm-instruments": [("fluidsynth", "fluidsynth"), (str(SOUNDFONT), "fluid-soundfont-gm")],
}


def _missing(name: str) -> tuple[str, str] | None:
    """The first (tool, package) that set `name` needs and this machine lacks, if any."""
    for tool, package in REQUIRES[name]:
        present = Path(tool).is_file() if "/" in tool else shutil.which(tool) is not None
        if not present:
            return tool, package
    return None


def _need(name: str) -> None:
    missing = _missing(name)
    if missing is not None:
        tool, package = missing
        raise UserError(
            f"builtin:{name} needs {tool} (Debian package {package}); install it with: "
            f"sudo apt-get install -y {package}"
        )


def _save(path: Path, clips: list[np.ndarray], **arrays: np.ndarray) -> None:
    lengths = np.array([len(c) for c in clips], dtype=np.int64)
    x = np.zeros((len(clips), CLIP), dtype=np.int16)
    for i, c in enumerate(clips):
        x[i, : len(c)] = np.round(np.clip(c, -1, 1) * 32767).astype(np.int16)
    save_npz(path, x=x, lengths=lengths, **arrays)


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as arrays:
        data = {k: arrays[k] for k in arrays.files}
    x = data["x"].astype(np.float32) / 32767
    x[np.arange(CLIP)[None] >= data["lengths"][:, None]] = np.nan
    data["x"] = x
    return data


def _to_rate(waves: list[np.ndarray], rate: int) -> list[np.ndarray]:
    from sslctl.modalities.audio.decode import pad_stack, resample_padded

    """Resample equal-rate clips as one batch; each keeps its own length, capped at 1 s."""
    out = resample_padded(pad_stack(waves), rate, RATE)
    return [row[~np.isnan(row)][:CLIP] for row in out]


def _speak(args: tuple[str, str, int, int, int]) -> tuple[np.ndarray, int]:
    sf = import_optional("soundfile", "builtin audio sets")
    voice, word, speed, pitch, amplitude = args
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude)]
    wav = subprocess.run([*cmd, "--stdout", word], capture_output=True, check=True).stdout
    data, rate = sf.read(io.BytesIO(wav), dtype="float32")
    loud = np.flatnonzero(np.abs(data) > 1e-3 * max(np.abs(data).max(), 1e-9))
    return (data[loud[0] : loud[-1] + 1] if len(loud) else data), rate


def _variants() -> list[str]:
    """espeak-ng's voice variants (file names), each one speaker identity."""
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True)
    names = [line.split()[-1].split("/")[-1] for line in out.stdout.splitlines()[1:]]
    return sorted(set(n for n in names if n))


def _make_spoken_digits(path: Path) -> None:
    _need("spoken-digits")
    variants = _variants()
    test_variants = set(variants[::5])  # every fifth variant: unseen speakers for the test split
    rng = np.random.default_rng(0)
    jobs, labels, test = [], [], []
    for variant in variants:
        for label, word in enumerate(WORDS):
            for _ in range(CLIPS_PER_WORD):
                accent = ACCENTS[rng.integers(len(ACCENTS))]
                speed, pitch, amp = (
                    rng.integers(110, 231),
                    rng.integers(10, 91),
                    rng.integers(40, 161),
                )
                jobs.append((f"{accent}+{variant}", word, speed, pitch, amp))
                labels.append(label)
                test.append(variant in test_variants)
    print(f"generating builtin:spoken-digits ({len(jobs)} clips with espeak-ng)", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        results = list(pool.map(_speak, jobs))
    words = _to_rate([w for w, _ in results], results[0][1])
    clips = []
    for w in words:  # the word at a random onset inside a 1 s clip of silence
        clip = np.zeros(CLIP, dtype=np.float32)
        onset = rng.integers(0, CLIP - len(w) + 1)
        clip[onset : onset + len(w)] = w
        clips.append(clip)
    _save(path, clips, y=np.array(labels, dtype=np.int64), test=np.array(test))


def _midi(notes: list[tuple[int, int, int]]) -> bytes:
    """A one-track MIDI file (1 tick = 1 ms): per slot a program change, note on, note off."""

    def vlq(n: int) -> bytes:
        out = [n & 0x7F]
        n >>= 7
        while n:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        return bytes(reversed(out))

    events, last = bytearray(), 0
    for i, (program, pitch, velocity) in enumerate(notes):
        start = i * GM_SLOT_MS
        events += vlq(start - last) + bytes([0xC0, program])
        events += vlq(0) + bytes([0x90, pitch, velocity])
        events += vlq(GM_HOLD_MS) + bytes([0x80, pitch, 0])
        last = start + GM_HOLD_MS
    events += vlq(GM_SLOT_MS - GM_HOLD_MS) + bytes([0xFF, 0x2F, 0])
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 500)  # 500 ticks per 0.5 s quarter
    return header + b"MTrk" + struct.pack(">I", len(events)) + bytes(events)


def _make_gm_instruments(path: Path) -> None:
    sf = import_optional("soundfile", "builtin audio sets")
    _need("gm-instruments")
    notes = [(p, n, v) for p in range(128) for n in GM_PITCHES for v in GM_VELOCITIES]
    print(
        f"generating builtin:gm-instruments ({len(notes)} notes with fluidsynth)", file=sys.stderr
    )
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "notes.mid", Path(tmp) / "notes.wav"
        mid.write_bytes(_midi(notes))
        cmd = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-r", str(RATE), "-F", str(wav)]
        subprocess.run([*cmd, str(SOUNDFONT), str(mid)], capture_output=True, check=True)
        audio, _ = sf.read(str(wav), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    slot = GM_SLOT_MS * RATE // 1000
    clips, labels, programs = [], [], []
    for i, (program, _, _) in enumerate(notes):
        clip = mono[i * slot : i * slot + CLIP]
        if len(clip) == CLIP and np.sqrt(np.mean(clip**2)) > 1e-4:  # some effects stay silent
            clips.append(clip)
            labels.append(program // 8)
            programs.append(program)
    y = np.array(labels, dtype=np.int64)
    test = np.array(programs) % 5 == 4  # every fifth program (1-2 per family) is unseen
    _save(path, clips, y=y, test=test)


CACHE_VERSION = {"spoken-digits": "v1", "gm-instruments": "v2"}  # bump when a maker changes
MAKERS = {"spoken-digits": _make_spoken_digits, "gm-instruments": _make_gm_instruments}
NAMES = list(MAKERS)


def _cache_path(name: str) -> Path:
    return cache_dir() / f"{name}-{CACHE_VERSION[name]}.npz"


def source_checks() -> list[SourceCheck]:
    """Whether each set is cached here, or can be made by the Debian tools it needs."""
    checks = []
    for name in MAKERS:
        missing = _missing(name)
        if _cache_path(name).is_file():
            checks.append(SourceCheck(name, True, f"cached in {_cache_path(name)}"))
        elif missing is None:
            tools = " + ".join(Path(tool).name for tool, _ in REQUIRES[name])
            checks.append(SourceCheck(name, True, f"{tools} found; made on first use"))
        else:
            tool, package = missing
            checks.append(
                SourceCheck(name, False, f"{tool} missing", f"sudo apt-get install -y {package}")
            )
    return checks


def load_builtin_audio(source: str) -> tuple[np.ndarray, np.ndarray]:
    """`builtin:NAME[:split]` -> (x float32 (N, 16000) NaN-padded at 16 kHz, y int64)."""
    name, split = parse_builtin(source, list(MAKERS), "audio")
    path = _cache_path(name)
    if not path.is_file():
        try:
            MAKERS[name](path)
        except subprocess.CalledProcessError as exc:
            err = exc.stderr.decode(errors="replace").strip().splitlines()
            raise UserError(
                f"builtin:{name}: {exc.cmd[0]} failed: {err[-1] if err else exc}"
            ) from None
    data = _load(path)
    pick = data["test"] if split == "test" else ~data["test"]
    return data["x"][pick], data["y"][pick]
