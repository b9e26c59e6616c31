package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// BenchmarkSoakMixedCommands is the soak: the real binary on a real
// Redis and the fake Slack with Slack's rate limits, fed a steady 20
// commands a second from eight responders for SOAK_DURATION (default 60 s;
// 240 s recorded in BENCHMARKS.md), one in six a `checklist`. Work must
// not queue behind Slack's pace: goroutines stay within +20 of the start
// and resident memory within 30 MiB of its value after 1,000 commands.
func BenchmarkSoakMixedCommands(b *testing.B) {
	dur := 60 * time.Second
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SOAK_DURATION: %v", err)
		}
		dur = d
	}
	bin := apptest.Build(b, ".")
	for range b.N {
		soakRun(b, bin, dur)
	}
}

func soakRun(b *testing.B, bin string, dur time.Duration) {
	fs := fakeslack.New()
	defer fs.Close()
	var users []string
	for i := 1; i <= 8; i++ {
		fs.AddUser(fmt.Sprintf("U%d", i), fmt.Sprintf("responder%d", i))
		users = append(users, fmt.Sprintf("U%d", i))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := apptest.StartProcess(b, bin, []string{"SLACK_BOT_TOKEN=" + fs.BotToken, "SLACK_APP_TOKEN=" + fs.AppToken, "SLACK_API_URL=" + fs.APIURL(),
		"REDIS_URL=" + redistest.URL(b), "REDIS_KEY_PREFIX=" + redistest.Prefix(), "HTTP_ADDR=" + addr, "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn",
		"SLACK_CHANNEL_ID=CINC", "SLACK_RESPONDERS=" + strings.Join(users, ",")})
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if err := fs.WaitConnected(10 * time.Second); err != nil {
		b.Fatal(err)
	}
	fs.Command(b, "U1", "C1", "open outage Soak")
	fs.ExpectMessage(b, "CINC", "INC-1 · Soak")
	time.Sleep(2 * time.Second) // the open's card, checklist and first renders
	g0, rss0 := soakSample(b, addr, cmd.Process.Pid)

	mix := []string{"note soak %d", "status", "checklist", "severity P2", "note soak %d", "severity P1"}
	const rate = 20
	total := int(dur.Seconds() * rate)
	// Growth is measured from the figure after 1,000 commands, or after
	// half the run when it is shorter (CI's 30 s soak).
	base := min(1000, total/2)
	var gAt1000, rssAt1000, gMax, rssMax int
	var acks []string
	start := time.Now()
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
		text := mix[i%len(mix)]
		if strings.Contains(text, "%d") {
			text = fmt.Sprintf(text, i)
		}
		id, err := fs.SlashCommand(users[i%len(users)], "C1", text)
		if err != nil {
			b.Fatal(err)
		}
		acks = append(acks, id)
		if i == base-1 {
			gAt1000, rssAt1000 = soakSample(b, addr, cmd.Process.Pid)
		}
		if i%100 == 99 {
			g, rss := soakSample(b, addr, cmd.Process.Pid)
			gMax, rssMax = max(gMax, g), max(rssMax, rss)
		}
	}
	gEnd, rssEnd := soakSample(b, addr, cmd.Process.Pid)
	gMax, rssMax = max(gMax, gEnd), max(rssMax, rssEnd)
	lost := 0
	for _, id := range acks {
		if _, err := fs.WaitAck(id, time.Second); err != nil {
			lost++
		}
	}
	mib := func(kb int) float64 { return float64(kb) / 1024 }
	fmt.Printf("soak %v at %d commands/s (%d commands, 1 in 6 checklist, 8 responders): goroutines start %d, after %d %d, max %d, end %d (+%d); "+
		"RSS start %.1f MiB, after %d %.1f MiB, max %.1f MiB, end %.1f MiB (+%.1f over the %d-command figure); unacked %d, 429s %d\n",
		dur, rate, total, g0, base, gAt1000, gMax, gEnd, gMax-g0, mib(rss0), base, mib(rssAt1000), mib(rssMax), mib(rssEnd), mib(rssMax-rssAt1000), base, lost, fs.Throttled())
	b.ReportMetric(float64(gMax-g0), "goroutines-growth")
	b.ReportMetric(mib(rssMax-rssAt1000), "rss-growth-MiB")
	if gMax-g0 > 20 {
		b.Errorf("goroutines grew by %d (from %d to %d), over +20", gMax-g0, g0, gMax)
	}
	if rssMax-rssAt1000 > 30*1024 {
		b.Errorf("RSS grew %.1f MiB after %d commands, over 30", mib(rssMax-rssAt1000), base)
	}
	if lost > 0 {
		b.Errorf("%d commands not acked", lost)
	}
}

// soakSample reads the process's goroutines (its /metrics) and resident
// memory in KiB (/proc).
func soakSample(b *testing.B, addr string, pid int) (goroutines, rssKB int) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			goroutines, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			_, _ = fmt.Sscanf(v, "%d", &rssKB)
		}
	}
	return goroutines, rssKB
}
