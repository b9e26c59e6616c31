package app

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/alerts"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/tally"
	"github.com/clerk-incident-bot/clerk-incident-bot/metrics"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuspage"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

// Options are the parts a caller may swap (tests, the sandbox).
type Options struct {
	Stderr io.Writer
	Now    func() time.Time
	// Ready, if set, is called once the HTTP server listens.
	Ready func(httpAddr string)
	// OnAck observes Socket Mode ack latency.
	OnAck func(kind string, d time.Duration)
	// Hooks hand the caller the bot's loops.
	Hooks
	// Manual names the loops the caller runs itself instead.
	Manual Loops
	// PanicHook runs at the start of every guarded job (loops, workers,
	// HTTP handlers); tests make it panic to prove the process survives.
	PanicHook func(job string)
	// RenderGap paces card refreshes per incident (0: one a second, as
	// Slack's limits want; the sandbox, on a fake Slack, shows them at once).
	RenderGap time.Duration
	// Unpaced calls Slack without pacing it (the sandbox: its fake Slack
	// has no limits, and a person is waiting at the prompt).
	Unpaced bool
	// VercelWait sleeps between polls of a Vercel rollback (nil: 2 s).
	VercelWait func(ctx context.Context) error
}

// Hooks receive the bot's loops, each when it is built (nil: not wanted).
type Hooks struct {
	// OnEngine receives the escalation engine; with Manual.Engine the
	// caller drives it with Tick (tests with an injected clock).
	OnEngine func(*escalation.Engine)
	// OnSweep receives the 1 s sweep (approval expiry and outbox, bypass
	// end, resync resume, card catch-up); with Manual.Sweep the caller
	// runs it with an injected clock.
	OnSweep func(sweep func(ctx context.Context))
	// OnPoller receives the status poller; with Manual.Poll the caller polls.
	OnPoller func(*statuswatch.Poller)
	// OnPagerDuty receives the PagerDuty read-back; with Manual.PagerDuty
	// the caller runs its Tick.
	OnPagerDuty func(*usecase.PagerDutySync)
}

// Loops are the bot's own loops a caller may run itself: the escalation
// engine's ticks, the 1 s sweep (with Sweep, the sweep handed to OnSweep
// also reads SMS replies when due), the status polls and the PagerDuty
// read-back.
type Loops struct{ Engine, Sweep, Poll, PagerDuty bool }

// Run starts the bot and blocks until ctx ends or Slack refuses the app.
func Run(ctx context.Context, cfg Config, opt Options) error {
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := newLogger(cfg, opt.Stderr)
	rb, rdb, stores, closeRedis, err := openStores(cfg, opt, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	if err := stores.Incidents.Ping(ctx); err != nil {
		log.WithError(err).Error("redis does not answer yet; commands will fail until it does")
	}

	api, out, scopes, err := connectSlack(ctx, cfg, opt, rdb, log)
	if err != nil {
		return err
	}
	built, err := assemble(ctx, cfg, opt, rdb, stores, rb, out, scopes, log)
	if err != nil {
		return err
	}
	var stop stops
	defer stop.run()
	startLoops(ctx, cfg, opt, built, &stop, log)
	listener := bot.NewListener(api, built.handlers, stores.Markers, out, log, cfg.HandlerTimeout, built.guard, bot.AckFunc(func(kind string, d time.Duration) {
		built.metrics.Ack(kind, d)
		if opt.OnAck != nil {
			opt.OnAck(kind, d)
		}
	}))

	srv, err := serveHTTP(cfg, opt, built, listener, stores.Incidents, log)
	if err != nil {
		return err
	}
	var runErr error
	built.guard.Loop(ctx, "socket listener", func(ctx context.Context) { runErr = listener.Run(ctx) })
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	log.Info("stopped")
	return runErr
}

// connectSlack checks the bot token (a rejected token stops start-up; a
// Slack that does not answer is retried by Socket Mode) and the channel,
// and builds the paced Web API client.
func connectSlack(ctx context.Context, cfg Config, opt Options, rdb redis.UniversalClient, log logrus.FieldLogger) (*slack.Client, *bot.Slack, *grantedScopes, error) {
	scopes := &grantedScopes{}
	api := slack.New(cfg.BotToken, slack.OptionAppLevelToken(cfg.AppToken), slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionOnResponseHeaders(scopes.observe))
	authCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	who, err := api.AuthTestContext(authCtx)
	cancel()
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "invalid_auth" || se.Err == "not_authed" || se.Err == "token_revoked" || se.Err == "account_inactive") {
			return nil, nil, nil, fmt.Errorf("slack rejected SLACK_BOT_TOKEN (%s)", se.Err)
		}
		log.WithError(err).Warn("slack auth.test failed; continuing, Socket Mode will retry")
	} else {
		log.WithFields(logrus.Fields{"bot_user": who.UserID, "team": who.TeamID}).Info("slack bot token accepted")
	}
	if err := checkRoomScopes(cfg, scopes); err != nil {
		return nil, nil, nil, err
	}

	var pacer bot.Pacer = redisx.NewPacer(rdb, cfg.RedisPrefix)
	if opt.Unpaced {
		pacer = nil
	}
	out := bot.NewSlack(api, nil, pacer)
	if cfg.Channel != "" {
		// Once at start-up: a missing channel or a bot that is not a member
		// is said now, not discovered at the first incident.
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		if err := out.CheckChannel(cctx, cfg.Channel); err != nil {
			fix := apperr.MessageOf(err)
			if fix == "" {
				fix = err.Error()
			}
			log.WithField("channel", cfg.Channel).WithField("fix", fix).Error("SLACK_CHANNEL_ID cannot be posted in: " + fix)
		}
		cancel()
	}
	return api, out, scopes, nil
}

