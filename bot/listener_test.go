package bot_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

type recorder struct {
	mu       sync.Mutex
	commands []bot.Command
	actions  []bot.Action
}

func (r *recorder) Command(ctx context.Context, c bot.Command) {
	if strings.HasPrefix(c.Text, "panic") {
		panic("handler bug: " + c.Text)
	}
	r.mu.Lock()
	r.commands = append(r.commands, c)
	r.mu.Unlock()
}

func (r *recorder) Action(ctx context.Context, a bot.Action) {
	r.mu.Lock()
	r.actions = append(r.actions, a)
	r.mu.Unlock()
}

// CheckView refuses nothing: a submission goes on to Action.
func (r *recorder) CheckView(ctx context.Context, a bot.Action) map[string]string { return nil }

// waitHandled waits until the recorder has seen n commands.
func waitHandled(t *testing.T, rec *recorder, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		rec.mu.Lock()
		got := len(rec.commands)
		rec.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d commands, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReconnect waits until the client opened a new connection.
func waitReconnect(t *testing.T, fs *fakeslack.Server, opensBefore int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); fs.Calls("apps.connections.open") == opensBefore || fs.Connections() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("did not reconnect")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startListener(t *testing.T, h bot.Handler) (*fakeslack.Server, *logrus.Logger) {
	t.Helper()
	fs := fakeslack.New()
	api := slack.New(fs.BotToken, slack.OptionAppLevelToken(fs.AppToken), slack.OptionAPIURL(fs.APIURL()))
	log := logrus.New()
	log.SetOutput(io.Discard)
	l := bot.NewListener(api, h, nil, bot.NewSlack(api, nil, nil), log, 5*time.Second, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	if err := fs.WaitConnected(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		fs.Close()
	})
	return fs, log
}

func TestPanickingHandlerIsRecoveredAndUserTold(t *testing.T) {
	rec := &recorder{}
	fs, _ := startListener(t, rec)
	fs.Command(t, "U1", "C1", "panic now")
	fs.ExpectEphemeral(t, "U1", "Something went wrong")
	// The loop still works after the panic.
	fs.Command(t, "U1", "C1", "list")
	waitHandled(t, rec, 1)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if c := rec.commands[0]; c.Text != "list" || c.UserID != "U1" || c.ChannelID != "C1" || c.ResponseURL == "" {
		t.Fatalf("command = %+v", c)
	}
}

func TestClicksReachTheHandlerWithTheirFields(t *testing.T) {
	rec := &recorder{}
	fs, _ := startListener(t, rec)
	id, err := fs.Press("U2", &fakeslack.Message{Channel: "C1", TS: "1700000000.000100", Blocks: []byte("[]")},
		fakeslack.Button{Label: "Approve", ActionID: "approve", BlockID: "approval", Value: "apr-1"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fs.WaitAck(id, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if a.Latency > time.Second {
		t.Errorf("ack latency %v", a.Latency)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.actions)
		rec.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("click never handled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := rec.actions[0]
	if got.ActionID != "approve" || got.BlockID != "approval" || got.Value != "apr-1" || got.UserID != "U2" || got.ChannelID != "C1" || got.MessageTS != "1700000000.000100" {
		t.Fatalf("action = %+v", got)
	}
}

func TestReconnectsAfterDisconnect(t *testing.T) {
	rec := &recorder{}
	fs, _ := startListener(t, rec)
	before := fs.Calls("apps.connections.open")
	fs.Disconnect()
	waitReconnect(t, fs, before)
	fs.Command(t, "U1", "C1", "help")
	waitHandled(t, rec, 1)
}

func TestReconnectsAfterAHardClose(t *testing.T) {
	rec := &recorder{}
	fs, _ := startListener(t, rec)
	before := fs.Calls("apps.connections.open")
	fs.DropConnections()
	waitReconnect(t, fs, before)
	fs.Command(t, "U1", "C1", "list")
	waitHandled(t, rec, 1)
}

// A response_url takes 5 posts within 30 minutes: the sixth reply to the
// same command arrives as an ephemeral message instead of being lost.
func TestSixthReplyGoesAsAnEphemeral(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	api := slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL()))
	out := bot.NewSlack(api, nil, nil)
	to := bot.ReplyTo{ResponseURL: fs.ResponseURL("U1", "C1"), Channel: "C1", User: "U1"}
	for i := range 6 {
		if err := out.Reply(context.Background(), to, bot.Msg{Text: fmt.Sprintf("reply %d", i+1)}); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
	}
	for i := range 6 {
		fs.ExpectEphemeral(t, "U1", fmt.Sprintf("reply %d", i+1))
	}
	if n := fs.Calls("chat.postEphemeral"); n != 1 {
		t.Fatalf("%d replies went through chat.postEphemeral, want the sixth only", n)
	}
}

// A click on an ephemeral message comes as Slack sends it: the container
// says is_ephemeral and names the message, and there is no message.
func TestClickOnAnEphemeralMessageComesWithoutTheMessage(t *testing.T) {
	rec := &recorder{}
	fs, _ := startListener(t, rec)
	id, err := fs.Press("U2", &fakeslack.Message{Channel: "C1", TS: "1700000000.000200", User: "U2", Ephemeral: true, Blocks: []byte("[]")},
		fakeslack.Button{Label: "Post", ActionID: "draft_post", BlockID: "draft", Value: "INC-1"})
	if err != nil {
		t.Fatal(err)
	}
	p := fs.Payload(id)
	if _, ok := p["message"]; ok {
		t.Errorf("the payload carries a message: %v", p["message"])
	}
	if c, _ := p["container"].(map[string]any); c["is_ephemeral"] != true || c["message_ts"] != "1700000000.000200" {
		t.Errorf("container %v", p["container"])
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.actions)
		rec.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("click never handled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := rec.actions[0]; got.ChannelID != "C1" || got.MessageTS != "1700000000.000200" || got.UserID != "U2" {
		t.Fatalf("action = %+v", got)
	}
}
