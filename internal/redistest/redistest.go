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

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
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
	rdb.AddHook(redisx.ErrorCodes{}) // as the program's client does
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, Prefix()
}

// Prefix returns a fresh random key prefix.
func Prefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}

// Server is a redis-server of a test's own, with append-only persistence,
// that the test can stop and start again on the same port (fault tests).
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// StartServer starts a private redis-server with appendonly on.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("fault tests need redis-server on PATH (bash .ci/run installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), port: port}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Start (re)starts the server on its port with its data directory.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)})
	defer rdb.Close()
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 200 {
			s.t.Fatalf("redis-server did not come up on %d", s.port)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Stop kills the server at once (kill -9): only what append-only
// persistence wrote survives.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
