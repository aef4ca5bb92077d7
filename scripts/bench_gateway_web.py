#!/usr/bin/env python3
"""Gateway protocols benchmark: `DirectoryService/GetMember` through the gateway by native gRPC,
Connect JSON (HTTP/2 and HTTP/1.1) and gRPC-Web, against the same call straight to the directory,
all in one run of `xieshang up` (SQLite) and all loaded by the same client, h2load, so the
figures compare. Writes the `gateway-web-bench` block of BENCHMARKS.md.

Targets (the gateway issue): native gRPC through the gateway ≥ 0.85× the direct call's req/s;
Connect JSON ≥ 0.6× native gRPC through the gateway.
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "Tests" / "Python"))
from bench_intake import BIN  # noqa: E402
from bench_rpc import replace_block  # noqa: E402
from bench_gateway import embedded_up  # noqa: E402
from directory_client import signed  # noqa: E402
from web_client import frame  # noqa: E402

XIESHANG = BIN / "xieshang"
SECRET = os.environ.setdefault("XIESHANG_PRINCIPAL_SECRET", "xieshang-bench-principal-secret")
PATH = "/xieshang.directory.v1.DirectoryService/GetMember"


def varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def call_json(port: int, method: str, data: dict, token: str) -> dict:
    out = subprocess.run([str(XIESHANG), "call", method, "--address", f"127.0.0.1:{port}", "--token", token,
                          "--data", json.dumps(data)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def signed_principal(principal_json: dict) -> tuple[str, str]:
    """The principal as the gateway forwards it (directory_client.signed), each `-bin` value in
    base64 for h2load's headers. Serialised here from the fields WhoAmI returns; the service
    checks the signature over the bytes it receives."""
    from conftest import ensure_generated
    ensure_generated()
    from google.protobuf import json_format
    from xieshang.common.v1 import principal_pb2
    (_, raw), (_, sig) = signed(json_format.ParseDict(principal_json, principal_pb2.Principal()), secret=SECRET)
    return base64.b64encode(raw).decode(), base64.b64encode(sig).decode()


def h2load(url: str, body: bytes, headers: list[str], args, h1: bool = False) -> dict:
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(body)
    argv = ["h2load", "-D", str(args.seconds), "--warm-up-time", "1", "-t", "1", "-d", f.name]
    argv += ["--h1", "-c", str(args.concurrency)] if h1 else ["-c", str(args.connections), "-m", str(args.concurrency // args.connections)]
    for h in headers:
        argv += ["-H", h]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=args.seconds + 60).stdout
    os.unlink(f.name)
    rps = float(re.search(r"finished in [\d.]+s, ([\d.]+) req/s", out).group(1))
    done = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    mean = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out)
    status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if int(done.group(5)) or int(done.group(6)) or int(status.group(3)) or int(status.group(4)):
        raise RuntimeError(f"failed requests:\n{out}")

    def ms(s: str) -> float:
        return float(s[:-2]) if s.endswith("ms") else float(s[:-2]) / 1000 if s.endswith("us") else float(s[:-1]) * 1000
    return {"rps": rps, "mean_ms": ms(mean.group(3)), "max_ms": ms(mean.group(2)), "requests": int(done.group(4))}


def run(args) -> dict:
    with embedded_up() as (port, addr, token):
        directory = addr["directory"]
        me = call_json(port, "GatewayService/WhoAmI", {}, token)
        member = call_json(port, "DirectoryService/ListMembers", {"pageSize": 1}, token)["members"][0]["id"]
        proto = b"\x08" + varint(int(member))  # GetRequest{id}
        auth = f"authorization: Bearer {token}"
        principal, signature = signed_principal(me["principal"])
        gateway = f"http://127.0.0.1:{port}{PATH}"
        grpc_headers = ["content-type: application/grpc", "te: trailers"]
        variants = [
            ("native gRPC, direct to the directory", f"http://{directory}{PATH}", frame(proto),
             grpc_headers + [f"x-xieshang-principal-bin: {principal}", f"x-xieshang-signature-bin: {signature}"], False),
            ("native gRPC via gateway", gateway, frame(proto), grpc_headers + [auth], False),
            ("Connect JSON via gateway (HTTP/2)", gateway, json.dumps({"id": member}).encode(),
             ["content-type: application/json", "connect-protocol-version: 1", auth], False),
            ("Connect proto via gateway (HTTP/2)", gateway, proto, ["content-type: application/proto", auth], False),
            ("gRPC-Web via gateway (HTTP/2)", gateway, frame(proto), ["content-type: application/grpc-web+proto", "x-grpc-web: 1", auth], False),
            ("Connect JSON via gateway (HTTP/1.1)", gateway, json.dumps({"id": member}).encode(),
             ["content-type: application/json", "connect-protocol-version: 1", auth], True),
        ]
        # Rounds interleave the variants, so a slow spell of the shared machine hits them all;
        # each variant reports its median round.
        runs: dict[str, list[dict]] = {name: [] for name, *_ in variants}
        for round_ in range(args.rounds):
            for name, url, body, headers, h1 in variants:
                r = h2load(url, body, headers, args, h1=h1)
                print(f"  round {round_ + 1}: {name:40s} {r['rps']:9,.0f} req/s  mean {r['mean_ms']:.2f} ms", flush=True)
                runs[name].append(r)
        return {name: sorted(rs, key=lambda r: r["rps"])[len(rs) // 2] for name, rs in runs.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, default=64, help="streams in flight (HTTP/1.1: connections)")
    ap.add_argument("--connections", type=int, default=4, help="HTTP/2 connections the streams share")
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3, help="runs of every variant, interleaved; the median is reported")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()
    print("gateway protocols (xieshang up, SQLite):", flush=True)
    r = run(args)
    direct = r["native gRPC, direct to the directory"]["rps"]
    native = r["native gRPC via gateway"]["rps"]
    lines = [
        "<!-- gateway-web-bench:start -->",
        "## Gateway: GetMember by each protocol, and straight to the directory",
        "",
        f"`make bench` (`scripts/bench_gateway_web.py`): `DirectoryService/GetMember` of one member of 长顺县, loaded by "
        f"h2load for {args.seconds} s after 1 s of warm-up, {args.rounds} rounds interleaving the protocols, the median round "
        f"reported: {args.concurrency} streams in flight on {args.connections} HTTP/2 "
        f"connections, or {args.concurrency} HTTP/1.1 connections. One `xieshang up` (SQLite), one run, everything on the two "
        "cores (h2load takes one). Through the gateway each call carries a liaison staff token; straight to the directory it "
        "carries the same principal, signed as the gateway signs it.",
        "",
        "| protocol | req/s | mean ms | max ms | × direct | × native via gateway |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, v in r.items():
        lines.append(f"| {name} | {v['rps']:,.0f} | {v['mean_ms']:.2f} | {v['max_ms']:.2f} | {v['rps'] / direct:.2f} | {v['rps'] / native:.2f} |")
    lines.append("<!-- gateway-web-bench:end -->")
    replace_block(Path(args.out), "gateway-web-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
