"""Read a W&B offline run file (wandb/offline-run-*/run-<id>.wandb) back, for the tests.

The file is a LevelDB-style log: a 7-byte header (":W&B", magic, version), then 32 KiB blocks
of records, each with a 7-byte header (crc32, length, type: full, first, middle, last)
holding serialized wandb Record protobufs. wandb 0.31 has no Python reader of its own.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

BLOCK = 32768


def records(path: Path) -> list:
    from wandb.proto import wandb_internal_pb2 as pb

    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", "not a W&B run file"
    out, pos, chunks = [], 7, []
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # the rest of a block too small for a header is padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if length == 0 and kind == 0:
            pos += left
            continue
        chunks.append(data[pos + 7:pos + 7 + length])
        pos += 7 + length
        if kind in (1, 4):  # full, last: a whole record
            r = pb.Record()
            r.ParseFromString(b"".join(chunks))
            out.append(r)
            chunks = []
    return out


def read_run(path: Path) -> dict[str, Any]:
    """{"id", "name", "tags", "config", "history": [{key: value}], "summary", "exit_code"}."""
    run: dict[str, Any] = {"config": {}, "history": [], "summary": {}, "exit_code": None, "tags": []}
    for r in records(path):
        k = r.WhichOneof("record_type")
        if k == "run":
            run.update(id=r.run.run_id, name=r.run.display_name, tags=list(r.run.tags))
            run["config"].update({i.key: json.loads(i.value_json) for i in r.run.config.update})
        elif k == "config":
            run["config"].update({i.key: json.loads(i.value_json) for i in r.config.update})
        elif k == "history":
            run["history"].append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in r.history.item})
        elif k == "summary":
            run["summary"].update({(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in r.summary.update})
        elif k == "exit":
            run["exit_code"] = r.exit.exit_code
    return run