// stops are what start-up started, stopped in reverse order.
type stops []func()

func (s *stops) add(f func()) { *s = append(*s, f) }

// run stops them; a pointer receiver, so `defer stop.run()` sees what
// was added after the defer.
func (s *stops) run() {
	for i := len(*s) - 1; i >= 0; i-- {
		(*s)[i]()
	}
}

// startLoops starts what runs beside the listener (the status poller's
// cron, the 1 s sweep, the card renderer and the escalation engine) unless
// the caller runs it (opt.Manual), and adds how to stop each to stop.
func startLoops(ctx context.Context, cfg Config, opt Options, built *assembled, stop *stops, log logrus.FieldLogger) {
	engine, poll, runner := built.engine, built.poll, built.runner
	if runner != nil {
		// On shutdown let a running resync stop at its checkpoint and hand
		// its lease back, so another replica resumes at once.
		stop.add(func() {
			for deadline := time.Now().Add(10 * time.Second); !runner.Idle() && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	if poll != nil {
		startPolls(ctx, cfg, opt, built, stop, log)
	}
	if opt.OnSweep != nil {
		opt.OnSweep(withReplies(built))
	}
	if !opt.Manual.Sweep && built.readBack.replies != nil {
		// Their own 1 s loop beside the sweep: a slow sweep step (Slack's
		// pace) never holds a reply back.
		stop.add(every(ctx, built.guard, "SMS replies", built.readBack.replies.PollIfDue))
	}
	if !opt.Manual.Sweep {
		sweepCtx, stopSweep := context.WithCancel(ctx)
		sweepDone := make(chan struct{})
		go func() {
			defer close(sweepDone)
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-sweepCtx.Done():
					return
				case <-t.C:
					built.sweep(sweepCtx)
				}
			}
		}()
		stop.add(func() { stopSweep(); <-sweepDone })
	}
	// Card refreshes are queued in Redis and rendered here, paced per
	// incident; every replica runs the renderer, one claims each refresh.
	renderCtx, stopRender := context.WithCancel(ctx)
	renderDone := make(chan struct{})
	go func() {
		defer close(renderDone)
		built.guard.Loop(renderCtx, "card renderer", built.cards.RunRenderer)
	}()
	stop.add(func() { stopRender(); <-renderDone })
	startPagerDuty(ctx, opt, built, stop)
	if engine != nil {
		if opt.OnEngine != nil {
			opt.OnEngine(engine)
		}
		if !opt.Manual.Engine {
			engineCtx, stopEngine := context.WithCancel(ctx)
			engineDone := make(chan struct{})
			go func() { built.guard.Loop(engineCtx, "escalation engine", engine.Run); close(engineDone) }()
			stop.add(func() { stopEngine(); <-engineDone })
		}
	}
}

// withReplies is the sweep a caller runs itself: with SMS replies on, it
// reads them when due too.
func withReplies(p *assembled) func(ctx context.Context) {
	if p.readBack.replies == nil {
		return p.sweep
	}
	return func(ctx context.Context) {
		p.sweep(ctx)
		p.guard.Run(ctx, "SMS replies", "", p.readBack.replies.PollIfDue)
	}
}

// every runs fn under the guard every second until ctx ends or the
// returned stop is called (which waits for it).
func every(ctx context.Context, g *guard.Guard, job string, fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				g.Run(ctx, job, "", fn)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// startPolls hands the poller to the caller and, unless the caller
// polls (opt.Manual.Poll), starts the status poll's cron and, on its own
// schedule, the probes' (each job runs on the replica holding its lease).
func startPolls(ctx context.Context, cfg Config, opt Options, built *assembled, stop *stops, log logrus.FieldLogger) {
	poll, pollInterval := built.poll, built.poll.PollEvery()
	if opt.OnPoller != nil {
		opt.OnPoller(poll)
	}
	if !opt.Manual.Poll {
		c := cron.New()
		_, _ = c.AddFunc(cfg.StatusSchedule, func() {
			pctx, cancel := context.WithTimeout(ctx, max(pollInterval, 30*time.Second))
			defer cancel()
			built.guard.Run(pctx, "status poller", "", func(ctx context.Context) {
				if poll.TryLead(ctx) {
					poll.Poll(ctx)
				}
			})
		})
		if cfg.ProbeSchedule != "" {
			// A round lasts about the 5 s probe timeout at most; one
			// still running when the next is due makes it skip (rounds
			// of one replica never overlap).
			_, _ = c.AddJob(cfg.ProbeSchedule, cron.NewChain(cron.SkipIfStillRunning(cron.DiscardLogger)).Then(cron.FuncJob(func() {
				pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
				defer cancel()
				built.guard.Run(pctx, "clerk prober", "", func(ctx context.Context) {
					if poll.TryLeadProbes(ctx) {
						poll.PollProbes(ctx)
					}
				})
			})))
		}
		c.Start()
		stop.add(func() { <-c.Stop().Done() })
		log.WithField("schedule", cfg.StatusSchedule).WithField("probe_schedule", cfg.ProbeSchedule).Info("status poller started")
	}
}

// startPagerDuty checks the PagerDuty REST API key once (a refused key is
// said now) and starts the read-back loop unless the caller runs it.
func startPagerDuty(ctx context.Context, opt Options, built *assembled, stop *stops) {
	pd := built.readBack.pagerDuty
	if pd == nil {
		return
	}
	if opt.OnPagerDuty != nil {
		opt.OnPagerDuty(pd)
	}
	built.guard.Go(ctx, "PagerDuty key check", "", pd.Check)
	if opt.Manual.PagerDuty {
		return
	}
	pdCtx, stopPD := context.WithCancel(ctx)
	pdDone := make(chan struct{})
	go func() { built.guard.Loop(pdCtx, "PagerDuty read-back", pd.Run); close(pdDone) }()
	stop.add(func() { stopPD(); <-pdDone })
}

// serveHTTP serves /healthz, /v1/bypass, /v1/webhooks and /metrics.
func serveHTTP(cfg Config, opt Options, built *assembled, listener connectedness, store pinger, log logrus.FieldLogger) (*http.Server, error) {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	mux := healthMux(store, listener, built.poll)
	handler := guardHTTP(built.guard, mux)
	mux.Handle("GET /v1/bypass", bypassHandler(built.bypass, cfg.BypassReadToken, log))
	mux.Handle("GET /v1/webhooks", webhooksHandler(built.webhooks, cfg.BypassReadToken, log))
	mux.Handle("GET /metrics", built.metrics.Handler(metrics.Access{Token: cfg.MetricsToken, BypassSecret: cfg.BypassReadToken != ""}))
	mux.Handle("POST /v1/alerts", alertsHandler(built.alerts, cfg.AlertsToken, cfg.AlertsCategory, log))
	srv := newHTTPServer(handler)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Error("http server stopped")
		}
	}()
	log.WithField("addr", ln.Addr().String()).Info("http listening (/healthz)")
	if opt.Ready != nil {
		opt.Ready(ln.Addr().String())
	}

	return srv, nil
}

