package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/tally"

	"github.com/slack-go/slack"
)

// Msg is an outbound message: fallback text (notifications, screen
// readers) and Block Kit blocks.
type Msg struct {
	Text   string
	Blocks []slack.Block
	// Broadcast also shows a thread reply in the channel.
	Broadcast bool
}

// ReplyTo says where a reply meant only for one person goes: the
// response_url of their command or click, or else an ephemeral message.
type ReplyTo struct {
	ResponseURL string
	Channel     string
	User        string
	// Replace overwrites the message the click came from (response_url only).
	Replace bool
}

// Pacer spends one call of a rate limit shared by every replica, waiting
// until it fits (redisx.Pacer).
type Pacer interface {
	Wait(ctx context.Context, key string, rate int, period time.Duration, burst int) error
}

// Slack is the outbound Web API with Slack's rate limits handled in one
// place: calls are paced below each method's limit, a 429 is retried
// after its Retry-After, a 5xx with backoff.
type Slack struct {
	api      *slack.Client
	http     *http.Client
	pacer    Pacer
	attempts int
	maxWait  time.Duration
	sleep    func(ctx context.Context, d time.Duration) error
}

// NewSlack wraps a slack-go client; pacer may be nil (no pacing: the
// sandbox, which has no limits).
func NewSlack(api *slack.Client, hc *http.Client, pacer Pacer) *Slack {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Slack{api: api, http: hc, pacer: pacer, attempts: 5, maxWait: 30 * time.Second, sleep: backoff.Sleep}
}

// ErrBusy is a call given up because Slack's budget (the shared pace, or
// a 429's Retry-After) would keep an interactive request waiting longer
// than its bound (WithPaceBound). The caller says Slack is busy; the
// renderer and the card catch-up bring Slack up to date later.
var ErrBusy = errors.New("Slack is busy: the bot's share of its rate limit is spent for now")

type paceBoundKey struct{}

// WithPaceBound bounds how long each Slack call made under ctx waits for
// the shared budget or a Retry-After: a person waits for an answer, so
// past d the call fails with ErrBusy instead of queueing behind the pace.
// d <= 0 removes the bound (background work detached from a request).
func WithPaceBound(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, paceBoundKey{}, d)
}

func paceBound(ctx context.Context) time.Duration {
	d, _ := ctx.Value(paceBoundKey{}).(time.Duration)
	return d
}

// limit is how fast the bot lets itself call a method: a little under
// Slack's published limit, so replicas sharing the budget draw no 429s.
// chat.postMessage is limited per channel.
func limit(method string) (rate int, period time.Duration, burst int, ok bool) {
	switch method {
	case "chat.postMessage":
		return 1, time.Second, 3, true // about 1 per second per channel, short bursts tolerated
	case "chat.update", "conversations.open", "conversations.info", "users.lookupByEmail":
		return 45, time.Minute, 15, true // Tier 3: about 50 a minute
	case "chat.postEphemeral", "users.info", "conversations.members":
		return 90, time.Minute, 30, true // Tier 4: about 100 a minute
	case "usergroups.users.list", "usergroups.users.update", "usergroups.list", "conversations.create", "conversations.archive":
		return 18, time.Minute, 4, true // Tier 2: about 20 a minute
	case "conversations.invite":
		return 45, time.Minute, 15, true // Tier 3
	}
	return 0, 0, 0, false
}

