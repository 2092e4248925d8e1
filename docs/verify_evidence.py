#!/usr/bin/env python3
"""Verify a BeTrace evidence export (JSON) without trusting BeTrace.

Usage: verify_evidence.py export.json keys.json [--anchors anchors.json]

keys.json is {"<key id>": "<secret>", ...}. anchors.json holds anchors gathered outside the
export (from Tempo, or the anchor log): a JSON document {"anchors": [...]} or JSON lines, one
anchor per line. Given, they replace the export's own anchors.

It checks what the API checks (docs/evidence.md): each record's signature, its link to the
record before it, order, duplicate and missing seqs, the stored head, and the anchors: signed
statements of earlier heads, which catch a chain that was truncated or replaced.

Exit status: 0 everything checks, 1 a problem was found, 2 bad usage or unreadable input.
Python 3 standard library only.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import re
import sys

ZEROS = "0" * 64
SIGNATURE = "betrace.evidence.signature"
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(Exception):
    """The input cannot be read as an export, a key file or anchors (exit 2)."""


def canonical(item, with_signature):
    """The bytes BeTrace signs: the canonical form of docs/evidence.md, records and anchors alike."""
    attributes = {k: v for k, v in item["attributes"].items() if with_signature or k != SIGNATURE}
    doc = {"attributes": attributes, "span_id": item["spanId"], "trace_id": item["traceId"]}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # JSON.stringify writes a lone surrogate as an escape; json.dumps would leave it raw (not UTF-8).
    text = LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    return text.encode("utf-8")


def chain_hash(item):
    """What the next record's prev must be."""
    return hashlib.sha256(canonical(item, True)).hexdigest()


def same(a, b):
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check_signature(item, keys):
    """'ok', 'altered' or 'unknown key'."""
    secret = keys.get(item["key_id"])
    if secret is None:
        return "unknown key"
    mac = hmac.new(secret.encode("utf-8"), canonical(item, False), hashlib.sha256).hexdigest()
    return "ok" if same(mac, item["signature"]) else "altered"


def value(attributes, name, kind, where):
    """One OTLP/JSON AnyValue: kind is 'stringValue' or 'intValue' (returned as int)."""
    v = attributes.get(name)
    if not isinstance(v, dict) or kind not in v:
        raise InputError(f"{where}: no {name} {kind}")
    raw = v[kind]
    if kind == "intValue":
        if isinstance(raw, bool) or not re.fullmatch(r"-?[0-9]+", str(raw)):
            raise InputError(f"{where}: {name} is not an integer: {raw!r}")
        return int(raw)
    if not isinstance(raw, str):
        raise InputError(f"{where}: {name} is not a string: {raw!r}")
    return raw


def span(obj, where):
    """The fields every record and anchor has: attributes, span and trace id, key id, signature."""
    if not isinstance(obj, dict) or not isinstance(obj.get("attributes"), dict):
        raise InputError(f"{where}: not an object with attributes")
    for field in ("traceId", "spanId"):
        if not isinstance(obj.get(field), str):
            raise InputError(f"{where}: no {field}")
    a = obj["attributes"]
    return {
        "attributes": a,
        "traceId": obj["traceId"],
        "spanId": obj["spanId"],
        "key_id": value(a, "betrace.evidence.key_id", "stringValue", where),
        "signature": value(a, SIGNATURE, "stringValue", where),
    }


def read_record(obj, index):
    where = f"record {index + 1}"
    r = span(obj, where)
    r["seq"] = value(r["attributes"], "betrace.evidence.seq", "intValue", where)
    r["prev"] = value(r["attributes"], "betrace.evidence.prev", "stringValue", where)
    return r


