// Package app wires the bot for the two commands under cmd/: it is the
// only place that turns the environment into parts and starts them.
package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/github"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/reminder"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// Config is everything the bot reads from the environment.
type Config struct {
	BotToken    string
	AppToken    string
	SlackAPIURL string
	Channel     string
	Responders  []string

	RedisURL    string
	RedisPrefix string

	HTTPAddr  string
	LogLevel  logrus.Level
	LogFormat string

	RunbookFile  string
	ContactsFile string
	// ContactsRequired is true when CONTACTS_FILE was set: then a missing
	// file is an error rather than "escalation off".
	ContactsRequired bool
	HandlerTimeout   time.Duration
	GroupCacheTTL    time.Duration

	ClerkSecretKey string
	ClerkAPIURL    string
	ClerkBudget    int
	ClerkWindow    time.Duration

	StatusSchedule string // "" when off
	StatusURL      string
	StatusConfirm  int
	// Components is STATUS_COMPONENTS_FILE's map (nil: the built-in one).
	Components     *statuswatch.ComponentMap
	Probe          bool
	ProbeConfirm   int
	ProbeSlow      time.Duration
	ProbeSchedule  string // CLERK_PROBE_SCHEDULE; "" when the probes ride the status poll
	ProbeWindow    time.Duration
	ChartProgram   string // CHART_PROGRAM ("": beside the executable)
	HealthURL      string
	HealthConfirm  int
	PublishableKey string
	FrontendAPIURL string
	WebhookURL     string
	WebhookSecret  string
	ResyncConc     int

	UpdateEvery reminder.Intervals
	// Pages beyond Slack: Twilio SMS and calls, PagerDuty events.
	TwilioSID, TwilioToken, TwilioFrom, TwilioURL string
	TwilioCallerID                                string // calls' From when TWILIO_FROM is a Messaging Service
	// SMS replies: the numbers whose received messages are read, how
	// often (0: off).
	TwilioReplyNumbers         []string
	TwilioReplyPoll            time.Duration
	PagerDutyKey, PagerDutyURL string
	// PagerDuty's REST API, read back for acknowledgements made there.
	PagerDutyToken, PagerDutyAPIURL string
	PagerDutyPoll                   time.Duration

	// Customer updates: the announcement channel and Atlassian Statuspage.
	UpdateChannel    string
	StatuspageKey    string
	StatuspagePageID string
	StatuspageURL    string

	Approvers       []string
	ApprovalTTL     time.Duration
	BypassMax       time.Duration
	BypassReadToken string
	// MetricsToken (METRICS_TOKEN), when set, guards GET /metrics.
	MetricsToken string
	// AlertsToken (ALERTS_TOKEN) turns POST /v1/alerts on and guards it;
	// AlertsCategory is the category of alerts without a known label.
	AlertsToken    string
	AlertsCategory incident.Category

	// The app's deployment on Vercel: deploys, env check, rollback.
	VercelToken, VercelProject, VercelTeam, VercelURL string

	// Follow-ups exported as GitHub issues.
	GitHubToken, GitHubRepo, GitHubURL string
	// A channel per incident (INCIDENT_CHANNELS); ArchiveAfter 0 keeps it.
	Rooms        bool
	RoomsPrivate bool
	RoomInvite   []string // user IDs, group IDs and @handles
	ArchiveAfter time.Duration
}

