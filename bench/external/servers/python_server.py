"""A Python grpcio (sync) server for the external benchmark, the stack the tutorials used.

/usr/bin/python3 bench/external/servers/python_server.py --dir DIR --reply-file F [--tls mtls|plaintext] [--workers N]

Serves gatehouse.tts.v1.TextToSpeech/ListVoices through a generic handler with
identity (de)serialisers: every call gets the reply Gatehouse gave for
language_code "ru", as the same bytes. A thread pool of --workers threads
(default 10) runs the handlers, as grpc.server() is usually set up. Prints its
port as one JSON line on file descriptor 3 (a pipe the orchestrator opened).
"""
import argparse
import json
import os
import signal
from concurrent import futures

import grpc

parser = argparse.ArgumentParser()
parser.add_argument("--dir", required=True)
parser.add_argument("--reply-file", required=True)
parser.add_argument("--tls", choices=["mtls", "plaintext"], default="plaintext")
parser.add_argument("--workers", type=int, default=10)
args = parser.parse_args()

with open(args.reply_file, "rb") as f:
    reply = f.read()


def list_voices(_request, _context):
    return reply


handler = grpc.method_handlers_generic_handler(
    "gatehouse.tts.v1.TextToSpeech",
    {"ListVoices": grpc.unary_unary_rpc_method_handler(list_voices)},
)
server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers), handlers=[handler])
if args.tls == "mtls":
    certs = os.path.join(args.dir, "certs")

    def read(name):
        with open(os.path.join(certs, name), "rb") as f:
            return f.read()

    credentials = grpc.ssl_server_credentials(
        [(read("server.key"), read("server.crt"))], root_certificates=read("ca.crt"), require_client_auth=True
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
else:
    port = server.add_insecure_port("127.0.0.1:0")
server.start()
os.write(3, (json.dumps({"port": port}) + "\n").encode())
signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
server.wait_for_termination()
