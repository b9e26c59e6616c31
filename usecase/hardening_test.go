package usecase_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

type rotClerk struct{ rotations int }

func (c *rotClerk) SetProtectRules(context.Context, bool) (account.Protect, error) {
	return account.Protect{}, nil
}
func (c *rotClerk) Block(context.Context, string) (account.Blocked, error) {
	return account.Blocked{}, nil
}
func (c *rotClerk) RotateMachineKey(context.Context, string, time.Duration) (string, error) {
	c.rotations++
	return "ak_topsecretvalue", nil
}
func (c *rotClerk) RotateOAuthSecret(context.Context, string) (string, string, error) {
	c.rotations++
	return "Portal", "oas_topsecretvalue", nil
}

type teller struct {
	canErr, tellErr error
	told            []render.Secret
}

func (t *teller) CanTell(context.Context, string) error { return t.canErr }
func (t *teller) TellSecret(_ context.Context, _ string, s render.Secret) error {
	if t.tellErr != nil {
		return t.tellErr
	}
	t.told = append(t.told, s)
	return nil
}

// A rotation nobody can be given is not done; one whose delivery fails
// says so without the secret; the secret never enters the outcome.
func TestRotateDoerKeepsTheSecretOutOfTheOutcome(t *testing.T) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	ar := &approval.Request{ID: "apr-aaaaaaaaaaaa", Incident: "INC-1", Action: approval.Rotate, Targets: []string{"machine mch_1"}, Duration: 2 * time.Hour,
		RequestedBy: incident.Person{ID: "U1", Name: "alice"}}
	for _, tc := range []struct {
		name      string
		tell      *teller
		status    string
		rotations int
		contains  string
	}{
		{"cannot DM", &teller{canErr: errors.New("no DM")}, approval.NotCarriedOut, 0, "nothing was changed"},
		{"delivery fails", &teller{tellErr: errors.New("slack down")}, approval.Unsure, 1, "could not be sent"},
		{"delivered", &teller{}, approval.Done, 1, "the old key works until 05:00 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &rotClerk{}
			o := usecase.RotateDoer{Clerk: c, Secrets: tc.tell, Now: func() time.Time { return now }, Log: log}.CarryOut(context.Background(), ar)
			if o.Status != tc.status || c.rotations != tc.rotations || !strings.Contains(o.Summary, tc.contains) {
				t.Fatalf("%+v after %d rotations", o, c.rotations)
			}
			if strings.Contains(o.Summary, "topsecret") || strings.Contains(render.OutcomeTimeline(&approval.Request{Action: ar.Action, ID: ar.ID, Outcome: o}), "topsecret") {
				t.Fatal("the outcome holds the secret")
			}
			if tc.status == approval.Done && (len(tc.tell.told) != 1 || tc.tell.told[0].Value != "ak_topsecretvalue" || !tc.tell.told[0].OldUntil.Equal(now.Add(2*time.Hour))) {
				t.Fatalf("told %+v", tc.tell.told)
			}
		})
	}
}

type onceSet map[string]bool

func (o onceSet) Once(_ context.Context, key string, _ time.Duration) (bool, error) {
	if o[key] {
		return false, nil
	}
	o[key] = true
	return true, nil
}

// Carried out again after a crash midway, a rotation is not repeated.
func TestRotateDoerNeverRotatesTwiceForOneRequest(t *testing.T) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	ar := &approval.Request{ID: "apr-bbbbbbbbbbbb", Incident: "INC-1", Action: approval.Rotate, Targets: []string{"oauth oa_1"}, RequestedBy: incident.Person{ID: "U1", Name: "alice"}}
	c, once := &rotClerk{}, onceSet{}
	d := usecase.RotateDoer{Clerk: c, Secrets: &teller{tellErr: errors.New("replica died")}, Once: once, Now: time.Now, Log: log}
	d.CarryOut(context.Background(), ar)
	o := d.CarryOut(context.Background(), ar)
	if c.rotations != 1 || o.Status != approval.Unsure || !strings.Contains(o.Summary, "not repeated") {
		t.Fatalf("%d rotations, %+v", c.rotations, o)
	}
}