// Vars documents every variable; the README table mirrors it. A Help that
// starts with "required:" marks one Load refuses to run without.
// TestVarsAreWhatLoadReads keeps it equal to what Load reads.
var Vars = []struct{ Name, Default, Help string }{
	{"SLACK_BOT_TOKEN", "", "required: bot token (xoxb-…)"},
	{"SLACK_APP_TOKEN", "", "required: app-level token with connections:write (xapp-…)"},
	{"SLACK_API_URL", "https://slack.com/api/", "Slack Web API base URL (tests, proxies)"},
	{"SLACK_CHANNEL_ID", "", "channel for incident cards and alerts; default: where `open` was typed"},
	{"SLACK_RESPONDERS", "", "comma-separated user (U…) and user group (S…) IDs allowed to change state; empty: everyone"},
	{"REDIS_URL", "", "redis:// or rediss:// URL; empty: embedded in-memory server (state lost on restart)"},
	{"REDIS_KEY_PREFIX", "clerk-incident:", "prefix of every Redis key (to share a Redis)"},
	{"HTTP_ADDR", ":8080", "address of GET /healthz"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"LOG_FORMAT", "json", "json or text"},
	{"RUNBOOK_FILE", "", "YAML file replacing the embedded runbook checklists"},
	{"CONTACTS_FILE", "./contacts.yml", "escalation contacts (the runbook's INCIDENT_CONTACTS.yml format)"},
	{"CLERK_SECRET_KEY", "", "Clerk secret key (sk_live_… or sk_test_…) for revoke, lockout, unlock; unset: those commands say so"},
	{"CLERK_API_URL", "https://api.clerk.com/v1", "Clerk Backend API base URL (tests, proxies)"},
	{"CLERK_RATE_LIMIT", "", "client-side Clerk budget shared by all replicas, such as 300/10s; default half the instance's limit (sk_live_ 500/10s, sk_test_ 50/10s), the app keeps the rest"},
	{"SLACK_APPROVERS", "", "user (U…) and user group (S…) IDs who may approve lockouts and the bypass; default: the responders"},
	{"APPROVAL_TTL", "15m", "how long an approval request stays open"},
	{"BYPASS_MAX_DURATION", "2h", "longest emergency bypass"},
	{"BYPASS_READ_TOKEN", "", "bearer token required by GET /v1/bypass when set"},
	{"METRICS_TOKEN", "", "bearer token required by GET /metrics when set; unset: /metrics is open, without the bypass gauge when BYPASS_READ_TOKEN is set"},
	{"ALERTS_TOKEN", "", "bearer token Alertmanager (or Grafana) sends to POST /v1/alerts; unset: the endpoint answers 404 (a secret: masked in logs; at least 16 characters)"},
	{"ALERTS_DEFAULT_CATEGORY", "outage", "category of an alert whose `category` label is not outage, webhook, security or performance"},
	{"STATUS_POLL_SCHEDULE", "@every 1m", "cron schedule of the status poller and app health probe; off disables"},
	{"CLERK_STATUS_URL", "https://status.clerk.com", "Clerk's status page: its root (the format is detected: Statuspage summary or status, incident.io widget or page data, RSS/Atom) or one endpoint"},
	{"STATUS_CONFIRM_POLLS", "2", "consecutive polls showing a Clerk problem before an incident opens"},
	{"STATUS_COMPONENTS_FILE", "", "YAML mapping each status-page component to outage, webhook or advisory; unset: the built-in map (README)"},
	{"CLERK_PROBE", "", "time Clerk's own endpoints on every poll (on/off); default on when CLERK_SECRET_KEY or CLERK_PUBLISHABLE_KEY is set"},
	{"CLERK_PROBE_SCHEDULE", "@every 10s", "cron schedule of the probes of Clerk's own APIs and of APP_HEALTH_URL, apart from the status page's poll; off: they run with STATUS_POLL_SCHEDULE"},
	{"CLERK_PROBE_CONFIRM_POLLS", "4", "failed probe rounds of one API in a row (within CLERK_PROBE_CONFIRM_WINDOW; a slow round neither counts nor breaks the row) before a \"Clerk API failing from here\" incident opens; bad rounds that were only slow need twice as many within twice the window; at least 2"},
	{"CLERK_PROBE_CONFIRM_WINDOW", "1m", "the failed rounds in a row of CLERK_PROBE_CONFIRM_POLLS and APP_HEALTH_CONFIRM_POLLS must fall within this long"},
	{"CLERK_PROBE_SLOW_MS", "2000", "a probe slower than this many milliseconds counts as slow"},
	{"CHART_PROGRAM", "", "the chart drawer run for each chart (clerk-incident-chart); default: beside the bot's executable"},
	{"APP_HEALTH_URL", "", "the app's health endpoint (the runbook's /api/health/clerk); unset: not probed"},
	{"APP_HEALTH_CONFIRM_POLLS", "4", "failed health probes in a row (within CLERK_PROBE_CONFIRM_WINDOW) before an outage incident opens; at least 2"},
	{"CLERK_PUBLISHABLE_KEY", "", "publishable key (pk_…): key-pair check and Frontend API JWKS timing"},
	{"CLERK_FRONTEND_API_URL", "", "Frontend API base URL; default: decoded from the publishable key"},
	{"APP_WEBHOOK_URL", "", "the app's Clerk webhook endpoint (webhook check, resync)"},
	{"APP_WEBHOOK_SECRET", "", "that endpoint's signing secret (whsec_…)"},
	{"RESYNC_CONCURRENCY", "8", "webhook deliveries in flight during a resync"},
	{"TWILIO_ACCOUNT_SID", "", "Twilio account SID (AC…): levels with `via: [sms]` or `[call]` text and call the contacts' phones"},
	{"TWILIO_AUTH_TOKEN", "", "Twilio auth token (a secret: masked in logs)"},
	{"TWILIO_FROM", "", "the Twilio number (E.164) pages come from, or a Messaging Service SID (MG…) for SMS"},
	{"TWILIO_CALLER_ID", "", "the number (E.164) calls come from; required for `via: [call]` when TWILIO_FROM is a Messaging Service SID (a call's From must be a phone number); default TWILIO_FROM"},
	{"TWILIO_API_URL", "https://api.twilio.com", "Twilio REST API base URL (tests, proxies)"},
	{"TWILIO_REPLY_POLL", "10s", "how often replies to page texts are read from Twilio's message list (ACK, ESC; no public URL needed); off: page texts say to acknowledge in Slack"},
	{"TWILIO_REPLY_NUMBERS", "", "comma-separated E.164 numbers whose replies are read; default TWILIO_FROM; required for replies when TWILIO_FROM is a Messaging Service SID (MG…)"},
	{"PAGERDUTY_ROUTING_KEY", "", "PagerDuty Events API v2 integration key: levels with `via: [pagerduty]` trigger your PagerDuty service (a secret)"},
	{"PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue", "PagerDuty Events API URL (tests, proxies)"},
	{"PAGERDUTY_API_TOKEN", "", "PagerDuty REST API key (read-only suffices): the incidents the bot triggered are read back, and an acknowledgement made in PagerDuty acknowledges here and stops the ladder (a secret: masked in logs)"},
	{"PAGERDUTY_API_URL", "https://api.pagerduty.com", "PagerDuty REST API base URL (EU service region: https://api.eu.pagerduty.com; tests)"},
	{"PAGERDUTY_POLL", "15s", "how often those incidents are read back (one replica at a time; at least 5s)"},
	{"STATUS_UPDATE_CHANNEL", "", "announcement channel ID where `update` drafts are posted for customers"},
	{"STATUSPAGE_API_KEY", "", "Atlassian Statuspage API key: posted updates create and update an incident there (a secret)"},
	{"STATUSPAGE_PAGE_ID", "", "the Statuspage page those incidents go on"},
	{"STATUSPAGE_API_URL", "https://api.statuspage.io/v1", "Statuspage REST API base URL (tests, proxies)"},
	{"UPDATE_REMINDER", "P1=20m,P2=1h,P3=4h", "remind the commander (comms if set) when an open incident has had no update for this long, per severity; off disables"},
	{"VERCEL_TOKEN", "", "Vercel access token for the app's project: `deploys`, `env check`, `rollback` and the recent-deploy note on new incidents (a secret: masked in logs)"},
	{"VERCEL_PROJECT_ID", "", "the app's Vercel project: its ID (prj_…) or name; goes with VERCEL_TOKEN"},
	{"VERCEL_TEAM_ID", "", "the team owning the project (team_…), sent as teamId on every call; unset: a personal project"},
	{"VERCEL_API_URL", "https://api.vercel.com", "Vercel REST API base URL (tests, proxies)"},
	{"GITHUB_TOKEN", "", "GitHub token with Issues (write) on GITHUB_REPOSITORY: `followup export` files follow-ups as issues (a secret: masked in logs)"},
	{"GITHUB_REPOSITORY", "", "owner/name of the repository follow-ups are filed in; goes with GITHUB_TOKEN"},
	{"GITHUB_API_URL", "https://api.github.com", "GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3; tests)"},
	{"INCIDENT_CHANNELS", "off", "on: each incident gets its own channel inc-<n>-<title> holding its card and thread; SLACK_CHANNEL_ID gets a one-line link (needs the channels:manage scope)"},
	{"INCIDENT_CHANNELS_PRIVATE", "off", "on: those channels are private (needs the groups:write scope)"},
	{"INCIDENT_CHANNEL_INVITE", "", "comma-separated user IDs (U…), user group IDs (S…) or @handles invited to every incident channel, besides the opener, the commander and each paged person"},
	{"INCIDENT_CHANNEL_ARCHIVE_AFTER", "24h", "archive an incident's channel this long after it is resolved; off keeps it"},
	{"HANDLER_TIMEOUT", "30s", "how long one command or click may run"},
	{"RESPONDER_CACHE_TTL", "5m", "how long user group membership is cached"},
}