func loadRunbook(cfg Config) (*incident.Runbook, error) {
	src, name := incident.DefaultRunbook(), "embedded runbook.yml"
	if cfg.RunbookFile != "" {
		b, err := os.ReadFile(cfg.RunbookFile)
		if err != nil {
			return nil, fmt.Errorf("RUNBOOK_FILE: %w", err)
		}
		src, name = b, cfg.RunbookFile
	}
	rb, err := incident.LoadRunbook(name, src)
	if err != nil {
		return nil, fmt.Errorf("runbook is not valid: %w", err)
	}
	return rb.WithHealthURL(cfg.HealthURL), nil
}

// openStores loads the runbook and opens Redis and the incident stores:
// the start shared by the bot and the break-glass CLI.
func openStores(cfg Config, opt Options, log logrus.FieldLogger) (*incident.Runbook, redis.UniversalClient, incident.Stores, func(), error) {
	rb, err := loadRunbook(cfg)
	if err != nil {
		return nil, nil, incident.Stores{}, nil, err
	}
	rdb, closeRedis, err := openRedis(cfg, log)
	if err != nil {
		return nil, nil, incident.Stores{}, nil, err
	}
	rdb.AddHook(tally.Hook()) // each command's round trips, logged with it
	return rb, rdb, incident.NewStores(rdb, cfg.RedisPrefix, opt.Now), closeRedis, nil
}

