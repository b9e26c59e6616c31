// Command clerk-incident-chart draws one chart: a chartdata.Request as
// JSON on stdin, the PNG on stdout. The bot runs it for each chart, so the
// plotting library and its fonts take memory only while a chart is drawn,
// never in the idle bot. Exit status 3: nothing to draw.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/clerk-incident-bot/clerk-incident-bot/chart"
	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
)

// NoData is the exit status for chartdata.ErrNoData.
const NoData = 3

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}

func run(in io.Reader, out, errOut io.Writer) int {
	var req chartdata.Request
	if err := json.NewDecoder(io.LimitReader(in, 16<<20)).Decode(&req); err != nil {
		fmt.Fprintln(errOut, "clerk-incident-chart: read the request:", err)
		return 2
	}
	png, err := chart.Draw(req)
	if errors.Is(err, chartdata.ErrNoData) {
		fmt.Fprintln(errOut, err)
		return NoData
	}
	if err != nil {
		fmt.Fprintln(errOut, "clerk-incident-chart:", err)
		return 1
	}
	if _, err := out.Write(png); err != nil {
		fmt.Fprintln(errOut, "clerk-incident-chart: write:", err)
		return 1
	}
	return 0
}