// SecretVars are the variables that hold credentials: keep them in a
// secret store, never in plain configuration (deploy/k8s reads this list to
// check its Secret). REDIS_URL is one because it may carry a password.
// TestSecretVarsNamed keeps it in step with Vars.
var SecretVars = []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "REDIS_URL", "CLERK_SECRET_KEY", "BYPASS_READ_TOKEN",
	"APP_WEBHOOK_SECRET", "TWILIO_AUTH_TOKEN", "PAGERDUTY_ROUTING_KEY", "PAGERDUTY_API_TOKEN", "STATUSPAGE_API_KEY", "METRICS_TOKEN", "VERCEL_TOKEN", "GITHUB_TOKEN", "ALERTS_TOKEN"}

// Load reads and validates the whole configuration; the error lists every
// missing or malformed variable at once. Secret values are never echoed.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			for _, d := range Vars {
				if d.Name == name {
					return d.Default
				}
			}
		}
		return v
	}
	var errs []string
	c := Config{
		BotToken: get("SLACK_BOT_TOKEN"), AppToken: get("SLACK_APP_TOKEN"), SlackAPIURL: get("SLACK_API_URL"),
		Channel: get("SLACK_CHANNEL_ID"), RedisURL: get("REDIS_URL"), RedisPrefix: get("REDIS_KEY_PREFIX"),
		HTTPAddr: get("HTTP_ADDR"), LogFormat: strings.ToLower(get("LOG_FORMAT")), RunbookFile: get("RUNBOOK_FILE"),
	}
	// A contacts file named on purpose must load; the default may be absent.
	c.ContactsRequired = strings.TrimSpace(getenv("CONTACTS_FILE")) != ""
	loadSlack(&c, get, &errs)
	loadClerk(&c, get, &errs)
	loadWatch(&c, get, &errs)
	loadApp(&c, get, &errs)
	loadPaging(&c, get, &errs)
	loadReplies(&c, get, &errs)
	loadGitHub(&c, get, &errs)
	loadRooms(&c, get, &errs)
	c.HandlerTimeout = duration(get, "HANDLER_TIMEOUT", &errs)
	c.GroupCacheTTL = duration(get, "RESPONDER_CACHE_TTL", &errs)
	if len(errs) > 0 {
		return Config{}, &ConfigError{Problems: errs}
	}
	return c, nil
}

