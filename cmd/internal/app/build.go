package app

import (
	"context"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/clerk-incident-bot/clerk-incident-bot/metrics"
	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/reminder"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

// build holds what assemble's steps share while the parts are built, in
// the order assemble calls them: metrics, then the guard, the publisher
// and the recording use cases, then what reports through them.
type build struct {
	cfg    Config
	opt    Options
	rdb    redis.UniversalClient
	stores incident.Stores
	out    slackSide
	log    logrus.FieldLogger
	hc     *http.Client
	m      *metrics.Metrics
	g      *guard.Guard
	pub    *publish.Publisher
	rec    recorders
	rooms  roomHooks // empty: INCIDENT_CHANNELS off
}

// actionStores are the stores beside the incidents': approvals, the
// bypass, the webhook pause and the audit log.
type actionStores struct {
	approvals *approval.Store
	bypass    *bypass.Store
	pause     *webhookpause.Store
	audit     *audit.Log
}

func (b *build) actionStores() actionStores {
	cfg, now := b.cfg, b.opt.Now
	return actionStores{
		approvals: approval.NewStore(b.rdb, cfg.RedisPrefix, cfg.ApprovalTTL, now),
		bypass:    bypass.NewStore(b.rdb, cfg.RedisPrefix, now),
		pause:     webhookpause.NewStore(b.rdb, cfg.RedisPrefix, resync.IDPrefix, now),
		audit:     audit.New(b.rdb, cfg.RedisPrefix, b.log.WithField("component", "audit"), now),
	}
}

// contacts loads the ladder. Once at start-up (strict, the bot): a departed
// employee, or a paged contact outside the responders (who may act only on
// the incidents whose ladder names them), is said before an incident needs
// them; start-up does not fail on it. The CLI (not strict) warns and
// starts no ladder when contacts cannot be resolved.
func (b *build) contacts(ctx context.Context, auth *handlers.Authorizer, strict bool) (*escalation.Contacts, *escalation.Ladder, []escalation.Problem, error) {
	log := b.log
	contacts, ladder, err := loadContacts(ctx, b.cfg, b.out, log)
	if err != nil && strict {
		return nil, nil, nil, err
	}
	if err != nil {
		log.WithError(err).Warn("escalation contacts cannot be resolved here; incidents opened here start no ladder")
		return nil, nil, nil, nil
	}
	if ladder == nil || !strict {
		return contacts, ladder, nil, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	problems := escalation.CheckIDs(cctx, *ladder, contacts, b.out)
	cancel()
	for _, pr := range problems {
		log.WithFields(logrus.Fields{"contact": pr.Name, "slack_id": pr.ID, "why": pr.Why}).Warn("escalation contact cannot be paged")
	}
	cctx, cancel = context.WithTimeout(ctx, 30*time.Second)
	for _, pr := range auth.Outside(cctx, *ladder, contacts.Names()) {
		log.WithFields(logrus.Fields{"contact": pr.Name, "slack_id": pr.ID, "why": pr.Why}).Warn("escalation contact is not a responder: they may act only on the incidents whose ladder pages them")
	}
	cancel()
	return contacts, ladder, problems, nil
}

// metrics are the bot's Prometheus metrics; the poller is read when
// scraped (it is built later).
func (b *build) metrics(st actionStores, poll func() *statuswatch.Poller) *metrics.Metrics {
	store, rdb, prefix := b.stores.Incidents, b.rdb, b.cfg.RedisPrefix
	return metrics.New(metrics.Gauges{
		OpenIncidents: func(ctx context.Context) (int, error) { l, err := store.ListOpen(ctx); return len(l), err },
		BypassActive:  func(ctx context.Context) (bool, error) { s, err := st.bypass.Get(ctx); return s.Enabled, err },
		ResyncProgress: func(ctx context.Context) (float64, error) {
			j, err := resync.CurrentJob(ctx, rdb, prefix)
			if err != nil || j == nil || j.Status != resync.Running || j.Total == 0 {
				return -1, err
			}
			return float64(j.Done) / float64(j.Total), nil
		},
		StatusPollAge: func(ctx context.Context) (float64, error) {
			p := poll()
			if p == nil {
				return -1, nil
			}
			age, err := p.PollAge(ctx)
			return age.Seconds(), err
		},
	})
}

// publisher builds the guard over the publisher's alarm (the publisher's
// goroutines run under the guard, so the alarm comes first), the Clerk
// client (nil without CLERK_SECRET_KEY) and the publisher.
func (b *build) publisher(rb *incident.Runbook, contacts *escalation.Contacts, st actionStores) *clerkops.Client {
	cfg, stores := b.cfg, b.stores
	pstores := publish.Stores{Incidents: stores.Incidents, Stale: stores.Outbox, Renders: stores.Outbox, Lines: stores.Outbox, Locks: stores.Markers}
	b.g = guard.New(b.log, publish.NewAlarm(pstores, b.out, cfg.Channel, b.log), b.opt.PanicHook)
	var clerk *clerkops.Client
	if cfg.ClerkSecretKey != "" {
		clerk = clerkops.New(clerkops.Config{SecretKey: cfg.ClerkSecretKey, APIURL: cfg.ClerkAPIURL, Budget: cfg.ClerkBudget, Window: cfg.ClerkWindow,
			Redis: b.rdb, Prefix: cfg.RedisPrefix, Guard: b.g}, b.m.ClerkCall)
	} else {
		b.log.Warn("CLERK_SECRET_KEY is not set: revoke, lockout and unlock are off")
	}
	b.pub = publish.New(publish.Deps{Store: pstores, Slack: b.out, Guard: b.g, Runbook: rb,
		Lookups: publish.Lookups{Groups: b.out, Users: b.out, Names: contacts.Names(), Ladders: escalation.NewStates(b.rdb, cfg.RedisPrefix), Webhooks: st.pause, Rooms: b.rooms.watch},
		Channel: cfg.Channel, RenderGap: b.opt.RenderGap, Log: b.log, Now: b.opt.Now})
	// What the bot records by itself goes through these use cases, which
	// then ask the publisher to show it.
	ticks := usecase.NewTicks(stores.Incidents, rb, st.audit, b.log)
	b.rec = recorders{ticks: ticks, notices: usecase.NewNotices(stores.Incidents, ticks, b.pub.Notes, b.log),
		approvals: usecase.NewApprovalNews(ticks, b.pub.Approvals, b.m)}
	return clerk
}

// engine is the escalation engine (nil without a ladder), paging by SMS
// and call through Twilio and by PagerDuty when they are set.
func (b *build) engine(ladder *escalation.Ladder) *escalation.Engine {
	if ladder == nil {
		return nil
	}
	cfg := b.cfg
	pages := usecase.NewPaging(b.pub.Pages, b.pub.Names, b.rec.ticks)
	opts := b.rooms.engine // paged people are invited to the incident's channel
	if cfg.TwilioSID != "" {
		opts = append(opts, escalation.WithPhones(twilioClient(cfg, b.m), pages))
		if repliesOn(cfg) {
			opts = append(opts, escalation.WithReplies(cfg.TwilioReplyNumbers[0], escalation.NewPhoneLog(b.rdb, cfg.RedisPrefix)))
		}
	}
	if cfg.PagerDutyKey != "" {
		opts = append(opts, escalation.WithAlerts(usecase.KeyedEvents{Events: paging.NewPagerDuty(cfg.PagerDutyURL, cfg.PagerDutyKey, nil).WithCounter(b.m),
			Keys: usecase.NewPDKeys(b.rdb, cfg.RedisPrefix)}))
	}
	opts = append(opts, escalation.WithGuard(b.g), escalation.WithPageObserver(b.m))
	return escalation.NewEngine(b.rdb, cfg.RedisPrefix, b.stores.Incidents, pages, b.opt.Now, b.log.WithField("component", "escalation"), opts...)
}

func twilioClient(cfg Config, count httpx.Counter) *paging.Twilio {
	return paging.NewTwilio(cfg.TwilioURL, cfg.TwilioSID, cfg.TwilioToken, cfg.TwilioFrom, nil).WithCallerID(cfg.TwilioCallerID).WithCounter(count)
}

// repliesOn: Twilio is set, replies are polled, and there is a number to read.
func repliesOn(cfg Config) bool {
	return cfg.TwilioSID != "" && cfg.TwilioReplyPoll > 0 && len(cfg.TwilioReplyNumbers) > 0
}

// replies is the reader of SMS replies to page texts (nil when off; the
// bot says once at start-up why).
func (b *build) replies(contacts *escalation.Contacts, engine *escalation.Engine, strict bool) *escalation.Replies {
	cfg, log := b.cfg, b.log.WithField("component", "sms-replies")
	if engine == nil || cfg.TwilioSID == "" {
		return nil
	}
	if !repliesOn(cfg) {
		if strict && cfg.TwilioReplyPoll > 0 {
			log.Warn("SMS replies are off: TWILIO_FROM is a Messaging Service SID (MG…), so the numbers replies come to are unknown; set TWILIO_REPLY_NUMBERS to them (E.164, comma-separated). Page texts say to acknowledge in Slack")
		}
		return nil
	}
	tw := twilioClient(cfg, b.m)
	handler := usecase.NewSMSReplies(usecase.SMSRepliesDeps{Book: contacts, Paged: escalation.NewPhoneLog(b.rdb, cfg.RedisPrefix), Store: b.stores.Incidents,
		Ladder: engine, Pub: b.pub.Cards, Text: tw, Observe: b.m, Audit: b.rec.ticks, Log: log, Go: b.g.Go,
		Once: func(ctx context.Context, key string, ttl time.Duration) (bool, error) {
			return redisx.Once(ctx, b.rdb, cfg.RedisPrefix+key, ttl)
		}})
	if strict {
		log.WithField("numbers", len(cfg.TwilioReplyNumbers)).WithField("every", cfg.TwilioReplyPoll.String()).Info("SMS replies to page texts are read (ACK, ESC)")
	}
	return escalation.NewReplies(b.rdb, cfg.RedisPrefix, twilioInbox{tw}, handler, cfg.TwilioReplyNumbers, cfg.TwilioReplyPoll, b.opt.Now, log, b.g)
}

// twilioInbox gives Twilio's message list as the escalation's replies.
type twilioInbox struct{ tw *paging.Twilio }

func (t twilioInbox) Received(ctx context.Context, number string, since time.Time) ([]escalation.Reply, bool, error) {
	msgs, truncated, err := t.tw.Received(ctx, number, since)
	out := make([]escalation.Reply, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, escalation.Reply{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Sent: m.Sent})
	}
	return out, truncated, err
}

// pagerDutySync reads PagerDuty back (nil without PAGERDUTY_API_TOKEN or
// a ladder): an ack there stops the ladder as a Slack ack does, through
// the same StopLadder.
func (b *build) pagerDutySync(engine *escalation.Engine) *usecase.PagerDutySync {
	cfg := b.cfg
	if cfg.PagerDutyToken == "" || engine == nil {
		return nil
	}
	log := b.log.WithField("component", "pagerduty")
	return usecase.NewPagerDutySync(usecase.PagerDutySyncDeps{
		API: paging.NewPagerDutyAPI(cfg.PagerDutyAPIURL, cfg.PagerDutyToken, b.hc).WithCounter(b.m), Watch: escalation.NewAlertWatch(b.rdb, cfg.RedisPrefix),
		Store: b.stores.Incidents, Pub: cardLines{b.pub.Cards, b.pub.Notes},
		Ladder: usecase.NewResolver(usecase.ResolverDeps{Store: b.stores.Incidents, Pub: resolveOutput{b.pub.Cards, b.rec.notices}, Esc: engine, Log: log}),
		Redis:  b.rdb, Prefix: cfg.RedisPrefix, Keys: usecase.NewPDKeys(b.rdb, cfg.RedisPrefix), Interval: cfg.PagerDutyPoll, Now: b.opt.Now, Log: log})
}

// afterOpen checks the app's recent deploys after an open. Vercel may be
// slow: the one who opened hears first; the deploy note follows in the
// thread.
func (b *build) afterOpen(app vercelParts) func(ctx context.Context, inc *incident.Incident) {
	if app.client == nil {
		return nil
	}
	check := usecase.DeployCheck{Vercel: app.client, Thread: b.pub.Outbox, Ticks: b.rec.ticks, Log: b.log}.AfterOpen
	return func(ctx context.Context, inc *incident.Incident) {
		b.g.Go(context.WithoutCancel(ctx), "deploy-check", inc.ID, func(ctx context.Context) { check(ctx, inc) })
	}
}

// poller is the status poller (nil when nothing is watched or polls are
// off).
func (b *build) poller(opener *usecase.Opener) *statuswatch.Poller {
	cfg := b.cfg
	probes := clerkProbes(cfg)
	if cfg.StatusSchedule == "" || (cfg.StatusURL == "" && cfg.HealthURL == "" && len(probes) == 0) {
		return nil
	}
	sched, _ := cron.ParseStandard(cfg.StatusSchedule)
	first := sched.Next(b.opt.Now())
	interval := sched.Next(first).Sub(first)
	poll := statuswatch.NewPoller(b.rdb, cfg.RedisPrefix, statuswatch.Config{StatusURL: cfg.StatusURL, HealthURL: cfg.HealthURL,
		Confirm: cfg.StatusConfirm, HealthConfirm: cfg.HealthConfirm, Interval: interval, Components: cfg.Components,
		Probes: probes, ProbeConfirm: cfg.ProbeConfirm, ProbeSlow: cfg.ProbeSlow, ProbeInterval: scheduleInterval(cfg.ProbeSchedule), ProbeWindow: cfg.ProbeWindow,
		Observer: b.m, Guard: b.g}, b.hc, opener, b.rec.notices, b.opt.Now, b.log.WithField("component", "statuswatch"))
	if cfg.Channel == "" {
		b.log.Warn("SLACK_CHANNEL_ID is not set: the status poller can watch but cannot open incidents or post alerts")
	}
	return poll
}

// checkInput is what `check` checks. At start-up (strict) the status
// format is detected and said: which format and URL, and what each
// candidate answered (the poll loop detects again whenever it is lost).
func (b *build) checkInput(ctx context.Context, contacts *escalation.Contacts, clerk *clerkops.Client, poll *statuswatch.Poller, strict bool) probe.CheckInput {
	cfg := b.cfg
	in := probe.CheckInput{SecretKey: cfg.ClerkSecretKey, PublishableKey: cfg.PublishableKey, WebhookURL: cfg.WebhookURL,
		WebhookSecret: cfg.WebhookSecret, PingRedis: b.stores.Incidents.Ping, PingSlack: b.out.AuthTest}
	if contacts != nil {
		in.ContactsFile, in.Placeholders = cfg.ContactsFile, contacts.Placeholders
	}
	if clerk != nil {
		in.PingClerk = clerk.Ping
	}
	if poll != nil && cfg.StatusURL != "" {
		in.DetectStatus = func(ctx context.Context) (string, error) {
			d, err := poll.Detect(ctx)
			if err != nil {
				return "", err
			}
			return d.Format + " at " + d.URL, nil
		}
		if strict {
			b.g.Go(ctx, "status format detection", "", poll.Prepare)
		}
	}
	return in
}

// webhookParts wires the webhook check and the resync runner (nil without
// APP_WEBHOOK_URL and APP_WEBHOOK_SECRET, or without Clerk).
func (b *build) webhookParts(deps *familyDeps, clerk *clerkops.Client) *resync.Runner {
	cfg, now := b.cfg, b.opt.Now
	if cfg.WebhookURL == "" || cfg.WebhookSecret == "" {
		return nil
	}
	key, _ := resync.ParseSecret(cfg.WebhookSecret) // validated in Load
	deps.watch.CheckWebhook = func(ctx context.Context) resync.CheckResult {
		return resync.CheckEndpoint(ctx, b.hc, cfg.WebhookURL, key, now())
	}
	if clerk == nil {
		return nil
	}
	runner := resync.NewRunner(b.rdb, cfg.RedisPrefix, resync.Config{WebhookURL: cfg.WebhookURL, Secret: key, Concurrency: cfg.ResyncConc, Guard: b.g},
		clerk, b.rec.work, now, b.log.WithField("component", "resync"))
	deps.watch.Resync = runner
	return runner
}

// executor carries out approved requests through the doers; Drain runs
// each execution in its own goroutine, off the sweep.
func (b *build) executor(st actionStores, clerk *clerkops.Client, app vercelParts) *approval.Executor {
	var lockClerk usecase.Clerk // nil when CLERK_SECRET_KEY is unset
	var guardClerk usecase.InstanceGuard
	if clerk != nil {
		lockClerk, guardClerk = clerk, clerk
	}
	ticks, log, now := b.rec.ticks, b.log, b.opt.Now
	executor := approval.NewExecutor(st.approvals, b.stores.Incidents, map[string]approval.Doer{
		approval.Lockout:      usecase.Lockout{Clerk: lockClerk, Pub: ticks, Affected: b.stores.Affected, Log: log},
		approval.BypassOn:     usecase.BypassOn{Bypass: st.bypass, Pub: ticks, Now: now, Log: log},
		approval.BypassExtend: usecase.BypassExtend{Bypass: st.bypass, Max: b.cfg.BypassMax, Now: now, Log: log},
		approval.Rollback:     usecase.RollbackDoer{Vercel: app.rollbacks(), Pub: ticks, Log: log, Wait: b.opt.VercelWait},
		approval.ProtectOff:   usecase.ProtectOffDoer{Clerk: guardClerk, Log: log},
		approval.BlockDomain:  usecase.BlockDomainDoer{Clerk: guardClerk, Pub: ticks, Log: log},
		approval.Rotate:       usecase.RotateDoer{Clerk: guardClerk, Secrets: b.pub.Files, Once: b.stores.Markers, Pub: ticks, Now: now, Log: log},
	}, b.rec.work, b.g, log, approval.WithDetached(unpaced))
	return executor
}

// unpaced lifts the Slack pace bound of an interactive request: work
// detached from the click waits on Slack's pace as long as it lasts.
func unpaced(ctx context.Context) context.Context { return bot.WithPaceBound(ctx, 0) }

// sweep is the timed work that is not escalation, run every second on
// every replica: each transition inside is claimed in Redis, so it
// happens once. Each step is guarded on its own: one that keeps failing
// must not starve the others.
func (b *build) sweep(st actionStores, executor *approval.Executor, runner *resync.Runner, poll *statuswatch.Poller, roster *oncall.Roster, tell oncall.Notifier) func(ctx context.Context) {
	g, log, pub := b.g, b.log, b.pub
	reminders := reminder.New(b.stores.Incidents, pub.Posts, b.cfg.UpdateEvery, b.opt.Now, log.WithField("component", "reminder"))
	step := func(ctx context.Context, job string, fn func(ctx context.Context) error) {
		g.Run(ctx, job, "", func(ctx context.Context) {
			if err := fn(ctx); err != nil {
				log.WithError(err).Warn(job + " failed")
			}
		})
	}
	sweep := func(ctx context.Context) {
		step(ctx, "approval expiry", func(ctx context.Context) error { return st.approvals.ExpireDue(ctx, b.rec.approvals.Expired) })
		step(ctx, "bypass tick", func(ctx context.Context) error { return st.bypass.Tick(ctx, b.rec.notices) })
		step(ctx, "webhook pause reminder", func(ctx context.Context) error { return st.pause.Tick(ctx, b.rec.notices) })
		if runner != nil {
			g.Run(ctx, "resync resume", "", runner.Resume)
		}
		g.Run(ctx, "approval outbox", "", executor.Drain)
		g.Run(ctx, "card catch-up", "", pub.Cards.CatchUp)
		if poll != nil {
			g.Run(ctx, "status poller watch", "", poll.WarnIfStale)
		}
		g.Run(ctx, "update reminders", "", reminders.Tick)
		if b.rooms.archive != nil {
			step(ctx, "incident channel archive", b.rooms.archive)
		}
		if roster != nil {
			step(ctx, "on-call handoffs", func(ctx context.Context) error { return roster.Tick(ctx, tell) })
		}
	}
	return func(ctx context.Context) { g.Run(ctx, "sweep", "", sweep) }
}
