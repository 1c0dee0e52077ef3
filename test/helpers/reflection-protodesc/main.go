// Command reflection-protodesc loads a server's descriptors the way grpcurl
// does: through grpc.reflection.v1alpha, then Go's protodesc.NewFiles, which
// rejects what the protobuf language forbids (wrong map entry names, missing
// imports, unresolvable types). It prints the services and their methods as
// resolved from the validated files, as JSON; it exits 1 naming the problem.
//
// Usage: reflection-protodesc -target HOST:PORT -ca CA -cert CERT -key KEY
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

func main() {
	target := flag.String("target", "", "host:port")
	ca := flag.String("ca", "", "CA certificate (PEM)")
	cert := flag.String("cert", "", "client certificate (PEM)")
	key := flag.String("key", "", "client key (PEM)")
	flag.Parse()

	pool := x509.NewCertPool()
	pem, err := ioutil.ReadFile(*ca)
	check(err)
	pool.AppendCertsFromPEM(pem)
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	check(err)
	creds := credentials.NewTLS(&tls.Config{ServerName: "localhost", RootCAs: pool, Certificates: []tls.Certificate{pair}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *target, grpc.WithTransportCredentials(creds), grpc.WithBlock())
	check(err)
	defer conn.Close()
	stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	check(err)

	ask := func(request *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
		check(stream.Send(request))
		response, err := stream.Recv()
		check(err)
		if e := response.GetErrorResponse(); e != nil {
			fail("reflection refused %v: %s", request, e.ErrorMessage)
		}
		return response
	}

	var services []string
	for _, s := range ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}).GetListServicesResponse().Service {
		services = append(services, s.Name)
	}
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	for _, name := range services {
		response := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: name}})
		for _, raw := range response.GetFileDescriptorResponse().FileDescriptorProto {
			file := &descriptorpb.FileDescriptorProto{}
			check(proto.Unmarshal(raw, file))
			if !seen[file.GetName()] {
				seen[file.GetName()] = true
				set.File = append(set.File, file)
			}
		}
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		fail("protodesc rejects the reflected descriptors: %v", err)
	}
	methods := map[string][]string{}
	for _, name := range services {
		d, err := files.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			fail("service %s is listed but not described: %v", name, err)
		}
		service := d.(protoreflect.ServiceDescriptor)
		for i := 0; i < service.Methods().Len(); i++ {
			methods[name] = append(methods[name], string(service.Methods().Get(i).Name()))
		}
	}
	var names []string
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	out, _ := json.Marshal(map[string]interface{}{"services": services, "files": names, "methods": methods})
	fmt.Println(string(out))
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "reflection-protodesc: "+format+"\n", args...)
	os.Exit(1)
}
