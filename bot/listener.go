// Package bot is the Slack transport: the Socket Mode loop that acks every
// envelope first and then hands it to a handler with a timeout and panic
// recovery, and the outbound Web API with rate-limit retries. It knows
// nothing of incidents.
package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/tally"
	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Command is a slash command as the handlers see it.
type Command struct {
	EnvelopeID  string
	Command     string
	Text        string
	UserID      string
	UserName    string
	ChannelID   string
	TeamID      string
	ResponseURL string
	TriggerID   string
	// Operator is true only at the break-glass CLI, where shell access to
	// the bot's environment is the authorization.
	Operator bool
	// Origin is the OS user, host and process ID of a CLI command.
	Origin string
}

// Action is a button click.
type Action struct {
	EnvelopeID  string
	ActionID    string
	BlockID     string
	Value       string
	UserID      string
	UserName    string
	ChannelID   string
	MessageTS   string
	ThreadTS    string
	ResponseURL string
	// TriggerID lets the handler open a modal (views.open, within 3 s).
	TriggerID string
	// ViewText is the submitted text of a modal's input; a submission
	// arrives as an Action whose ActionID is "view:<callback_id>" and
	// whose Value is the view's private_metadata.
	ViewText string
}

// Handler does the work after the ack. Handlers reply themselves.
type Handler interface {
	Command(ctx context.Context, c Command)
	Action(ctx context.Context, a Action)
	ViewChecker
}

// Deduper remembers envelope IDs across replicas: Slack may redeliver an
// envelope it thinks was lost, and it must be handled once.
type Deduper interface {
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Replier tells a user something went wrong when a handler panics.
type Replier interface {
	Reply(ctx context.Context, to ReplyTo, m Msg) error
}

// Listener runs the Socket Mode connection.
type Listener struct {
	client    *socketmode.Client
	handler   Handler
	dedupe    Deduper
	reply     Replier
	log       logrus.FieldLogger
	timeout   time.Duration
	command   string
	connected atomic.Bool
	wg        sync.WaitGroup
	guard     Guard
	acks      AckObserver
}

// Guard runs fn, recovering a panic and reporting whether one happened
// (internal/guard.Guard).
type Guard interface {
	Run(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) bool
}

// AckObserver observes each ack's latency (benchmarks, metrics).
type AckObserver interface {
	Ack(kind string, d time.Duration)
}

// AckFunc is a function as an AckObserver.
type AckFunc func(kind string, d time.Duration)

// Ack calls f.
func (a AckFunc) Ack(kind string, d time.Duration) { a(kind, d) }

// NewListener builds the Socket Mode loop around an API client that has
// the app-level token. g owns the goroutines the listener starts (the
// Socket Mode client and each handler): a panic is logged with its stack
// and told once in Slack; nil recovers and logs only. acks may be nil.
func NewListener(api *slack.Client, h Handler, d Deduper, r Replier, log logrus.FieldLogger, timeout time.Duration, g Guard, acks AckObserver) *Listener {
	if g == nil {
		g = guard.New(log, nil, nil)
	}
	if acks == nil {
		acks = AckFunc(func(string, time.Duration) {})
	}
	return &Listener{
		client:  socketmode.New(api),
		handler: h, dedupe: d, reply: r, log: log, timeout: timeout,
		command: "/clerk-incident", guard: g, acks: acks,
	}
}

// Connected reports whether the socket is up (for /healthz).
func (l *Listener) Connected() bool { return l.connected.Load() }

// Run connects and handles events until ctx ends, then waits for the
// handlers in flight.
func (l *Listener) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	panicked := make(chan struct{}, 1)
	// slack-go starts the receiver, request handler and response sender in
	// goroutines of its own, which no caller can recover; they run only
	// slack-go's code (no logger or callback of ours is given to it). What
	// runs here is guarded: this goroutine and every handler.
	start := func() {
		go func() {
			if l.guard.Run(ctx, "socket mode client", "", func(ctx context.Context) { errc <- l.client.RunContext(ctx) }) {
				panicked <- struct{}{}
			}
		}()
	}
	start()
	defer l.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			l.connected.Store(false)
			return nil
		case <-panicked:
			// The client died with a bug of its own: connect again rather
			// than end the process.
			l.connected.Store(false)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
				start()
			}
		case err := <-errc:
			l.connected.Store(false)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("socket mode: %w", err)
		case evt, ok := <-l.client.Events:
			if !ok {
				return nil
			}
			l.handle(ctx, evt)
		}
	}
}

