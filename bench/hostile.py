#!/usr/bin/env python3
"""Hostile clients for bench/soak.sh: the attacks of the security review
(issue 23), run together against one server for a while.

Each attack runs a fixed number of concurrent clients; a client the server
closes is replaced at once, so the pressure stays on for the whole run.

  silent      sockets that connect and never send a byte
  preconnect  a handshake, then a 16 MiB command announced before `connect`,
              trickled (the pre-connect memory attack)
  garbage     random bytes instead of a handshake
  trickle     a real publisher that announces a 16 MiB video message after
              `publish` and sends it at one byte a second (normal_timeout)
  longname    HTTP-FLV requests with 7 KB stream names
  slowloris   HTTP requests whose header never ends

Prints one JSON line at the end: per attack, connections made and how many
the server closed (or, for HTTP, refused with a 4xx).

usage: hostile.py HOST RTMP_PORT HTTP_PORT SECONDS [attack=N ...]
"""

import asyncio
import json
import os
import struct
import sys
import time

DEFAULTS = {
    "silent": 200,
    "preconnect": 20,
    "garbage": 5,
    "trickle": 5,
    "longname": 5,
    "slowloris": 50,
}


def amf_string(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_number(n):
    return b"\x00" + struct.pack(">d", n)


def amf_object(fields):
    out = b"\x03"
    for k, v in fields.items():
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + amf_string(v)
    return out + b"\x00\x00\x09"


def chunked(csid, type_id, stream_id, payload, chunk=128):
    """One RTMP message as type-0 then type-3 chunks (RTMP spec 5.3.1)."""
    head = bytes([csid]) + b"\x00\x00\x00" + struct.pack(">I", len(payload))[1:]
    head += bytes([type_id]) + struct.pack("<I", stream_id)
    out = head + payload[:chunk]
    for i in range(chunk, len(payload), chunk):
        out += bytes([0xC0 | csid]) + payload[i : i + chunk]
    return out


async def handshake(reader, writer):
    writer.write(b"\x03" + bytes(1536))
    await writer.drain()
    s0s1s2 = await reader.readexactly(3073)
    writer.write(s0s1s2[1:1537])
    await writer.drain()


async def until_closed(reader, deadline):
    """Reads until the server closes; True if it did before `deadline`."""
    while time.monotonic() < deadline:
        try:
            data = await asyncio.wait_for(reader.read(65536), 1.0)
        except asyncio.TimeoutError:
            continue
        except (ConnectionError, OSError):
            return True
        if not data:
            return True
    return False


async def silent(host, rtmp, http, deadline):
    reader, writer = await asyncio.open_connection(host, rtmp)
    try:
        return await until_closed(reader, deadline)
    finally:
        writer.close()


async def preconnect(host, rtmp, http, deadline):
    reader, writer = await asyncio.open_connection(host, rtmp)
    try:
        await handshake(reader, writer)
        writer.write(b"\x03\x00\x00\x00\xff\xff\xff\x14\x00\x00\x00\x00")
        sent = 0
        while time.monotonic() < deadline:
            writer.write((b"\xc3" if sent else b"") + os.urandom(128))
            await writer.drain()
            sent += 128
            await asyncio.sleep(0.01)
        return False
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        return True
    finally:
        writer.close()


async def garbage(host, rtmp, http, deadline):
    reader, writer = await asyncio.open_connection(host, rtmp)
    try:
        writer.write(os.urandom(4096))
        await writer.drain()
        return await until_closed(reader, deadline)
    except (ConnectionError, OSError):
        return True
    finally:
        writer.close()


async def trickle(host, rtmp, http, deadline):
    reader, writer = await asyncio.open_connection(host, rtmp)
    name = "trickle%d" % (int(time.monotonic() * 1000) % 100000)
    try:
        await handshake(reader, writer)
        tc = "rtmp://%s:%d/live" % (host, rtmp)
        cmds = [
            amf_string("connect") + amf_number(1) + amf_object({"app": "live", "tcUrl": tc}),
            amf_string("createStream") + amf_number(2) + b"\x05",
        ]
        for c in cmds:
            writer.write(chunked(3, 20, 0, c))
        publish = amf_string("publish") + amf_number(3) + b"\x05" + amf_string(name) + amf_string("live")
        writer.write(chunked(4, 20, 1, publish))
        # A 16 MiB video message that never completes: one byte a second.
        writer.write(b"\x06\x00\x00\x00\xff\xff\xff\x09\x01\x00\x00\x00")
        await writer.drain()
        first = True
        while time.monotonic() < deadline:
            writer.write(b"\x17" if first else b"\x00")
            first = False
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(65536), 1.0)
                if not data:
                    return True
            except asyncio.TimeoutError:
                pass
        return False
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        return True
    finally:
        writer.close()


async def longname(host, rtmp, http, deadline):
    reader, writer = await asyncio.open_connection(host, http)
    try:
        path = "/live/" + "n" * 7000 + ".flv"
        writer.write(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        await writer.drain()
        # Refused if the server answers 4xx (and may keep the connection
        # alive, as HTTP/1.1 allows) or closes.
        try:
            head = await asyncio.wait_for(reader.read(64), 5)
        except asyncio.TimeoutError:
            return False
        return not head or head.startswith(b"HTTP/1.1 4") or head.startswith(b"HTTP/1.0 4")
    except (ConnectionError, OSError):
        return True
    finally:
        writer.close()


async def slowloris(host, rtmp, http, deadline):
    reader, writer = await asyncio.open_connection(host, http)
    try:
        writer.write(b"GET /live/x.flv HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        while time.monotonic() < deadline:
            writer.write(b"X-a: b\r\n")
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(65536), 5.0)
                if not data:
                    return True
            except asyncio.TimeoutError:
                pass
        return False
    except (ConnectionError, OSError):
        return True
    finally:
        writer.close()


ATTACKS = {f.__name__: f for f in [silent, preconnect, garbage, trickle, longname, slowloris]}


async def worker(kind, host, rtmp, http, deadline, stats):
    while time.monotonic() < deadline:
        stats[kind]["made"] += 1
        try:
            closed = await ATTACKS[kind](host, rtmp, http, deadline)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            closed = True
        if closed:
            stats[kind]["closed"] += 1
            # A refused client retries soon, as a real flood would.
            await asyncio.sleep(0.2)


async def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    host, rtmp, http, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    counts = dict(DEFAULTS)
    for arg in sys.argv[5:]:
        k, v = arg.split("=")
        if k not in ATTACKS:
            sys.exit("unknown attack %s" % k)
        counts[k] = int(v)
    deadline = time.monotonic() + seconds
    stats = {k: {"clients": n, "made": 0, "closed": 0} for k, n in counts.items()}
    tasks = [
        asyncio.create_task(worker(k, host, rtmp, http, deadline, stats))
        for k, n in counts.items()
        for _ in range(n)
    ]
    await asyncio.gather(*tasks)
    print(json.dumps(stats))


if __name__ == "__main__":
    asyncio.run(main())