// pace waits for the method's budget (scope: the channel, for per-channel
// limits).
func (s *Slack) pace(ctx context.Context, method, scope string) error {
	rate, period, burst, ok := limit(method)
	if s.pacer == nil || !ok {
		return nil
	}
	key := method
	if method == "chat.postMessage" {
		key += ":" + scope
	}
	bound := paceBound(ctx)
	if bound <= 0 {
		return s.pacer.Wait(ctx, key, rate, period, burst)
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	err := s.pacer.Wait(wctx, key, rate, period, burst)
	if err != nil && ctx.Err() == nil {
		return ErrBusy
	}
	return err
}

// retry runs call through the one retry loop (internal/httpx) with
// Slack's rules, until it succeeds, fails for good, or attempts run out:
// each attempt waits for the pace first; a 429 waits its Retry-After, a
// 429 or 5xx answered as a status backs off, doubling; any wait is at
// most maxWait, and one longer than the request's pace bound is ErrBusy.
func (s *Slack) retry(ctx context.Context, what, scope string, call func() error) error {
	backoff := 500 * time.Millisecond
	exhausted := false
	policy := httpx.Policy{Attempts: s.attempts, Sleep: s.sleep, Classify: func(a httpx.Answer) httpx.Verdict {
		if a.Err == nil {
			return httpx.Verdict{}
		}
		var wait time.Duration
		var rl *slack.RateLimitedError
		var sc slack.StatusCodeError
		switch {
		case errors.As(a.Err, &rl):
			wait = rl.RetryAfter
		case errors.As(a.Err, &sc) && (sc.Code == http.StatusTooManyRequests || sc.Code >= 500):
			wait = backoff
			backoff *= 2
		default:
			return httpx.Verdict{Err: fmt.Errorf("slack %s: %w", what, classify(a.Err))}
		}
		wait = min(wait, s.maxWait)
		if a.Attempt+1 >= s.attempts {
			exhausted = true
			return httpx.Verdict{}
		}
		if bound := paceBound(ctx); bound > 0 && wait > bound {
			return httpx.Verdict{Err: fmt.Errorf("slack %s: %w", what, ErrBusy)}
		}
		return httpx.Verdict{Retry: true, Wait: wait}
	}}
	pace := func(ctx context.Context) error {
		if err := s.pace(ctx, what, scope); err != nil {
			return fmt.Errorf("slack %s: %w", what, err)
		}
		return nil
	}
	a, err := policy.Run(ctx, pace, func(ctx context.Context, _ int) httpx.Answer {
		tally.Slack(ctx)
		return httpx.Answer{Err: call()}
	})
	var we *httpx.WaitError
	switch {
	case errors.As(err, &we):
		return fmt.Errorf("slack %s: %w", what, we.Err)
	case exhausted:
		return fmt.Errorf("slack %s: gave up after %d attempts: %w", what, s.attempts,
			apperr.Wrap(apperr.SlackUnavailable, what+" kept failing", redactErr(a.Err)))
	}
	return err
}

// channelFix says what to do about the errors only the workspace can fix.
func channelFix(code string) (string, bool) {
	switch code {
	case "not_in_channel":
		return "the bot is not a member of the channel: invite it there", true
	case "channel_not_found":
		return "the channel does not exist or the bot cannot see it: check SLACK_CHANNEL_ID, and invite the bot to a private channel", true
	case "is_archived":
		return "the channel is archived: unarchive it or set SLACK_CHANNEL_ID to a live channel", true
	case "restricted_action":
		return "the workspace does not let the bot post there: ask an admin to allow it, or use another channel", true
	}
	return "", false
}

// userProblem names the errors that mean a person cannot be reached in
// Slack at all; retrying them changes nothing.
func userProblem(code string) (string, bool) {
	switch code {
	case "user_not_found", "users_not_found":
		return "not found in Slack (" + code + "): left the workspace, or a stale ID in contacts.yml", true
	case "user_disabled", "account_inactive":
		return "deactivated in Slack (" + code + ")", true
	case "cannot_dm_bot":
		return "is a bot and cannot be sent a DM (cannot_dm_bot)", true
	case "user_not_visible":
		return "not visible to the bot (user_not_visible): a guest or another workspace", true
	}
	return "", false
}

// classify gives Slack's channel errors their code (apperr.SlackChannel)
// so the user reads what to fix; they never change on retry. A transport
// failure (Slack unreachable) is Slack's, coded here at the edge: nothing
// else can tell it from the store's.
func classify(err error) error {
	var uerr *url.Error
	transport := errors.As(err, &uerr) // the request never got Slack's answer (refused, reset, EOF)
	err = redactErr(err)
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if fix, ok := channelFix(se.Err); ok {
			return apperr.Wrap(apperr.SlackChannel, fix, err)
		}
		if why, ok := userProblem(se.Err); ok {
			return apperr.Wrap(apperr.SlackUser, why, err)
		}
	}
	var ne net.Error
	if (transport || errors.As(err, &ne)) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return apperr.Wrap(apperr.SlackUnavailable, "Slack did not answer", err)
	}
	return err
}

