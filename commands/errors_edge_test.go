package commands

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Slack and the store are both network peers: each codes its own
// failure at its edge, so a Slack outage is never read as the store's.
func TestNetworkFailuresNameTheirPeer(t *testing.T) {
	gone := httptest.NewServer(nil)
	addr := gone.Listener.Addr().String()
	gone.Close() // nothing listens there any more: connection refused

	out := bot.NewSlack(slack.New("xoxb-test", slack.OptionAPIURL("http://"+addr+"/api/")), nil, nil)
	_, err := out.Post(context.Background(), "C1", "", bot.Msg{Text: "hello"})
	if code := apperr.CodeOf(err); code != apperr.SlackUnavailable {
		t.Fatalf("Slack unreachable is %q: %v", code, err)
	}
	msg, _ := Sentence(err)
	if !strings.Contains(msg, "Slack does not answer") || strings.Contains(msg, "store") {
		t.Fatalf("Slack unreachable reads %q", msg)
	}

	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	rdb.AddHook(redisx.ErrorCodes{})
	defer rdb.Close()
	err = rdb.Get(context.Background(), "k").Err()
	if code := apperr.CodeOf(err); code != apperr.UnavailableStore {
		t.Fatalf("Redis unreachable is %q: %v", code, err)
	}
	if msg, internal := Sentence(err); !strings.Contains(msg, "incident store is unavailable") || !internal {
		t.Fatalf("Redis unreachable reads %q", msg)
	}
	// Uncoded, a network error is nobody's in particular: not guessed to be the store's.
	if code := apperr.CodeOf(redisx.StoreErr(redis.Nil)); code != apperr.Internal {
		t.Fatalf("redis.Nil coded %q", code)
	}
}
