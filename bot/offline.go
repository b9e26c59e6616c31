package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// ErrOffline is what every Slack call returns at the break-glass CLI.
var ErrOffline = errors.New("slack is not used by the break-glass CLI")

// Offline stands in for Slack at the break-glass CLI: replies meant for
// the operator are printed; posts and updates fail, so the bot catches the
// cards up once Slack is reachable again.
type Offline struct {
	mu    sync.Mutex
	w     io.Writer
	typed func(actionID, value string) string
	out   string
}

// OfflineOptions says how the CLI shows what only Slack has.
type OfflineOptions struct {
	// Typed is the command (words after `do`) that does what a button
	// does, "" when only a click in Slack can.
	Typed func(actionID, value string) string
	// Out is where uploaded files go: a directory, or a file path for
	// the first file (others go beside it). "" prints text files.
	Out string
}

// NewOffline prints replies to w.
func NewOffline(w io.Writer, o OfflineOptions) *Offline {
	return &Offline{w: w, typed: o.Typed, out: o.Out}
}

var (
	mentionRe = regexp.MustCompile(`<[@#!]([^>|]*)(\|([^>]*))?>`)
	dateRe    = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)
)

// Plain turns Slack markup into terminal text: mentions and dates as
// words, and Slack's escapes (&lt; &gt; &amp;) back into what was typed.
func Plain(s string) string {
	s = dateRe.ReplaceAllString(s, "$1")
	s = mentionRe.ReplaceAllStringFunc(s, func(m string) string {
		sm := mentionRe.FindStringSubmatch(m)
		if sm[3] != "" {
			return sm[3]
		}
		return "@" + sm[1]
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// Reply prints the message as Slack shows it: its blocks when it has
// any (the text is then only the notification's fallback), else its text.
func (o *Offline) Reply(ctx context.Context, to ReplyTo, m Msg) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	text := emoji.Replace(Plain(m.Text))
	if len(m.Blocks) > 0 {
		text = BlocksText(m.Blocks, o.typed)
	}
	_, err := fmt.Fprintln(o.w, text)
	return err
}

// Post fails: Slack is not reachable from here.
func (o *Offline) Post(ctx context.Context, channel, threadTS string, m Msg) (string, error) {
	return "", ErrOffline
}

// Update fails: Slack is not reachable from here.
func (o *Offline) Update(ctx context.Context, channel, ts string, m Msg) error { return ErrOffline }

// Upload writes the file where the operator asked (--out), or prints a
// text file framed by its name; a binary file without --out is named and
// skipped.
func (o *Offline) Upload(ctx context.Context, channel, threadTS, filename, title, content, comment string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.out != "" {
		path := o.outPath(filename)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		_, err := fmt.Fprintf(o.w, "%s written to %s\n", title, path)
		return err
	}
	if !utf8.ValidString(content) || strings.ContainsRune(content, 0) {
		_, err := fmt.Fprintf(o.w, "%s (%s, %d bytes) is not text: add --out <directory> to write it.\n", title, filename, len(content))
		return err
	}
	_, err := fmt.Fprintf(o.w, "----- %s (%s) -----\n%s\n----- end of %s -----\n", title, filename, strings.TrimRight(content, "\n"), filename)
	return err
}

// outPath is where an uploaded file goes: into Out when it is a
// directory; Out itself for the first file named like it (same
// extension), beside it otherwise.
func (o *Offline) outPath(filename string) string {
	if st, err := os.Stat(o.out); (err == nil && st.IsDir()) || strings.HasSuffix(o.out, string(filepath.Separator)) {
		return filepath.Join(o.out, filepath.Base(filename))
	}
	if filepath.Ext(o.out) == filepath.Ext(filename) {
		return o.out
	}
	return filepath.Join(filepath.Dir(o.out), filepath.Base(filename))
}

// OpenDM fails: Slack is not reachable from here.
func (o *Offline) OpenDM(ctx context.Context, user string) (string, error) { return "", ErrOffline }

// GroupMembers fails: Slack is not reachable from here.
func (o *Offline) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return nil, ErrOffline
}

// GroupHandles fails: Slack is not reachable from here.
func (o *Offline) GroupHandles(ctx context.Context) (map[string]string, error) {
	return nil, ErrOffline
}

// AuthTest fails: Slack is not reachable from here.
func (o *Offline) AuthTest(ctx context.Context) (string, error) { return "", ErrOffline }

// LookupEmail fails: Slack is not reachable from here.
func (o *Offline) LookupEmail(ctx context.Context, email string) (string, error) {
	return "", ErrOffline
}

// LookupHandle fails: Slack is not reachable from here.
func (o *Offline) LookupHandle(ctx context.Context, handle string) (string, error) {
	return "", ErrOffline
}

// CheckUser fails: Slack is not reachable from here.
func (o *Offline) CheckUser(ctx context.Context, id string) error { return ErrOffline }

// DisplayName is not known offline: people keep the names they have.
func (o *Offline) DisplayName(ctx context.Context, id string) (string, error) { return "", ErrOffline }

// CheckChannel fails: Slack is not reachable from here.
func (o *Offline) CheckChannel(ctx context.Context, id string) error { return ErrOffline }

// OpenView fails: a modal needs Slack (the CLI has no trigger to open one).
func (o *Offline) OpenView(ctx context.Context, triggerID string, v slack.ModalViewRequest) error {
	return ErrOffline
}

// CreateChannel fails: Slack is not reachable from here (the incident
// opens in the main channel).
func (o *Offline) CreateChannel(ctx context.Context, name string, private bool) (string, error) {
	return "", ErrOffline
}

// Invite fails: Slack is not reachable from here.
func (o *Offline) Invite(ctx context.Context, channel string, users []string) ([]InviteFailure, error) {
	return nil, ErrOffline
}

// Archive fails: Slack is not reachable from here.
func (o *Offline) Archive(ctx context.Context, channel string) error { return ErrOffline }

// SetGroupMembers cannot reach Slack.
func (o *Offline) SetGroupMembers(ctx context.Context, group string, users []string) error {
	return ErrOffline
}

// TimeZone cannot reach Slack: the CLI shows times in the schedule's zone and UTC.
func (o *Offline) TimeZone(ctx context.Context, user string) (string, error) { return "", ErrOffline }
