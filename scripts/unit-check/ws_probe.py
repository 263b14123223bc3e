"""Inside the unit check's container: register over HTTP, then send one message over the
WebSocket and wait for its ack (exercises argon2 and the whole stack under the unit)."""

import json
import os
import ssl
import sys
import tomllib
import urllib.request

import trio
from trio_websocket import open_websocket_url

from chatd.wire import decode_server_message, encode_client_frame

url = sys.argv[1]
cfg = tomllib.load(open("/etc/chatd/chatd.toml", "rb"))
origin = (cfg.get("public_origins") or [url])[0]
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
body = json.dumps({"username": f"probe{os.getpid()}{os.urandom(2).hex()}", "display_name": "Probe", "password": "correct horse battery"}).encode()
req = urllib.request.Request(url + "/api/register", body, {"Content-Type": "application/json", "Origin": origin})
with urllib.request.urlopen(req, context=ctx if url.startswith("https") else None) as resp:
    cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
print(f"register: {resp.status} (argon2id hash computed under the unit)")


async def main() -> None:
    ws_url = url.replace("http", "ws", 1) + "/ws"
    async with open_websocket_url(ws_url, ssl_context=ctx if url.startswith("https") else None,
                                  extra_headers=[("Origin", origin), ("Cookie", cookie)]) as ws:
        await ws.send_message(encode_client_frame({"op": "hello", "rid": 1, "v": 1}))
        hello = decode_server_message(await ws.get_message())[0]
        ch = hello["channels"][0]["id"]
        await ws.send_message(encode_client_frame(
            {"op": "send", "rid": 2, "ch": ch, "cid": os.urandom(16), "body": "from inside the unit"}))
        while True:
            for frame in decode_server_message(await ws.get_message()):
                if frame.get("rid") == 2:
                    assert frame["op"] == "ack", frame
                    print(f"websocket: message acked with seq {frame['seq']}")
                    return


trio.run(main)
