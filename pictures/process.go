package pictures

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
)

// Drawer draws one chart to PNG bytes.
type Drawer interface {
	Draw(ctx context.Context, req chartdata.Request) ([]byte, error)
}

// Process draws each chart in a run of the clerk-incident-chart program:
// the plotting library and its fonts (about 3.5 MB resident once loaded)
// live only as long as one chart, never in the idle bot.
type Process struct {
	Path string
	// slots bounds the programs running at once (each peaks near 13 MB):
	// five people asking for charts in a busy incident must not add
	// five processes to the pod's memory. nil: no bound.
	slots chan struct{}
}

// NewProcess draws with the program at path, at most most charts at once
// (the rest wait their turn, or give up with their context).
func NewProcess(path string, most int) Process {
	return Process{Path: path, slots: make(chan struct{}, max(most, 1))}
}

// ChartProgram is where the chart program is: CHART_PROGRAM if set, else
// clerk-incident-chart beside the bot's own executable (as the image
// ships them).
func ChartProgram(setting string) string {
	if setting != "" {
		return setting
	}
	self, err := os.Executable()
	if err != nil {
		return "clerk-incident-chart"
	}
	return filepath.Join(filepath.Dir(self), "clerk-incident-chart")
}

// noData is the program's exit status for "nothing to draw".
const noData = 3

// Draw runs the program with req on stdin and returns its stdout.
func (p Process) Draw(ctx context.Context, req chartdata.Request) ([]byte, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("chart request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a free chart slot: %w", ctx.Err())
		}
	}
	cmd := exec.CommandContext(ctx, p.Path)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = []string{} // it needs nothing, and gets no secret
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == noData:
		return nil, chartdata.ErrNoData
	case err != nil:
		return nil, fmt.Errorf("draw a chart with %s: %w: %s", filepath.Base(p.Path), err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}
