// Evaluates PromQL with Prometheus' own engine (github.com/prometheus/prometheus/promql over a
// TSDB in a temporary folder), for bench/slo-promql.bench.js: it checks the SLO alert rules
// BeTrace generates against the real engine. Benchmark and test infrastructure only: built into
// the bench cache outside the repository, never part of BeTrace.
//
// Input (stdin, JSON): {"series": [{"labels": {...}, "samples": [[t_ms, value], ...]}],
//                       "queries": [{"expr": "...", "at": t_ms}]}
// Output (stdout, JSON): [{"expr": "...", "at": t_ms, "vector": [{"labels": {...}, "value": v}], "error": "..."}]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
)

type input struct {
	Series []struct {
		Labels  map[string]string `json:"labels"`
		Samples [][2]float64      `json:"samples"`
	} `json:"series"`
	Queries []struct {
		Expr string `json:"expr"`
		At   int64  `json:"at"`
	} `json:"queries"`
}

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
}

type answer struct {
	Expr   string   `json:"expr"`
	At     int64    `json:"at"`
	Vector []sample `json:"vector"`
	Error  string   `json:"error,omitempty"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "promql:", err)
	os.Exit(1)
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail(err)
	}
	dir, err := os.MkdirTemp("", "betrace-promql-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = int64(365 * 24 * time.Hour / time.Millisecond)
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	ctx := context.Background()
	app := db.Appender(ctx)
	for _, s := range in.Series {
		l := labels.FromMap(s.Labels)
		for _, p := range s.Samples {
			if _, err := app.Append(0, l, int64(p[0]), p[1]); err != nil {
				fail(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		fail(err)
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	out := []answer{}
	for _, q := range in.Queries {
		a := answer{Expr: q.Expr, At: q.At, Vector: []sample{}}
		query, err := engine.NewInstantQuery(ctx, db, nil, q.Expr, time.UnixMilli(q.At))
		if err != nil {
			a.Error = err.Error()
			out = append(out, a)
			continue
		}
		res := query.Exec(ctx)
		if res.Err != nil {
			a.Error = res.Err.Error()
		} else if v, err := res.Vector(); err == nil {
			for _, s := range v {
				a.Vector = append(a.Vector, sample{Labels: s.Metric.Map(), Value: s.F})
			}
		} else if sc, err := res.Scalar(); err == nil {
			a.Vector = append(a.Vector, sample{Labels: map[string]string{}, Value: sc.V})
		} else {
			a.Error = "neither a vector nor a scalar"
		}
		query.Close()
		out = append(out, a)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}
