// Command sandbox runs the real bot against an in-process fake Slack and an
// embedded Redis, driven from the terminal: see the bot work in seconds
// without a Slack workspace.
//
//	/clerk-incident open outage P1 Sign-in failing   type a command as the current user (@bob is a mention)
//	click 2                                          press the 2nd button of the last message with buttons you can see
//	click Acknowledge                                press the newest button with that label you can see
//	as bob                                           switch user (alice U1, bob U2, carol U3, dan U4)
//	sms +15550100002 ack                             text the bot from a phone (a reply to a page text)
//	help, quit
//
// A modal the bot opens (Edit) is printed; the lines typed next are its
// text, and a line with a single "." submits it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakevercel"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

const (
	channel       = "CINCIDENTS"
	updateChannel = "CSTATUS" // STATUS_UPDATE_CHANNEL: where Post sends customer updates
)

// channelNames is what the terminal calls the fake Slack's channels.
var channelNames = map[string]string{channel: "incidents", updateChannel: "status-updates"}

// sandboxContacts is a ladder measured in seconds, so escalation can be
// watched live: on-call (alice and bob) at once, bob as lead after 60 s,
// carol as CTO after 120 s. alice is on a rotation of one (`oncall`).
const sandboxContacts = `policy:
  repeat_every: 60s
  repeat_times: 1
schedules:
  primary:
    time_zone: Europe/Berlin
    rotation: weekly
    handoff: "monday 09:00"
    start: 2026-01-05
    members:
      - name: Alice
        slack_id: U1
        phone: "+15550100001"
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

// sandbox keeps what the terminal needs: the current user, the messages
// with buttons, a modal being filled in, and when the bot last said something.
type sandbox struct {
	slack *fakeslack.Server
	out   io.Writer

	mu       sync.Mutex
	user     string
	byTS     map[string]*fakeslack.Message // messages that have buttons now
	order    []string                      // their TS, first posted first
	touched  map[string]int                // TS → when last posted or updated
	touchSeq int
	lastSeen time.Time
	heard    int // how many things the bot has said (posts, updates, files, modals)
	names    map[string]string
	status   *fakestatus.Server
	twilio   *fakepaging.Twilio
	poller   *statuswatch.Poller
	// pagerduty is the fake PagerDuty's app, where `pagerduty ack` acts.
	pagerduty *fakepaging.PagerDuty
	upSeq     int

	// modal is the modal the bot opened for the current user, being
	// filled in; modalText its lines typed so far.
	modal     *fakeslack.View
	modalText []string
	views     map[string]bool // IDs of the modals already shown
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	sb := &sandbox{out: stdout, user: "U1", byTS: map[string]*fakeslack.Message{}, touched: map[string]int{}, views: map[string]bool{},
		names: map[string]string{"U1": "alice", "U2": "bob", "U3": "carol", "U4": "dan"}}
	f := startFakes(sb)
	defer f.close()
	eve := seedClerk(f.clerk)
	dir, err := os.MkdirTemp("", "clerk-incident-sandbox")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// A few operator settings pass through.
	env := f.env()
	env["CONTACTS_FILE"] = dir + "/contacts.yml"
	if err := os.WriteFile(env["CONTACTS_FILE"], []byte(sandboxContacts), 0o600); err != nil {
		return err
	}
	for _, k := range []string{"RUNBOOK_FILE", "SLACK_RESPONDERS", "LOG_LEVEL", "CONTACTS_FILE", "CHART_PROGRAM"} {
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
		done <- app.Run(ctx, cfg, app.Options{Stderr: stderr, RenderGap: time.Millisecond, Unpaced: true, Hooks: app.Hooks{OnPoller: func(p *statuswatch.Poller) { sb.poller = p }},
			Ready: func(addr string) { f.app.HonourPause("http://"+addr+"/v1/webhooks", "") }})
	}()
	select {
	case err := <-done:
		return err
	case <-waitConnected(f.slack):
	}

	fmt.Fprintf(stdout, intro, eve.ID)
	return sb.loop(ctx, stdin, done)
}

// fakes are the services the sandbox runs in process.
type fakes struct {
	slack     *fakeslack.Server
	clerk     *fakeclerk.Server
	status    *fakestatus.Server
	app       *fakeapp.Server
	twilio    *fakepaging.Twilio
	pagerduty *fakepaging.PagerDuty
	vercel    *fakevercel.Server
}

// startFakes starts every fake, prints what the paging fakes receive and
// seeds Slack's people and the app's deployments.
func startFakes(sb *sandbox) *fakes {
	f := &fakes{slack: fakeslack.New(), clerk: fakeclerk.New(), status: fakestatus.New(), app: fakeapp.New(),
		twilio: fakepaging.NewTwilio(), pagerduty: fakepaging.NewPagerDuty(), vercel: fakevercel.New()}
	f.slack.Unlimited() // a person is at the prompt; pacing is shown by the tests
	sb.slack, sb.status, sb.twilio, sb.pagerduty = f.slack, f.status, f.twilio, f.pagerduty
	for id, name := range sb.names {
		if id == "U4" {
			f.slack.AddGuest(id, name, false) // dan: a multi-channel guest, as the intro says
			continue
		}
		f.slack.AddUser(id, name)
	}
	f.slack.SetGroup("SONCALL", "U1", "U2")
	f.slack.OnEvent(sb.print)
	f.twilio.OnSent(func(m fakepaging.Sent) {
		sb.printf("\n[Twilio %s to %s]\n%s\n", m.Kind, m.To, indent(m.Body))
	})
	f.pagerduty.OnEvent(func(e fakepaging.Event) {
		sb.printf("\n[PagerDuty %s %s] %s\n", e.Action, e.DedupKey, e.Summary)
	})
	seedVercel(f.vercel, f.clerk.Key, f.app.Secret)
	return f
}

func (f *fakes) close() {
	f.vercel.Close()
	f.pagerduty.Close()
	f.twilio.Close()
	f.app.Close()
	f.status.Close()
	f.clerk.Close()
	f.slack.Close()
}

// env is the real program's configuration pointing at the fakes: the
// sandbox is the real program with Slack and Redis swapped for in-process
// fakes.
func (f *fakes) env() map[string]string {
	fs, fc, status, webhookApp, twilio, pagerduty, fv := f.slack, f.clerk, f.status, f.app, f.twilio, f.pagerduty, f.vercel
	return map[string]string{
		"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(),
		"SLACK_CHANNEL_ID": channel, "HTTP_ADDR": "127.0.0.1:0", "LOG_FORMAT": "text", "LOG_LEVEL": "error",
		"SLACK_RESPONDERS": "SONCALL", "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(),
		"CLERK_STATUS_URL": status.StatuspageURL(), "APP_HEALTH_URL": status.HealthURL(), "STATUS_POLL_SCHEDULE": "@every 10s",
		"CLERK_PUBLISHABLE_KEY": "pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk", "CLERK_FRONTEND_API_URL": fc.URL(),
		"APP_WEBHOOK_URL": webhookApp.WebhookURL(), "APP_WEBHOOK_SECRET": webhookApp.Secret,
		"TWILIO_ACCOUNT_SID": twilio.SID, "TWILIO_AUTH_TOKEN": twilio.Token, "TWILIO_FROM": twilio.From, "TWILIO_API_URL": twilio.URL(),
		"TWILIO_REPLY_POLL": "2s", "PAGERDUTY_ROUTING_KEY": pagerduty.Key, "PAGERDUTY_EVENTS_URL": pagerduty.URL(),
		"PAGERDUTY_API_TOKEN": pagerduty.APIToken, "PAGERDUTY_API_URL": pagerduty.APIURL(), "PAGERDUTY_POLL": "5s",
		"STATUS_UPDATE_CHANNEL": updateChannel,
		"VERCEL_TOKEN":          fv.Token, "VERCEL_PROJECT_ID": fv.Project, "VERCEL_API_URL": fv.URL(),
	}
}

// intro is what the sandbox says on start; %s is Eve's Clerk user ID.
const intro = "clerk-incident-bot sandbox: the real bot, a fake Slack and an in-memory Redis.\n" +
	"You are alice (U1) in #incidents; alice and bob (U2) are responders. carol (U3) is not, but as the CTO on each incident's ladder may act on it; dan (U4), a guest in the channel, may not. Posted customer updates go to #status-updates.\n" +
	"Opening an incident pages the on-call group (alice, bob) by DM; unacknowledged, bob is paged as lead after 60 s (Slack, SMS, PagerDuty), carol as CTO after 120 s (Slack, a call); the fake Twilio and PagerDuty print what they receive; `pagerduty ack INC-1` acknowledges in PagerDuty's app (read back within 5 s); `sms +15550100002 ack` answers bob's page text from his phone.\n" +
	"A fake Clerk status page is polled every 10 s: `clerk outage`, `clerk degraded`, `clerk update <text>`, `clerk ok`, `app down`, `app up`, `poll` (now).\n" +
	"A fake Clerk holds eve@example.com (%s, 3 sessions), mallory@example.com, ann@example.com and dave@example.com (a session from another country): try `user`, `revoke`, `lockout` (bob approves) and `bypass on`.\n" +
	"Procedure 2: `protect on`, `restrict disposable on`, `block *@evil.example` (bob approves), `rotate machine mch_billingworker` (bob approves; the new key comes to your DM), `access review`, `notify draft`; `help security` lists them.\n" +
	"A fake app receives Clerk webhooks: try `/clerk-incident webhook check`, `webhooks pause <reason>`, `resync` and `webhooks resume` in a webhook incident.\n" +
	"A fake Vercel holds the app (a deploy 12 minutes ago): try `/clerk-incident deploys`, `/clerk-incident env check` and `/clerk-incident rollback previous` (bob approves).\n" +
	"Type `/clerk-incident help` to start, `click N` or `click <label>` to press a button, `as bob` to switch user, `help` for the sandbox's own commands, `quit` to leave.\n\n"

// loop reads the person's lines until they quit, the input ends or the
// bot stops.
func (sb *sandbox) loop(ctx context.Context, stdin io.Reader, done <-chan error) error {
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
				fmt.Fprintln(sb.out)
				return nil
			}
			if quit := sb.do(strings.TrimSpace(line)); quit {
				return nil
			}
		}
	}
}

// seedClerk gives the fake Clerk its users. Dave's account is the one to
// investigate: his sessions come from one IP in Lisbon, one from another
// Lisbon IP and one from Lagos, so `user dave@example.com` flags an IP and
// a country.
func seedClerk(fc *fakeclerk.Server) *fakeclerk.User {
	eve := fc.AddUser("Eve", "eve@example.com", 3)
	fc.AddUser("Mallory", "mallory@example.com", 2)
	fc.AddUser("Ann", "ann@example.com", 1)
	dave := fc.AddUser("Dave", "dave@example.com", 0)
	for _, a := range []fakeclerk.Activity{
		{Device: "Macintosh", Browser: "Chrome", Version: "126.0", IP: "198.51.100.23", City: "Lisbon", Country: "PT"},
		{Device: "Macintosh", Browser: "Chrome", Version: "126.0", IP: "198.51.100.23", City: "Lisbon", Country: "PT"},
		{Device: "iPhone", Browser: "Safari", Version: "17.5", Mobile: true, IP: "198.51.100.23", City: "Lisbon", Country: "PT"},
		{Device: "Macintosh", Browser: "Chrome", Version: "126.0", IP: "198.51.100.77", City: "Lisbon", Country: "PT"},
		{Device: "Windows", Browser: "Firefox", Version: "127.0", IP: "203.0.113.66", City: "Lagos", Country: "NG"},
	} {
		fc.AddSessionFrom(dave.ID, a)
	}
	// Procedure 2's objects: Dave's trusted device, a machine and an
	// OAuth application whose secrets `rotate` renews.
	fc.AddTrustedDevice(dave.ID, "Dave's iPhone")
	fc.SeedMachine("mch_billingworker", "billing-worker")
	fc.SeedOAuthApp("oa_partnerportal", "Partner portal", false)
	return eve
}

// seedVercel gives the fake Vercel the app: a deploy 12 minutes ago changed
// the middleware matcher, and a test secret key sits in production.
func seedVercel(fv *fakevercel.Server, clerkKey, webhookSecret string) {
	vnow := time.Now()
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_7a1b2c", Created: vnow.Add(-26 * time.Hour), SHA: "4f1e2d3c9b", Message: "Add billing page", Author: "alice"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_9x8y7z", Created: vnow.Add(-15 * time.Minute), Ready: vnow.Add(-12 * time.Minute), SHA: "a1b2c3d4e5", Message: "Change middleware matcher", Author: "bob"})
	fv.AddEnv(fakevercel.Env{Key: "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", Value: "pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk", Type: "plain", Updated: vnow.Add(-40 * 24 * time.Hour)})
	fv.AddEnv(fakevercel.Env{Key: "CLERK_SECRET_KEY", Value: clerkKey, Updated: vnow.Add(-20 * time.Minute)})
	fv.AddEnv(fakevercel.Env{Key: "CLERK_WEBHOOK_SIGNING_SECRET", Value: webhookSecret, Type: "sensitive", Updated: vnow.Add(-40 * 24 * time.Hour)})
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
	if sb.modal != nil {
		fmt.Fprint(sb.out, "  modal> ")
		return
	}
	fmt.Fprintf(sb.out, "%s (%s)> ", sb.user, sb.names[sb.user])
}

// do runs one terminal line; it returns true to quit.
func (sb *sandbox) do(line string) bool {
	sb.mu.Lock()
	filling := sb.modal != nil
	sb.mu.Unlock()
	switch {
	case line == "quit" || line == "exit":
		return true
	case filling:
		sb.fill(line)
	case line == "":
		return false
	case line == "help":
		fmt.Fprintln(sb.out, "  /clerk-incident <subcommand …>   e.g. /clerk-incident open outage P1 Sign-in failing; @bob mentions bob\n"+
			"  click N                          press button N of the last message with buttons that you can see\n"+
			"  click <label>                    press the newest button with that label that you can see, e.g. click Acknowledge\n"+
			"  as bob                           act as another person: alice (U1), bob (U2), carol (U3), dan (U4)\n"+
			"  (a modal, e.g. Edit's)           type its text, then a line with a single . to submit; cancel closes it\n"+
			"  clerk outage | clerk degraded | clerk update <text> | clerk ok   change the fake Clerk status page\n"+
			"  app down | app up                  break or heal the app's health endpoint\n"+
			"  poll                               poll the status page and probe Clerk and the app now\n"+
			"  sms <phone> <text>                 text the bot from a phone, e.g. sms +15550100002 ack (bob's phone: ACK, ESC)\n"+
			"  pagerduty ack|resolve INC-n [name]  act in the fake PagerDuty's app as name (default Nora Oncall); read back within 5 s\n"+
			"  quit")
	case strings.HasPrefix(line, "/clerk-incident"):
		text := strings.TrimSpace(strings.TrimPrefix(line, "/clerk-incident"))
		sb.mu.Lock()
		user := sb.user
		text = sb.mentions(text)
		sb.mu.Unlock()
		heard := sb.heardSoFar()
		id, err := sb.slack.SlashCommand(user, channel, text)
		if err != nil {
			fmt.Fprintln(sb.out, "  !", err)
			return false
		}
		sb.settle(heard, id)
	case line == "poll":
		if sb.poller != nil && sb.poller.TryLead(context.Background()) {
			sb.poller.Poll(context.Background())
		}
		if sb.poller != nil && sb.poller.TryLeadProbes(context.Background()) {
			sb.poller.PollProbes(context.Background())
		}
		sb.settleQuiet()
	case line == "sms" || strings.HasPrefix(line, "sms "):
		sb.text(strings.TrimSpace(strings.TrimPrefix(line, "sms")))
	case strings.HasPrefix(line, "clerk ") || strings.HasPrefix(line, "app "):
		fmt.Fprintln(sb.out, "  "+sb.switchStatus(line))
	case line == "pagerduty" || strings.HasPrefix(line, "pagerduty "):
		fmt.Fprintln(sb.out, "  "+sb.inPagerDuty(strings.Fields(line)[1:]))
	case strings.HasPrefix(line, "/"):
		fmt.Fprintln(sb.out, "  only /clerk-incident exists here")
	case line == "as" || strings.HasPrefix(line, "as "):
		fmt.Fprintln(sb.out, "  "+sb.switchUser(strings.TrimSpace(strings.TrimPrefix(line, "as"))))
	case line == "click" || strings.HasPrefix(line, "click "):
		arg := strings.TrimSpace(strings.TrimPrefix(line, "click"))
		msg, button, problem := sb.findButton(arg)
		if problem != "" {
			fmt.Fprintln(sb.out, "  "+problem)
			return false
		}
		sb.mu.Lock()
		user := sb.user
		sb.mu.Unlock()
		heard := sb.heardSoFar()
		id, err := sb.slack.Press(user, msg, button)
		if err != nil {
			fmt.Fprintln(sb.out, "  !", err)
			return false
		}
		sb.settle(heard, id)
	default:
		fmt.Fprintln(sb.out, "  unknown: type help")
	}
	return false
}

// text types an SMS from a phone to the bot's Twilio number, as a reply
// to a page text; the bot reads replies every 2 s here (TWILIO_REPLY_POLL).
func (sb *sandbox) text(arg string) {
	phone, body, _ := strings.Cut(arg, " ")
	if !strings.HasPrefix(phone, "+") || strings.TrimSpace(body) == "" {
		fmt.Fprintln(sb.out, "  say sms <phone> <text>, e.g. sms +15550100002 ack (bob's phone; the lead and the CTO have phones in the sandbox's contacts)")
		return
	}
	heard := sb.heardSoFar()
	sb.twilio.Reply(phone, sb.twilio.From, strings.TrimSpace(body))
	sb.settleAfter(heard)
}

// inPagerDuty acts in the fake PagerDuty's app, as someone on call there
// would: the bot reads it back on its next poll.
func (sb *sandbox) inPagerDuty(args []string) string {
	usage := "say pagerduty ack INC-n [name] or pagerduty resolve INC-n [name]"
	if len(args) < 2 || (args[0] != "ack" && args[0] != "resolve") {
		return usage
	}
	name := strings.Join(args[2:], " ")
	if name == "" {
		name = "Nora Oncall"
	}
	id := strings.ToUpper(args[1])
	act := sb.pagerduty.Acknowledge
	if args[0] == "resolve" {
		act = sb.pagerduty.Resolve
	}
	if !act(sb.pagerduty.KeyFor(id), "PSANDBOX", name) {
		return "PagerDuty has no open incident for " + id + ": the ladder triggers it at level 2 (or `/clerk-incident escalate` twice)"
	}
	return fmt.Sprintf("%s %s in PagerDuty as %s; the bot reads it back within 5 s", id, map[string]string{"ack": "acknowledged", "resolve": "resolved"}[args[0]], name)
}

// switchUser makes someone else the one typing: a person of the sandbox
// by name or ID; anyone else is refused, as the fake Slack knows nobody else.
func (sb *sandbox) switchUser(who string) string {
	who = strings.TrimPrefix(who, "@")
	sb.mu.Lock()
	defer sb.mu.Unlock()
	id, ok := sb.lookup(who)
	if !ok {
		return fmt.Sprintf("nobody called %q here: say as alice, as bob, as carol or as dan (or their IDs U1 to U4)", who)
	}
	sb.user = id
	return fmt.Sprintf("you are now %s (%s)", sb.names[id], id)
}

// lookup finds a person by name or ID (case-insensitively); sb.mu held.
func (sb *sandbox) lookup(who string) (string, bool) {
	for id, name := range sb.names {
		if strings.EqualFold(who, id) || strings.EqualFold(who, name) {
			return id, true
		}
	}
	return "", false
}

// atName is @name typed at the start of a word (not inside an e-mail).
var atName = regexp.MustCompile(`(^|\s)@([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)`)

// mentions turns @name of a sandbox person into a Slack mention <@U2>, as
// the Slack client does when one picks a person after typing @; sb.mu held.
func (sb *sandbox) mentions(text string) string {
	return atName.ReplaceAllStringFunc(text, func(m string) string {
		sub := atName.FindStringSubmatch(m)
		if id, ok := sb.lookup(sub[2]); ok {
			return sub[1] + "<@" + id + ">"
		}
		return m
	})
}

// fill takes one line typed into the open modal: its text, "." to submit
// it (as it was when nothing was typed), "cancel" to close it.
func (sb *sandbox) fill(line string) {
	sb.mu.Lock()
	v, user := sb.modal, sb.user
	switch {
	case line == "cancel" && len(sb.modalText) == 0:
		sb.modal = nil
		sb.mu.Unlock()
		fmt.Fprintln(sb.out, "  modal closed; nothing saved")
		return
	case line != ".":
		sb.modalText = append(sb.modalText, line)
		sb.mu.Unlock()
		return
	}
	text := strings.Join(sb.modalText, "\n")
	sb.modal, sb.modalText = nil, nil
	sb.mu.Unlock()
	if text == "" {
		text = readModal(v.Raw).initial
	}
	heard := sb.heardSoFar()
	id, err := sb.slack.SubmitView(user, v, text)
	if err != nil {
		fmt.Fprintln(sb.out, "  !", err)
		return
	}
	sb.settle(heard, id)
}

// modalView is what the terminal shows of a modal with one text input.
type modalView struct {
	title, label, placeholder, initial, submit, close string
}

func readModal(raw []byte) modalView {
	type text struct {
		Text string `json:"text"`
	}
	var v struct {
		Title, Submit, Close text
		Blocks               []struct {
			Type    string `json:"type"`
			Label   text   `json:"label"`
			Element struct {
				Placeholder  text   `json:"placeholder"`
				InitialValue string `json:"initial_value"`
			} `json:"element"`
		} `json:"blocks"`
	}
	_ = json.Unmarshal(raw, &v)
	m := modalView{title: v.Title.Text, submit: v.Submit.Text, close: v.Close.Text}
	for _, b := range v.Blocks {
		if b.Type == "input" {
			m.label, m.placeholder, m.initial = b.Label.Text, b.Element.Placeholder.Text, b.Element.InitialValue
			break
		}
	}
	return m
}

// checkModal shows a modal the bot has just opened for the current user
// and starts filling it in.
func (sb *sandbox) checkModal() {
	sb.mu.Lock()
	user := sb.user
	sb.mu.Unlock()
	v, err := sb.slack.WaitView(user, 0)
	if err != nil || v == nil {
		return
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.views[v.ID] {
		return
	}
	sb.views[v.ID] = true
	sb.lastSeen = time.Now()
	sb.heard++
	sb.modal, sb.modalText = v, nil
	m := readModal(v.Raw)
	fmt.Fprintf(sb.out, "\n[modal %q opened for %s]\n  %s (%s), now:\n%s\n"+
		"  Type the new text (several lines are fine), then a line with a single . to press %q;\n"+
		"  a . alone keeps the text as it is, cancel presses %q.\n",
		m.title, sb.names[user], m.label, m.placeholder, indent(indent(m.initial)), m.submit, m.close)
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

// settleQuiet waits until the bot has been quiet briefly; a modal it
// opens meanwhile is shown.
func (sb *sandbox) settleQuiet() { sb.settleAfter(-1) }

// settleAfter waits until the bot has said something more than it had
// said when heard was read (-1: no need to), then until it has been
// quiet briefly: a command that looks Clerk up first answers after a pause.
func (sb *sandbox) settleAfter(heard int) {
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		time.Sleep(50 * time.Millisecond)
		sb.checkModal()
		sb.mu.Lock()
		quiet := sb.heard > heard && time.Since(sb.lastSeen) > 300*time.Millisecond && time.Since(start) > 300*time.Millisecond
		sb.mu.Unlock()
		if quiet {
			return
		}
	}
}

// visibleTo says whether user sees m in Slack: channel messages and
// thread replies, but only their own DMs and ephemeral messages.
func visibleTo(m *fakeslack.Message, user string) bool {
	switch {
	case m.Ephemeral:
		return m.User == user
	case strings.HasPrefix(m.Channel, "D"):
		return m.Channel == "D"+user
	}
	return true
}

// findButton resolves "click N" (the N-th button of the last message with
// buttons) or "click Label" (the newest button with that label), among the
// messages the current user can see: nobody clicks in someone else's DM.
func (sb *sandbox) findButton(arg string) (*fakeslack.Message, fakeslack.Button, string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if n, err := strconv.Atoi(arg); err == nil {
		var last *fakeslack.Message
		for ts, m := range sb.byTS {
			if visibleTo(m, sb.user) && (last == nil || sb.touched[ts] > sb.touched[last.TS]) {
				last = m
			}
		}
		if last == nil {
			return nil, fakeslack.Button{}, "no message with buttons that " + sb.names[sb.user] + " can see yet"
		}
		buttons := last.Buttons()
		if n < 1 || n > len(buttons) {
			return nil, fakeslack.Button{}, fmt.Sprintf("the last message has buttons 1 to %d", len(buttons))
		}
		return last, buttons[n-1], ""
	}
	var hidden []string
	for i := len(sb.order) - 1; i >= 0; i-- {
		m := sb.byTS[sb.order[i]]
		for _, b := range m.Buttons() {
			if arg == "" || !strings.EqualFold(b.Label, arg) {
				continue
			}
			if visibleTo(m, sb.user) {
				return m, b, ""
			}
			owner := m.User
			if owner == "" {
				owner = strings.TrimPrefix(m.Channel, "D")
			}
			hidden = append(hidden, sb.names[owner])
		}
	}
	if len(hidden) > 0 {
		return nil, fakeslack.Button{}, fmt.Sprintf("%s cannot see a %q button: it is in a message only %s sees; say as %s to press it",
			sb.names[sb.user], arg, hidden[0], hidden[0])
	}
	return nil, fakeslack.Button{}, "say click N (a button number of the last message) or click <label>, e.g. click Acknowledge"
}

// heardSoFar is how many things the bot has said: read before sending an
// envelope, it lets settle wait for the answer.
func (sb *sandbox) heardSoFar() int {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.heard
}

// settle waits for the ack, then for an answer and until the bot has been
// quiet briefly, so its replies print before the next prompt.
func (sb *sandbox) settle(heard int, envelope string) {
	if _, err := sb.slack.WaitAck(envelope, 5*time.Second); err != nil {
		fmt.Fprintln(sb.out, "  ! the bot did not acknowledge:", err)
		return
	}
	sb.settleAfter(heard)
}

// print shows one bot action as readable text.
// printf prints what the fake Twilio and PagerDuty received.
func (sb *sandbox) printf(format string, args ...any) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.lastSeen = time.Now()
	sb.heard++
	fmt.Fprintf(sb.out, format, args...)
}

func (sb *sandbox) print(e fakeslack.Event) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.lastSeen = time.Now()
	sb.heard++
	if e.File != nil {
		content := e.File.Content
		if !utf8.ValidString(content) { // a PNG chart: not for a terminal
			content = fmt.Sprintf("(binary, %d bytes)", len(content))
		}
		fmt.Fprintf(sb.out, "\n[file uploaded to #%s thread] %s: %q\n%s\n", channelName(e.File.Channel), e.File.Name, e.File.Title, indent(content))
		return
	}
	m := e.Message
	where := "#" + channelName(m.Channel)
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
	if _, ok := sb.byTS[m.TS]; ok && len(buttons) == 0 {
		// Its buttons were replaced by an outcome: nothing to press.
		delete(sb.byTS, m.TS)
		sb.order = slices.DeleteFunc(sb.order, func(ts string) bool { return ts == m.TS })
	}
	if len(buttons) > 0 {
		if _, ok := sb.byTS[m.TS]; !ok {
			sb.order = append(sb.order, m.TS)
		}
		sb.byTS[m.TS] = m
		sb.touchSeq++
		sb.touched[m.TS] = sb.touchSeq
		var labels []string
		for i, b := range buttons {
			labels = append(labels, fmt.Sprintf("%d:%s", i+1, b.Label))
		}
		body += "\n  buttons → " + strings.Join(labels, "  ")
	}
	fmt.Fprintf(sb.out, "\n[%s] clerk-incident bot:\n%s\n", where, indent(body))
}

var (
	mentionRe = regexp.MustCompile(`<@([A-Z0-9]+)(?:\|[^>]*)?>`)
	dateRe    = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)
	chanRe    = regexp.MustCompile(`<#([A-Z0-9]+)(\|[^>]*)?>`)
	groupRe   = regexp.MustCompile(`<!subteam\^([A-Z0-9]+)>`)
	emoji     = strings.NewReplacer(":red_circle:", "🔴", ":large_orange_circle:", "🟠", ":white_check_mark:", "✅",
		":white_large_square:", "⬜", ":warning:", "⚠️", ":no_entry:", "⛔", ":memo:", "📝", ":raising_hand:", "🙋",
		":rotating_light:", "🚨", ":busts_in_silhouette:", "👥", ":page_facing_up:", "📄", ":pencil:", "✏️",
		":lock:", "🔒", ":unlock:", "🔓", ":hourglass:", "⌛", ":raised_hand:", "✋", ":no_entry_sign:", "🚫", ":x:", "❌",
		":grey_question:", "❔", ":hourglass_flowing_sand:", "⏳", ":satellite_antenna:", "📡", ":large_green_circle:", "🟢",
		":large_yellow_circle:", "🟡", ":stopwatch:", "⏱️", ":point_right:", "👉", ":information_source:", "ℹ️", ":wrench:", "🔧", ":arrows_counterclockwise:", "🔄", ":octagonal_sign:", "🛑", ":mag:", "🔍", ":mega:", "📣")
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
	s = chanRe.ReplaceAllStringFunc(s, func(m string) string { return "#" + channelName(chanRe.FindStringSubmatch(m)[1]) })
	s = groupRe.ReplaceAllString(s, "@$1")
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s) // Slack's escapes, shown as typed
	return emoji.Replace(s)
}

// channelName is the name the terminal shows for a channel ID.
func channelName(id string) string {
	if n, ok := channelNames[id]; ok {
		return n
	}
	return id
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
