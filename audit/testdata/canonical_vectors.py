#!/usr/bin/env python3
"""Regenerates canonical_vectors.jsonl: inputs and the bytes Pangea's Python
SDK canonicalize_json gives for them.

Each line: {"name": ..., "input": <the value, ASCII-escaped JSON>,
"canonical_hex": <hex of the UTF-8 bytes of json.dumps(...)>}. The expected
output is hex so that no JSON decoder stands between Python and the test.

    python3 audit/testdata/canonical_vectors.py > audit/testdata/canonical_vectors.jsonl
"""
import json
import sys


def canonicalize_json(message):
    # The body of pangea.services.audit.util.canonicalize_json.
    return json.dumps(
        message, ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


controls = "".join(chr(c) for c in range(0x20)) + "\x7f"
cases = {
    "original example": {"context": "\nMagic links are single-use.\n", "prompt": "What are magic links?"},
    "html characters": {"context": "<script>alert('x')</script> & <b>bold</b> > less", "prompt": "a<b && c>d"},
    "line and paragraph separators": {"context": "one\u2028two\u2029three", "prompt": "\u2028"},
    "all control characters": {"context": controls, "prompt": "tab\there\nnewline\rreturn\bbackspace\fformfeed"},
    "quotes and backslashes": {"context": 'say "hi" \\ back\\slash \\"', "prompt": "C:\\path\\to\\file.txt \"quoted\""},
    "emoji": {"context": "\U0001F600 \U0001F44D\U0001F3FD \U0001F469\u200d\U0001F4BB", "prompt": "flags \U0001F1FA\U0001F1F8"},
    "non-Latin text": {"context": "Магические ссылки — 魔法链接 — マジックリンク — 매직 링크", "prompt": "ما هي الروابط السحرية؟ מה זה"},
    "combining and invisible": {"context": "e\u0301 \u200b\u200c\u200d \ufeff BOM \u00a0nbsp", "prompt": "\u0000nul"},
    "keys sorted by code point": {"b": "2", "a": "1", "B": "3", "\u00e9": "4", "\u4e2d": "5", "\U0001F600": "6", "aa": "7", "a b": "8"},
    "empty strings": {"context": "", "prompt": ""},
    "nested values": {"prompt": "x", "meta": {"z": [1, 2, {"y": None, "x": True}], "a": False}, "n": -42, "big": 12345678901234},
    "floats": {"a": 0.1, "b": 1.0, "c": 1e16, "d": 1e-05, "e": 123456.789, "f": -0.0, "g": 1e22, "h": 0.0001, "i": 2.5e-308, "j": 1000000.0},
    "context sha256 form": {"context_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "context_length": 0, "prompt": "p"},
    "long text": {"context": ("lorem ipsum <&> \u2028 \"q\" \\ " * 200), "prompt": "long"},
}

for name, value in cases.items():
    out = {"name": name, "input": value, "canonical_hex": canonicalize_json(value).hex()}
    sys.stdout.write(json.dumps(out, ensure_ascii=True, sort_keys=True) + "\n")
