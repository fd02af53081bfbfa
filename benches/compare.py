#!/usr/bin/env python3
"""Side-by-side whole-process benchmarks of kmsaudit, the serde_json parse floor and the peers.

Writes the W1-W5 workloads and the directory shapes with `examples/synth.rs` (seeded,
deterministic), runs each command several times interleaved (kmsaudit, floor, peers in turn),
and prints one Markdown table of median wall time, median peak memory and the ratios the goals
are stated in.

    cargo build --release --bins --examples
    python3 benches/compare.py                  # kmsaudit and the floor
    python3 benches/compare.py --only shapes    # the directory shapes alone, on 2 cores and 1
    python3 benches/compare.py --only batch     # the 100,000-request batch (W4), keys as a plan
                                                # and as describe-key + put-key-policy files
    python3 benches/compare.py --only cores     # what two cores of this machine give: one
                                                # floor run alone against two at once
    python3 benches/compare.py --peers          # and parliament and checkov (a virtual
                                                # environment is made under the work directory)

The shapes are `check` of a directory: W2 (`synth dir 1000`) and `synth shape NAME FILES` for
small identity policies, console-default key policies, key policies naming 20 principals under
conditions, a mix of AWS CLI outputs (describe-key, put-key-policy, get-key-policy,
list-grants) with identity policies, and 5,000 one-statement files. Each is run on every core
and on one (`taskset -c 0`), and W2 also with `--select KMS010` (a document rule alone).

Standard library only, plus GNU time (/usr/bin/time) for each command's peak memory.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release"
KMSAUDIT = str(BIN / "kmsaudit")
FLOOR = str(BIN / "examples" / "parse_floor")
SYNTH = str(BIN / "examples" / "synth")
ACCOUNT = ["--account", "111122223333", "--region", "us-east-1"]


def run_once(cmd):
    """Wall seconds and peak MiB of one run; output is discarded. GNU time reports the peak:
    a child forked from this Python process would count Python's own pages in its maximum
    resident set until it execs."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.monotonic()
        proc = subprocess.run(
            ["/usr/bin/time", "-o", rss.name, "-f", "%M %x"] + cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.monotonic() - start
        fields = rss.read().split()
    peak_kib, code = (float(fields[-2]), int(fields[-1])) if len(fields) >= 2 else (0.0, proc.returncode)
    return wall, peak_kib / 1024.0, code


def measure(commands, runs):
    """Runs the commands in turn, `runs` rounds; medians per command."""
    samples = {name: [] for name, _, _ in commands}
    codes = {}
    for _ in range(runs):
        for name, cmd, rounds in commands:
            if len(samples[name]) >= rounds:
                continue
            wall, peak, code = run_once(cmd)
            samples[name].append((wall, peak))
            codes[name] = code
    out = {}
    for name, s in samples.items():
        out[name] = (
            statistics.median(w for w, _ in s),
            statistics.median(p for _, p in s),
            len(s),
            codes.get(name),
        )
    return out


def synth(args, out):
    with open(out, "w") as f:
        subprocess.run([SYNTH] + args, stdout=f, check=True)


SHAPES = [
    ("identity", 1000, "1,000 small identity policies"),
    ("console", 1000, "1,000 console-default key policies"),
    ("wide", 1000, "1,000 files: key policies naming 20 principals under conditions, identity policies"),
    ("mixed", 1000, "1,000 AWS CLI outputs (200 keys) and identity policies"),
    ("tiny", 5000, "5,000 one-statement files"),
]


def shapes(work):
    """The directory shapes: W2 and `synth shape`."""
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    w2 = work / "w2"
    if w2.exists():
        shutil.rmtree(w2)
    subprocess.run([SYNTH, "dir", "1000", str(w2)], check=True)
    out["w2"] = w2
    for name, files, _ in SHAPES:
        d = work / f"shape-{name}"
        if d.exists():
            shutil.rmtree(d)
        subprocess.run([SYNTH, "shape", name, str(files), str(d)], check=True)
        out[name] = d
    return out


def batch(work):
    """W4's batch: the dump, the 300 keys as a plan and as AWS CLI files, the requests."""
    work.mkdir(parents=True, exist_ok=True)
    w = {}
    w["W4gaad"] = work / "w4-gaad.json"
    synth(["gaad", "5000"], w["W4gaad"])
    w["W4keys"] = work / "w4-keys.json"
    synth(["plan", "300"], w["W4keys"])
    w["W4req"] = work / "w4-requests.jsonl"
    synth(["requests", "100000", "300"], w["W4req"])
    # The shape: each key as `describe-key` and `put-key-policy` outputs.
    w["W4cli"] = work / "w4-cli-keys"
    if w["W4cli"].exists():
        shutil.rmtree(w["W4cli"])
    subprocess.run([SYNTH, "shape", "cli-keys", "600", str(w["W4cli"])], check=True)
    return w


def workloads(work):
    work.mkdir(parents=True, exist_ok=True)
    w = {}
    w["W1"] = ROOT / "fixtures" / "examples" / "console-default-key-policy.json"
    w["W1plan"] = work / "one-key-plan.json"
    synth(["plan", "1"], w["W1plan"])
    w["W2"] = work / "w2"
    w["W3"] = work / "w3-plan.json"
    synth(["plan", "500"], w["W3"])
    # W4: the dump, its keys, the requests and the per-key CLI files, written once.
    w.update(batch(work))
    w["W5"] = work / "w5-gaad-35mb.json"
    synth(["gaad", "11000"], w["W5"])
    return w


def peer_env(work, venv=None):
    venv = Path(venv) if venv else work / "peers"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", "parliament", "checkov"],
            check=True,
        )
    return venv / "bin"


