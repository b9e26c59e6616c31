package app_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// channelNamed waits for the bot to create a channel (it works after
// acking the command).
func channelNamed(t *testing.T, fs *fakeslack.Server, name string) fakeslack.Channel {
	t.Helper()
	for deadline := time.Now().Add(fakeslack.Timeout); ; time.Sleep(5 * time.Millisecond) {
		for _, c := range fs.Channels() {
			if c.Name == name {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no channel %s among %+v", name, fs.Channels())
		}
	}
}

// With INCIDENT_CHANNELS=on (two replicas, injected clock): open creates
// inc-1-<title> (the name taken, so -2) with the opener and the configured
// group invited (a departed member does not keep the others out), the
// card lives there, the main channel links to it and follows its status;
// a note typed there without an ID lands on its incident while two are
// open; after resolve the channel is archived once, after the delay and
// not before; posting there then answers is_archived.
func TestIncidentChannelOpenNoteAnnounceArchive(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.RemoveUser("U9", "user_not_found")
	fs.SetGroup("S1", "U2", "U9")
	fs.AddChannel("CTAKEN", "inc-1-sign-in-failing")
	clock := &testClock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	prefix := redistest.Prefix()
	var sweeps []func(ctx context.Context)
	for range 2 {
		b := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC",
			"INCIDENT_CHANNELS": "on", "INCIDENT_CHANNEL_INVITE": "S1", "INCIDENT_CHANNEL_ARCHIVE_AFTER": "24h"},
			Options: app.Options{Manual: app.Loops{Sweep: true}, Now: clock.Now}})
		sweeps = append(sweeps, b.Sweep)
	}
	sweep := func() {
		var wg sync.WaitGroup
		for _, s := range sweeps {
			wg.Go(func() { s(context.Background()) })
		}
		wg.Wait()
	}

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	room := channelNamed(t, fs, "inc-1-sign-in-failing-2")
	card := fs.ExpectMessage(t, room.ID, "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1* in <#"+room.ID+">")
	announce := fs.ExpectMessage(t, "CINC", "INC-1", "Sign-in failing", "<#"+room.ID+">")
	room = channelNamed(t, fs, room.Name)
	for _, u := range []string{"UBOT", "U1", "U2"} {
		if !slices.Contains(room.Members, u) {
			t.Errorf("%s not in %s: %v", u, room.Name, room.Members)
		}
	}
	if slices.Contains(room.Members, "U9") || room.Private {
		t.Errorf("channel %+v", room)
	}
	for _, m := range fs.Messages() {
		if m.Channel == "CINC" && strings.Contains(m.Text, "INC-1 · Sign-in failing") {
			t.Fatalf("the card is in the main channel too: %q", m.Text)
		}
	}

	// A second incident, so a command without an ID is ambiguous outside
	// an incident channel.
	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	room2 := channelNamed(t, fs, "inc-2-users-not-syncing")
	fs.ExpectMessage(t, room2.ID, "INC-2 · Users not syncing")
	fs.Command(t, "U1", room.ID, "note Clerk is rolling out a fix")
	fs.ExpectEphemeral(t, "U1", "Note added")
	fs.Expect(t, fakeslack.Match{Channel: room.ID, Thread: card.TS, Contains: []string{"Clerk is rolling out a fix"}})
	rdb, _ := redistest.Client(t)
	store := incident.NewStore(rdb, prefix, nil)
	inc, err := store.Get(t.Context(), "INC-1")
	if err != nil || inc.Room != room.ID || inc.Channel != room.ID {
		t.Fatalf("INC-1: %+v %v", inc, err)
	}
	if !slices.ContainsFunc(inc.Timeline, func(e incident.Entry) bool { return strings.Contains(e.Text, "Clerk is rolling out a fix") }) {
		t.Fatalf("the note is not on INC-1: %+v", inc.Timeline)
	}
	// Reads typed there are about its incident too: status and audit.
	fs.Command(t, "U2", room2.ID, "status")
	fs.ExpectEphemeral(t, "U2", "INC-2", "Users not syncing")
	fs.Command(t, "U2", room.ID, "audit")
	fs.ExpectEphemeral(t, "U2", "INC-1", "note")

	fs.Command(t, "U2", room.ID, "ack")
	fs.ExpectUpdated(t, announce, "acknowledged by bob")
	fs.Command(t, "U1", room.ID, "resolve Clerk recovered")
	fs.ExpectUpdated(t, announce, "resolved", "<#"+room.ID+">")

	archived := func() bool { return channelNamed(t, fs, room.Name).Archived }
	clock.Add(23*time.Hour + 59*time.Minute)
	sweep()
	if archived() {
		t.Fatal("archived before 24h")
	}
	clock.Add(2 * time.Minute)
	for deadline := time.Now().Add(5 * time.Second); !archived() && time.Now().Before(deadline); {
		sweep()
	}
	if !archived() {
		t.Fatal("not archived 24h after resolve")
	}
	sweep()
	if n := fs.Calls("conversations.archive"); n != 1 {
		t.Fatalf("conversations.archive called %d times, want 1", n)
	}
	if channelNamed(t, fs, room2.Name).Archived {
		t.Fatal("the open incident's channel was archived")
	}
	// A change after the archive (the report is written days later) is
	// not refused by Slack: the card starts again in the main channel.
	fs.Command(t, "U1", "C1", "note INC-1 Root cause found")
	fs.ExpectEphemeral(t, "U1", "Note added")
	fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
}