// slackSide is what the assembled parts need of Slack: the real client, or
// bot.Offline at the break-glass CLI.
type slackSide interface {
	handlers.Slack
	publish.Slack
	handlers.GroupLister
	escalation.Directory
	escalation.Checker
	publish.UserNames
	commands.Modals
	publish.ChannelSlack
	commands.ShareSlack
	LookupHandle(ctx context.Context, handle string) (string, error)
	AuthTest(ctx context.Context) (string, error)
	OpenDM(ctx context.Context, user string) (string, error)
	SetGroupMembers(ctx context.Context, group string, users []string) error
	TimeZone(ctx context.Context, user string) (string, error)
}

// assembled is what assemble built, shared by the bot and the CLI: the
// handlers, the loops beside them, the card renderer and what the HTTP
// endpoints read.
type assembled struct {
	handlers *handlers.Handlers
	engine   *escalation.Engine
	poll     *statuswatch.Poller
	runner   *resync.Runner
	bypass   *bypass.Store
	webhooks *webhookpause.Store
	metrics  *metrics.Metrics
	sweep    func(ctx context.Context)
	guard    *guard.Guard
	cards    *publish.Cards // the card renderer
	alerts   alertTaker
	readBack readBack
}

// readBack are the loops that read outside services back (each nil when
// off).
type readBack struct {
	pagerDuty *usecase.PagerDutySync // nil without PAGERDUTY_API_TOKEN
	replies   *escalation.Replies    // nil: SMS replies off
}

