#!/usr/bin/env python3
"""The baseline the bot is compared with: jieba (precise mode) + rank_bm25 BM25Okapi over
every phrasing, top-1 by raw score. Used by `cargo bench --bench bot_latency`.

usage: bm25_baseline.py KB.jsonl QUERIES.txt  -> prints one JSON line:
       {"build_ms": .., "p50_us": .., "p99_us": .., "queries": N}
"""
import json
import re
import sys
import time

import jieba
from rank_bm25 import BM25Okapi

jieba.setLogLevel(60)
PUNCT = re.compile(r"[^\w]+")


def tokens(text):
    return [t for t in jieba.lcut(PUNCT.sub(" ", text)) if t.strip()]


def main(kb_path, queries_path):
    start = time.perf_counter()
    docs, owners = [], []
    with open(kb_path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            for p in [e["question"]] + e.get("similar", []):
                docs.append(tokens(p))
                owners.append(e["id"])
    bm25 = BM25Okapi(docs)
    build_ms = (time.perf_counter() - start) * 1000
    with open(queries_path, encoding="utf-8") as f:
        queries = [l.strip() for l in f if l.strip()]
    times = []
    for q in queries:
        t = time.perf_counter()
        scores = bm25.get_scores(tokens(q))
        best = max(range(len(scores)), key=scores.__getitem__)
        _ = owners[best]
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    pct = lambda p: times[min(len(times) - 1, round((len(times) - 1) * p))]
    print(json.dumps({"build_ms": round(build_ms), "p50_us": round(pct(0.5)), "p99_us": round(pct(0.99)), "queries": len(queries)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
