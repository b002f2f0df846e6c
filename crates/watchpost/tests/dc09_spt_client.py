#!/usr/bin/env python3
"""A real, independent SIA DC-09 transmitter for watchpost's tests: drives the `dc09_spt`
package from PyPI (https://github.com/jvanovost/dc09_spt) against a receiver.

    dc09_spt_client.py HOST PORT ACCOUNT [--key-ascii K | --key-hex K] [--transport tcp|udp]
        send --type SIA-DCS|ADM-CID --code BA --zone 12 [--q 1] [--area 1] [--timeout 10]
        poll --interval 1 --duration 8

`send` queues one event with `dc09_spt.send_msg` and waits until the package's event thread
has had it ACKed; `poll` runs the package's poll thread (`start_poll`: NULL link tests) for
`--duration` seconds. Every exchange is printed on stdout as one JSON object; the raw bytes on
the wire go to stderr. Exit status 0 when every exchange was ACKed, 1 otherwise.

Install: `python3 -m pip install --no-deps dc09_spt==0.0.4 pycryptodome` (the declared `pycrypto`
does not build; pycryptodome provides the same `Crypto` module).
"""

import argparse
import json
import os
import sys
import threading
import time

import dc09_spt.msg.dc09_msg  # noqa: F401  (the module, for the shim below)
from Crypto.Cipher import AES as _AES
from dc09_spt import dc09_spt as spt_module
from dc09_spt.comm.transpathtcp import TransPathTCP
from dc09_spt.comm.transpathudp import TransPathUDP


def _bytes(value):
    return value.encode("latin-1") if isinstance(value, str) else value


class _Cipher:
    def __init__(self, cipher):
        self.cipher = cipher

    def encrypt(self, data):
        return self.cipher.encrypt(_bytes(data))

    def decrypt(self, data):
        return self.cipher.decrypt(_bytes(data))


class _AesShim:
    """dc09_spt 0.0.4 passes `str` IVs and plaintext to AES (pycrypto-era code); pycryptodome
    wants bytes. This converts and changes nothing else: pad, layout and hex are the
    package's own."""

    MODE_CBC = _AES.MODE_CBC

    @staticmethod
    def new(key, mode, iv):
        return _Cipher(_AES.new(_bytes(key), mode, _bytes(iv)))


# `dc09_spt.msg` rebinds the attribute `dc09_msg` to the class, so reach the module itself.
sys.modules["dc09_spt.msg.dc09_msg"].AES = _AesShim

LOCK = threading.Lock()
RESULTS = []


def report(**entry):
    with LOCK:
        RESULTS.append(entry)
        print(json.dumps(entry), flush=True)


def trace(direction, data):
    print(f"{direction} {data!r}", file=sys.stderr, flush=True)


def wrap_send_and_receive(cls):
    original = cls.sendAndReceive

    def send_and_receive(self, msg, *args, **kwargs):
        trace(">>", msg)
        answer = original(self, msg, *args, **kwargs)
        trace("<<", answer)
        return answer

    cls.sendAndReceive = send_and_receive


wrap_send_and_receive(TransPathTCP)
wrap_send_and_receive(TransPathUDP)


def record_transfers(spt, action):
    """Wraps the dialler's `transfer_msg` (called by both its event and poll threads) so every
    exchange and its outcome is reported; an exception in the package counts as not ACKed."""
    original = spt.transfer_msg

    def transfer_msg(msg_nr, mtype, message, path):
        try:
            acked = bool(original(msg_nr, mtype, message, path))
            error = None
        except Exception as e:  # the package raises on answers it cannot read
            acked, error = False, f"{type(e).__name__}: {e}"
        report(action=action, nr=msg_nr, type=mtype, content=message, acked=acked, error=error)
        return acked

    spt.transfer_msg = transfer_msg


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("account")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--key-ascii", help="AES key as 16 or 32 ASCII characters")
    keys.add_argument("--key-hex", help="AES key as 32 or 64 hex digits")
    parser.add_argument("--transport", choices=["tcp", "udp"], default="tcp")
    actions = parser.add_subparsers(dest="action", required=True)
    send = actions.add_parser("send", help="send one event and wait for its ACK")
    send.add_argument("--type", choices=["SIA-DCS", "ADM-CID"], default="SIA-DCS")
    send.add_argument("--code", required=True, help="SIA code (BA) or Contact ID code (130)")
    send.add_argument("--zone", type=int)
    send.add_argument("--area", type=int)
    send.add_argument("--q", type=int, default=1, help="Contact ID qualifier")
    send.add_argument("--timeout", type=float, default=10.0)
    poll = actions.add_parser("poll", help="send NULL polls for a while")
    poll.add_argument("--interval", type=float, default=1.0)
    poll.add_argument("--duration", type=float, required=True)
    args = parser.parse_args()

    key = None
    if args.key_ascii is not None:
        key = args.key_ascii.encode("ascii")
    elif args.key_hex is not None:
        key = bytes.fromhex(args.key_hex)

    spt = spt_module.dc09_spt(args.account)
    spt.set_path("main", "primary", args.host, args.port, key=key, type=args.transport)
    record_transfers(spt, args.action)

    if args.action == "send":
        params = {"code": args.code}
        if args.zone is not None:
            params["zone"] = args.zone
        if args.area is not None:
            params["area"] = args.area
        if args.type == "ADM-CID":
            params["q"] = args.q
        spt.send_msg(args.type, params)
        deadline = time.monotonic() + args.timeout
        # The event thread retries a refused message every 0.5 s until it is ACKed.
        while time.monotonic() < deadline:
            thread = spt.send
            if spt.notSent() == 0 and (thread is None or not thread.is_alive()):
                break
            time.sleep(0.05)
        ok = spt.notSent() == 0 and any(r["acked"] for r in RESULTS)
        if not ok:
            report(action="send", acked=False, error=f"not ACKed within {args.timeout} s")
    else:
        spt.start_poll(args.interval, retry_delay=args.interval)
        time.sleep(args.duration)
        polls = list(RESULTS)
        ok = len(polls) > 0 and all(r["acked"] for r in polls)
        report(action="poll-summary", polls=len(polls), acked=sum(r["acked"] for r in polls))

    sys.stdout.flush()
    sys.stderr.flush()
    # The package's threads are not daemons and retry forever; leave without joining them.
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