// assemble builds every part over one Redis and one Slack side, each
// given what it needs at construction: the publisher first, then the
// engine, opener, poller, runner and executor that report through it,
// then the handlers. scopes are the bot token's (auth.test); with them
// (the bot, strict) unresolvable contacts and a missing scope are errors,
// without them (nil: the CLI, which cannot reach Slack) warnings.
func assemble(ctx context.Context, cfg Config, opt Options, rdb redis.UniversalClient, stores incident.Stores, rb *incident.Runbook,
	out slackSide, scopes *grantedScopes, log logrus.FieldLogger) (*assembled, error) {
	strict := scopes != nil // the bot; the CLI cannot reach Slack
	b := &build{cfg: cfg, opt: opt, rdb: rdb, stores: stores, out: out, log: log, hc: &http.Client{Timeout: 10 * time.Second}}
	auth := handlers.NewAuthorizer(cfg.Responders, out, cfg.GroupCacheTTL, opt.Now)
	if auth.Open() {
		log.Warn("SLACK_RESPONDERS is empty: everyone in the workspace may change incidents")
	}
	contacts, ladder, problems, err := b.contacts(ctx, auth, strict)
	if err == nil && strict {
		err = checkGroupScopes(userGroups(contacts), scopes)
	}
	if err != nil {
		return nil, err
	}
	st := b.actionStores()
	var poll *statuswatch.Poller // built below; the gauge reads it when scraped
	b.m = b.metrics(st, func() *statuswatch.Poller { return poll })
	deps := familyDeps{}
	in, pe, ac := &deps.incidents, &deps.people, &deps.actions
	in.Store, in.Drafts, in.Affected, in.Markers = stores.Incidents, stores.Drafts, stores.Affected, stores.Markers
	ac.Notices = stores.Notices
	in.Slack, in.Runbook, pe.Auth, in.Channel, in.Log, in.Now = out, rb, auth, cfg.Channel, log, opt.Now
	pe.Contacts, pe.Ladder, pe.ContactProblems = contacts, ladder, problems
	ac.Approvals, ac.Bypass, ac.BypassMax, pe.Audit, pe.Observe = st.approvals, st.bypass, cfg.BypassMax, st.audit, b.m
	if len(cfg.Approvers) > 0 {
		pe.Approvers = handlers.NewAuthorizer(cfg.Approvers, out, cfg.GroupCacheTTL, opt.Now)
	}
	b.rooms = newRooms(ctx, cfg, opt, rdb, stores.Incidents, out, strict, log)
	in.Rooms = b.rooms.lookup
	pe.Sharing = commands.NewSharing(out, auth, log)
	ac.Guests = handlers.NewGuests(out, opt.Now)
	clerk := b.publisher(rb, contacts, st)
	if clerk != nil {
		ac.Clerk = clerk
	}
	deps.publisher, deps.recorders, deps.watch.Webhooks = b.pub, b.rec, st.pause
	engine := b.engine(ladder)
	var esc usecase.Escalator
	if engine != nil {
		pe.Esc, esc = engine, engine
	}
	deps.apps.App = vercelApp(cfg, st.audit, b.m)
	deps.apps.Followups = followupApp(cfg, rdb, stores.Incidents, opt.Now, b.pub.Pages.ThreadURL, b.m)
	roster := newRoster(contacts, rdb, cfg, opt, log)
	openOpts := append([]usecase.Option{usecase.WithTicks(b.rec.ticks)}, b.rooms.open...)
	if roster != nil {
		pe.Roster = roster
		openOpts = append(openOpts, usecase.WithOnCall(roster))
	}
	pe.OnCallSlack = oncallSlack{out: out, channel: cfg.Channel, log: log}
	in.Opener = usecase.NewOpener(stores.Incidents, usecase.OpenerOutput{Cards: b.pub.Cards, Thread: b.pub.Outbox, Alerts: b.pub.Posts},
		esc, ladder, log, b.afterOpen(deps.apps.App), openOpts...)
	poll = b.poller(in.Opener)
	if poll != nil {
		deps.watch.Watch = poll
	}
	deps.watch.Pictures = newPictures(cfg, b.pub.Files, poll, rdb, opt.Now)
	deps.watch.DiagnoseTargets = diagnoseTargets(cfg, clerk, b.hc)
	deps.watch.Check = b.checkInput(ctx, contacts, clerk, poll, strict)
	// Long actions (approved rollbacks and lockouts, resyncs) are work
	// in flight on their incident until they end.
	b.rec.work = usecase.NewWork(usecase.WorkDeps{Store: stores.Incidents, Approvals: b.rec.approvals, Resync: b.pub.Progress, Ticks: b.rec.ticks, Upload: b.pub.Files,
		Facts: usecase.ReportFacts{Affected: stores.Affected, Followups: followupLister(deps.apps.Followups)}, Log: log, Now: opt.Now})
	runner := b.webhookParts(&deps, clerk)
	executor := b.executor(st, clerk, deps.apps.App)
	ac.Executor = executor
	pe.ReadLimit = redisx.NewPacer(rdb, cfg.RedisPrefix) // read commands, per user
	ac.UpdateEvery, ac.UpdateChannel, ac.Modals = cfg.UpdateEvery, cfg.UpdateChannel, out
	if cfg.StatuspageKey != "" {
		ac.StatusPage = statuspage.New(cfg.StatuspageURL, cfg.StatuspageKey, cfg.StatuspagePageID, b.hc).WithCounter(b.m)
	}
	sweep := b.sweep(st, executor, runner, poll, roster, pe.OnCallSlack)
	return &assembled{guard: b.g, cards: b.pub.Cards, handlers: deps.handlers(), engine: engine, poll: poll, runner: runner, bypass: st.bypass,
		webhooks: st.pause, metrics: b.m, sweep: sweep, alerts: usecase.AlertIntake{Opener: in.Opener, Store: stores.Incidents, Thread: b.pub.Outbox,
			Claims: alerts.NewStore(rdb, cfg.RedisPrefix), Audit: st.audit, Log: log.WithField("component", "alerts")},
		readBack: readBack{pagerDuty: b.pagerDutySync(engine), replies: b.replies(contacts, engine, strict)}}, nil
}