// loadSlack reads the Slack tokens and channel, Redis, HTTP, logs and the runbook.
func loadSlack(c *Config, get func(string) string, errs *[]string) {
	switch {
	case c.BotToken == "":
		*errs = append(*errs, "SLACK_BOT_TOKEN is required: the bot token, starting with xoxb-")
	case !strings.HasPrefix(c.BotToken, "xoxb-"):
		*errs = append(*errs, "SLACK_BOT_TOKEN must start with xoxb- (is it the app token or a user token?)")
	}
	switch {
	case c.AppToken == "":
		*errs = append(*errs, "SLACK_APP_TOKEN is required: the app-level token with connections:write, starting with xapp-")
	case !strings.HasPrefix(c.AppToken, "xapp-"):
		*errs = append(*errs, "SLACK_APP_TOKEN must start with xapp- (create one under Basic Information > App-Level Tokens)")
	}
	if u, err := url.Parse(c.SlackAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, "SLACK_API_URL must be an http(s) URL such as https://slack.com/api/")
	} else if !strings.HasSuffix(c.SlackAPIURL, "/") {
		c.SlackAPIURL += "/"
	}
	if c.Channel != "" && !validChannel(c.Channel) {
		*errs = append(*errs, fmt.Sprintf("SLACK_CHANNEL_ID %q is not a channel ID (C…, G… or D…; right-click the channel > Copy link)", c.Channel))
	}
	c.Responders = principals(get, "SLACK_RESPONDERS", errs)
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			*errs = append(*errs, "REDIS_URL must look like redis://host:6379/0 or rediss://… (value not shown: it may hold a password)")
		}
	}
	if c.HTTPAddr != "" && !strings.Contains(c.HTTPAddr, ":") {
		*errs = append(*errs, fmt.Sprintf("HTTP_ADDR %q must be host:port or :port", c.HTTPAddr))
	}
	lvl, err := logrus.ParseLevel(get("LOG_LEVEL"))
	if err != nil {
		*errs = append(*errs, fmt.Sprintf("LOG_LEVEL %q must be debug, info, warn or error", get("LOG_LEVEL")))
	}
	c.LogLevel = lvl
	if c.LogFormat != "json" && c.LogFormat != "text" {
		*errs = append(*errs, fmt.Sprintf("LOG_FORMAT %q must be json or text", c.LogFormat))
	}
	if c.RunbookFile != "" {
		if _, err := os.Stat(c.RunbookFile); err != nil {
			*errs = append(*errs, fmt.Sprintf("RUNBOOK_FILE %q cannot be read: %v", c.RunbookFile, errors.Unwrap(err)))
		}
	}
}

