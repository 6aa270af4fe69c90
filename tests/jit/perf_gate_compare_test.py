#!/usr/bin/env python3
"""Tests of scripts/perf_gate_compare.py, the verdict of the performance gate,
on fixed Google Benchmark JSON (no timing is measured here)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

COMPARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "perf_gate_compare.py")


def bench(name, cpu_ns, code=None, unit="ns"):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6}[unit]
    b = {"name": name, "run_type": "iteration", "cpu_time": cpu_ns / scale, "real_time": cpu_ns / scale,
         "time_unit": unit}
    if code is not None:
        b["code_bytes"] = code
    return b


def write_rounds(directory, rounds):
    os.makedirs(directory, exist_ok=True)
    for i, benchmarks in enumerate(rounds, 1):
        with open(os.path.join(directory, f"round-{i}.json"), "w") as f:
            json.dump({"context": {}, "benchmarks": benchmarks}, f)


def gate(base_rounds, head_rounds, time_threshold="0.05", size_threshold="0.01"):
    with tempfile.TemporaryDirectory() as tmp:
        write_rounds(os.path.join(tmp, "base"), base_rounds)
        write_rounds(os.path.join(tmp, "head"), head_rounds)
        p = subprocess.run([sys.executable, COMPARE, time_threshold, size_threshold, os.path.join(tmp, "base"),
                            os.path.join(tmp, "head")], capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr


class PerfGateCompare(unittest.TestCase):
    def test_equal_builds_pass(self):
        rounds = [[bench("Throughput/alu/jit", 1000, 500)]] * 3
        code, out = gate(rounds, rounds)
        self.assertEqual(code, 0, out)
        self.assertIn("perf gate: pass", out)

    def test_slower_head_beyond_threshold_fails(self):
        base = [[bench("Throughput/alu/jit", 1000, 500)]] * 3
        head = [[bench("Throughput/alu/jit", 1100, 500)]] * 3
        code, out = gate(base, head)
        self.assertEqual(code, 1, out)
        self.assertIn("REGRESSION: time +10.0%", out)

    def test_slower_head_within_threshold_passes(self):
        base = [[bench("Throughput/alu/jit", 1000, 500)]] * 3
        head = [[bench("Throughput/alu/jit", 1040, 500)]] * 3
        self.assertEqual(gate(base, head)[0], 0)

    def test_the_median_round_decides_so_one_noisy_round_does_not(self):
        base = [[bench("Throughput/alu/jit", 1000, 500)]] * 3
        head = [[bench("Throughput/alu/jit", 1000, 500)], [bench("Throughput/alu/jit", 5000, 500)],
                [bench("Throughput/alu/jit", 1010, 500)]]
        self.assertEqual(gate(base, head)[0], 0)

    def test_larger_code_fails_even_when_as_fast(self):
        base = [[bench("Throughput/alu/jit", 1000, 500)]]
        head = [[bench("Throughput/alu/jit", 1000, 520)]]
        code, out = gate(base, head)
        self.assertEqual(code, 1, out)
        self.assertIn("size +4.0%", out)

    def test_time_units_are_normalised(self):
        base = [[bench("Throughput/alu/jit", 2_000_000, 500, unit="ms")]]
        head = [[bench("Throughput/alu/jit", 2_000_000, 500, unit="us")]]
        self.assertEqual(gate(base, head)[0], 0)

    def test_a_base_without_code_size_compares_time_only(self):
        base = [[bench("Throughput/alu/jit", 1000)]]
        head = [[bench("Throughput/alu/jit", 1000, 800)]]
        code, out = gate(base, head)
        self.assertEqual(code, 0, out)
        self.assertIn("n/a", out)

    def test_no_common_benchmark_is_bad_input(self):
        code, out = gate([[bench("Throughput/alu/jit", 1)]], [[bench("Throughput/memory/jit", 1)]])
        self.assertEqual(code, 2, out)


if __name__ == "__main__":
    unittest.main()
