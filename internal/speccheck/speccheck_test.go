package speccheck_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

func load(t *testing.T, name string) *speccheck.Spec {
	t.Helper()
	s, err := speccheck.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func form(kv ...string) []byte {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return []byte(v.Encode())
}

// Requests as the clients send them pass; each planted mistake fails and
// the error names the method, the path and the parameter at fault.
func TestPlantedRequestsOutsideTheSpecsFail(t *testing.T) {
	const jsonCT, formCT = "application/json", "application/x-www-form-urlencoded"
	cases := []struct {
		spec string
		req  speccheck.Request
		want []string // "" when it must pass
	}{
		{speccheck.GitHub, speccheck.Request{Method: "GET", Path: "/search/issues", Query: url.Values{"q": {`"x" is:issue repo:a/b`}, "per_page": {"20"}}}, nil},
		{speccheck.GitHub, speccheck.Request{Method: "GET", Path: "/search/issues", Query: url.Values{"q": {"x"}, "in": {"body"}}}, []string{"GET /search/issues", `"in"`}},
		{speccheck.GitHub, speccheck.Request{Method: "GET", Path: "/search/issues", Query: url.Values{"per_page": {"20"}}}, []string{"GET /search/issues", `required parameter "q"`}},
		{speccheck.GitHub, speccheck.Request{Method: "GET", Path: "/search/issues", Query: url.Values{"q": {"x"}, "order": {"newest"}}}, []string{`"order" = "newest"`}},
		{speccheck.GitHub, speccheck.Request{Method: "POST", Path: "/repos/acme/incidents/issues", ContentType: jsonCT, Body: []byte(`{"title":"t","body":"b","labels":["x"]}`)}, nil},
		{speccheck.GitHub, speccheck.Request{Method: "POST", Path: "/repos/acme/incidents/issues", ContentType: jsonCT, Body: []byte(`{"title":"t","label":"x"}`)}, []string{"POST /repos/acme/incidents/issues", `"body.label"`}},
		{speccheck.GitHub, speccheck.Request{Method: "POST", Path: "/repos/acme/incidents/issues", ContentType: jsonCT, Body: []byte(`{"body":"b"}`)}, []string{`"body.title" is missing`}},
		{speccheck.GitHub, speccheck.Request{Method: "DELETE", Path: "/repos/acme/incidents/issues"}, []string{"DELETE /repos/acme/incidents/issues is no operation"}},
		{speccheck.Vercel, speccheck.Request{Method: "GET", Path: "/v6/deployments", Query: url.Values{"projectId": {"p"}, "target": {"production"}, "limit": {"20"}, "teamId": {"t"}}}, nil},
		{speccheck.Vercel, speccheck.Request{Method: "GET", Path: "/v6/deployments", Query: url.Values{"project": {"p"}}}, []string{"GET /v6/deployments", `"project"`}},
		{speccheck.Vercel, speccheck.Request{Method: "GET", Path: "/v10/projects/p/env", Query: url.Values{"decrypt": {"yes"}}}, []string{`"decrypt" = "yes"`}},
		{speccheck.Vercel, speccheck.Request{Method: "POST", Path: "/v1/projects/prj/rollback/dpl_1", Query: url.Values{"description": {"why"}}}, nil},
		{speccheck.Statuspage, speccheck.Request{Method: "POST", Path: "/v1/pages/pg/incidents", ContentType: jsonCT, Body: []byte(`{"incident":{"name":"n","status":"investigating","impact_override":"major","metadata":{"a":{"b":1}}}}`)}, nil},
		{speccheck.Statuspage, speccheck.Request{Method: "POST", Path: "/v1/pages/pg/incidents", ContentType: jsonCT, Body: []byte(`{"incident":{"name":"n","status":"down"}}`)}, []string{"POST /v1/pages/pg/incidents", "body.incident.status = down"}},
		{speccheck.Statuspage, speccheck.Request{Method: "PATCH", Path: "/v1/pages/pg/incidents/abc", ContentType: jsonCT, Body: []byte(`{"incident":{"message":"m"}}`)}, []string{`"body.incident.message"`}},
		{speccheck.Statuspage, speccheck.Request{Method: "GET", Path: "/v1/pages/pg/incidents/unresolved"}, nil},
		{speccheck.PagerDutyEvents, speccheck.Request{Method: "POST", Path: "/v2/enqueue", ContentType: jsonCT, Body: []byte(`{"routing_key":"k","event_action":"trigger","dedup_key":"d","payload":{"summary":"s","source":"x","severity":"critical"}}`)}, nil},
		{speccheck.PagerDutyEvents, speccheck.Request{Method: "POST", Path: "/v2/enqueue", ContentType: jsonCT, Body: []byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"high"}}`)}, []string{"body.payload.severity = high"}},
		{speccheck.PagerDutyEvents, speccheck.Request{Method: "POST", Path: "/v2/enqueue", ContentType: jsonCT, Body: []byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","severity":"info"}}`)}, []string{`"body.payload.source" is missing`}},
		{speccheck.PagerDutyREST, speccheck.Request{Method: "GET", Path: "/incidents", Query: url.Values{"incident_key": {"INC-1"}, "statuses[]": {"triggered", "acknowledged"}}}, nil},
		{speccheck.PagerDutyREST, speccheck.Request{Method: "GET", Path: "/incidents", Query: url.Values{"statuses[]": {"open"}}}, []string{`"statuses[]" = "open"`}},
		{speccheck.PagerDutyREST, speccheck.Request{Method: "GET", Path: "/incidents", Query: url.Values{"dedup_key": {"x"}}}, []string{"GET /incidents", `"dedup_key"`}},
		{speccheck.Slack, speccheck.Request{Method: "POST", Path: "/api/chat.postMessage", ContentType: formCT, Body: form("channel", "C1", "text", "hi", "thread_ts", "1.2")}, nil},
		{speccheck.Slack, speccheck.Request{Method: "POST", Path: "/api/chat.postMessage", ContentType: formCT, Body: form("channel", "C1", "txt", "hi")}, []string{"POST /api/chat.postMessage", `"txt"`}},
		{speccheck.Slack, speccheck.Request{Method: "POST", Path: "/api/chat.postEphemeral", ContentType: formCT, Body: form("channel", "C1", "text", "hi")}, []string{`required parameter "user"`}},
		{speccheck.Slack, speccheck.Request{Method: "POST", Path: "/api/views.open", ContentType: jsonCT, Body: []byte(`{"trigger_id":"1","view":{"type":"modal"}}`)}, nil},
		{speccheck.Slack, speccheck.Request{Method: "POST", Path: "/api/usergroups.users.update", ContentType: formCT, Body: form("usergroup", "S1", "users", "U1,U2")}, nil},
		{speccheck.Slack, speccheck.Request{Method: "POST", Path: "/api/conversations.kick", ContentType: formCT, Body: form("channel", "C1")}, []string{"/api/conversations.kick is no operation"}},
	}
	for _, tc := range cases {
		err := load(t, tc.spec).Check(tc.req)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s %s: %v", tc.spec, tc.req, err)
		case tc.want != nil && err == nil:
			t.Errorf("%s %s %s passed", tc.spec, tc.req, tc.req.Body)
		case tc.want != nil:
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %q lacks %q", tc.req, err, w)
				}
			}
		}
	}
}

