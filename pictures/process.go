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
