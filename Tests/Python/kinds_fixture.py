#!/usr/bin/env python3
"""Canonical xieshang.testing.v1.AllKinds value, for cross-language round trips.

    python3 Tests/Python/kinds_fixture.py write PATH   # serialize the canonical value to PATH
    python3 Tests/Python/kinds_fixture.py check PATH   # exit 0 iff PATH parses to the canonical value
    python3 Tests/Python/kinds_fixture.py show         # print it in protobuf text format
    python3 Tests/Python/kinds_fixture.py hex          # print the (deterministic) serialized bytes in hex

The Swift side mirrors CANONICAL below: Swift writes, Python checks, and the
other way round. Byte-for-byte equality is NOT required (map entry order may
differ between encoders); `check` compares parsed values, plus field presence:
maybe_count must be present (with value 0), maybe_note absent, the oneof
`choice` set to c_inner, and no unknown fields anywhere.

Notes on the values:
* strings never contain NUL (protobuf-c represents `string` as a C string);
  bytes do contain 0x00 and 0xFF.
* floats are exactly representable: 1.5, -2.25, FLT_MAX, DBL_MAX, the smallest
  positive subnormal double (5e-324); no NaN, no -0.0.
* r_enum contains 7, a value Colour does not define (proto3 enums are open:
  it must be kept as 7, not dropped or turned into a default).
* m_string_int32 has an entry whose key and value are both defaults ("" -> 0),
  m_uint32_enum one with key 0, m_bool_bytes one with an empty value.
* repeated fields hold empty elements ("" / b"" / an empty Inner) where possible.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

# ---------------------------------------------------------------------------
# THE canonical value. Enum values are given by name, except 7 (unknown).
# ---------------------------------------------------------------------------

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX, UINT64_MAX = 2**32 - 1, 2**64 - 1
FLT_MAX = 3.4028234663852886e38   # Float.greatestFiniteMagnitude
DBL_MAX = 1.7976931348623157e308  # Double.greatestFiniteMagnitude
DBL_TRUE_MIN = 5e-324             # Double.leastNonzeroMagnitude

CANONICAL = {
    "f_double": -2.25,
    "f_float": 1.5,
    "f_int32": INT32_MIN,            # -2147483648 (a 10-byte varint on the wire)
    "f_int64": INT64_MIN,            # -9223372036854775808
    "f_uint32": UINT32_MAX,          # 4294967295
    "f_uint64": UINT64_MAX,          # 18446744073709551615
    "f_sint32": INT32_MIN,           # -2147483648 (zigzag 4294967295)
    "f_sint64": INT64_MIN,           # -9223372036854775808
    "f_fixed32": UINT32_MAX,         # 4294967295
    "f_fixed64": UINT64_MAX,         # 18446744073709551615
    "f_sfixed32": INT32_MIN,         # -2147483648
    "f_sfixed64": INT64_MAX,         # 9223372036854775807
    "f_bool": True,
    "f_string": "协商议事室 😈𠀀",     # CJK + U+1F608 + U+20000 (both non-BMP)
    "f_bytes": b"\x00\x01\x7f\x80\xfe\xff\x00",
    "f_enum": "COLOUR_NEGATIVE",     # -1
    "f_message": {
        "name": "村委会",
        "count": -1,
        "children": [{"name": "子", "count": 1}],
    },

    "r_double": [1.5, -2.25, 0.0, DBL_MAX, DBL_TRUE_MIN],
    "r_float": [1.5, -2.25, 0.0, FLT_MAX],
    "r_int32": [0, 1, -1, INT32_MAX, INT32_MIN],
    "r_int64": [0, -1, INT64_MAX, INT64_MIN],
    "r_uint32": [0, 1, UINT32_MAX],
    "r_uint64": [0, 1, UINT64_MAX],
    "r_sint32": [-1, 1, INT32_MIN, INT32_MAX],
    "r_sint64": [-1, 1, INT64_MIN, INT64_MAX],
    "r_fixed32": [0, UINT32_MAX],
    "r_fixed64": [0, UINT64_MAX],
    "r_sfixed32": [INT32_MIN, -1, INT32_MAX],
    "r_sfixed64": [INT64_MIN, -1, INT64_MAX],
    "r_bool": [True, False, True],
    "r_string": ["协商", "", "😈𠀀", "plain ascii"],
    "r_bytes": [b"\x00", b"", b"\xff\xfe\x00"],
    "r_enum": ["COLOUR_RED", "COLOUR_NEGATIVE", 7, "COLOUR_UNSPECIFIED", "COLOUR_GREEN"],
    "r_message": [
        {"name": "一", "count": 1},
        {},                          # an empty Inner (zero-length on the wire)
        {"name": "三", "count": 3, "children": [{"name": "三之一", "count": INT64_MAX}]},
    ],

    "m_string_int32": {"甲": 1, "乙": -2, "": 0},
    "m_int64_string": {-1: "负一", INT64_MAX: "最大", 0: "零"},
    "m_string_inner": {
        "村": {"name": "村", "count": 2},
        "镇": {"name": "镇", "count": 3, "children": [{"name": "村"}, {"name": "村二"}]},
    },
    "m_uint32_enum": {0: "COLOUR_NEGATIVE", UINT32_MAX: "COLOUR_RED"},
    "m_bool_bytes": {True: b"\x00\xff", False: b""},

    # oneof choice
    "c_inner": {
        "name": "议题",
        "count": 42,
        "children": [
            {"name": "甲", "count": 1},
            {"name": "乙", "count": -2, "children": [{"name": "乙之一", "count": INT64_MIN}]},
        ],
    },

    "maybe_count": 0,                # present but zero: must survive the round trip
    # "maybe_note" is deliberately absent

    "level": "LEVEL_VILLAGE",
    "notes": [
        {"text": "第一条 😈", "level": "LEVEL_TOWN"},
        {"text": "second", "level": "LEVEL_VILLAGE"},
    ],
}

# Presence facts that plain equality of values could miss.
EXPECT_PRESENT = ("f_message", "c_inner", "maybe_count")
EXPECT_ABSENT = ("maybe_note",)
EXPECT_ONEOF = {"choice": "c_inner", "_maybe_count": "maybe_count", "_maybe_note": None}

# ---------------------------------------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ensure_generated  # noqa: E402

ensure_generated()

from google.protobuf import text_format  # noqa: E402
from xieshang.testing.v1 import kinds_pb2  # noqa: E402


def canonical() -> kinds_pb2.AllKinds:
    return kinds_pb2.AllKinds(**CANONICAL)


def to_text(message) -> str:
    return text_format.MessageToString(message, as_utf8=True)


def _is_repeated(field) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 5.28
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def _unknown_field_paths(message, path="") -> list[str]:
    """Paths of (sub)messages that carry unknown fields."""
    try:
        from google.protobuf.unknown_fields import UnknownFieldSet
    except ImportError:  # older protobuf: no way to inspect, do not guess
        return []
    found = []
    if len(UnknownFieldSet(message)):
        found.append(path or "<root>")
    for field, value in message.ListFields():
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is not None:
                for key in value:
                    found += _unknown_field_paths(value[key], f"{name}[{key!r}]")
        elif _is_repeated(field):
            for i, element in enumerate(value):
                found += _unknown_field_paths(element, f"{name}[{i}]")
        else:
            found += _unknown_field_paths(value, name)
    return found


def problems(parsed: kinds_pb2.AllKinds) -> list[str]:
    """Everything that differs from the canonical value (empty list = equal)."""
    expected = canonical()
    out = []
    for name in EXPECT_PRESENT:
        if not parsed.HasField(name):
            out.append(f"field {name} should be present but is not")
    for name in EXPECT_ABSENT:
        if parsed.HasField(name):
            out.append(f"field {name} should be absent but is present ({getattr(parsed, name)!r})")
    for oneof, member in EXPECT_ONEOF.items():
        got = parsed.WhichOneof(oneof)
        if got != member:
            out.append(f"oneof {oneof} is set to {got!r}, expected {member!r}")
    unknown = _unknown_field_paths(parsed)
    if unknown:
        out.append("unknown fields present in: " + ", ".join(unknown))
    if parsed != expected:
        want, got = to_text(expected), to_text(parsed)
        if want == got:
            out.append("values differ although their text forms are identical")
        else:
            diff = difflib.unified_diff(want.splitlines(), got.splitlines(),
                                        "canonical", "parsed", lineterm="", n=2)
            out.append("value differs from the canonical one:\n" + "\n".join(diff))
    return out


def main(argv: list[str]) -> int:
    usage = "usage: kinds_fixture.py write PATH | check PATH | show | hex"
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command in ("write", "check") and len(rest) != 1:
        print(usage, file=sys.stderr)
        return 2
    if command == "write":
        data = canonical().SerializeToString(deterministic=True)
        Path(rest[0]).write_bytes(data)
        print(f"wrote {len(data)} bytes to {rest[0]}")
        return 0
    if command == "check":
        data = Path(rest[0]).read_bytes()
        parsed = kinds_pb2.AllKinds()
        try:
            parsed.ParseFromString(data)
        except Exception as e:  # DecodeError and friends
            print(f"check: {rest[0]} ({len(data)} bytes) does not parse as AllKinds: {e}")
            return 1
        found = problems(parsed)
        if found:
            print(f"check: {rest[0]} does not match the canonical AllKinds:")
            for p in found:
                print("  - " + p.replace("\n", "\n    "))
            return 1
        print(f"check: {rest[0]} ({len(data)} bytes) matches the canonical AllKinds")
        return 0
    if command == "show":
        sys.stdout.write(to_text(canonical()))
        return 0
    if command == "hex":
        print(canonical().SerializeToString(deterministic=True).hex())
        return 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
