"""What machine a bench ran on, printed first: this workplace's 2-core machines differ between days (an AVX-512 VNNI
host runs the int8 embedder and the OCR graphs about twice as fast as an AVX2-only one), so seconds from different
days compare only beside this line; ratios (ingest against the bare embedder) carry over."""

from __future__ import annotations

import os
from pathlib import Path

SIMD = ("avx512_vnni", "avx_vnni", "avx512f", "avx2")  # the widest the int8 and float kernels use, best first


def describe() -> str:
    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown CPU":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    simd = next((name for name in SIMD if name in flags), "no AVX2")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine: {model}, {os.cpu_count()} cores, {simd}; load average {load}"
