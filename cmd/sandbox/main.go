// Command sandbox runs the real bot against an in-process fake Slack and an
// embedded Redis, driven from the terminal: see the bot work in seconds
// without a Slack workspace.
//
//	/clerk-incident open outage P1 Sign-in failing   type a command as the current user
//	click 2                                          press the 2nd button of the last message with buttons
//	click Acknowledge                                press the newest button with that label
//	as U2                                            switch user (U1 alice, U2 bob, U3 carol)
//	help, quit
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

const channel = "CINCIDENTS"

// sandboxContacts is a ladder measured in seconds, so escalation can be
// watched live: on-call (alice and bob) at once, bob as lead after 60 s,
// carol as CTO after 120 s.
const sandboxContacts = `policy:
  repeat_every: 60s
  repeat_times: 1
contacts:
  on_call:
    - name: On-Call Engineer
      phone: "+1-555-0100"
      slack: "@oncall"
      slack_id: SONCALL
  leads:
    - name: Engineering Lead
      slack_id: U2
      phone: "+15550100002"
  executives:
    - name: CTO
      slack_id: U3
      phone: "+15550100003"
  clerk_support:
    - url: "https://clerk.com/support"
    - email: "support@clerk.com"
    - priority: "For enterprise: contact account manager"
  escalation:
    - level: 1
      contact: "On-call engineer"
      time: "0-60s"
    - level: 2
      contact: "Engineering lead"
      time: "60-120s"
      via: [slack, sms, pagerduty]
    - level: 3
      contact: "CTO"
      time: "120s+"
      via: [slack, call]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

// sandbox keeps what the terminal needs: the current user, the last message
// with buttons, and when the bot last said something.
type sandbox struct {
	slack *fakeslack.Server
	out   io.Writer

	mu       sync.Mutex
	user     string
	last     *fakeslack.Message
	byTS     map[string]*fakeslack.Message
	order    []string
	lastSeen time.Time
	names    map[string]string
	status   *fakestatus.Server
	poller   *statuswatch.Poller
	upSeq    int
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := fakeslack.New()
	fs.Unlimited() // a person is at the prompt; pacing is shown by the tests
	defer fs.Close()
	sb := &sandbox{slack: fs, out: stdout, user: "U1", byTS: map[string]*fakeslack.Message{}, names: map[string]string{"U1": "alice", "U2": "bob", "U3": "carol"}}
	for id, name := range sb.names {
		fs.AddUser(id, name)
	}
	fs.SetGroup("SONCALL", "U1", "U2")
	fs.OnEvent(sb.print)
	fc := fakeclerk.New()
	defer fc.Close()
	status := fakestatus.New()
	defer status.Close()
	webhookApp := fakeapp.New()
	defer webhookApp.Close()
	twilio, pagerduty := fakepaging.NewTwilio(), fakepaging.NewPagerDuty()
	defer twilio.Close()
	defer pagerduty.Close()
	twilio.OnSent(func(m fakepaging.Sent) {
		sb.printf("\n[Twilio %s to %s]\n%s\n", m.Kind, m.To, indent(m.Body))
	})
	pagerduty.OnEvent(func(e fakepaging.Event) {
		sb.printf("\n[PagerDuty %s %s] %s\n", e.Action, e.DedupKey, e.Summary)
	})
	sb.status = status
	eve := fc.AddUser("Eve", "eve@example.com", 3)
	fc.AddUser("Mallory", "mallory@example.com", 2)
	fc.AddUser("Ann", "ann@example.com", 1)

	// The sandbox is the real program with Slack and Redis swapped for
	// in-process fakes; a few operator settings pass through.
	env := map[string]string{
		"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(),
		"SLACK_CHANNEL_ID": channel, "HTTP_ADDR": "127.0.0.1:0", "LOG_FORMAT": "text", "LOG_LEVEL": "error",
		"SLACK_RESPONDERS": "SONCALL", "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(),
		"CLERK_STATUS_URL": status.StatuspageURL(), "APP_HEALTH_URL": status.HealthURL(), "STATUS_POLL_SCHEDULE": "@every 10s",
		"CLERK_PUBLISHABLE_KEY": "pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk", "CLERK_FRONTEND_API_URL": fc.URL(),
		"APP_WEBHOOK_URL": webhookApp.WebhookURL(), "APP_WEBHOOK_SECRET": webhookApp.Secret,
		"TWILIO_ACCOUNT_SID": twilio.SID, "TWILIO_AUTH_TOKEN": twilio.Token, "TWILIO_FROM": twilio.From, "TWILIO_API_URL": twilio.URL(),
		"PAGERDUTY_ROUTING_KEY": pagerduty.Key, "PAGERDUTY_EVENTS_URL": pagerduty.URL(),
	}
	dir, err := os.MkdirTemp("", "clerk-incident-sandbox")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env["CONTACTS_FILE"] = dir + "/contacts.yml"
	if err := os.WriteFile(env["CONTACTS_FILE"], []byte(sandboxContacts), 0o600); err != nil {
		return err
	}
	for _, k := range []string{"RUNBOOK_FILE", "SLACK_RESPONDERS", "LOG_LEVEL", "CONTACTS_FILE"} {
		if v := getenv(k); v != "" {
			env[k] = v
		}
	}
	cfg, err := app.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, app.Options{Stderr: stderr, RenderGap: time.Millisecond, Unpaced: true, OnPoller: func(p *statuswatch.Poller) { sb.poller = p }})
	}()
	select {
	case err := <-done:
		return err
	case <-waitConnected(fs):
	}

	fmt.Fprintf(stdout, "clerk-incident-bot sandbox: the real bot, a fake Slack and an in-memory Redis.\n"+
		"You are U1 (alice) in #incidents; U1 and U2 (bob) are responders. U3 (carol) is not, but as the CTO on each incident's ladder may act on it; anyone else (`as U9`) may not.\n"+
		"Opening an incident pages the on-call group (alice, bob) by DM; unacknowledged, bob is paged as lead after 60 s (Slack, SMS, PagerDuty), carol as CTO after 120 s (Slack, a call); the fake Twilio and PagerDuty print what they receive.\n"+
		"A fake Clerk status page is polled every 10 s: `clerk outage`, `clerk degraded`, `clerk update <text>`, `clerk ok`, `app down`, `app up`, `poll` (now).\n"+
		"A fake Clerk holds eve@example.com (%s, 3 sessions), mallory@example.com and ann@example.com: try `revoke`, `lockout` (bob approves) and `bypass on`.\n"+
		"A fake app receives Clerk webhooks: try `/clerk-incident webhook check` and `/clerk-incident resync` in a webhook incident.\n"+
		"Type `/clerk-incident help` to start, `click N` to press a button, `as U2` to switch user, `quit` to leave.\n\n", eve.ID)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		sb.prompt()
		select {
		case <-ctx.Done():
			return nil
		case err := <-done:
			return err
		case line, ok := <-lines:
			if !ok {
				fmt.Fprintln(stdout)
				return nil
			}
			if quit := sb.do(strings.TrimSpace(line)); quit {
				return nil
			}
		}
	}
}

func waitConnected(fs *fakeslack.Server) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		_ = fs.WaitConnected(30 * time.Second)
		close(ch)
	}()
	return ch
}

func (sb *sandbox) prompt() {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	fmt.Fprintf(sb.out, "%s (%s)> ", sb.user, sb.names[sb.user])
}

// do runs one terminal line; it returns true to quit.
func (sb *sandbox) do(line string) bool {
	switch {
	case line == "":
		return false
	case line == "quit" || line == "exit":
		return true
	case line == "help":
		fmt.Fprintln(sb.out, "  /clerk-incident <subcommand …>   e.g. /clerk-incident open outage P1 Sign-in failing\n"+
			"  click N                          press button N of the last message that has buttons\n"+
			"  click <label>                    press the newest button with that label, e.g. click Acknowledge\n"+
			"  as U2                            act as another user (U1 alice, U2 bob, U3 carol)\n"+
			"  clerk outage | clerk degraded | clerk update <text> | clerk ok   change the fake Clerk status page\n"+
			"  app down | app up                  break or heal the app's health endpoint\n"+
			"  poll                               poll the status page and the app now (also every 10 s)\n"+
			"  quit")
	case strings.HasPrefix(line, "/clerk-incident"):
		text := strings.TrimSpace(strings.TrimPrefix(line, "/clerk-incident"))
		sb.mu.Lock()
		user := sb.user
		sb.mu.Unlock()
		id, err := sb.slack.SlashCommand(user, channel, text)
		if err != nil {
			fmt.Fprintln(sb.out, "  !", err)
			return false
		}
		sb.settle(id)
	case line == "poll":
		if sb.poller != nil && sb.poller.TryLead(context.Background()) {
			sb.poller.Poll(context.Background())
		}
		sb.settleQuiet()
	case strings.HasPrefix(line, "clerk ") || strings.HasPrefix(line, "app "):
		fmt.Fprintln(sb.out, "  "+sb.switchStatus(line))
	case strings.HasPrefix(line, "/"):
		fmt.Fprintln(sb.out, "  only /clerk-incident exists here")
	case strings.HasPrefix(line, "as "):
		u := strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(line, "as ")))
		sb.mu.Lock()
		if _, ok := sb.names[u]; !ok {
			sb.names[u] = strings.ToLower(u)
			sb.slack.AddUser(u, sb.names[u])
		}
		sb.user = u
		sb.mu.Unlock()
	case strings.HasPrefix(line, "click"):
		arg := strings.TrimSpace(strings.TrimPrefix(line, "click"))
		msg, button, problem := sb.findButton(arg)
		if problem != "" {
			fmt.Fprintln(sb.out, "  "+problem)
			return false
		}
		sb.mu.Lock()
		user := sb.user
		sb.mu.Unlock()
		id, err := sb.slack.Press(user, msg, button)
		if err != nil {
			fmt.Fprintln(sb.out, "  !", err)
			return false
		}
		sb.settle(id)
	default:
		fmt.Fprintln(sb.out, "  unknown: type help")
	}
	return false
}

// switchStatus changes the fake status page or app health.
func (sb *sandbox) switchStatus(line string) string {
	id := fmt.Sprintf("SANDBOX%d", sb.upSeq)
	switch {
	case line == "clerk outage" || line == "clerk degraded":
		sb.upSeq++
		id = fmt.Sprintf("SANDBOX%d", sb.upSeq)
		impact, comp := "full_outage", "Session management"
		if line == "clerk degraded" {
			impact, comp = "degraded_performance", "User and authentication"
		}
		sb.status.StartIncident(fakestatus.Incident{ID: id, Name: "Elevated error rates", Status: "investigating", Impact: impact,
			Components: []string{comp}, Updates: []string{"We are investigating reports of failed sign-ins."}})
		return "Clerk's status page now shows " + strings.ReplaceAll(impact, "_", " ") + " (" + id + "); the bot opens an incident after 2 polls (type poll twice)."
	case strings.HasPrefix(line, "clerk update "):
		sb.status.AddUpdate(id, "identified", strings.TrimPrefix(line, "clerk update "))
		return "Update posted on the status page."
	case line == "clerk ok":
		sb.status.Resolve(id)
		return "Clerk's status page is all operational again."
	case line == "app down":
		sb.status.SetHealth(503, 0)
		return "The app's health endpoint now answers 503; 3 failed probes open an incident."
	case line == "app up":
		sb.status.SetHealth(200, 0)
		return "The app's health endpoint answers 200 again."
	}
	return "say clerk outage, clerk degraded, clerk update <text>, clerk ok, app down or app up"
}

// settleQuiet waits until the bot has been quiet briefly.
func (sb *sandbox) settleQuiet() {
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		time.Sleep(50 * time.Millisecond)
		sb.mu.Lock()
		quiet := time.Since(sb.lastSeen) > 300*time.Millisecond && time.Since(start) > 300*time.Millisecond
		sb.mu.Unlock()
		if quiet {
			return
		}
	}
}

// findButton resolves "click N" (the N-th button of the last message with
// buttons) or "click Label" (the newest button with that label).
func (sb *sandbox) findButton(arg string) (*fakeslack.Message, fakeslack.Button, string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.last == nil {
		return nil, fakeslack.Button{}, "no message with buttons yet"
	}
	if n, err := strconv.Atoi(arg); err == nil {
		buttons := sb.last.Buttons()
		if n < 1 || n > len(buttons) {
			return nil, fakeslack.Button{}, fmt.Sprintf("the last message has buttons 1 to %d", len(buttons))
		}
		return sb.last, buttons[n-1], ""
	}
	for i := len(sb.order) - 1; i >= 0; i-- {
		m := sb.byTS[sb.order[i]]
		for _, b := range m.Buttons() {
			if arg != "" && strings.EqualFold(b.Label, arg) {
				return m, b, ""
			}
		}
	}
	return nil, fakeslack.Button{}, "say click N (a button number of the last message) or click <label>, e.g. click Acknowledge"
}

// settle waits for the ack and then until the bot has been quiet briefly,
// so its replies print before the next prompt.
func (sb *sandbox) settle(envelope string) {
	if _, err := sb.slack.WaitAck(envelope, 5*time.Second); err != nil {
		fmt.Fprintln(sb.out, "  ! the bot did not acknowledge:", err)
		return
	}
	sb.settleQuiet()
}

// print shows one bot action as readable text.
// printf prints what the fake Twilio and PagerDuty received.
func (sb *sandbox) printf(format string, args ...any) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.lastSeen = time.Now()
	fmt.Fprintf(sb.out, format, args...)
}

func (sb *sandbox) print(e fakeslack.Event) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.lastSeen = time.Now()
	if e.File != nil {
		fmt.Fprintf(sb.out, "\n[file uploaded to #incidents thread] %s: %q\n%s\n", e.File.Name, e.File.Title, indent(e.File.Content))
		return
	}
	m := e.Message
	where := "#incidents"
	if m.ThreadTS != "" {
		where += " (thread)"
	}
	if strings.HasPrefix(m.Channel, "D") {
		where = "DM to " + strings.TrimPrefix(m.Channel, "D")
	}
	switch e.Kind {
	case "ephemeral":
		where = "only visible to " + m.User
	case "update":
		where += ", message updated"
	}
	body := sb.humanize(m.Render())
	buttons := m.Buttons()
	if len(buttons) > 0 {
		sb.last = m
		if _, ok := sb.byTS[m.TS]; !ok {
			sb.order = append(sb.order, m.TS)
		}
		sb.byTS[m.TS] = m
		var labels []string
		for i, b := range buttons {
			labels = append(labels, fmt.Sprintf("%d:%s", i+1, b.Label))
		}
		body += "\n  buttons → " + strings.Join(labels, "  ")
	}
	fmt.Fprintf(sb.out, "\n[%s] clerk-incident bot:\n%s\n", where, indent(body))
}

var (
	mentionRe = regexp.MustCompile(`<@([A-Z0-9]+)>`)
	dateRe    = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)
	chanRe    = regexp.MustCompile(`<#([A-Z0-9]+)(\|[^>]*)?>`)
	groupRe   = regexp.MustCompile(`<!subteam\^([A-Z0-9]+)>`)
	emoji     = strings.NewReplacer(":red_circle:", "🔴", ":large_orange_circle:", "🟠", ":white_check_mark:", "✅",
		":white_large_square:", "⬜", ":warning:", "⚠️", ":no_entry:", "⛔", ":memo:", "📝", ":raising_hand:", "🙋",
		":rotating_light:", "🚨", ":busts_in_silhouette:", "👥", ":page_facing_up:", "📄", ":pencil:", "✏️",
		":lock:", "🔒", ":unlock:", "🔓", ":hourglass:", "⌛", ":raised_hand:", "✋", ":no_entry_sign:", "🚫", ":x:", "❌",
		":grey_question:", "❔", ":hourglass_flowing_sand:", "⏳", ":satellite_antenna:", "📡", ":large_green_circle:", "🟢",
		":large_yellow_circle:", "🟡", ":stopwatch:", "⏱️", ":point_right:", "👉", ":information_source:", "ℹ️", ":wrench:", "🔧", ":arrows_counterclockwise:", "🔄", ":octagonal_sign:", "🛑")
)

// humanize turns Slack markup into what the Slack client would show.
func (sb *sandbox) humanize(s string) string {
	s = mentionRe.ReplaceAllStringFunc(s, func(m string) string {
		id := mentionRe.FindStringSubmatch(m)[1]
		if n, ok := sb.names[id]; ok {
			return "@" + n
		}
		return "@" + id
	})
	s = dateRe.ReplaceAllString(s, "$1")
	s = chanRe.ReplaceAllString(s, "#incidents")
	s = groupRe.ReplaceAllString(s, "@$1")
	return emoji.Replace(s)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