// redactErr drops URLs from transport errors: a response_url is a bearer
// credential and must not reach logs.
func redactErr(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s request failed: %w", uerr.Op, uerr.Err)
	}
	return err
}

// Post sends a message to a channel, or into a thread when threadTS is set.
func (s *Slack) Post(ctx context.Context, channel, threadTS string, m Msg) (string, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
		if m.Broadcast {
			opts = append(opts, slack.MsgOptionBroadcast())
		}
	}
	var ts string
	err := s.retry(ctx, "chat.postMessage", channel, func() error {
		var err error
		_, ts, err = s.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ts, err
}

// Update rewrites a message in place; it works from any replica.
func (s *Slack) Update(ctx context.Context, channel, ts string, m Msg) error {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
	return s.retry(ctx, "chat.update", "", func() error {
		_, _, _, err := s.api.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
}

// Reply sends a message only the person sees.
func (s *Slack) Reply(ctx context.Context, to ReplyTo, m Msg) error {
	if to.ResponseURL != "" {
		msg := &slack.WebhookMessage{Text: m.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: to.Replace}
		if len(m.Blocks) > 0 {
			msg.Blocks = &slack.Blocks{BlockSet: m.Blocks}
		}
		err := s.retry(ctx, "response_url", "", func() error {
			return slack.PostWebhookCustomHTTPContext(ctx, to.ResponseURL, s.http, msg)
		})
		var sc slack.StatusCodeError
		if err == nil || to.Replace || !errors.As(err, &sc) || sc.Code/100 != 4 || to.Channel == "" || to.User == "" {
			return err
		}
		// A response_url takes 5 posts within 30 minutes (used_url) and
		// expires (expired_url): the reply goes as an ephemeral instead.
	}
	if to.Channel == "" || to.User == "" {
		return errors.New("slack reply: no response_url and no channel/user")
	}
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	err := s.retry(ctx, "chat.postEphemeral", "", func() error {
		_, err := s.api.PostEphemeralContext(ctx, to.Channel, to.User, opts...)
		return err
	})
	if code := SlackCode(err); code != "not_in_channel" && code != "channel_not_found" {
		return err
	}
	// Slack shows an ephemeral message only where the bot is a member:
	// elsewhere the reply goes to the person as a DM.
	dm, derr := s.OpenDM(ctx, to.User)
	if derr != nil {
		return fmt.Errorf("%w; and a DM instead: %w", err, derr)
	}
	if _, derr := s.Post(ctx, dm, "", m); derr != nil {
		return fmt.Errorf("%w; and a DM instead: %w", err, derr)
	}
	return nil
}

// OpenView opens a modal for the person who clicked (views.open). The
// trigger_id is valid for 3 s, so a failure is not retried.
func (s *Slack) OpenView(ctx context.Context, triggerID string, v slack.ModalViewRequest) error {
	tally.Slack(ctx)
	if _, err := s.api.OpenViewContext(ctx, triggerID, v); err != nil {
		return fmt.Errorf("slack views.open: %w", classify(err))
	}
	return nil
}

// Upload shares a text file into a channel or thread (files upload v2).
func (s *Slack) Upload(ctx context.Context, channel, threadTS, filename, title, content, comment string) error {
	return s.retry(ctx, "files.upload", "", func() error {
		_, err := s.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Filename: filename, Title: title, Content: content, FileSize: len(content),
			Channel: channel, ThreadTimestamp: threadTS, InitialComment: comment,
		})
		return err
	})
}

// GroupMembers lists the members of a user group.
func (s *Slack) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	var members []string
	err := s.retry(ctx, "usergroups.users.list", "", func() error {
		var err error
		members, err = s.api.GetUserGroupMembersContext(ctx, groupID)
		return err
	})
	return members, err
}

