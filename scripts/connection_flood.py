#!/usr/bin/env python3
"""Connection flood for loopback tests of watchpost serve (README, "Connection floods").

Usage: connection_flood.py N SECONDS PAUSE SOURCE HOST:PORT [HOST:PORT...]

Holds N idle TCP connections to each target from the loopback address SOURCE, opening a
new one PAUSE seconds after each the server closes, for SECONDS; prints the counts every
5 s and at the end. Targets must be loopback addresses."""
import asyncio, resource, socket, sys, time

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
N = int(sys.argv[1]); DURATION = float(sys.argv[2]); PAUSE = float(sys.argv[3])
SOURCE = sys.argv[4]; targets = [(h, int(p)) for h, p in (t.split(':') for t in sys.argv[5:])]
assert all(h.startswith('127.') for h, _ in targets)
stats = {t: {'opened': 0, 'closed': 0, 'failed': 0, 'open': 0} for t in targets}
end = time.monotonic() + DURATION

async def slot(target):
    s = stats[target]
    while time.monotonic() < end:
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.bind((SOURCE, 0))
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, target), 5)
            reader, writer = await asyncio.open_connection(sock=sock)
        except Exception:
            s['failed'] += 1
            try: sock.close()
            except Exception: pass
            await asyncio.sleep(PAUSE)
            continue
        s['opened'] += 1; s['open'] += 1
        try:
            left = end - time.monotonic()
            data = await asyncio.wait_for(reader.read(1), max(left, 0.01))
        except asyncio.TimeoutError:
            data = None
        except Exception:
            data = b''
        s['open'] -= 1
        writer.close()
        if data is not None:
            s['closed'] += 1
            await asyncio.sleep(PAUSE)

async def report():
    while time.monotonic() < end:
        await asyncio.sleep(5)
        print(time.strftime('%H:%M:%S'), {f'{h}:{p}': v for (h, p), v in stats.items()}, flush=True)

async def main():
    await asyncio.gather(report(), *[slot(t) for t in targets for _ in range(N)])
asyncio.run(main())
print('final', {f'{h}:{p}': v for (h, p), v in stats.items()}, flush=True)