// loadClerk reads contacts and the Clerk Backend API.
func loadClerk(c *Config, get func(string) string, errs *[]string) {
	c.ContactsFile = get("CONTACTS_FILE")
	if c.ContactsRequired {
		if _, err := os.Stat(c.ContactsFile); err != nil {
			*errs = append(*errs, fmt.Sprintf("CONTACTS_FILE %q cannot be read: %v", c.ContactsFile, errors.Unwrap(err)))
		}
	}
	c.ClerkSecretKey = get("CLERK_SECRET_KEY")
	if c.ClerkSecretKey != "" && !strings.HasPrefix(c.ClerkSecretKey, "sk_live_") && !strings.HasPrefix(c.ClerkSecretKey, "sk_test_") {
		*errs = append(*errs, "CLERK_SECRET_KEY must start with sk_live_ or sk_test_ (is it the publishable pk_ key?)")
	}
	c.ClerkAPIURL = strings.TrimRight(get("CLERK_API_URL"), "/")
	if u, err := url.Parse(c.ClerkAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, "CLERK_API_URL must be an http(s) URL such as https://api.clerk.com/v1")
	}
	if v := get("CLERK_RATE_LIMIT"); v != "" {
		n, w, err := clerkops.ParseBudget(v)
		if err != nil {
			*errs = append(*errs, "CLERK_RATE_LIMIT "+err.Error())
		}
		c.ClerkBudget, c.ClerkWindow = n, w
	}
}

// loadWatch reads approvers, the status poller and our probes of Clerk.
func loadWatch(c *Config, get func(string) string, errs *[]string) {
	c.Approvers = principals(get, "SLACK_APPROVERS", errs)
	if sched := get("STATUS_POLL_SCHEDULE"); !strings.EqualFold(sched, "off") {
		if _, err := cron.ParseStandard(sched); err != nil {
			*errs = append(*errs, fmt.Sprintf("STATUS_POLL_SCHEDULE %q is not a cron schedule (e.g. @every 1m, */2 * * * *) or off", sched))
		}
		c.StatusSchedule = sched
	}
	c.StatusURL = get("CLERK_STATUS_URL")
	c.HealthURL = get("APP_HEALTH_URL")
	for name, v := range map[string]string{"CLERK_STATUS_URL": c.StatusURL, "APP_HEALTH_URL": c.HealthURL, "CLERK_FRONTEND_API_URL": get("CLERK_FRONTEND_API_URL"), "APP_WEBHOOK_URL": get("APP_WEBHOOK_URL")} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			*errs = append(*errs, name+" must be an http(s) URL")
		}
	}
	c.StatusConfirm = positiveInt(get, "STATUS_CONFIRM_POLLS", errs)
	if f := get("STATUS_COMPONENTS_FILE"); f != "" {
		if src, err := os.ReadFile(f); err != nil {
			*errs = append(*errs, "STATUS_COMPONENTS_FILE: "+err.Error())
		} else if m, err := statuswatch.LoadComponentMap(f, src); err != nil {
			*errs = append(*errs, "STATUS_COMPONENTS_FILE is not valid: "+err.Error())
		} else {
			c.Components = m
		}
	}
	switch v := strings.ToLower(get("CLERK_PROBE")); v {
	case "":
		c.Probe = get("CLERK_SECRET_KEY") != "" || get("CLERK_PUBLISHABLE_KEY") != ""
	case "on", "true", "1", "yes":
		c.Probe = true
	case "off", "false", "0", "no":
	default:
		*errs = append(*errs, fmt.Sprintf("CLERK_PROBE %q must be on or off", v))
	}
	c.ProbeConfirm = confirmPolls(get, "CLERK_PROBE_CONFIRM_POLLS", errs)
	if ms, err := strconv.Atoi(get("CLERK_PROBE_SLOW_MS")); err != nil || ms < 1 {
		*errs = append(*errs, fmt.Sprintf("CLERK_PROBE_SLOW_MS %q must be a positive number of milliseconds", get("CLERK_PROBE_SLOW_MS")))
	} else {
		c.ProbeSlow = time.Duration(ms) * time.Millisecond
	}
	c.HealthConfirm = confirmPolls(get, "APP_HEALTH_CONFIRM_POLLS", errs)
	c.ChartProgram = get("CHART_PROGRAM")
	loadProbeSchedule(c, get, errs)
}

