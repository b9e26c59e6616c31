package fakeslack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// A binary file (a PNG: NUL bytes, bytes that are not UTF-8) reaches the
// fake byte for byte through files upload v2, so a test can decode it.
func TestFakeSlackKeepsBinaryUploadsByteForByte(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	api := slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL()))
	content := string([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0x0d, 0xff, 0xfe, 0x80})
	_, err := api.UploadFileContext(context.Background(), slack.UploadFileParameters{Filename: "x.png", Title: "x", Content: content, FileSize: len(content), Channel: "C1", ThreadTimestamp: "1.1"})
	if err != nil {
		t.Fatal(err)
	}
	files := fs.Files()
	if len(files) != 1 || files[0].Content != content || files[0].Name != "x.png" || files[0].ThreadTS != "1.1" {
		t.Fatalf("files %+v, want x.png with the exact bytes in thread 1.1", files)
	}
}

// Slack refuses an upload URL without the file's length (slack-go checks
// it before asking, so the request is made by hand).
func TestFakeSlackWantsTheUploadLength(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	req, _ := http.NewRequest(http.MethodPost, fs.APIURL()+"files.getUploadURLExternal", strings.NewReader(url.Values{"filename": {"x.png"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+fs.BotToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		OK    bool
		Error string
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.OK || body.Error != "invalid_arguments" {
		t.Fatalf("no length: %+v (%v), want invalid_arguments", body, err)
	}
}
