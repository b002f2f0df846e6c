#!/usr/bin/env python3
"""pysiaalarm's DC-09 TCP receiver, storing nothing: the third column of
scripts/bench-compare.sh. It accepts the accounts `watchpost bench intake` sends for
(100000 ... 100000+N-1) and ACKs as pysiaalarm does; each event is counted, not kept.

    pip install pysiaalarm
    python3 scripts/pysia_receiver.py --port 7301 --accounts 1000
"""
import argparse
import asyncio

from pysiaalarm import SIAAccount
from pysiaalarm.aio import SIAClient


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    # The generator's frames carry the sender's clock: pysiaalarm's default timeband
    # (40 s back, 20 s ahead) takes them.
    accounts = [SIAAccount(str(100000 + i)) for i in range(args.accounts)]
    received = 0

    async def on_event(_event) -> None:
        nonlocal received
        received += 1

    client = SIAClient(args.host, args.port, accounts, on_event)
    await client.async_start(reuse_address=True)
    print(f"listening on {args.host}:{args.port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