// Each subset says where it came from.
func TestEverySubsetNamesItsSource(t *testing.T) {
	for _, name := range []string{speccheck.GitHub, speccheck.Vercel, speccheck.Statuspage, speccheck.PagerDutyEvents, speccheck.PagerDutyREST, speccheck.Slack, speccheck.Twilio} {
		s := load(t, name)
		if src := s.Source(); !strings.Contains(src, "repo") || !strings.Contains(src, "commit") {
			t.Errorf("%s: x-source %q", name, src)
		}
	}
}

// Verify fails a test for a request outside the spec and for an operation
// never exercised.
func TestVerifyFailsThePlantedRequest(t *testing.T) {
	s := load(t, speccheck.GitHub)
	var rec fakeT
	speccheck.Verify(&rec, s, []speccheck.Request{{Method: "GET", Path: "/search/issues", Query: url.Values{"query": {"x"}}}}, "POST /repos/{owner}/{repo}/issues")
	if len(rec.errs) != 2 || !strings.Contains(rec.errs[0], `"query"`) || !strings.Contains(rec.errs[1], "POST /repos/{owner}/{repo}/issues") {
		t.Fatalf("Verify said %q", rec.errs)
	}
}

type fakeT struct{ errs []string }

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, a ...any) {
	f.errs = append(f.errs, strings.TrimSpace(strings.ReplaceAll(sprintf(format, a...), "\n", " ")))
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// allOf is one object: a property of one part is not unknown to another,
// and a property of none is.
func TestAllOfPartsMakeOneObject(t *testing.T) {
	s, err := speccheck.Parse([]byte(`{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/x":{"post":{"requestBody":{"content":{"application/json":{"schema":
		{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"type":"object","properties":{"b":{"enum":["x","y"]}}}]}}}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req := func(body string) speccheck.Request {
		return speccheck.Request{Method: "POST", Path: "/x", ContentType: "application/json", Body: []byte(body)}
	}
	if err := s.Check(req(`{"a":"1","b":"x"}`)); err != nil {
		t.Errorf("a and b: %v", err)
	}
	for body, want := range map[string]string{`{"a":"1","c":1}`: `"body.c"`, `{"b":"x"}`: `"body.a" is missing`, `{"a":"1","b":"z"}`: "body.b = z"} {
		if err := s.Check(req(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", body, err, want)
		}
	}
}
