// Package redistest gives tests a real Redis server: the one named by
// REDIS_TEST_URL (as .ci/run sets), or else a redis-server from PATH started
// for the test binary on a free loopback port in a temp dir.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	mu      sync.Mutex
	started string
)

// URL returns the URL of a real Redis server, starting one if needed.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_TEST_URL"); u != "" {
		return u
	}
	mu.Lock()
	defer mu.Unlock()
	if started != "" {
		return started
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("tests need a real Redis: set REDIS_TEST_URL or install redis-server (bash .ci/run does both)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		t.Fatal(err)
	}
	// The server serves every test of this binary and dies with it.
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	u := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	for i := 0; ; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			break
		}
		if i > 100 {
			t.Fatalf("redis-server did not answer on port %d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
	started = u
	return u
}

// Client returns a client to the test Redis and a key prefix unique to
// this test, so tests share one server without flushing it.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, Prefix()
}

// Prefix returns a fresh random key prefix.
func Prefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}
