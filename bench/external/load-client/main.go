// Command load-client is the external benchmark's gRPC load generator: a
// closed loop of C connections x M calls in flight, duration-bounded, with
// mTLS, a bearer token and a fresh W3C traceparent per call, like a real
// caller of Gatehouse. Requests are pre-encoded bytes sent through a raw codec,
// so no generated code is needed and the client spends nothing on protobuf.
//
// It prints one JSON object (calls/s, p50/p99, status counts, its own CPU
// ticks) and, when given -server-pid, the server process's CPU ticks over
// exactly the measured window (read from /proc here, at the window's edges, so
// no other process's timing blurs them).
//
// Built offline from Debian's golang-google-grpc-dev (GOPATH mode); see
// bench/external/load-client.ts.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawCodec passes pre-encoded message bytes through untouched, both ways.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append((*(v.(*[]byte)))[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

type options struct {
	target, method, kind, tlsMode string
	ca, cert, key, serverName     string
	token                         string
	traceparent                   bool
	request                       []byte
	connections, inflight         int
	duration, warmup, timeout     time.Duration
	expectMessages                int
	serverPid                     int
	dump                          bool
}

// result is what one run prints.
type result struct {
	Calls          int            `json:"calls"`
	OK             int            `json:"ok"`
	Errors         map[string]int `json:"errors"`
	FirstError     string         `json:"firstError,omitempty"`
	Seconds        float64        `json:"seconds"`
	CallsPerSec    float64        `json:"callsPerSec"`
	P50Ms          float64        `json:"p50Ms"`
	P99Ms          float64        `json:"p99Ms"`
	Messages       int            `json:"messages"`
	ServerCPUTicks *int64         `json:"serverCpuTicks,omitempty"`
	ClientCPUTicks int64          `json:"clientCpuTicks"`
	Connections    int            `json:"connections"`
	InFlight       int            `json:"inFlight"`
}

func main() {
	o := parseFlags()
	conns := make([]*grpc.ClientConn, o.connections)
	for i := range conns {
		conn, err := dial(o)
		if err != nil {
			fail("cannot connect to %s: %v", o.target, err)
		}
		defer conn.Close()
		conns[i] = conn
	}
	if o.dump {
		dump(o, conns[0])
		return
	}
	if o.warmup > 0 {
		run(o, conns, o.warmup, false)
	}
	res := run(o, conns, o.duration, true)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func parseFlags() options {
	var o options
	var request string
	flag.StringVar(&o.target, "target", "127.0.0.1:50051", "host:port of the server")
	flag.StringVar(&o.method, "method", "/gatehouse.tts.v1.TextToSpeech/ListVoices", "full method path")
	flag.StringVar(&o.kind, "kind", "unary", "unary | server-stream")
	flag.StringVar(&request, "request", "0a027275", "request message, hex (default ListVoicesRequest{language_code: \"ru\"})")
	flag.StringVar(&o.tlsMode, "tls", "mtls", "mtls | tls | plaintext")
	flag.StringVar(&o.ca, "ca", "", "CA certificate (PEM) the server certificate must chain to")
	flag.StringVar(&o.cert, "cert", "", "client certificate (PEM), for -tls mtls")
	flag.StringVar(&o.key, "key", "", "client key (PEM), for -tls mtls")
	flag.StringVar(&o.serverName, "server-name", "localhost", "name the server certificate must carry")
	flag.StringVar(&o.token, "token", os.Getenv("LOAD_CLIENT_TOKEN"), "bearer token sent on every call (default $LOAD_CLIENT_TOKEN, so it stays out of ps; empty: none)")
	flag.BoolVar(&o.traceparent, "traceparent", true, "send a fresh W3C traceparent on every call")
	flag.IntVar(&o.connections, "connections", 10, "HTTP/2 connections")
	flag.IntVar(&o.inflight, "inflight", 10, "calls in flight per connection")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measured window")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "load before the measured window on the same connections (not counted)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline of each call")
	flag.IntVar(&o.expectMessages, "expect-messages", 0, "server-stream: replies a call must carry to count as OK (0: any)")
	flag.IntVar(&o.serverPid, "server-pid", 0, "report this process's utime+stime ticks over the measured window")
	flag.BoolVar(&o.dump, "dump", false, "make one call and print the reply messages as hex, one per line")
	flag.Parse()
	var err error
	if o.request, err = hex.DecodeString(request); err != nil {
		fail("-request: %v", err)
	}
	if o.connections < 1 || o.inflight < 1 {
		fail("-connections and -inflight must be at least 1")
	}
	if o.kind != "unary" && o.kind != "server-stream" {
		fail("-kind must be unary or server-stream")
	}
	return o
}

func dial(o options) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithBlock(), grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}))}
	switch o.tlsMode {
	case "plaintext":
		opts = append(opts, grpc.WithInsecure())
	case "tls", "mtls":
		config := &tls.Config{ServerName: o.serverName, RootCAs: x509.NewCertPool()}
		pem, err := ioutil.ReadFile(o.ca)
		if err != nil {
			return nil, err
		}
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", o.ca)
		}
		if o.tlsMode == "mtls" {
			pair, err := tls.LoadX509KeyPair(o.cert, o.key)
			if err != nil {
				return nil, err
			}
			config.Certificates = []tls.Certificate{pair}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(config)))
	default:
		return nil, fmt.Errorf("-tls must be mtls, tls or plaintext")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return grpc.DialContext(ctx, o.target, opts...)
}

