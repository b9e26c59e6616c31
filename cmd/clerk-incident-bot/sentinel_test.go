package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startRedis(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("needs redis-server on PATH (bash .ci/run installs it)")
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func waitPing(t *testing.T, port int) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer rdb.Close()
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 200 {
			t.Fatalf("redis on %d did not start", port)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// A Sentinel-managed pair on loopback: the master is killed, Sentinel
// promotes the replica, and the bot carries on with nothing lost.
func TestSentinelFailover(t *testing.T) {
	// Not parallel: it frees ports and takes them again, which another
	// test's listener could take in between.
	dir := t.TempDir()
	mport, rport, sport := freePort(t), freePort(t), freePort(t)
	master := startRedis(t, "--port", strconv.Itoa(mport), "--bind", "127.0.0.1", "--dir", filepath.Join(dir), "--dbfilename", "m.rdb", "--appendonly", "no", "--save", "")
	waitPing(t, mport)
	startRedis(t, "--port", strconv.Itoa(rport), "--bind", "127.0.0.1", "--dir", dir, "--dbfilename", "r.rdb", "--save", "",
		"--replicaof", "127.0.0.1", strconv.Itoa(mport))
	waitPing(t, rport)
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(rport)})
	for i := 0; ; i++ {
		info, _ := rc.Info(context.Background(), "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			break
		}
		if i > 400 {
			t.Fatal("replica never synced")
		}
		time.Sleep(25 * time.Millisecond)
	}
	rc.Close()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\nsentinel parallel-syncs mymaster 1\n", sport, mport)), 0o600); err != nil {
		t.Fatal(err)
	}
	startRedis(t, conf, "--sentinel")
	waitPing(t, sport)

	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0?master_name=mymaster", sport)
	h := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: "sentinel:", Env: map[string]string{"REDIS_URL": url, "SLACK_RESPONDERS": "U1"}})
	s := h.Slack
	s.Command(t, "U1", "C1", "open outage Before failover")
	card := s.ExpectMessage(t, "C1", "INC-1")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	s.ExpectEphemeral(t, "U1", "Opened")

	// Make sure the replica has it, then kill the master.
	mc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(mport)})
	if n, err := mc.Do(context.Background(), "WAIT", 1, 2000).Int(); err != nil || n < 1 {
		t.Fatalf("replica not in sync: %d %v", n, err)
	}
	mc.Close()
	_ = master.Process.Kill()
	_ = master.Wait()

	// Commands may meet the failover; they say so and work again once
	// Sentinel has promoted the replica.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.Command(t, "U1", "C1", "note INC-1 after failover")
		m := s.Expect(t, fakeslack.Match{Contains: []string{}, Ephemeral: true, User: "U1"})
		if m.Contains("Note added") {
			break
		}
		if !m.Contains("incident store is unavailable") {
			t.Fatalf("unexpected reply: %s", m.Render())
		}
		if time.Now().After(deadline) {
			t.Fatal("no failover within 30 s")
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.Command(t, "U1", "C1", "status INC-1")
	s.ExpectEphemeral(t, "U1", "INC-1 · Before failover", "Note: after failover")
}