// restricted_action: the workspace does not let the bot create channels;
// the incident opens in the main channel and its thread says why.
func TestIncidentChannelRestrictedFallsBackToMainChannel(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.RestrictChannelCreation(true)
	apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "INCIDENT_CHANNELS": "on"}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1* in <#CINC>")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"#inc-1-sign-in-failing could not be created (restricted_action", "INC-1 stays in this channel"}})
	if n := len(fs.Channels()); n != 0 {
		t.Fatalf("%d channels", n)
	}
}

// The option on with a token lacking channels:manage (or groups:write for
// private channels) fails start-up saying which scope to add.
func TestIncidentChannelsNeedTheirScopesAtStartUp(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.SetScopes("commands", "chat:write", "channels:read")
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"INCIDENT_CHANNELS": "on"}, "channels:manage"},
		{map[string]string{"INCIDENT_CHANNELS": "on", "INCIDENT_CHANNELS_PRIVATE": "on"}, "groups:write"},
	} {
		env := map[string]string{"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(),
			"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": redistest.Prefix(), "HTTP_ADDR": "127.0.0.1:0", "STATUS_POLL_SCHEDULE": "off"}
		for k, v := range c.env {
			env[k] = v
		}
		cfg, err := app.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = app.Run(ctx, cfg, app.Options{Stderr: io.Discard})
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "INCIDENT_CHANNELS") {
			t.Fatalf("%v: err = %v", c.env, err)
		}
	}
}

// Each paged person is invited to the (private) incident channel as they
// are paged (level 1's group member, then level 2's lead), and the
// commander once named.
func TestIncidentChannelInvitesPagedPeopleAndTheCommander(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	for id, name := range map[string]string{"U1": "alice", "U2": "bob", "U3": "carol", "U4": "dave"} {
		fs.AddUser(id, name)
	}
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	clock, tick, _ := startLadderEnv(t, fs, ladderContacts, map[string]string{"INCIDENT_CHANNELS": "on", "INCIDENT_CHANNELS_PRIVATE": "on"}, app.Options{Manual: app.Loops{Engine: true, Sweep: true}})
	members := func() []string { return channelNamed(t, fs, "inc-1-sign-in-failing").Members }

	fs.Command(t, "U4", "C1", "open outage P1 Sign-in failing")
	room := channelNamed(t, fs, "inc-1-sign-in-failing")
	fs.ExpectMessage(t, room.ID, "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U4", "Opened *INC-1*")
	if !room.Private {
		t.Fatal("INCIDENT_CHANNELS_PRIVATE=on made a public channel")
	}
	if m := members(); !slices.Equal(m, []string{"UBOT", "U4"}) {
		t.Fatalf("members before any page: %v", m)
	}
	tick()
	fs.ExpectMessage(t, "DU1", "level 1 (On-call engineer)")
	if m := members(); !slices.Contains(m, "U1") || slices.Contains(m, "U2") {
		t.Fatalf("after level 1: %v", m)
	}
	clock.Add(15 * time.Minute)
	tick()
	fs.ExpectMessage(t, "DU2", "level 2")
	if m := members(); !slices.Contains(m, "U2") {
		t.Fatalf("after level 2: %v", m)
	}
	fs.Command(t, "U4", room.ID, "role commander <@U3>")
	fs.ExpectEphemeral(t, "U4", "commander of INC-1")
	for deadline := time.Now().Add(fakeslack.Timeout); !slices.Contains(members(), "U3") && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
	}
	if m := members(); !slices.Contains(m, "U3") {
		t.Fatalf("the commander was not invited: %v", m)
	}
}

// The option's variables: defaults (off, 24h), off keeps, and each bad
// value named.
func TestIncidentChannelsConfig(t *testing.T) {
	base := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc"}
	load := func(extra map[string]string) (app.Config, error) {
		return app.Load(func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		})
	}
	cfg, err := load(nil)
	if err != nil || cfg.Rooms || cfg.ArchiveAfter != 24*time.Hour {
		t.Fatalf("defaults: %+v %v", cfg.Rooms, err)
	}
	cfg, err = load(map[string]string{"INCIDENT_CHANNELS": "on", "INCIDENT_CHANNELS_PRIVATE": "on", "INCIDENT_CHANNEL_ARCHIVE_AFTER": "off",
		"INCIDENT_CHANNEL_INVITE": "U1, S2,@sre"})
	if err != nil || !cfg.Rooms || !cfg.RoomsPrivate || cfg.ArchiveAfter != 0 || !slices.Equal(cfg.RoomInvite, []string{"U1", "S2", "@sre"}) {
		t.Fatalf("on: %+v %v", cfg, err)
	}
	_, err = load(map[string]string{"INCIDENT_CHANNELS": "maybe", "INCIDENT_CHANNEL_ARCHIVE_AFTER": "soon", "INCIDENT_CHANNEL_INVITE": "C123"})
	for _, want := range []string{`INCIDENT_CHANNELS "maybe" must be on or off`, `INCIDENT_CHANNEL_ARCHIVE_AFTER "soon" must be a positive duration`,
		`INCIDENT_CHANNEL_INVITE: "C123" is not a user ID`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}