// loadProbeSchedule reads the probes' own schedule and their window; the
// window must hold the rounds it confirms.
func loadProbeSchedule(c *Config, get func(string) string, errs *[]string) {
	c.ProbeWindow = duration(get, "CLERK_PROBE_CONFIRM_WINDOW", errs)
	sched := get("CLERK_PROBE_SCHEDULE")
	every := scheduleInterval(c.StatusSchedule)
	if !strings.EqualFold(sched, "off") {
		if _, err := cron.ParseStandard(sched); err != nil {
			*errs = append(*errs, fmt.Sprintf("CLERK_PROBE_SCHEDULE %q is not a cron schedule (e.g. @every 15s) or off", sched))
			return
		}
		c.ProbeSchedule, every = sched, scheduleInterval(sched)
	}
	if every <= 0 || c.ProbeWindow <= 0 {
		return
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"CLERK_PROBE_CONFIRM_POLLS", c.ProbeConfirm}, {"APP_HEALTH_CONFIRM_POLLS", c.HealthConfirm}} {
		if need := time.Duration(v.n-1) * every; v.n > 0 && c.ProbeWindow <= need {
			*errs = append(*errs, fmt.Sprintf("CLERK_PROBE_CONFIRM_WINDOW %s cannot hold %s=%d probe rounds %s apart: make it longer than %s, or probe more often (CLERK_PROBE_SCHEDULE)",
				c.ProbeWindow, v.name, v.n, every, need))
		}
	}
}

// scheduleInterval is the time between two runs of a cron schedule (0
// for "" or one that does not parse).
func scheduleInterval(spec string) time.Duration {
	if spec == "" {
		return 0
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return 0
	}
	first := sched.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return sched.Next(first).Sub(first)
}

// confirmPolls reads a count of failed rounds in a row: at least 2, so
// that one failed probe never pages anyone.
func confirmPolls(get func(string) string, name string, errs *[]string) int {
	v := get(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 || n > 100 {
		*errs = append(*errs, fmt.Sprintf("%s %q must be a whole number from 2 to 100 (one failed probe never opens an incident)", name, v))
	}
	return n
}

// loadApp reads the app: its Clerk keys, webhook endpoint and resync.
func loadApp(c *Config, get func(string) string, errs *[]string) {
	c.PublishableKey = get("CLERK_PUBLISHABLE_KEY")
	if c.PublishableKey != "" && !strings.HasPrefix(c.PublishableKey, "pk_live_") && !strings.HasPrefix(c.PublishableKey, "pk_test_") {
		*errs = append(*errs, "CLERK_PUBLISHABLE_KEY must start with pk_live_ or pk_test_")
	}
	c.FrontendAPIURL = strings.TrimRight(get("CLERK_FRONTEND_API_URL"), "/")
	c.WebhookURL = get("APP_WEBHOOK_URL")
	c.WebhookSecret = get("APP_WEBHOOK_SECRET")
	if c.WebhookSecret != "" {
		if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(c.WebhookSecret, "whsec_")); err != nil || !strings.HasPrefix(c.WebhookSecret, "whsec_") {
			*errs = append(*errs, "APP_WEBHOOK_SECRET must be the endpoint's signing secret: whsec_ followed by base64 (value not shown)")
		}
	}
	c.ResyncConc = positiveInt(get, "RESYNC_CONCURRENCY", errs)
}

// loadReplies reads how SMS replies are read: TWILIO_REPLY_NUMBERS, or
// TWILIO_FROM when it is a number; none with a Messaging Service (start-up
// says replies are off).
func loadReplies(c *Config, get func(string) string, errs *[]string) {
	for _, n := range strings.Split(get("TWILIO_REPLY_NUMBERS"), ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if !escalation.IsE164(n) {
			*errs = append(*errs, fmt.Sprintf("TWILIO_REPLY_NUMBERS: %q is not a phone number in E.164 form (+15551234567)", n))
			continue
		}
		c.TwilioReplyNumbers = append(c.TwilioReplyNumbers, n)
	}
	if len(c.TwilioReplyNumbers) == 0 && escalation.IsE164(c.TwilioFrom) {
		c.TwilioReplyNumbers = []string{c.TwilioFrom}
	}
	if strings.EqualFold(get("TWILIO_REPLY_POLL"), "off") {
		return
	}
	c.TwilioReplyPoll = duration(get, "TWILIO_REPLY_POLL", errs)
	if c.TwilioReplyPoll > 0 && c.TwilioReplyPoll < time.Second {
		*errs = append(*errs, "TWILIO_REPLY_POLL must be at least 1s (each read is a request to Twilio)")
	}
}

