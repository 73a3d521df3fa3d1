"""A self-checking Python program: interpreter state (dicts, lists, sets, strings, bytes,
floats, a live iterator) grown deterministically each tick. On the verify trigger it rebuilds
the expected state for the current tick from scratch and compares.

Same protocol as the C programs (see selfcheck.h): "ready pid=N", "tick N" about every
100 ms, then "PASS" or "FAIL: what" once the --verify-file exists.

usage: stateful.py --verify-file PATH [--self-test-corrupt state|iterator]
"""
import argparse
import itertools
import os
import sys
import time


def new_state():
    return {"squares": [], "buckets": {}, "seen": set(), "text": "", "blob": b"", "mean": 0.0}


def step(state, n):
    state["squares"].append(n * n % 1009)
    bucket = "b%d" % (n % 7)
    state["buckets"][bucket] = state["buckets"].get(bucket, 0) + n
    state["seen"].add(n * 31 % 211)
    state["text"] = (state["text"] + chr(ord("a") + n % 26))[-300:]
    state["blob"] = (state["blob"] + n.to_bytes(4, "little"))[-1024:]
    state["mean"] += (n - state["mean"]) / n


def first_difference(actual, expected):
    for key in expected:
        if actual.get(key) != expected[key]:
            return key
    return None


def say(line):
    print(line, flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--verify-file", required=True)
    parser.add_argument("--self-test-corrupt", choices=["state", "iterator"])
    args = parser.parse_args()

    state = new_state()
    ticks = itertools.count(1)  # a live iterator: its position must survive too
    say("ready pid=%d" % os.getpid())
    while True:
        n = next(ticks)
        step(state, n)
        say("tick %d" % n)
        if os.path.exists(args.verify_file):
            break
        time.sleep(0.1)

    if args.self_test_corrupt == "state":
        state["squares"][len(state["squares"]) // 2] += 1
    elif args.self_test_corrupt == "iterator":
        next(ticks)

    expected = new_state()
    for i in range(1, n + 1):
        step(expected, i)
    failures = []
    key = first_difference(state, expected)
    if key is not None:
        failures.append("state: %r differs at tick %d" % (key, n))
    if next(ticks) != n + 1:
        failures.append("iterator: the tick iterator is not at %d" % (n + 1))
    for failure in failures:
        say("FAIL: " + failure)
    if not failures:
        say("PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