// clerkProbes are Clerk's endpoints the poller times (CLERK_PROBE): the
// Backend API's JWKS (not rate limited, so no Clerk budget is spent) and
// the Frontend API's JWKS and environment.
func clerkProbes(cfg Config) []statuswatch.ProbeTarget {
	if !cfg.Probe {
		return nil
	}
	var ts []statuswatch.ProbeTarget
	if cfg.ClerkSecretKey != "" {
		ts = append(ts, statuswatch.ProbeTarget{API: "Backend API", Name: "GET /jwks", URL: cfg.ClerkAPIURL + "/jwks",
			Header: map[string]string{"Authorization": "Bearer " + cfg.ClerkSecretKey}})
	}
	fapi := cfg.FrontendAPIURL
	if fapi == "" && cfg.PublishableKey != "" {
		if host, err := probe.FrontendHost(cfg.PublishableKey); err == nil {
			fapi = "https://" + host
		}
	}
	if fapi != "" {
		ts = append(ts, statuswatch.ProbeTarget{API: "Frontend API", Name: "GET /.well-known/jwks.json", URL: fapi + "/.well-known/jwks.json"})
		if cfg.PublishableKey != "" {
			ts = append(ts, statuswatch.ProbeTarget{API: "Frontend API", Name: "GET /v1/environment", URL: fapi + "/v1/environment"})
		}
	}
	return ts
}

// diagnoseTargets lists what `diagnose` times, with the runbook's
// thresholds: the API over 500 ms, the auth path over 100 ms.
func diagnoseTargets(cfg Config, c *clerkops.Client, hc *http.Client) []probe.DiagnoseTarget {
	var ts []probe.DiagnoseTarget
	if c != nil {
		ts = append(ts,
			probe.DiagnoseTarget{Name: "Clerk Backend API (GET /users?limit=1)", Threshold: 500 * time.Millisecond, Hint: "API slow - check Clerk status or network", Do: c.SampleUsers,
				Step: incident.StepMeasureAPI},
			probe.DiagnoseTarget{Name: "Clerk JWKS (Backend API)", Threshold: 100 * time.Millisecond, Hint: "auth path slow - token verification waits on JWKS; check the network path to Clerk", Do: c.Ping})
	}
	fapi := cfg.FrontendAPIURL
	if fapi == "" && cfg.PublishableKey != "" {
		if host, err := probe.FrontendHost(cfg.PublishableKey); err == nil {
			fapi = "https://" + host
		}
	}
	if fapi != "" {
		ts = append(ts, probe.DiagnoseTarget{Name: "Clerk Frontend API JWKS", Threshold: 100 * time.Millisecond,
			Hint: "auth path slow - browsers and middleware fetch these keys; check Clerk status and DNS", Do: probe.ProbeURL(hc, fapi+"/.well-known/jwks.json")})
	}
	if cfg.HealthURL != "" {
		ts = append(ts, probe.DiagnoseTarget{Name: "App health endpoint (auth check)", Threshold: 100 * time.Millisecond,
			Hint: "Auth check slow - check middleware configuration", Do: probe.ProbeURL(hc, cfg.HealthURL), Step: incident.StepMeasureApp})
	}
	if cfg.StatusURL != "" && cfg.StatusSchedule != "" {
		ts = append(ts, probe.DiagnoseTarget{Name: "Clerk status page", Threshold: time.Second,
			Hint: "the status page itself is slow or down; check https://status.clerk.com in a browser", Do: probe.ProbeURL(hc, cfg.StatusURL)})
	}
	return ts
}

