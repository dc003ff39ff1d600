#!/usr/bin/env python3
"""A TCP proxy on loopback that delays every chunk by DELAY_MS in each direction (bench only).

The kernel here has no sch_netem, so bench/orchestrator/ssh_round_trips.sh (LATENCY_MS=N) puts
this between picluster and the loopback sshd with DELAY_MS = N/2: a round trip then costs about
N ms more, as over a WAN link. Chunks keep their order; bandwidth is not limited.

Usage: latency_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS   (prints "ready" when listening)
"""
import asyncio
import sys


async def pump(reader, writer, delay):
    queue = asyncio.Queue()

    async def later():
        while True:
            due, data = await queue.get()
            wait = due - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    sender = asyncio.create_task(later())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((asyncio.get_running_loop().time() + delay, data or None))
            if not data:
                break
    except (ConnectionError, OSError):
        await queue.put((0, None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def main():
    listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000.0

    async def serve(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, delay),
                             pump(server_reader, client_writer, delay))
        for w in (client_writer, server_writer):
            w.close()

    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
