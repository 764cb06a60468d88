#!/usr/bin/env python3
"""Peak memory and time of every command on pathological records.

Each case is one record of a hostile shape (deep nesting with long keys,
deep arrays with many elements, many members, one huge string, a long text
for the tokenizer, a small Parquet file that expands to a huge record).
Each command runs on it in a fresh process; its peak RSS (getrusage of the
child) and wall time are printed next to the record size, with the ratio of
the memory above the command's own baseline (the same command on a small
record) to the record size.

    scripts/memory.py [--bin bin/sharegpt] [--check] [--bound 8]

With --check the script exits 1 when any run needs more than
baseline + BOUND x record size, or fails (exit status other than 0; 2, the
input refused as unreadable, and validate's 1, violations found, are fine
answers to hostile input). Needs GNU time (Debian's package time).
"""
import argparse, json, os, subprocess, sys, tempfile, time

MB = 1 << 20


def conv(turns, extra=""):
    body = ",".join(json.dumps({"from": f, "value": v}, ensure_ascii=False) for f, v in turns)
    return '{"id":"p"%s,"conversations":[%s]}\n' % (extra, body)


def deep_objects(depth=2000, key=1000):
    k = "k" * key
    return conv([("human", "hi"), ("gpt", "hello")], ',"meta":' + ('{"%s":' % k) * depth + "1" + "}" * depth)


def deep_arrays(depth=9000, width=200_000):
    return conv([("human", "hi"), ("gpt", "hello")], ',"meta":' + "[" * depth + ",".join(["1"] * width) + "]" * depth)


def wide_object(members=80_000):
    inner = ",".join('"m%d":%d' % (i, i) for i in range(members))
    return conv([("human", "hi"), ("gpt", "hello")], ',"meta":{%s}' % inner)


def huge_string(size=16 * MB):
    return conv([("human", "summarise this"), ("gpt", ("word " * (size // 5)))])


def long_text(size=4 * MB):
    para = ("The quick brown fox jumps over the lazy dog while the committee reviews "
            "its findings on distributed training, tokenization and data quality. ")
    code = "```python\nfor i in range(10):\n    print(f'value {i}: {i * i}')\n```\n"
    unit = para * 3 + "\n\n" + code + "\n"
    text = unit * (size // len(unit))
    return conv([("human", "Explain the text below.\n" + text[: size // 2]), ("gpt", text[size // 2:])])


def small():
    return conv([("human", "hello there, how are you today?"), ("gpt", "Fine, thank you. And you?")])


CASES = [
    # name, generator, commands
    ("deep objects, 1000-byte keys", deep_objects, ["convert", "validate", "stats", "dedup", "clean"]),
    ("deep arrays, many elements", deep_arrays, ["convert", "validate", "stats", "dedup", "clean"]),
    ("80,000 members", wide_object, ["convert", "validate", "stats", "dedup", "clean"]),
    ("one 16 MB string", huge_string, ["convert", "validate", "stats", "dedup", "clean", "split", "tokenize"]),
    ("4 MB text (tokenizer)", long_text, ["split", "tokenize", "stats --tokenizer default"]),
]


def run(binary, args, path, out):
    """Runs one command under GNU time: the peak RSS of a child forked from
    this (large) Python process would start at Python's own."""
    cmd = [binary] + args.split()
    cmd += [path] if args.startswith(("validate", "stats")) else ["-q", "-i", path, "-o", out]
    with tempfile.NamedTemporaryFile("r") as t:
        start = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        secs = time.monotonic() - start
        rss = int(t.read().split()[-1]) * 1024
    err = p.stderr.decode(errors="replace").strip().splitlines()
    return p.returncode, rss, secs, (err[-1] if err else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="bin/sharegpt")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--bound", type=float, default=8.0)
    a = ap.parse_args()
    failed = []
    with tempfile.TemporaryDirectory() as d:
        base_path = os.path.join(d, "small.jsonl")
        open(base_path, "w").write(small())
        base = {}
        cases = [(name, gen(), cmds) for name, gen, cmds in CASES]
        cases.append(parquet_case(a.bin, d))
        print(f"| record | size | command | exit | peak RSS | baseline | (RSS-baseline)/size | seconds |")
        print(f"|---|---|---|---|---|---|---|---|")
        for name, data, cmds in cases:
            path = os.path.join(d, "case" + (".parquet" if isinstance(data, bytes) else ".jsonl"))
            if isinstance(data, bytes):
                open(path, "wb").write(data)
                size = parquet_record_size
            else:
                open(path, "w").write(data)
                size = len(data.encode())
            for c in cmds:
                if c not in base:
                    base[c] = run(a.bin, c, base_path, os.path.join(d, "o.jsonl"))[1]
                code, rss, secs, last = run(a.bin, c, path, os.path.join(d, "o.jsonl"))
                ratio = max(0, rss - base[c]) / size
                print(f"| {name} | {size / MB:.1f} MiB | {c} | {code} | {rss / MB:.0f} MiB | {base[c] / MB:.0f} MiB | {ratio:.2f} | {secs:.2f} |")
                ok_codes = (0, 1, 2) if c == "validate" else (0, 2)
                if rss > base[c] + a.bound * size or code not in ok_codes:
                    failed.append(f"{name} / {c}: exit {code}, {rss / MB:.0f} MiB ({last})")
    if failed:
        print("\nover the bound of baseline + %gx the record size, or failed:" % a.bound, *failed, sep="\n  ", file=sys.stderr)
        if a.check:
            sys.exit(1)


parquet_record_size = 200 * MB


def parquet_case(binary, d):
    """A Parquet file of a few hundred KB whose one row is a 200 MB record
    (zstd packs a repeated string): --max-record-bytes must reject it
    without building it."""
    src = os.path.join(d, "big.jsonl")
    with open(src, "w") as f:
        f.write(conv([("human", "hi"), ("gpt", "a" * parquet_record_size)]))
    out = os.path.join(d, "big.parquet")
    subprocess.run([binary, "convert", "-q", "--max-record-bytes", str(2 * parquet_record_size), "-i", src, "-o", out], check=True)
    os.remove(src)
    return ("Parquet: %d KB file, 200 MiB row" % (os.path.getsize(out) // 1024), open(out, "rb").read(), ["convert", "validate", "stats"])


if __name__ == "__main__":
    main()