// loadContacts reads CONTACTS_FILE and resolves every level to Slack IDs.
// A missing default file turns escalation off with a warning.
func loadContacts(ctx context.Context, cfg Config, dir escalation.Directory, log logrus.FieldLogger) (*escalation.Contacts, *escalation.Ladder, error) {
	src, err := os.ReadFile(cfg.ContactsFile)
	if err != nil {
		if !cfg.ContactsRequired && errors.Is(err, os.ErrNotExist) {
			log.WithField("file", cfg.ContactsFile).Warn("no contacts file: the escalation ladder is off (set CONTACTS_FILE)")
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("CONTACTS_FILE: %w", err)
	}
	c, err := escalation.LoadContacts(cfg.ContactsFile, src)
	if err != nil {
		return nil, nil, fmt.Errorf("contacts file is not valid: %w", err)
	}
	if len(c.Placeholders) > 0 {
		log.WithField("file", cfg.ContactsFile).WithField("lines", c.Placeholders).Warn("contacts file still has PLACEHOLDER Slack IDs: pages to them will reach nobody")
	}
	// A level asking for a channel the configuration cannot serve stops
	// start-up now, not at 3 a.m.
	var missing []string
	phoneLevels := append(c.Uses(escalation.ViaSMS), c.Uses(escalation.ViaCall)...)
	if len(phoneLevels) > 0 && cfg.TwilioSID == "" {
		missing = append(missing, fmt.Sprintf("level(s) %v page by SMS or call: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM", phoneLevels))
	}
	// A call's From must be a phone number: a Messaging Service SID only
	// sends messages, and Twilio would refuse every call (21212).
	if calls := c.Uses(escalation.ViaCall); len(calls) > 0 && strings.HasPrefix(cfg.TwilioFrom, "MG") && cfg.TwilioCallerID == "" {
		missing = append(missing, fmt.Sprintf("level(s) %v page by call, but TWILIO_FROM is a Messaging Service SID (MG…), which only sends messages: set TWILIO_CALLER_ID to a Twilio number you own or a verified caller ID (E.164)", calls))
	}
	if pd := c.Uses(escalation.ViaPagerDuty); len(pd) > 0 && cfg.PagerDutyKey == "" {
		missing = append(missing, fmt.Sprintf("level(s) %v page through PagerDuty: set PAGERDUTY_ROUTING_KEY", pd))
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("%s: %s", cfg.ContactsFile, strings.Join(missing, "; "))
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	l, err := escalation.Resolve(rctx, c, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cfg.ContactsFile, err)
	}
	log.WithField("levels", len(l.Rungs)).Info("escalation ladder loaded")
	return c, &l, nil
}

func openRedis(cfg Config, log logrus.FieldLogger) (redis.UniversalClient, func(), error) {
	if cfg.RedisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, nil, fmt.Errorf("start embedded redis: %w", err)
		}
		log.Warn("REDIS_URL is not set: using an embedded in-memory Redis; incident state will not survive a restart")
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		rdb.AddHook(redisx.ErrorCodes{})
		return rdb, func() { _ = rdb.Close(); mr.Close() }, nil
	}
	// A master_name query parameter means the host(s) are Sentinels:
	// redis://[:password@]sentinel1:26379/0?master_name=mymaster&addr=sentinel2:26379
	if u, err := url.Parse(cfg.RedisURL); err == nil && u.Query().Get("master_name") != "" {
		fo, err := redis.ParseFailoverURL(cfg.RedisURL)
		if err != nil {
			return nil, nil, errors.New("REDIS_URL (Sentinel form) cannot be parsed (value not shown: it may hold a password)")
		}
		rdb := redis.NewFailoverClient(fo)
		rdb.AddHook(redisx.ErrorCodes{})
		log.WithField("master", fo.MasterName).WithField("sentinels", len(fo.SentinelAddrs)).Info("using Redis through Sentinel")
		return rdb, func() { _ = rdb.Close() }, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, errors.New("REDIS_URL cannot be parsed (value not shown: it may hold a password)")
	}
	rdb := redis.NewClient(opt)
	rdb.AddHook(redisx.ErrorCodes{}) // Redis not answering is coded at the client (apperr.UnavailableStore)
	return rdb, func() { _ = rdb.Close() }, nil
}

type pinger interface {
	Ping(ctx context.Context) error
}

type connectedness interface{ Connected() bool }

