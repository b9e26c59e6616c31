package fakeslack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

func call(t *testing.T, fs *fakeslack.Server, method string, args url.Values) *http.Response {
	t.Helper()
	args.Set("token", fs.BotToken)
	resp, err := http.PostForm(fs.APIURL()+method, args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Slack names the bot token's scopes in X-OAuth-Scopes on every Web API
// answer, not only auth.test's.
func TestEveryWebAPIAnswerNamesTheTokensScopes(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.SetScopes("chat:write", "commands")
	for _, m := range []string{"chat.postMessage", "users.info", "conversations.info", "auth.test"} {
		resp := call(t, fs, m, url.Values{"channel": {"C1"}, "text": {"x"}, "user": {"U1"}})
		if got := resp.Header.Get("X-OAuth-Scopes"); got != "chat:write,commands" {
			t.Errorf("%s: X-OAuth-Scopes %q", m, got)
		}
	}
}

// A message posted through a response_url is a message of its own, with
// its own ts (only replace_original rewrites the clicked one).
func TestAResponseURLMessageHasItsOwnTS(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	var tss []string
	for range 2 {
		resp, err := http.Post(fs.ResponseURL("U1", "C1"), "application/json", strings.NewReader(`{"text":"only you"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, m := range fs.Messages() {
		tss = append(tss, m.TS)
	}
	if len(tss) != 2 || tss[0] == "" || tss[0] == tss[1] {
		t.Fatalf("ts %q", tss)
	}
}

// chat.postEphemeral needs the bot in the channel; conversations.invite
// takes at most 1000 users.
func TestEphemeralsOutsideTheBotsChannelsAndBigInvitesAreRefused(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	fs.SetChannel("CX", "not_in_channel")
	fs.SetChannel("CY", "channel_not_found")
	for ch, want := range map[string]string{"CX": "not_in_channel", "CY": "channel_not_found", "C1": `"ok":true`} {
		resp := call(t, fs, "chat.postEphemeral", url.Values{"channel": {ch}, "user": {"U1"}, "text": {"x"}})
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s: %s, want %s", ch, b.String(), want)
		}
	}
	var created struct {
		Channel struct{ ID string } `json:"channel"`
	}
	if err := json.NewDecoder(call(t, fs, "conversations.create", url.Values{"name": {"inc-1"}}).Body).Decode(&created); err != nil {
		t.Fatal(err)
	}
	users := make([]string, 1001)
	for i := range users {
		users[i] = fmt.Sprintf("U%04d", i)
	}
	resp := call(t, fs, "conversations.invite", url.Values{"channel": {created.Channel.ID}, "users": {strings.Join(users, ",")}})
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	if !strings.Contains(string(buf[:n]), "too_many_users") {
		t.Errorf("1001 invitees: %s", buf[:n])
	}
}