def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if b > 0 else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peers", action="store_true", help="also run parliament and checkov")
    ap.add_argument("--work", default=str(ROOT / "target" / "bench-work"))
    ap.add_argument("--venv", help="a virtual environment that already has the peers")
    ap.add_argument(
        "--only",
        choices=["all", "shapes", "workloads", "batch", "cores"],
        default="all",
        help="the directory shapes, the W1-W5 workloads, both, W4's request batch alone, or "
        "what the machine's first two cores give together",
    )
    args = ap.parse_args()
    for b in (KMSAUDIT, FLOOR, SYNTH):
        if not Path(b).exists():
            sys.exit(f"{b} is missing: run `cargo build --release --examples` first")
    work = Path(args.work)
    if args.only == "cores":
        cores(work, args.runs)
        return
    dirs = shapes(work) if args.only in ("all", "shapes") else {}
    w = {"shapes": {}, "batch": batch(work)}.get(args.only) if args.only in ("shapes", "batch") else workloads(work)
    peers = peer_env(work, args.venv) if args.peers else None
    big = ["--max-file-size", "200000000"]
    rows = []

    def bench(label, ours, floor, extra, goal, size=None, pin=None):
        if pin is not None:
            ours, floor = pin + ours, pin + floor
        cmds = [("kmsaudit", ours, args.runs), ("floor", floor, args.runs)]
        for name, cmd, rounds in extra:
            cmds.append((name, cmd, rounds))
        m = measure(cmds, args.runs)
        k, f = m["kmsaudit"], m["floor"]
        rows.append(
            (
                label,
                "kmsaudit",
                k,
                f"{fmt_ratio(k[0], f[0])} of floor wall, {fmt_ratio(k[1], f[1])} of floor peak"
                + (f", peak {fmt_ratio(k[1] * 1024 * 1024, size)} of the file" if size else ""),
                goal,
            )
        )
        rows.append((label, "floor (serde_json parse)", f, "", ""))
        for name, _, _ in extra:
            p = m[name]
            rows.append((label, name, p, f"kmsaudit is {fmt_ratio(p[0], k[0])} faster", ""))

    pb = lambda tool: str(peers / tool) if peers else None  # noqa: E731
    def batch_rows():
        for label, keys, pin in [
            ("W4 dump + 300 keys (plan) + 100,000 queries", [str(w["W4keys"])], None),
            ("W4 dump + 300 keys (describe-key + put-key-policy files) + 100,000 queries", [str(w["W4cli"])], None),
        ] + (
            [("W4 dump + 300 keys (describe-key + put-key-policy files) + 100,000 queries, one core",
              [str(w["W4cli"])], ["taskset", "-c", "0"])]
            if shutil.which("taskset") else []
        ):
            bench(
                label,
                [KMSAUDIT, "can", "--requests", str(w["W4req"])] + big + ACCOUNT + [str(w["W4gaad"])] + keys,
                [FLOOR, str(w["W4gaad"])] + keys + [str(w["W4req"])],
                [],
                "within 2x of floor",
                pin=pin,
            )

    if args.only == "batch":
        batch_rows()
        print_table(args, rows)
        return
    if args.only in ("all", "shapes"):
        one_core = ["taskset", "-c", "0"] if shutil.which("taskset") else None
        cases = [("W2 1,000 policies (synth dir)", dirs["w2"])] + [
            (label, dirs[name]) for name, _, label in SHAPES
        ]
        for label, d in cases:
            bench(label + ", all cores", [KMSAUDIT, "check", "-q", str(d)], [FLOOR, str(d)], [], "within 3x of floor")
            if one_core:
                bench(
                    label + ", one core",
                    [KMSAUDIT, "check", "-q", str(d)],
                    [FLOOR, str(d)],
                    [],
                    "within 3x of floor",
                    pin=one_core,
                )
        bench(
            "W2 `check --select KMS010`, all cores",
            [KMSAUDIT, "check", "-q", "--select", "KMS010", str(dirs["w2"])],
            [FLOOR, str(dirs["w2"])],
            [],
            "less than `check` with every rule",
        )
    if args.only == "shapes":
        print_table(args, rows)
        return
    w1_peers = []
    if peers:
        w1_peers = [
            ("parliament", [pb("parliament"), "--files", str(w["W1"])], args.runs),
            (
                "checkov (one-key plan)",
                [pb("checkov"), "-f", str(w["W1plan"]), "--framework", "terraform_plan", "--quiet"],
                min(args.runs, 3),
            ),
        ]
    bench(
        "W1 one key policy",
        [KMSAUDIT, "check", "-q", str(w["W1"])],
        [FLOOR, str(w["W1"])],
        w1_peers,
        "within 3x of floor",
    )
    bench(
        "W2 1,000 policies in a directory",
        [KMSAUDIT, "check", "-q", str(w["W2"])],
        [FLOOR, str(w["W2"])],
        [("parliament", [pb("parliament"), "--directory", str(w["W2"])], args.runs)] if peers else [],
        "within 3x of floor",
    )
    bench(
        "W3 8 MB plan",
        [KMSAUDIT, "check", "-q", str(w["W3"])],
        [FLOOR, str(w["W3"])],
        [
            (
                "checkov",
                [pb("checkov"), "-f", str(w["W3"]), "--framework", "terraform_plan", "--quiet"],
                1,
            )
        ]
        if peers
        else [],
        "within 3x of floor wall, 2x of floor peak",
    )
    bench(
        "W4 dump + 300 keys + 100,000 queries",
        [KMSAUDIT, "can", "--requests", str(w["W4req"])] + big + ACCOUNT + [str(w["W4gaad"]), str(w["W4keys"])],
        [FLOOR, str(w["W4gaad"]), str(w["W4keys"]), str(w["W4req"])],
        [],
        "within 2.5x of floor",
    )
    bench(
        "W4 dump + 300 keys (describe-key + put-key-policy files) + 100,000 queries",
        [KMSAUDIT, "can", "--requests", str(w["W4req"])] + big + ACCOUNT + [str(w["W4gaad"]), str(w["W4cli"])],
        [FLOOR, str(w["W4gaad"]), str(w["W4cli"]), str(w["W4req"])],
        [],
        "within 2x of floor",
    )
    bench(
        "W4 check of the dump and keys",
        [KMSAUDIT, "check", "-q"] + big + ACCOUNT + [str(w["W4gaad"]), str(w["W4keys"])],
        [FLOOR, str(w["W4gaad"]), str(w["W4keys"])],
        [("parliament (dump)", [pb("parliament"), "--auth-details-file", str(w["W4gaad"])], min(args.runs, 3))]
        if peers
        else [],
        "within 3x of floor wall, 2x of floor peak",
    )
    bench(
        "W4 matrix: 300 keys x 6 actions",
        [KMSAUDIT, "matrix", "--format", "json"] + big + ACCOUNT + [str(w["W4gaad"]), str(w["W4keys"])],
        [FLOOR, str(w["W4gaad"]), str(w["W4keys"])],
        [],
        "a few seconds, under 1 GiB",
    )
    bench(
        "W5 a 35 MB authorization-details dump: check",
        [KMSAUDIT, "check", "-q"] + big + [str(w["W5"])],
        [FLOOR, str(w["W5"])],
        [],
        "under 1 s, peak under 4x the file",
        size=w["W5"].stat().st_size,
    )
    bench(
        "W5 a 35 MB authorization-details dump: can",
        [KMSAUDIT, "can", "--principal", "arn:aws:iam::111122223333:user/user0", "--action",
         "kms:Decrypt", "--key", "arn:aws:kms:us-east-1:111122223333:key/00000000-1234-5678-9abc-000000000000"]
        + big + [str(w["W5"])],
        [FLOOR, str(w["W5"])],
        [],
        "under 1 s, peak under 4x the file",
        size=w["W5"].stat().st_size,
    )
    print_table(args, rows)