// healthMux serves GET /healthz: 200 only while Redis answers and the
// socket is up, and says which part is down otherwise.
func healthMux(store pinger, sock connectedness, poll *statuswatch.Poller) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		body := map[string]string{"redis": "up", "slack_socket": "up"}
		ok := true
		if err := store.Ping(ctx); err != nil {
			body["redis"], ok = "down", false
		}
		if !sock.Connected() {
			body["slack_socket"], ok = "down", false
		}
		// A stalled poller is said, not failed on: the bot itself is up.
		if poll != nil {
			body["status_poller"] = "ok"
			if poll.Stale(ctx) {
				body["status_poller"] = "stale"
			}
		}
		body["status"] = "ok"
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			body["status"] = "degraded"
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	return mux
}

// newHTTPServer bounds every phase of a connection, so a slow or idle
// client cannot hold one open: /healthz, /v1/bypass and /metrics are small
// reads (a scrape reads four gauges of at most 2 s each).
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
}

type bypassReader interface {
	Get(ctx context.Context) (bypass.State, error)
}

// bypassHandler publishes the emergency bypass for the app to read. On a
// read error it answers 503 so the app fails closed.
func bypassHandler(b bypassReader, token string, log logrus.FieldLogger) http.Handler {
	return stateHandler("bypass", "bypass state", token, log, func(ctx context.Context) (any, error) {
		st, err := b.Get(ctx)
		if err == nil && !st.Enabled {
			return map[string]bool{"enabled": false}, nil // no stale fields for the app to misread
		}
		return st, err
	})
}

type webhooksReader interface {
	Get(ctx context.Context) (webhookpause.State, error)
}

// webhooksHandler publishes the webhook pause for the app's Clerk webhook
// handler, behind the bypass's read token. On a read error it answers 503:
// the app then answers Clerk 503 too, and Svix retries.
func webhooksHandler(p webhooksReader, token string, log logrus.FieldLogger) http.Handler {
	return stateHandler("webhooks", "webhook pause state", token, log, func(ctx context.Context) (any, error) { return p.Get(ctx) })
}

// stateHandler serves a state the app reads, never cached, behind the
// read token when one is set; a read error is 503.
func stateHandler(realm, what, token string, log logrus.FieldLogger, read func(ctx context.Context) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if token != "" {
			got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
		}
		st, err := read(r.Context())
		if err != nil {
			log.WithError(err).Warn(what + " read failed")
			http.Error(w, `{"error":"`+what+` unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
}

func newLogger(cfg Config, w io.Writer) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(w)
	log.SetLevel(cfg.LogLevel)
	var f logrus.Formatter = &logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano}
	if cfg.LogFormat == "text" {
		f = &logrus.TextFormatter{FullTimestamp: true}
	}
	var values [][]byte
	for _, v := range []string{cfg.TwilioToken, cfg.PagerDutyKey, cfg.PagerDutyToken, cfg.StatuspageKey, cfg.BypassReadToken, cfg.MetricsToken, cfg.VercelToken, cfg.GitHubToken, cfg.AlertsToken} {
		if len(v) >= 8 {
			values = append(values, []byte(v))
		}
	}
	log.SetFormatter(redacting{Formatter: f, values: values})
	return log
}

// secretPattern matches tokens and keys that must never reach a log line,
// including Slack response URLs (bearer credentials in a URL).
var secretPattern = regexp.MustCompile(`(xox[abposr]-|xapp-|sk_(live|test)_|whsec_|gh[pousr]_|github_pat_)[A-Za-z0-9\-_=+/]+|https://hooks\.slack\.com/[^\s"]+|(redis|rediss)://[^@\s"]*@|https://[a-z.]*svix\.com/login#[^\s"]+`)

// redacting masks secrets in every log line: those with a recognizable
// shape, and the configured ones without one (Twilio's auth token, the
// PagerDuty routing key and REST API key, the Statuspage API key, the bypass and metrics
// read tokens) by value.
type redacting struct {
	logrus.Formatter
	values [][]byte
}

func (r redacting) Format(e *logrus.Entry) ([]byte, error) {
	b, err := r.Formatter.Format(e)
	if err != nil {
		return b, err
	}
	for _, v := range r.values {
		b = bytes.ReplaceAll(b, v, []byte("[redacted]"))
	}
	return secretPattern.ReplaceAll(b, []byte("[redacted]")), nil
}

// guardHTTP recovers a panicking HTTP handler: logged with its stack,
// told once in Slack, answered 500; the server carries on.
func guardHTTP(g *guard.Guard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.Run(r.Context(), "http", "", func(context.Context) { next.ServeHTTP(w, r) }) {
			http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		}
	})
}
