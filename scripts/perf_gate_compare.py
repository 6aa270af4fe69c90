#!/usr/bin/env python3
"""Compares Google Benchmark JSON files of two builds of jit_bench for the
performance gate (scripts/perf-gate.sh): per benchmark, the median CPU time
per iteration over the rounds and the JIT's code size (counter code_bytes).

usage: perf_gate_compare.py TIME_THRESHOLD SIZE_THRESHOLD BASE_DIR HEAD_DIR
  each directory holds round-N.json files of one build; a threshold is a
  fraction (0.05 = fail when head is more than 5% slower / larger).
Prints one Markdown row per benchmark; exit status 1 when any benchmark
regressed beyond a threshold, 2 on bad input.
"""
import glob
import json
import os
import statistics
import sys


def load(directory):
    """{benchmark name: {"cpu": [per-round ns], "code": bytes or None}}"""
    out = {}
    files = sorted(glob.glob(os.path.join(directory, "round-*.json")))
    if not files:
        raise ValueError(f"no round-*.json in {directory}")
    for path in files:
        with open(path) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
            entry = out.setdefault(b["name"], {"cpu": [], "code": None})
            entry["cpu"].append(float(b["cpu_time"]) * scale)
            if "code_bytes" in b:
                entry["code"] = float(b["code_bytes"])
    return out


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        time_limit, size_limit = float(argv[1]), float(argv[2])
        base, head = load(argv[3]), load(argv[4])
    except (ValueError, OSError, KeyError) as e:
        print(f"perf gate: {e}", file=sys.stderr)
        return 2
    failed = []
    print("| benchmark | base ns | head ns | time head/base | base bytes | head bytes | size head/base | verdict |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name in sorted(set(base) & set(head)):
        b, h = base[name], head[name]
        bt, ht = statistics.median(b["cpu"]), statistics.median(h["cpu"])
        t_ratio = ht / bt if bt > 0 else float("inf")
        reasons = []
        if t_ratio > 1.0 + time_limit:
            reasons.append(f"time +{(t_ratio - 1) * 100:.1f}%")
        size_cells = ["n/a", "n/a", "n/a"]
        if b["code"] is not None and h["code"] is not None:
            s_ratio = h["code"] / b["code"] if b["code"] > 0 else float("inf")
            size_cells = [f"{b['code']:.0f}", f"{h['code']:.0f}", f"{s_ratio:.3f}"]
            if s_ratio > 1.0 + size_limit:
                reasons.append(f"size +{(s_ratio - 1) * 100:.1f}%")
        verdict = "REGRESSION: " + ", ".join(reasons) if reasons else "ok"
        if reasons:
            failed.append(name)
        print(f"| {name} | {bt:.0f} | {ht:.0f} | {t_ratio:.3f} | {size_cells[0]} | {size_cells[1]} | "
              f"{size_cells[2]} | {verdict} |")
    only = sorted(set(base) ^ set(head))
    if only:
        print(f"not compared (in one build only): {', '.join(only)}", file=sys.stderr)
    if not set(base) & set(head):
        print("perf gate: no benchmark in common", file=sys.stderr)
        return 2
    rounds = min(len(v["cpu"]) for v in list(base.values()) + list(head.values()))
    print(f"\nthresholds: time +{time_limit * 100:.1f}%, code size +{size_limit * 100:.1f}%; "
          f"median CPU time of {rounds} interleaved rounds")
    if failed:
        print(f"perf gate: FAIL ({len(failed)} regressed: {', '.join(failed)})")
        return 1
    print("perf gate: pass")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
