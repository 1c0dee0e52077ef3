"""A client that knows nothing of Gatehouse's protos: it learns them through server reflection.

/usr/bin/python3 test/helpers/reflection_client.py TARGET CA CERT KEY AUDIO_FILE  (token in $GATEHOUSE_TOKEN)

Uses Debian's python3-grpcio and python3-protobuf (a real protobuf implementation,
not the project's own). Only the reflection request that fetches the reflection
protocol's own descriptor is encoded by hand (a tag and a string); every other
message is built and read with classes made from reflected descriptors in a
fresh descriptor_pool. Prints one JSON object with what it saw; exits non-zero
with a message when a step fails.
"""
import base64
import json
import os
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

target, ca, cert, key, audio_file = sys.argv[1:6]
token = os.environ.get("GATEHOUSE_TOKEN", "")
metadata = [("authorization", "Bearer " + token)] if token else []


def read(path):
    with open(path, "rb") as f:
        return f.read()


channel = grpc.secure_channel(
    target,
    grpc.ssl_channel_credentials(read(ca), read(key), read(cert)),
    options=[("grpc.ssl_target_name_override", "localhost")],
)
pool = descriptor_pool.DescriptorPool()
added = set()


def message_class(full_name):
    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def add_files(serialized_files):
    """Adds FileDescriptorProtos to the pool, each after the files it imports (a reflection reply may list them in any order)."""
    pending = {}
    for data in serialized_files:
        proto = descriptor_pb2.FileDescriptorProto.FromString(data)
        if proto.name not in added:
            pending[proto.name] = proto
    while pending:
        ready = [p for p in pending.values() if all(d in added for d in p.dependency)]
        if not ready:
            missing = sorted({d for p in pending.values() for d in p.dependency if d not in added and d not in pending})
            raise SystemExit("reflection sent files whose imports never came: %s" % missing)
        for proto in ready:
            pool.Add(proto)  # a real protobuf implementation validates it here: names, map entries, imports
            added.add(proto.name)
            del pending[proto.name]


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def fields(data):
    """(field number, bytes) of each length-delimited field: just enough wire format to bootstrap."""
    i = 0
    while i < len(data):
        tag, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            tag |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if tag & 7 == 0:
            while data[i] & 0x80:
                i += 1
            i += 1
            continue
        if tag & 7 != 2:
            raise SystemExit("unexpected wire type %d while bootstrapping" % (tag & 7))
        length, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        yield tag >> 3, data[i : i + length]
        i += length


def reflection_stream(version, request_serializer, response_deserializer):
    return channel.stream_stream(
        "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version,
        request_serializer=request_serializer,
        response_deserializer=response_deserializer,
    )


# 1. Bootstrap: file_containing_symbol (field 4) for the reflection service itself, encoded by hand.
symbol = b"grpc.reflection.v1.ServerReflection"
raw = reflection_stream("v1", None, None)
(reply,) = list(raw(iter([b"\x22" + varint(len(symbol)) + symbol]), metadata=metadata, timeout=10))
files = [body for number, body in fields(reply) if number == 4]
if not files:
    raise SystemExit("no file_descriptor_response for %s: %r" % (symbol, reply[:200]))
add_files([proto for number, proto in fields(files[0]) if number == 1])

# 2. From here on, reflection speaks through classes made from what it described.
Request = message_class("grpc.reflection.v1.ServerReflectionRequest")
Response = message_class("grpc.reflection.v1.ServerReflectionResponse")
reflect = reflection_stream("v1", Request.SerializeToString, Response.FromString)


def ask(**request):
    (response,) = list(reflect(iter([Request(**request)]), metadata=metadata, timeout=10))
    if response.HasField("error_response"):
        raise LookupError("%s: %s" % (request, response.error_response.error_message))
    return response


def resolve(symbol):
    """Makes sure the pool knows a symbol, asking reflection for its file and imports when it does not yet."""
    try:
        pool.FindFileContainingSymbol(symbol)
        return
    except KeyError:
        pass
    add_files(ask(file_containing_symbol=symbol).file_descriptor_response.file_descriptor_proto)


services = [s.name for s in ask(list_services="").list_services_response.service]
for name in services:
    add_files(ask(file_containing_symbol=name).file_descriptor_response.file_descriptor_proto)

audio = base64.b64encode(read(audio_file)).decode()

# One request per service, written as JSON and built with the reflected input type of the method.
plans = {
    "cheesefarm.v1.CheeseService": ("Order", {"type": "BRIE", "age": 12, "idempotency_key": "reflection-python-1"}),
    "gatehouse.tts.v1.TextToSpeech": ("ListVoices", {"language_code": "en"}),
    "gatehouse.stt.v1.SpeechToText": (
        "Recognize",
        {"config": {"encoding": "LINEAR16", "sample_rate_hertz": 16000, "language_code": "en-US"}, "audio": {"content": audio}},
    ),
    "grpc.health.v1.Health": ("Check", {"service": ""}),
    "grpc.reflection.v1.ServerReflection": ("ServerReflectionInfo", {"list_services": ""}),
    "grpc.reflection.v1alpha.ServerReflection": ("ServerReflectionInfo", {"list_services": ""}),
}


def call(service_name, method_name, request_json):
    method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    In, Out = message_class(method.input_type.full_name), message_class(method.output_type.full_name)
    request = In()
    json_format.ParseDict(request_json, request)
    path = "/%s/%s" % (service_name, method_name)
    if method.client_streaming or method.server_streaming:
        stub = channel.stream_stream(path, request_serializer=In.SerializeToString, response_deserializer=Out.FromString)
        replies = list(stub(iter([request]), metadata=metadata, timeout=30))
        return [json_format.MessageToDict(r, preserving_proto_field_name=True) for r in replies]
    stub = channel.unary_unary(path, request_serializer=In.SerializeToString, response_deserializer=Out.FromString)
    return json_format.MessageToDict(stub(request, metadata=metadata, timeout=30), preserving_proto_field_name=True)


results = {}
for name in services:
    if name not in plans:
        raise SystemExit("reflection listed %s, which this client has no request for" % name)
    method_name, request_json = plans[name]
    results[name] = call(name, method_name, request_json)

# 3. A rich error, read with reflected types only: google.rpc.Status and the details its Anys name.
error = {}
try:
    call("cheesefarm.v1.CheeseService", "Order", {"type": "BRIE", "age": 0, "idempotency_key": ""})
    raise SystemExit("an order with age 0 and no idempotency key was accepted")
except grpc.RpcError as rpc_error:
    error["code"] = rpc_error.code().name
    details = dict(rpc_error.trailing_metadata() or ()).get("grpc-status-details-bin")
    if details is None:
        raise SystemExit("INVALID_ARGUMENT came without grpc-status-details-bin")
    resolve("google.rpc.Status")
    status = message_class("google.rpc.Status").FromString(details)
    error["message"] = status.message
    error["details"] = {}
    for any_detail in status.details:
        type_name = any_detail.type_url.split("/")[-1]
        resolve(type_name)
        detail = message_class(type_name).FromString(any_detail.value)
        error["details"][type_name] = json_format.MessageToDict(detail, preserving_proto_field_name=True)

print(json.dumps({"services": services, "files": sorted(added), "results": results, "error": error}))
