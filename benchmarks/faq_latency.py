"""FAQ answer time in a warm process: median and p99 over the evaluation questions.

python -m benchmarks.faq_latency [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from knowledge.faq import faq_index

EVAL = Path(__file__).resolve().parents[1] / "tests" / "faq_eval.yaml"


def questions() -> list[str]:
    data = yaml.safe_load(EVAL.read_text("utf-8"))
    return [q for q, _ in data["en"]] + [q for q, _ in data["zh"]] + list(data["off_topic"])


def measure(rounds: int = 20) -> dict[str, float]:
    started = time.perf_counter()
    index = faq_index()
    build_ms = (time.perf_counter() - started) * 1000
    qs = questions()
    for q in qs:  # warm up: caches, jieba's lazy structures
        index.ask(q)
    times = []
    for _ in range(rounds):
        for q in qs:
            t0 = time.perf_counter()
            index.ask(q)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "questions": len(times),
        "build_ms": build_ms,
        "median_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "max_ms": times[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    result = measure(parser.parse_args().rounds)
    print(
        f"FAQ answer time over {result['questions']} questions (warm): median {result['median_ms']:.3f} ms, "
        f"p99 {result['p99_ms']:.3f} ms, max {result['max_ms']:.3f} ms; index build {result['build_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
