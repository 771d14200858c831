"""The proxy's hop to the DataNodes (services/proxy.sh): nginx passes /datanode/PORT/webhdfs/v1/…
here, on a Unix socket; this relays it to http://127.0.0.1:PORT/webhdfs/v1/… byte for byte, both
ways streamed, and drops the interim 1xx responses of the DataNode.

Why not nginx alone: the DataNode answers every CREATE and APPEND with "100 Continue" before it
reads the body, Expect header or not. nginx (1.22, as Debian 12 ships it) takes an upstream's 100
for the response, passes it on, and then stops sending the request body to that upstream: an
upload larger than the sockets' buffers stalls (a 60 MB CREATE stopped at 41 MB). nginx answers a
client's Expect: 100-continue itself, so dropping the DataNode's interim answers loses nothing.

Only 127.0.0.1, only /webhdfs/v1/ paths; anything else is a 404. Python's standard library only.
Usage: datanode-relay.py SOCKET_PATH
"""

import asyncio
import contextlib
import os
import re
import sys

TARGET = re.compile(rb"/datanode/([0-9]{1,5})(/webhdfs/v1/\S*)")
HEAD_LIMIT = 64 * 1024
CHUNK = 64 * 1024


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        return


def close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):  # already gone
        writer.close()


async def answer(writer: asyncio.StreamWriter, status: bytes) -> None:
    writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()


async def handle(creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
    uwriter = None
    try:
        head = await creader.readuntil(b"\r\n\r\n")
        line, _, rest = head.partition(b"\r\n")
        parts = line.split(b" ")
        m = TARGET.fullmatch(parts[1]) if len(parts) == 3 else None
        port = int(m.group(1)) if m else 0
        if not m or not 0 < port < 65536:
            await answer(cwriter, b"404 Not Found")
            return
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await answer(cwriter, b"502 Bad Gateway")
            return
        uwriter.write(b" ".join([parts[0], m.group(2), parts[2]]) + b"\r\n" + rest)
        # the request body, as it comes (Content-Length or chunked: the bytes as they are).
        # nginx closes its side once it has the whole response: then so does the upstream's.
        upload = asyncio.ensure_future(pipe(creader, uwriter))
        upload.add_done_callback(lambda _: close(uwriter))
        while True:
            rhead = await ureader.readuntil(b"\r\n\r\n")
            status = rhead.split(b" ", 2)[1] if rhead.count(b" ") >= 1 else b""
            if status.startswith(b"1") and status != b"101":
                continue  # an interim answer (the DataNode's 100 Continue)
            cwriter.write(rhead)
            break
        await pipe(ureader, cwriter)
        upload.cancel()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        if uwriter is not None:
            close(uwriter)
        close(cwriter)


async def main(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)
    server = await asyncio.start_unix_server(handle, path=path, limit=HEAD_LIMIT)
    os.chmod(path, 0o600)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