// worker is one call slot: it keeps exactly one call in flight until the window closes.
type worker struct {
	latencies []time.Duration
	ok        int
	messages  int
	errors    map[string]int
	first     string
	seq       uint64
	id        uint64
}

func run(o options, conns []*grpc.ClientConn, window time.Duration, measured bool) result {
	workers := make([]*worker, 0, len(conns)*o.inflight)
	var wg sync.WaitGroup
	var ticksAtStart int64
	if measured && o.serverPid > 0 {
		ticksAtStart = cpuTicks(o.serverPid)
	}
	// The client's own CPU over the window: near one full core means the client, not the server, set the pace.
	ownTicksAtStart := cpuTicks(os.Getpid())
	start := time.Now()
	end := start.Add(window)
	for c, conn := range conns {
		for m := 0; m < o.inflight; m++ {
			w := &worker{errors: map[string]int{}, id: uint64(c*o.inflight + m + 1), latencies: make([]time.Duration, 0, 4096)}
			workers = append(workers, w)
			wg.Add(1)
			go func(conn *grpc.ClientConn, w *worker) {
				defer wg.Done()
				for time.Now().Before(end) {
					began := time.Now()
					msgs, err := call(o, conn, w)
					if err != nil {
						code := status.Code(err).String()
						w.errors[code]++
						if w.first == "" {
							w.first = err.Error()
						}
						continue
					}
					w.latencies = append(w.latencies, time.Since(began))
					w.ok++
					w.messages += msgs
				}
			}(conn, w)
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := result{Errors: map[string]int{}, Seconds: elapsed.Seconds(), Connections: len(conns), InFlight: len(conns) * o.inflight}
	res.ClientCPUTicks = cpuTicks(os.Getpid()) - ownTicksAtStart
	if measured && o.serverPid > 0 {
		ticks := cpuTicks(o.serverPid) - ticksAtStart
		res.ServerCPUTicks = &ticks
	}
	all := make([]time.Duration, 0, 1<<16)
	for _, w := range workers {
		all = append(all, w.latencies...)
		res.OK += w.ok
		res.Messages += w.messages
		for code, n := range w.errors {
			res.Errors[code] += n
			res.Calls += n
		}
		if res.FirstError == "" {
			res.FirstError = w.first
		}
	}
	res.Calls += res.OK
	res.CallsPerSec = float64(res.OK) / elapsed.Seconds()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.P50Ms = percentileMs(all, 0.50)
	res.P99Ms = percentileMs(all, 0.99)
	return res
}

// call makes one call; for a server stream it reads to the end and checks the message count.
func call(o options, conn *grpc.ClientConn, w *worker) (int, error) {
	ctx, cancel := context.WithTimeout(callContext(o, w), o.timeout)
	defer cancel()
	request := o.request
	var reply []byte
	if o.kind == "unary" {
		return 1, conn.Invoke(ctx, o.method, &request, &reply)
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, o.method)
	if err != nil {
		return 0, err
	}
	if err := stream.SendMsg(&request); err != nil {
		return 0, err
	}
	if err := stream.CloseSend(); err != nil {
		return 0, err
	}
	n := 0
	for {
		if err := stream.RecvMsg(&reply); err == io.EOF {
			break
		} else if err != nil {
			return n, err
		}
		n++
	}
	if o.expectMessages > 0 && n != o.expectMessages {
		return n, fmt.Errorf("stream carried %d messages, expected %d", n, o.expectMessages)
	}
	return n, nil
}

// callContext carries the bearer token and a traceparent unique to this call (trace id from the worker and a counter).
func callContext(o options, w *worker) context.Context {
	pairs := make([]string, 0, 4)
	if o.token != "" {
		pairs = append(pairs, "authorization", "Bearer "+o.token)
	}
	if o.traceparent {
		w.seq++
		pairs = append(pairs, "traceparent", fmt.Sprintf("00-%016x%016x-%016x-01", w.id, w.seq, w.seq|1<<63))
	}
	return metadata.AppendToOutgoingContext(context.Background(), pairs...)
}

func dump(o options, conn *grpc.ClientConn) {
	w := &worker{id: 1}
	ctx, cancel := context.WithTimeout(callContext(o, w), o.timeout)
	defer cancel()
	request := o.request
	var reply []byte
	if o.kind == "unary" {
		if err := conn.Invoke(ctx, o.method, &request, &reply); err != nil {
			fail("%s: %v", o.method, err)
		}
		fmt.Println(hex.EncodeToString(reply))
		return
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, o.method)
	if err == nil {
		err = stream.SendMsg(&request)
	}
	if err == nil {
		err = stream.CloseSend()
	}
	for err == nil {
		if err = stream.RecvMsg(&reply); err == nil {
			fmt.Println(hex.EncodeToString(reply))
		}
	}
	if err != io.EOF {
		fail("%s: %v", o.method, err)
	}
}

func percentileMs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i].Microseconds()) / 1000
}

// cpuTicks is utime+stime of every thread of the process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
func cpuTicks(pid int) int64 {
	data, err := ioutil.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		fail("cannot read the server's CPU time: %v", err)
	}
	// The command name (field 2) may hold spaces; the fields after it start past the last ')'.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "load-client: "+format+"\n", args...)
	os.Exit(1)
}
