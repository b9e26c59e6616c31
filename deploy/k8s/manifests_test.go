// Package k8s holds the Kubernetes manifests and the test that checks them
// against the bot's own configuration (cmd/internal/app/config.go).
package k8s

import (
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const configGo = "../../cmd/internal/app/config.go"

// deployRequired are required on Kubernetes besides what the bot itself
// refuses to start without (Vars' "required:" rows).
var deployRequired = map[string]string{
	"REDIS_URL":        "replicas must share one Redis; the embedded one is per process",
	"SLACK_CHANNEL_ID": "the status poller (on by default) opens incidents and posts alerts only in a known channel",
}

// variants are the kustomizations teams apply; sentinel says whether
// REDIS_URL must name a Sentinel master.
var variants = []struct {
	dir      string
	sentinel bool
}{{"base", false}, {"overlays/sentinel", true}}

func TestManifests(t *testing.T) {
	bc, err := readBotConfig(configGo)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range checkTree(".", bc) {
		t.Error(err)
	}
}

// TestReadBotConfig: the variables come from config.go's source.
func TestReadBotConfig(t *testing.T) {
	bc, err := readBotConfig(configGo)
	if err != nil {
		t.Fatal(err)
	}
	if v := bc.vars["HTTP_ADDR"]; v.Default != ":8080" {
		t.Errorf("HTTP_ADDR default %q, want :8080", v.Default)
	}
	if !strings.HasPrefix(bc.vars["SLACK_BOT_TOKEN"].Help, "required:") || strings.HasPrefix(bc.vars["REDIS_URL"].Help, "required:") {
		t.Errorf("required marks not read: %+v %+v", bc.vars["SLACK_BOT_TOKEN"], bc.vars["REDIS_URL"])
	}
	if !slices.Contains(bc.secrets, "SLACK_APP_TOKEN") || !slices.Contains(bc.secrets, "REDIS_URL") {
		t.Errorf("SecretVars read as %v", bc.secrets)
	}
}

// TestBrokenManifests: each mistake, made in a copy of the manifests, is
// caught with a message that names it.
func TestBrokenManifests(t *testing.T) {
	bc, err := readBotConfig(configGo)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file, old, new, want string
	}{
		{"unknown variable", "base/configmap.yaml", `LOG_LEVEL: "info"`, `LOG_LEVL: "info"`,
			"LOG_LEVL is set by ConfigMap clerk-incident-bot-env but the bot does not read it"},
		{"required token missing", "base/secret.example.yaml", "  SLACK_APP_TOKEN: \"xapp-CHANGE-ME\"\n", "",
			"SLACK_APP_TOKEN is required"},
		{"required channel missing", "base/configmap.yaml", `SLACK_CHANNEL_ID: "C0123456789"`, `SLACK_CHANNEL_ID: ""`,
			"SLACK_CHANNEL_ID is required"},
		{"field name typo", "base/deployment.yaml", "readinessProbe:", "readinesProbe:",
			`unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"field name in the wrong case", "base/service.yaml", "targetPort: http", "targetport: http",
			`unknown field "spec.ports[0].targetport"`},
		{"kustomization typo", "base/kustomization.yaml", "resources:", "resource:", `unknown field "resource"`},
		{"probe on another port", "base/configmap.yaml", `HTTP_ADDR: ":8080"`, `HTTP_ADDR: ":9090"`,
			"container port http is 8080 but HTTP_ADDR listens on 9090"},
		{"secret in the ConfigMap", "base/configmap.yaml", `LOG_LEVEL: "info"`, `CLERK_SECRET_KEY: "sk_test_x"`,
			"CLERK_SECRET_KEY is a secret but ConfigMap clerk-incident-bot-env sets it"},
		{"Secret lacks a secret variable", "base/secret.example.yaml", "  PAGERDUTY_ROUTING_KEY: \"\"\n", "",
			"Secret clerk-incident-bot lacks PAGERDUTY_ROUTING_KEY"},
		{"overlay Secret lacks ALERTS_TOKEN", "overlays/sentinel/secret.example.yaml", "  ALERTS_TOKEN: \"\"\n", "",
			"Secret clerk-incident-bot lacks ALERTS_TOKEN"},
		{"base Secret lacks ALERTS_TOKEN", "base/secret.example.yaml", "  ALERTS_TOKEN: \"\"\n", "",
			"Secret clerk-incident-bot lacks ALERTS_TOKEN"},
		{"contacts not mounted", "base/configmap.yaml", "/etc/clerk-incident-bot/contacts.yml", "/etc/clerk-incident-bot/contact.yml",
			"CONTACTS_FILE /etc/clerk-incident-bot/contact.yml is not a key of the ConfigMap mounted at /etc/clerk-incident-bot"},
		{"overlay patch target missing", "overlays/sentinel/kustomization.yaml", "      name: clerk-incident-bot", "      name: clerk-incident",
			"targets NetworkPolicy clerk-incident, which the resources do not have"},
		{"overlay REDIS_URL without master_name", "overlays/sentinel/secret.example.yaml", "?master_name=mymaster&", "?",
			"REDIS_URL has no master_name"},
		{"overlay without the Sentinel port", "overlays/sentinel/networkpolicy-sentinel.yaml", "port: 26379", "port: 26380",
			"NetworkPolicy clerk-incident-bot lets no traffic out to port 26379"},
		{"one replica", "base/deployment.yaml", "replicas: 2", "replicas: 1", "2 replicas"},
		{"manifest no kustomization reads", "base/kustomization.yaml", "  - pdb.yaml\n", "",
			"base/pdb.yaml is not read by any kustomization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyTree(t, ".")
			p := filepath.Join(dir, c.file)
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(src), c.old) {
				t.Fatalf("%s has no %q to break", c.file, c.old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(src), c.old, c.new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			errs := checkTree(dir, bc)
			for _, err := range errs {
				if strings.Contains(err.Error(), c.want) {
					return
				}
			}
			t.Errorf("want an error containing %q, got %v", c.want, errs)
		})
	}
}

func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, p)
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// checkTree checks every variant under root and that every manifest there
// is read by one of them.
func checkTree(root string, bc botConfig) []error {
	var errs []error
	read := map[string]bool{}
	for _, v := range variants {
		dir := filepath.Join(root, v.dir)
		b, err := build(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for f := range b.files {
			read[f] = true
		}
		secretFile := filepath.Join(dir, "secret.example.yaml")
		read[secretFile] = true
		for _, err := range checkVariant(b, secretFile, bc, v.sentinel) {
			errs = append(errs, fmt.Errorf("%s: %w", v.dir, err))
		}
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) && !read[p] {
			rel, _ := filepath.Rel(root, p)
			errs = append(errs, fmt.Errorf("%s is not read by any kustomization (nor is it a secret.example.yaml): it would go unchecked", rel))
		}
		return nil
	})
	return errs
}

// envSource says where a variable's value comes from.
type envSource struct {
	from   string // "ConfigMap x", "Secret x", "env of container y"
	secret bool   // from the Secret (or a secretKeyRef)
	value  string // "" when set by reference
}

func checkVariant(b *bundle, secretFile string, bc botConfig, sentinel bool) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	secretObjs, err := readObjects(secretFile)
	if err != nil {
		return []error{err}
	}
	if len(secretObjs) != 1 || secretObjs[0].kind != "Secret" {
		return []error{fmt.Errorf("%s: want exactly one Secret", secretFile)}
	}
	secret := secretObjs[0].typed.(*corev1.Secret)
	secretData := map[string]string{}
	for k, v := range secret.Data {
		secretData[k] = string(v)
	}
	for k, v := range secret.StringData {
		secretData[k] = v
	}

	deps := b.all("Deployment")
	if len(deps) != 1 {
		return append(errs, fmt.Errorf("want one Deployment, have %d", len(deps)))
	}
	dep := deps[0].typed.(*appsv1.Deployment)
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		return append(errs, fmt.Errorf("Deployment %s: want one container, have %d", dep.Name, len(pod.Containers)))
	}
	ctr := pod.Containers[0]

	// Every variable the pod gets, and from where.
	env := map[string]envSource{}
	set := func(name string, src envSource) {
		if slices.Contains(bc.secrets, name) && !src.secret {
			fail("%s is a secret but %s sets it: put it in Secret %s", name, src.from, secret.Name)
		}
		if prev, ok := env[name]; ok {
			fail("%s is set twice: by %s and by %s", name, prev.from, src.from)
		}
		env[name] = src
	}
	secretUsed := false
	for _, ef := range ctr.EnvFrom {
		if ef.Prefix != "" {
			fail("envFrom with prefix %q: the bot reads its variables unprefixed", ef.Prefix)
		}
		switch {
		case ef.ConfigMapRef != nil:
			o := b.find("ConfigMap", ef.ConfigMapRef.Name)
			if o == nil {
				fail("envFrom names ConfigMap %s, which the manifests do not have", ef.ConfigMapRef.Name)
				continue
			}
			for k, v := range o.typed.(*corev1.ConfigMap).Data {
				set(k, envSource{from: "ConfigMap " + o.name, value: v})
			}
		case ef.SecretRef != nil:
			if ef.SecretRef.Name != secret.Name {
				fail("envFrom names Secret %s, but %s defines %s", ef.SecretRef.Name, secretFile, secret.Name)
				continue
			}
			secretUsed = true
			for k, v := range secretData {
				set(k, envSource{from: "Secret " + secret.Name, secret: true, value: v})
			}
		}
	}
	if !secretUsed {
		fail("the container takes nothing from Secret %s", secret.Name)
	}
	for _, e := range ctr.Env {
		src := envSource{from: "env of container " + ctr.Name, value: e.Value}
		if e.ValueFrom != nil {
			src.value = "(reference)"
			src.secret = e.ValueFrom.SecretKeyRef != nil
		}
		set(e.Name, src)
	}

	names := make([]string, 0, len(env))
	for n := range env {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := bc.vars[n]; !ok {
			fail("%s is set by %s but the bot does not read it (cmd/internal/app/config.go Vars)", n, env[n].from)
		}
	}
	for _, s := range bc.secrets {
		if _, ok := secretData[s]; !ok {
			fail("Secret %s lacks %s (every secret variable has a key, empty when unused)", secret.Name, s)
		}
	}
	var required []string
	for n, v := range bc.vars {
		if strings.HasPrefix(v.Help, "required:") {
			required = append(required, n)
		}
	}
	for n := range deployRequired {
		required = append(required, n)
	}
	sort.Strings(required)
	for _, n := range required {
		if env[n].value == "" {
			why := deployRequired[n]
			if why == "" {
				why = "the bot does not start without it"
			}
			fail("%s is required: %s", n, why)
		}
	}

	// Redis: Sentinel or not.
	if u, err := url.Parse(env["REDIS_URL"].value); err == nil && env["REDIS_URL"].value != "" {
		if sentinel && u.Query().Get("master_name") == "" {
			fail("REDIS_URL has no master_name: the Sentinel variant must name the master")
		}
		if !sentinel && u.Query().Get("master_name") != "" {
			fail("REDIS_URL has a master_name outside the Sentinel variant")
		}
	} else if err != nil {
		fail("REDIS_URL is not a URL")
	}

	// The HTTP port: HTTP_ADDR's, or its default.
	addr := env["HTTP_ADDR"].value
	if addr == "" {
		addr = bc.vars["HTTP_ADDR"].Default
	}
	_, portStr, err := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	if err != nil || port == 0 {
		fail("HTTP_ADDR %q has no fixed port", addr)
		return errs
	}
	resolve := func(p intstr.IntOrString) int {
		if p.Type == intstr.Int {
			return p.IntValue()
		}
		for _, cp := range ctr.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort)
			}
		}
		return -1
	}
	httpPort := -1
	for _, cp := range ctr.Ports {
		if cp.Name == "http" {
			httpPort = int(cp.ContainerPort)
		}
	}
	if httpPort != port {
		fail("container port http is %d but HTTP_ADDR listens on %d", httpPort, port)
	}
	for name, pr := range map[string]*corev1.Probe{"readinessProbe": ctr.ReadinessProbe, "livenessProbe": ctr.LivenessProbe} {
		switch {
		case pr == nil || pr.HTTPGet == nil:
			fail("%s is not an httpGet on /healthz", name)
		case pr.HTTPGet.Path != "/healthz":
			fail("%s asks %s, want /healthz", name, pr.HTTPGet.Path)
		case resolve(pr.HTTPGet.Port) != port:
			fail("%s probes port %s, but HTTP_ADDR listens on %d", name, pr.HTTPGet.Port.String(), port)
		}
	}

	// Files the bot reads at start-up come from a mounted ConfigMap.
	for _, v := range []string{"CONTACTS_FILE", "RUNBOOK_FILE"} {
		p := env[v].value
		if p == "" {
			fail("%s is not set: the Deployment mounts it from a ConfigMap", v)
			continue
		}
		dir, key := filepath.Dir(p), filepath.Base(p)
		found := false
		for _, m := range ctr.VolumeMounts {
			if filepath.Clean(m.MountPath) != dir {
				continue
			}
			for _, vol := range pod.Volumes {
				if vol.Name != m.Name || vol.ConfigMap == nil {
					continue
				}
				cm := b.find("ConfigMap", vol.ConfigMap.Name)
				if cm == nil {
					fail("volume %s mounts ConfigMap %s, which the manifests do not have", vol.Name, vol.ConfigMap.Name)
					continue
				}
				if _, ok := cm.typed.(*corev1.ConfigMap).Data[key]; ok && len(vol.ConfigMap.Items) == 0 {
					found = true
				}
			}
		}
		if !found {
			fail("%s %s is not a key of the ConfigMap mounted at %s", v, p, dir)
		}
	}

	// Replicas that roll one at a time, run locked down, and stay up in a drain.
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
		fail("Deployment %s: want 2 replicas (one Redis, exactly-once pages)", dep.Name)
	}
	if ru := dep.Spec.Strategy.RollingUpdate; dep.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
		ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge == nil || ru.MaxSurge.IntValue() != 1 {
		fail("Deployment %s: want a rolling update of one pod at a time (maxSurge 1, maxUnavailable 0)", dep.Name)
	}
	sc := ctr.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		fail("container %s: want runAsNonRoot, a read-only root filesystem, no privilege escalation and every capability dropped", ctr.Name)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
		fail("pod: want runAsUser 65532, the Dockerfile's USER")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceMemory, corev1.ResourceCPU} {
		if _, ok := ctr.Resources.Requests[r]; !ok {
			fail("container %s requests no %s", ctr.Name, r)
		}
	}
	if _, ok := ctr.Resources.Limits[corev1.ResourceMemory]; !ok {
		fail("container %s has no memory limit", ctr.Name)
	}
	podLabels := dep.Spec.Template.Labels
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	pdbs := b.all("PodDisruptionBudget")
	if len(pdbs) != 1 {
		fail("want one PodDisruptionBudget, have %d", len(pdbs))
	} else if pdb := pdbs[0].typed.(*policyv1.PodDisruptionBudget); pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 ||
		pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels) {
		fail("PodDisruptionBudget %s: want minAvailable 1 selecting the bot's pods", pdb.Name)
	}
	svcs := b.all("Service")
	if len(svcs) != 1 {
		fail("want one Service, have %d", len(svcs))
	} else {
		svc := svcs[0].typed.(*corev1.Service)
		if !selects(svc.Spec.Selector) {
			fail("Service %s does not select the bot's pods", svc.Name)
		}
		if len(svc.Spec.Ports) != 1 || resolve(svc.Spec.Ports[0].TargetPort) != port {
			fail("Service %s: want one port whose target is HTTP_ADDR's %d (/metrics, /v1/bypass)", svc.Name, port)
		}
	}
	nps := b.all("NetworkPolicy")
	if len(nps) != 1 {
		fail("want one NetworkPolicy, have %d", len(nps))
	} else {
		np := nps[0].typed.(*networkingv1.NetworkPolicy)
		if !selects(np.Spec.PodSelector.MatchLabels) {
			fail("NetworkPolicy %s does not select the bot's pods", np.Name)
		}
		in := false
		for _, r := range np.Spec.Ingress {
			for _, p := range r.Ports {
				if p.Port != nil && resolve(*p.Port) == port {
					in = true
				}
			}
		}
		if !in {
			fail("NetworkPolicy %s lets nothing in to HTTP_ADDR's port %d", np.Name, port)
		}
		out := map[int]bool{}
		for _, r := range np.Spec.Egress {
			for _, p := range r.Ports {
				if p.Port != nil {
					out[p.Port.IntValue()] = true
				}
			}
		}
		want := []int{53, 443, 6379}
		if sentinel {
			want = append(want, 26379)
		}
		for _, w := range want {
			if !out[w] {
				fail("NetworkPolicy %s lets no traffic out to port %d", np.Name, w)
			}
		}
	}

	// The image kustomize rewrites must be the container's.
	for _, im := range b.images {
		if im.Name != ctr.Image {
			fail("images entry %s matches no container (the container's image is %s)", im.Name, ctr.Image)
		}
	}
	return errs
}

// TestKustomizeBuild: where kubectl is installed, its kustomize builds each
// variant and every object it outputs decodes strictly.
func TestKustomizeBuild(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed: TestManifests resolves the kustomizations itself")
	}
	for _, v := range variants {
		out, err := exec.Command("kubectl", "kustomize", v.dir).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v", v.dir, err)
		}
		kinds := map[string]int{}
		for _, doc := range docSeparator.Split(string(out), -1) {
			j, err := yaml.YAMLToJSONStrict([]byte(doc))
			if err != nil || string(j) == "null" {
				continue
			}
			o, err := decode(j)
			if err != nil {
				t.Errorf("%s: %v", v.dir, err)
				continue
			}
			kinds[o.kind]++
		}
		want := map[string]int{"ConfigMap": 2, "Deployment": 1, "Service": 1, "PodDisruptionBudget": 1, "NetworkPolicy": 1}
		if !maps.Equal(kinds, want) {
			t.Errorf("%s: kustomize built %v, want %v", v.dir, kinds, want)
		}
	}
}