def cores(work, runs):
    """The floor (single-threaded) on the `wide` shape pinned to core 0 alone, and two copies
    at once pinned to cores 0 and 1, interleaved. When the second copy slows the first, the
    two cores share something (a physical core, caches, memory bandwidth, the host's time):
    a program spread over both cannot run twice as fast as on one, however it is written."""
    if not shutil.which("taskset"):
        sys.exit("taskset is needed to pin the runs to cores")
    if not {0, 1} <= os.sched_getaffinity(0):
        sys.exit("cores 0 and 1 are needed: this mode runs one copy on each")
    d = work / "shape-wide"
    if not d.exists():
        shapes(work)
    one = ["taskset", "-c", "0", FLOOR, str(d)]
    other = ["taskset", "-c", "1", FLOOR, str(d)]
    alone, together = [], []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(one, stdout=subprocess.DEVNULL, check=True)
        alone.append(time.monotonic() - start)
        start = time.monotonic()
        a = subprocess.Popen(one, stdout=subprocess.DEVNULL)
        b = subprocess.Popen(other, stdout=subprocess.DEVNULL)
        # A copy that failed (no second core, no floor) would make the pair look free.
        if a.wait() != 0 or b.wait() != 0:
            sys.exit("a run of the floor failed: " + " ".join(other))
        together.append(time.monotonic() - start)
    a, t = statistics.median(alone), statistics.median(together)
    print(f"machine: {os.cpu_count()} cores; medians of {runs} interleaved runs\n")
    print("| runs of the floor on `wide` | median wall |")
    print("|---|---|")
    print(f"| one, on core 0 alone | {a:.4f} s |")
    print(f"| two at once, on cores 0 and 1 | {t:.4f} s |")
    print(f"\nTwo at once take {t / a:.2f}x as long as one alone: two cores give at most "
          f"{2 * a / t:.2f}x the work of one.")


def print_table(args, rows):
    print(f"machine: {os.cpu_count()} cores; medians of up to {args.runs} interleaved runs\n")
    print("| workload | command | median wall | median peak | runs | exit | ratio | goal |")
    print("|---|---|---|---|---|---|---|---|")
    for label, name, (wall, peak, n, code), ratio, goal in rows:
        print(f"| {label} | {name} | {wall:.3f} s | {peak:.1f} MiB | {n} | {code} | {ratio} | {goal} |")


if __name__ == "__main__":
    main()
