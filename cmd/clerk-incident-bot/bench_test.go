package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// BenchmarkSlashCommandAck drives slash commands through the fake Socket
// Mode server at 100 commands per second into the real program with a real
// Redis, and reports the ack latency the fake measured (envelope written →
// ack read) as p50 and p99.
func BenchmarkSlashCommandAck(b *testing.B) {
	h := apptest.Start(b, apptest.Spec{Env: map[string]string{"LOG_LEVEL": "warn"}})
	s := h.Slack
	s.Command(b, "U1", "C1", "open outage Benchmark incident")
	s.ExpectMessage(b, "C1", "INC-1")

	measureAcks(b, s, "1 replica")
}

// BenchmarkSlashCommandAckThreeReplicas is the same with three bots on
// one Redis; the fake Slack spreads envelopes over their sockets.
func BenchmarkSlashCommandAckThreeReplicas(b *testing.B) {
	h := apptest.Start(b, apptest.Spec{Env: map[string]string{"LOG_LEVEL": "warn"}})
	apptest.Start(b, apptest.Spec{Slack: h.Slack, Prefix: h.Prefix, Env: map[string]string{"LOG_LEVEL": "warn"}})
	apptest.Start(b, apptest.Spec{Slack: h.Slack, Prefix: h.Prefix, Env: map[string]string{"LOG_LEVEL": "warn"}})
	s := h.Slack
	s.Command(b, "U1", "C1", "open outage Benchmark incident")
	s.ExpectMessage(b, "C1", "INC-1")
	measureAcks(b, s, "3 replicas")
}

// measureAcks sends b.N commands at 100 per second and reports the ack
// latency the fake measured (envelope written → ack read).
func measureAcks(b *testing.B, s *fakeslack.Server, what string) {
	commands := []string{"note INC-1 load test note", "list", "status INC-1", "severity INC-1 P2", "help"}
	const rate = 100
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	ids := make([]string, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		id, err := s.SlashCommand("U1", "C1", commands[i%len(commands)])
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	lat := make([]time.Duration, 0, len(ids))
	for _, id := range ids {
		a, err := s.WaitAck(id, fakeslack.Timeout)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, a.Latency)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50 := lat[len(lat)*50/100]
	p99 := lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ack-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ack-ms")
	if b.N >= 100 {
		fmt.Printf("ack latency, %s, at %d commands/s over %d commands: p50 %v, p99 %v, max %v\n", what, rate, len(lat), p50, p99, lat[len(lat)-1])
		if p99 >= 50*time.Millisecond {
			b.Errorf("p99 ack latency %v, over the 50 ms target", p99)
		}
	}
}

// BenchmarkIdleMemory starts the real binary against the fake Slack and a
// real Redis, lets it settle, and reads its resident memory from /proc.
func BenchmarkIdleMemory(b *testing.B) {
	bin := apptest.Build(b, ".")
	for range b.N {
		fs := fakeslack.New()
		cmd := apptest.StartProcess(b, bin, []string{"SLACK_BOT_TOKEN=" + fs.BotToken, "SLACK_APP_TOKEN=" + fs.AppToken, "SLACK_API_URL=" + fs.APIURL(),
			"REDIS_URL=" + redistest.URL(b), "REDIS_KEY_PREFIX=" + redistest.Prefix(), "HTTP_ADDR=127.0.0.1:0", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn"})
		if err := fs.WaitConnected(10 * time.Second); err != nil {
			b.Fatal(err)
		}
		time.Sleep(3 * time.Second) // idle: connected, loops ticking
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		fs.Close()
		if err != nil {
			b.Fatal(err)
		}
		var rssKB int
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				_, _ = fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &rssKB)
			}
		}
		b.ReportMetric(float64(rssKB)/1024, "idle-rss-MB")
		fmt.Printf("idle bot process: resident memory %.1f MB\n", float64(rssKB)/1024)
		// Target: within 10 % of the 17.8 MB before charts (BENCHMARKS.md).
		if mb := float64(rssKB) / 1024; mb > 17.8*1.1 {
			b.Errorf("idle resident memory %.1f MB, over the target of %.1f MB", mb, 17.8*1.1)
		}
	}
}
