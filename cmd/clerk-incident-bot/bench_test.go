package main

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// BenchmarkSlashCommandAck drives slash commands through the fake Socket
// Mode server at 100 commands per second into the real program with a real
// Redis, and reports the ack latency the fake measured (envelope written →
// ack read) as p50 and p99.
func BenchmarkSlashCommandAck(b *testing.B) {
	h := start(b, map[string]string{"LOG_LEVEL": "warn"})
	s := h.slack
	s.Command(b, "U1", "C1", "open outage Benchmark incident")
	s.ExpectMessage(b, "C1", "INC-1")

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
		fmt.Printf("ack latency at %d commands/s over %d commands: p50 %v, p99 %v, max %v\n", rate, len(lat), p50, p99, lat[len(lat)-1])
	}
}