def read_anchor(obj, index, source):
    where = f"{source}: anchor {index + 1}"
    a = span(obj, where)
    kind = value(a["attributes"], "compliance.evidence_type", "stringValue", where)
    if kind != "anchor":
        raise InputError(f"{where}: compliance.evidence_type is {kind!r}, not 'anchor'")
    a["head_seq"] = value(a["attributes"], "betrace.evidence.head_seq", "intValue", where)
    a["head_hash"] = value(a["attributes"], "betrace.evidence.head_hash", "stringValue", where)
    a["anchored_at"] = value(a["attributes"], "betrace.evidence.anchored_at", "stringValue", where)
    try:
        moment = datetime.datetime.fromisoformat(a["anchored_at"].replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: anchored_at is not an ISO 8601 time: {a['anchored_at']!r}") from None
    if moment.tzinfo is None:
        raise InputError(f"{where}: anchored_at has no time zone: {a['anchored_at']!r}")
    a["moment"] = moment
    return a


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise InputError(f"{path}: cannot read the {what}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the {what} is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: the {what} is not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None


def load_anchors_file(path):
    """A JSON document {"anchors": [...]} (or a bare list), or JSON lines of anchors (the anchor log)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read the anchors: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the anchors are not UTF-8") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("anchors"), list):
        return doc["anchors"]
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and "attributes" in doc:
        return [doc]  # JSON lines holding a single anchor
    if isinstance(doc, dict):
        raise InputError(f"{path}: a JSON document of anchors needs an \"anchors\" list")
    anchors = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                anchors.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise InputError(f"{path}: line {number} is not JSON: {e.msg} at column {e.colno}") from None
    return anchors


def load_keys(path):
    keys = load_json(path, "keys")
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise InputError(f'{path}: keys must be an object {{"<key id>": "<secret>", ...}}')
    return keys


def ranges(seqs):
    """'1-3, 7' for [1, 2, 3, 7]: a head-deleted chain can miss millions of seqs."""
    out, start = [], None
    for i, s in enumerate(seqs):
        if start is None:
            start = s
        if i + 1 == len(seqs) or seqs[i + 1] != s + 1:
            out.append(str(start) if start == s else f"{start}-{s}")
            start = None
    return ", ".join(out)


def read_head(export):
    head = export.get("head")
    if not isinstance(head, dict):
        raise InputError("export: no head {seq, hash} (exports from BeTrace before anchoring have none)")
    seq, digest = head.get("seq"), head.get("hash")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or not isinstance(digest, str):
        raise InputError(f"export: head must be {{seq: integer >= 0, hash: hex}}, not {json.dumps(head)}")
    return seq, digest


def is_filtered(export):
    scope, period = export.get("scope") or {}, export.get("period") or {}
    if not isinstance(scope, dict) or not isinstance(period, dict):
        raise InputError("export: scope and period must be objects")
    return any(scope.get(k) is not None for k in ("framework", "control")) or any(period.get(k) is not None for k in ("from", "to"))


def check_records(records, keys):
    """One line per record; returns the problem lists by name, in the order presented."""
    by_seq, problems = {}, {"ALTERED": [], "UNKNOWN KEY": [], "CHAIN BROKEN": [], "REORDERED": [], "DUPLICATE": []}
    for r in records:
        by_seq.setdefault(r["seq"], r)
    highest, seen, flagged = 0, set(), 0
    for r in records:
        seq = r["seq"]
        state = check_signature(r, keys)
        if state != "ok":
            problems[state.upper()].append(seq)
        # The first occurrence of seq - 1 is the one links are checked against, as the API does.
        before = by_seq.get(seq - 1)
        expected = ZEROS if seq == 1 else (chain_hash(before) if before else None)
        if expected is None:
            link = "link unchecked"
        elif same(expected, r["prev"]):
            link = "link ok"
        else:
            link = "CHAIN BROKEN"
            problems[link].append(seq)
        flags = []
        if seq < highest:
            flags.append("REORDERED")
            problems["REORDERED"].append(seq)
        if seq in seen:
            flags.append("DUPLICATE")
            problems["DUPLICATE"].append(seq)
        highest = max(highest, seq)
        seen.add(seq)
        signature = "signature ok" if state == "ok" else state.upper()
        if state != "ok" or link == "CHAIN BROKEN" or flags:
            flagged += 1
        print(" ".join([str(seq), signature, link] + flags))
    return by_seq, problems, flagged


def check_head(head_seq, head_hash, by_seq):
    """Problem lines for the stored head."""
    out, top = [], max(by_seq, default=0)
    if top > head_seq:
        out.append(f"HEAD MISMATCH: the head is seq {head_seq} but the chain holds seq {top}")
    if head_seq == 0:
        if not same(head_hash, ZEROS):
            out.append(f"HEAD MISMATCH: the head is seq 0, whose hash is 64 zeros, not {head_hash}")
    elif head_seq in by_seq:
        actual = chain_hash(by_seq[head_seq])
        if not same(actual, head_hash):
            out.append(f"HEAD MISMATCH: record {head_seq} hashes to {actual}, the head says {head_hash}")
    return out


def check_anchors(anchors, keys, by_seq, last):
    """Problem lines for the anchors; an anchor whose signature fails is not used further."""
    out, trusted = [], []
    for a in anchors:
        name = f"anchor at {a['anchored_at']} (head seq {a['head_seq']})"
        state = check_signature(a, keys)
        if state == "altered":
            out.append(f"ANCHOR ALTERED: {name}: its signature does not match")
        elif state == "unknown key":
            out.append(f"ANCHOR UNKNOWN KEY: {name}: signed by key {a['key_id']!r}, not in the keys file")
        else:
            trusted.append(a)
    for a in trusted:
        n, name = a["head_seq"], f"anchor at {a['anchored_at']}"
        if n <= 0:
            continue
        if n > last:
            gone = f"{last + 1}-{n}" if last + 1 < n else str(n)
            out.append(f"TRUNCATED: {name} has the chain at seq {n}, it ends at seq {last}: records {gone} are gone")
        elif n in by_seq:
            actual = chain_hash(by_seq[n])
            if not same(actual, a["head_hash"]):
                out.append(f"ANCHOR MISMATCH: {name}: record {n} hashes to {actual}, anchored {a['head_hash']}: the chain was replaced or rewritten")
    top = None
    for a in sorted(trusted, key=lambda a: a["moment"]):
        if top is not None and a["head_seq"] < top["head_seq"]:
            out.append(
                f"ANCHORS OUT OF ORDER: anchor at {a['anchored_at']} has head seq {a['head_seq']}, "
                f"after head seq {top['head_seq']} at {top['anchored_at']}: the head went back"
            )
        if top is None or a["head_seq"] >= top["head_seq"]:
            top = a
    return out


def verify(export_path, keys_path, anchors_path):
    export = load_json(export_path, "export")
    keys = load_keys(keys_path)
    if not isinstance(export, dict) or not isinstance(export.get("records"), list):
        raise InputError(f"{export_path}: not a BeTrace JSON export (no records list)")
    records = [read_record(r, i) for i, r in enumerate(export["records"])]
    filtered = is_filtered(export)
    if not filtered:
        head_seq, head_hash = read_head(export)
        if anchors_path is not None:
            anchors = [read_anchor(a, i, anchors_path) for i, a in enumerate(load_anchors_file(anchors_path))]
        else:
            listed = export.get("anchors", [])
            if not isinstance(listed, list):
                raise InputError(f"{export_path}: anchors must be a list")
            anchors = [read_anchor(a, i, "export") for i, a in enumerate(listed)]

    by_seq, problems, flagged = check_records(records, keys)
    lines = [f"{name} seq: {ranges(seqs) if name != 'DUPLICATE' else ', '.join(map(str, seqs))}" for name, seqs in problems.items() if seqs]
    missing = []
    if filtered:
        lines.append("filtered export: gaps, head and anchors not checked")
    else:
        last = max([head_seq] + list(by_seq))
        missing = [s for s in range(1, last + 1) if s not in by_seq]
        if missing:
            lines.append(f"MISSING seq: {ranges(missing)}")
        lines += check_head(head_seq, head_hash, by_seq)
        anchor_lines = check_anchors(anchors, keys, by_seq, last)
        lines += anchor_lines
        if not anchors:
            lines.append("no anchors: truncation and replacement cannot be detected")
    failed = flagged or missing or any(not line.startswith(("filtered export", "no anchors")) for line in lines)
    for line in lines:
        print(line)
    summary = f"{len(records)} records, {flagged} with problems, {len(missing)} missing"
    if not filtered:
        summary += f", {len(anchors)} anchors, {len(anchor_lines)} anchor problems"
    print(f"{summary}: {'FAILED' if failed else 'OK'}")
    return 1 if failed else 0


def main(argv):
    parser = argparse.ArgumentParser(prog="verify_evidence.py", description="Verify a BeTrace evidence export (JSON).")
    parser.add_argument("export", help="the JSON export (GET /api/v1/evidence/export?format=json)")
    parser.add_argument("keys", help='{"<key id>": "<secret>", ...}')
    parser.add_argument("--anchors", help="anchors gathered outside the export: {\"anchors\": [...]} or JSON lines")
    args = parser.parse_args(argv)  # exits 2 with the usage on stderr
    try:
        return verify(args.export, args.keys, args.anchors)
    except InputError as e:
        print(f"verify_evidence.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