func (l *Listener) handle(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		l.connected.Store(true)
		l.log.Info("socket mode connected")
	case socketmode.EventTypeConnecting:
		l.log.Debug("socket mode connecting")
	case socketmode.EventTypeDisconnect:
		l.connected.Store(false)
		l.log.Info("slack asked to reconnect")
	case socketmode.EventTypeConnectionError:
		l.connected.Store(false)
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			l.log.WithField("attempt", ce.Attempt).WithError(redactErr(ce.ErrorObj)).Warn("socket mode connection error")
		}
	case socketmode.EventTypeInvalidAuth:
		l.connected.Store(false)
		l.log.Error("slack rejected the app token")
	case socketmode.EventTypeSlashCommand:
		l.handleCommand(ctx, evt)
	case socketmode.EventTypeInteractive:
		l.handleInteractive(ctx, evt)
	case socketmode.EventTypeEventsAPI:
		l.ack(evt)
	case socketmode.EventTypeHello, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		if evt.Type != socketmode.EventTypeHello {
			l.log.WithField("event", evt.Type).Warn("socket mode problem")
		}
	}
}

// handleCommand acks a slash command and dispatches it.
func (l *Listener) handleCommand(ctx context.Context, evt socketmode.Event) {
	start := time.Now()
	l.ack(evt)
	l.acks.Ack("slash_command", time.Since(start))
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok || evt.Request == nil {
		return
	}
	if cmd.Command != "" && cmd.Command != l.command {
		l.log.WithField("command", cmd.Command).Warn("ignoring unknown slash command")
		return
	}
	c := Command{EnvelopeID: evt.Request.EnvelopeID, Command: cmd.Command, Text: unescape(cmd.Text), UserID: cmd.UserID,
		UserName: cmd.UserName, ChannelID: cmd.ChannelID, TeamID: cmd.TeamID, ResponseURL: cmd.ResponseURL, TriggerID: cmd.TriggerID}
	l.dispatch(ctx, evt.Request.EnvelopeID, ReplyTo{ResponseURL: c.ResponseURL, Channel: c.ChannelID, User: c.UserID},
		logrus.Fields{"kind": "command", "user": c.UserID, "channel": c.ChannelID},
		func(ctx context.Context) { l.handler.Command(ctx, c) })
}

// handleInteractive acks a click or a modal submission (with the view
// checker's errors, if it refuses it) and dispatches each action.
func (l *Listener) handleInteractive(ctx context.Context, evt socketmode.Event) {
	start := time.Now()
	if l.refuseView(ctx, evt) {
		l.acks.Ack("interactive", time.Since(start))
		return
	}
	l.ack(evt)
	l.acks.Ack("interactive", time.Since(start))
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || evt.Request == nil {
		return
	}
	if cb.Type == slack.InteractionTypeViewSubmission {
		a := viewAction(evt.Request.EnvelopeID, cb)
		l.dispatch(ctx, evt.Request.EnvelopeID, ReplyTo{}, logrus.Fields{"kind": "view", "view": cb.View.CallbackID, "user": a.UserID},
			func(ctx context.Context) { l.handler.Action(ctx, a) })
		return
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return
	}
	for _, ba := range cb.ActionCallback.BlockActions {
		if ba == nil {
			continue
		}
		a := Action{EnvelopeID: evt.Request.EnvelopeID, ActionID: ba.ActionID, BlockID: ba.BlockID, Value: ba.Value,
			UserID: cb.User.ID, UserName: cb.User.Name, ChannelID: cb.Channel.ID, MessageTS: cb.Container.MessageTs,
			ThreadTS: cb.Container.ThreadTs, ResponseURL: cb.ResponseURL, TriggerID: cb.TriggerID}
		if a.ChannelID == "" {
			a.ChannelID = cb.Container.ChannelID
		}
		if a.UserName == "" {
			a.UserName = cb.User.Username
		}
		l.dispatch(ctx, evt.Request.EnvelopeID+":"+ba.ActionID, ReplyTo{ResponseURL: a.ResponseURL, Channel: a.ChannelID, User: a.UserID},
			logrus.Fields{"kind": "action", "action": a.ActionID, "user": a.UserID},
			func(ctx context.Context) { l.handler.Action(ctx, a) })
	}
}