// loadPaging reads phone paging, PagerDuty, status updates, approvals, bypass, tokens, Vercel.
func loadPaging(c *Config, get func(string) string, errs *[]string) {
	c.TwilioSID, c.TwilioToken, c.TwilioFrom, c.TwilioURL = get("TWILIO_ACCOUNT_SID"), get("TWILIO_AUTH_TOKEN"), get("TWILIO_FROM"), get("TWILIO_API_URL")
	if n := countSet(c.TwilioSID, c.TwilioToken, c.TwilioFrom); n != 0 && n != 3 {
		*errs = append(*errs, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM go together: set all three to page by SMS and call, or none")
	}
	if c.TwilioCallerID = get("TWILIO_CALLER_ID"); c.TwilioCallerID != "" && !escalation.IsE164(c.TwilioCallerID) {
		*errs = append(*errs, fmt.Sprintf("TWILIO_CALLER_ID %q must be a phone number in E.164 form (+15551234567) that you own in Twilio or have verified: a call cannot come from a Messaging Service", c.TwilioCallerID))
	}
	c.PagerDutyKey, c.PagerDutyURL = get("PAGERDUTY_ROUTING_KEY"), get("PAGERDUTY_EVENTS_URL")
	loadPagerDutyAPI(c, get, errs)
	c.UpdateChannel = get("STATUS_UPDATE_CHANNEL")
	c.StatuspageKey, c.StatuspagePageID, c.StatuspageURL = get("STATUSPAGE_API_KEY"), get("STATUSPAGE_PAGE_ID"), get("STATUSPAGE_API_URL")
	if (c.StatuspageKey == "") != (c.StatuspagePageID == "") {
		*errs = append(*errs, "STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID go together: set both to post updates to Statuspage, or neither")
	}
	if every, err := reminder.ParseIntervals(get("UPDATE_REMINDER")); err != nil {
		*errs = append(*errs, "UPDATE_REMINDER "+err.Error())
	} else {
		c.UpdateEvery = every
	}
	c.ApprovalTTL = duration(get, "APPROVAL_TTL", errs)
	c.BypassMax = duration(get, "BYPASS_MAX_DURATION", errs)
	c.BypassReadToken = get("BYPASS_READ_TOKEN")
	c.MetricsToken = get("METRICS_TOKEN")
	loadAlerts(c, get, errs)
	c.VercelToken, c.VercelProject, c.VercelTeam, c.VercelURL = get("VERCEL_TOKEN"), get("VERCEL_PROJECT_ID"), get("VERCEL_TEAM_ID"), strings.TrimRight(get("VERCEL_API_URL"), "/")
	if (c.VercelToken == "") != (c.VercelProject == "") {
		*errs = append(*errs, "VERCEL_TOKEN and VERCEL_PROJECT_ID go together: set both to read and roll back the app's deployments, or neither")
	}
	if u, err := url.Parse(c.VercelURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, "VERCEL_API_URL must be an http(s) URL such as https://api.vercel.com")
	}
}

// loadAlerts reads the alert intake (POST /v1/alerts).
func loadAlerts(c *Config, get func(string) string, errs *[]string) {
	c.AlertsToken = get("ALERTS_TOKEN")
	if c.AlertsToken != "" && len(c.AlertsToken) < 16 {
		*errs = append(*errs, "ALERTS_TOKEN must be at least 16 characters (value not shown): anyone who guesses it opens incidents")
	}
	if c.AlertsToken != "" && c.Channel == "" {
		*errs = append(*errs, "ALERTS_TOKEN needs SLACK_CHANNEL_ID: alerts open incidents in that channel")
	}
	cat, ok := incident.ParseCategory(get("ALERTS_DEFAULT_CATEGORY"))
	if !ok {
		*errs = append(*errs, fmt.Sprintf("ALERTS_DEFAULT_CATEGORY %q must be outage, webhook, security or performance", get("ALERTS_DEFAULT_CATEGORY")))
	}
	c.AlertsCategory = cat
}