// GroupHandles maps each user group's ID to its @handle (usergroups.list,
// Tier 2: callers cache it).
func (s *Slack) GroupHandles(ctx context.Context) (map[string]string, error) {
	var groups []slack.UserGroup
	err := s.retry(ctx, "usergroups.list", "", func() error {
		var err error
		groups, err = s.api.GetUserGroupsContext(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(groups))
	for _, g := range groups {
		out[g.ID] = g.Handle
	}
	return out, nil
}

// OpenDM opens (or finds) the bot's direct message with a user.
func (s *Slack) OpenDM(ctx context.Context, user string) (string, error) {
	var id string
	err := s.retry(ctx, "conversations.open", "", func() error {
		ch, _, _, err := s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		if err == nil {
			id = ch.ID
		}
		return err
	})
	return id, err
}

// LookupEmail finds a user by e-mail address (users:read.email).
func (s *Slack) LookupEmail(ctx context.Context, email string) (string, error) {
	var id string
	err := s.retry(ctx, "users.lookupByEmail", "", func() error {
		u, err := s.api.GetUserByEmailContext(ctx, email)
		if err == nil {
			id = u.ID
		}
		return err
	})
	return id, err
}

// LookupHandle finds a user group (by handle) or a user (by name) for an
// @handle. Used at start-up only: users.list is paged and slow.
func (s *Slack) LookupHandle(ctx context.Context, handle string) (string, error) {
	h := strings.ToLower(strings.TrimPrefix(handle, "@"))
	var groups []slack.UserGroup
	err := s.retry(ctx, "usergroups.list", "", func() error {
		var err error
		groups, err = s.api.GetUserGroupsContext(ctx)
		return err
	})
	var se slack.SlackErrorResponse
	if err != nil && !(errors.As(err, &se) && se.Err == "plan_upgrade_required") {
		return "", err
	}
	for _, g := range groups {
		if strings.EqualFold(g.Handle, h) {
			return g.ID, nil
		}
	}
	users, err := s.api.GetUsersContext(ctx)
	if err != nil {
		return "", fmt.Errorf("slack users.list: %w", redactErr(err))
	}
	for _, u := range users {
		if !u.Deleted && (strings.EqualFold(u.Name, h) || strings.EqualFold(u.Profile.DisplayName, h)) {
			return u.ID, nil
		}
	}
	return "", fmt.Errorf("no user or user group %s", handle)
}

// AuthTest checks the bot token and returns the bot's user ID.
func (s *Slack) AuthTest(ctx context.Context) (string, error) {
	r, err := s.api.AuthTestContext(ctx)
	if err != nil {
		return "", fmt.Errorf("slack auth.test: %w", redactErr(err))
	}
	return r.UserID, nil
}

// CheckUser reports whether a user can be paged: users.info must know
// them and they must not be deactivated.
func (s *Slack) CheckUser(ctx context.Context, id string) error {
	var u *slack.User
	err := s.retry(ctx, "users.info", "", func() error {
		var err error
		u, err = s.api.GetUserInfoContext(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	if u.Deleted {
		return apperr.New(apperr.SlackUser, "deactivated in Slack")
	}
	return nil
}

// DisplayName is how Slack shows a user (users.info, Tier 4): the
// profile's display name, else their real name, else their handle.
func (s *Slack) DisplayName(ctx context.Context, id string) (string, error) {
	var u *slack.User
	err := s.retry(ctx, "users.info", "", func() error {
		var err error
		u, err = s.api.GetUserInfoContext(ctx, id)
		return err
	})
	if err != nil {
		return "", err
	}
	for _, n := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name} {
		if strings.TrimSpace(n) != "" {
			return strings.TrimSpace(n), nil
		}
	}
	return "", nil
}

// CheckChannel reports whether the bot can post in the channel: it must
// exist, be live and have the bot as a member (conversations.info, with
// channels:read and groups:read).
func (s *Slack) CheckChannel(ctx context.Context, id string) error {
	var ch *slack.Channel
	err := s.retry(ctx, "conversations.info", "", func() error {
		var err error
		ch, err = s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		return err
	})
	if err != nil {
		return err
	}
	if ch.IsArchived {
		fix, _ := channelFix("is_archived")
		return apperr.New(apperr.SlackChannel, fix)
	}
	if !ch.IsMember {
		fix, _ := channelFix("not_in_channel")
		return apperr.New(apperr.SlackChannel, fix)
	}
	return nil
}