func (l *Listener) ack(evt socketmode.Event) {
	if evt.Request == nil {
		return
	}
	if err := l.client.Ack(*evt.Request); err != nil {
		l.log.WithError(err).Warn("ack failed")
	}
}

// dispatch runs the work in its own goroutine after the ack, once per
// envelope across replicas, bounded by the timeout, recovering panics.
func (l *Listener) dispatch(ctx context.Context, key string, to ReplyTo, fields logrus.Fields, work func(context.Context)) {
	l.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
		defer cancel()
		ctx, counts := tally.With(ctx)
		start := time.Now()
		log := l.log.WithFields(fields)
		// What each request cost, for capacity planning against Slack's
		// and Redis's limits (and read by the busy-incident benchmark).
		defer func() {
			log.WithFields(logrus.Fields{"redis_round_trips": counts.RedisTrips(), "slack_calls": counts.SlackCalls(),
				"took_ms": time.Since(start).Milliseconds()}).Debug("request done")
		}()
		if l.dedupe != nil {
			first, err := l.dedupe.Once(ctx, "envelope:"+key, time.Hour)
			if err != nil {
				// Better to risk a duplicate than to drop a command.
				log.WithError(err).Warn("dedupe unavailable; handling anyway")
			} else if !first {
				log.Info("duplicate envelope ignored")
				return
			}
		}
		if l.guard.Run(ctx, "slack handler", "", work) {
			_ = l.reply.Reply(ctx, to, Msg{Text: ":warning: Something went wrong while handling that; nothing more was done. The error was logged."})
		}
	})
}

// ViewChecker, when the Handler has it, checks a modal submission before
// the ack (Slack waits 3 s for it): errors keyed by block_id go back in the
// ack as response_action "errors", Slack shows them in the modal, which
// stays open, and the submission goes no further.
type ViewChecker interface {
	CheckView(ctx context.Context, a Action) map[string]string
}

// viewCheckTime leaves the ack well inside Slack's 3 s.
const viewCheckTime = 2 * time.Second

// refuseView acks a view submission its checker refuses, with the errors,
// and reports whether it did. A checker that fails or panics refuses
// nothing: the submission is acked and handled as usual.
func (l *Listener) refuseView(ctx context.Context, evt socketmode.Event) (refused bool) {
	cb, isCB := evt.Data.(slack.InteractionCallback)
	if !isCB || evt.Request == nil || cb.Type != slack.InteractionTypeViewSubmission {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, viewCheckTime)
	defer cancel()
	var errs map[string]string
	l.guard.Run(ctx, "view check", "", func(ctx context.Context) { errs = l.handler.CheckView(ctx, viewAction(evt.Request.EnvelopeID, cb)) })
	if len(errs) == 0 {
		return false
	}
	if err := l.client.Ack(*evt.Request, map[string]any{"response_action": "errors", "errors": errs}); err != nil {
		l.log.WithError(err).Warn("ack failed")
	}
	return true
}

// viewAction is a modal submission as the handler sees it.
func viewAction(envelopeID string, cb slack.InteractionCallback) Action {
	a := Action{EnvelopeID: envelopeID, ActionID: "view:" + cb.View.CallbackID, Value: cb.View.PrivateMetadata,
		UserID: cb.User.ID, UserName: cb.User.Name, ViewText: firstInput(cb.View.State)}
	if a.UserName == "" {
		a.UserName = cb.User.Username
	}
	return a
}

// firstInput is the value of a submitted modal's first text input.
func firstInput(st *slack.ViewState) string {
	if st == nil {
		return ""
	}
	for _, block := range st.Values {
		for _, v := range block {
			return v.Value
		}
	}
	return ""
}

// unescape turns slash-command text back into what was typed: Slack sends
// &, < and > as &amp;, &lt; and &gt;. The publisher escapes them again
// wherever the text goes into mrkdwn.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