// loadPagerDutyAPI reads the REST API key the bot reads PagerDuty back with.
func loadPagerDutyAPI(c *Config, get func(string) string, errs *[]string) {
	c.PagerDutyToken, c.PagerDutyAPIURL = get("PAGERDUTY_API_TOKEN"), strings.TrimRight(get("PAGERDUTY_API_URL"), "/")
	if c.PagerDutyToken != "" && c.PagerDutyKey == "" {
		*errs = append(*errs, "PAGERDUTY_API_TOKEN reads back the incidents the bot triggers in PagerDuty: set PAGERDUTY_ROUTING_KEY too (the Events API v2 integration key), or unset it")
	}
	if u, err := url.Parse(c.PagerDutyAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, "PAGERDUTY_API_URL must be an http(s) URL such as https://api.pagerduty.com")
	}
	if c.PagerDutyPoll = duration(get, "PAGERDUTY_POLL", errs); c.PagerDutyPoll > 0 && c.PagerDutyPoll < 5*time.Second {
		*errs = append(*errs, fmt.Sprintf("PAGERDUTY_POLL %q must be at least 5s: PagerDuty limits REST API calls per key", get("PAGERDUTY_POLL")))
	}
}

// loadGitHub reads where follow-ups are exported as issues.
func loadGitHub(c *Config, get func(string) string, errs *[]string) {
	c.GitHubToken, c.GitHubRepo, c.GitHubURL = get("GITHUB_TOKEN"), get("GITHUB_REPOSITORY"), strings.TrimRight(get("GITHUB_API_URL"), "/")
	if (c.GitHubToken == "") != (c.GitHubRepo == "") {
		*errs = append(*errs, "GITHUB_TOKEN and GITHUB_REPOSITORY go together: set both to export follow-ups as GitHub issues, or neither")
	}
	if c.GitHubRepo != "" {
		if err := github.ValidRepo(c.GitHubRepo); err != nil {
			*errs = append(*errs, "GITHUB_REPOSITORY "+err.Error())
		}
	}
	if u, err := url.Parse(c.GitHubURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, "GITHUB_API_URL must be an http(s) URL such as https://api.github.com")
	}
}

// loadRooms reads the channel-per-incident option.
func loadRooms(c *Config, get func(string) string, errs *[]string) {
	c.Rooms = onOff(get, "INCIDENT_CHANNELS", errs)
	c.RoomsPrivate = onOff(get, "INCIDENT_CHANNELS_PRIVATE", errs)
	for _, id := range strings.Split(get("INCIDENT_CHANNEL_INVITE"), ",") {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
		case validPrincipal(id) || (strings.HasPrefix(id, "@") && len(id) > 1 && !strings.ContainsAny(id, " <>")):
			c.RoomInvite = append(c.RoomInvite, id)
		default:
			*errs = append(*errs, fmt.Sprintf("INCIDENT_CHANNEL_INVITE: %q is not a user ID (U…/W…), user group ID (S…) or @handle", id))
		}
	}
	if v := strings.ToLower(get("INCIDENT_CHANNEL_ARCHIVE_AFTER")); v != "off" {
		c.ArchiveAfter = duration(get, "INCIDENT_CHANNEL_ARCHIVE_AFTER", errs)
	}
}

func onOff(get func(string) string, name string, errs *[]string) bool {
	switch v := strings.ToLower(get(name)); v {
	case "on", "true", "1", "yes":
		return true
	case "off", "false", "0", "no", "":
		return false
	default:
		*errs = append(*errs, fmt.Sprintf("%s %q must be on or off", name, v))
		return false
	}
}

// ConfigError lists every configuration problem.
type ConfigError struct{ Problems []string }

func (c *ConfigError) Error() string {
	return "configuration is not valid:\n  - " + strings.Join(c.Problems, "\n  - ") +
		"\nSee the README's configuration table; `go run ./cmd/sandbox` runs the bot without Slack."
}

func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

func duration(get func(string) string, name string, errs *[]string) time.Duration {
	v := get(name)
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Sprintf("%s %q must be a positive duration such as 30s or 5m", name, v))
	}
	return d
}

func positiveInt(get func(string) string, name string, errs *[]string) int {
	v := get(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		*errs = append(*errs, fmt.Sprintf("%s %q must be a whole number from 1 to 100", name, v))
	}
	return n
}

// principals reads a comma-separated list of user and user group IDs.
func principals(get func(string) string, name string, errs *[]string) []string {
	var out []string
	for _, id := range strings.Split(get(name), ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !validPrincipal(id) {
			*errs = append(*errs, fmt.Sprintf("%s: %q is not a user ID (U…/W…) or user group ID (S…)", name, id))
			continue
		}
		out = append(out, id)
	}
	return out
}

func validChannel(s string) bool {
	return len(s) >= 2 && strings.ContainsRune("CGD", rune(s[0])) && alnumUpper(s[1:])
}

func validPrincipal(s string) bool {
	return len(s) >= 2 && strings.ContainsRune("UWS", rune(s[0])) && alnumUpper(s[1:])
}

func alnumUpper(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
