// Command echo-upstream is the upstream of the routing benchmark: a Go gRPC
// server that answers any method without generated code (an unknown-service
// handler and a raw codec), so the benchmark measures the gateway, not the
// service behind it. helloworld.Greeter/SayHelloStreamReply streams ten
// replies; every other method gets one. grpc.health.v1.Health answers SERVING
// (Check and Watch), so the gateway's health checks pass.
//
// Plaintext on 127.0.0.1:0; prints {"port": N} on file descriptor 3.
// Built offline from Debian's golang-google-grpc-dev (bench/external/go-build.ts).
package main

import (
	"encoding/json"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rawCodec passes message bytes through untouched, both ways.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append((*(v.(*[]byte)))[:0], data...)
	return nil
}
func (rawCodec) Name() string   { return "proto" }
func (rawCodec) String() string { return "proto" }

// helloReply is HelloReply{message: "Hello, bench"}, encoded.
var helloReply = append([]byte{0x0a, 12}, []byte("Hello, bench")...)

// serving is HealthCheckResponse{status: SERVING}, encoded.
var serving = []byte{0x08, 0x01}

func handle(_ interface{}, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	switch method {
	case "/grpc.health.v1.Health/Check":
		return stream.SendMsg(&serving)
	case "/grpc.health.v1.Health/Watch":
		if err := stream.SendMsg(&serving); err != nil {
			return err
		}
		<-stream.Context().Done()
		return nil
	}
	var request []byte
	if err := stream.RecvMsg(&request); err != nil {
		return status.Error(codes.InvalidArgument, "no request message")
	}
	replies := 1
	if method == "/helloworld.Greeter/SayHelloStreamReply" {
		replies = 10
	}
	for i := 0; i < replies; i++ {
		if err := stream.SendMsg(&helloReply); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	server := grpc.NewServer(grpc.CustomCodec(rawCodec{}), grpc.UnknownServiceHandler(handle))
	ready, _ := json.Marshal(map[string]int{"port": listener.Addr().(*net.TCPAddr).Port})
	fd3 := os.NewFile(3, "ready")
	fd3.Write(append(ready, '\n'))
	fd3.Close()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		server.Stop()
	}()
	server.Serve(listener)
}
