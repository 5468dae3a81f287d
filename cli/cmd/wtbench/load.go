package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadConfig describes one load run.
type loadConfig struct {
	URL          string
	Method       string
	Headers      []string
	BodyTemplate string
	Connections  int
	Duration     time.Duration
	Timeout      time.Duration
}

// LoadResult is what load prints.
type LoadResult struct {
	URL             string         `json:"url"`
	Method          string         `json:"method"`
	Connections     int            `json:"connections"`
	DurationSeconds float64        `json:"durationSeconds"`
	Requests        int            `json:"requests"`
	RPS             float64        `json:"rps"`
	P50Ms           float64        `json:"p50Ms"`
	P90Ms           float64        `json:"p90Ms"`
	P99Ms           float64        `json:"p99Ms"`
	MaxMs           float64        `json:"maxMs"`
	Statuses        map[string]int `json:"statuses"`
	Errors          int            `json:"errors"`
	FirstError      string         `json:"firstError,omitempty"`
}

// headerList collects repeated --header flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wtbench load", flag.ContinueOnError)
	var cfg loadConfig
	var headers headerList
	fs.StringVar(&cfg.URL, "url", "", "URL to drive (required)")
	fs.StringVar(&cfg.Method, "method", http.MethodGet, "HTTP method")
	fs.Var(&headers, "header", "request header \"Name: value\" (repeatable; {{n}} and {{run}} are expanded)")
	fs.StringVar(&cfg.BodyTemplate, "body-template", "", "request body ({{n}} and {{run}} are expanded per request)")
	fs.IntVar(&cfg.Connections, "connections", 64, "concurrent connections, each with one request in flight")
	fs.DurationVar(&cfg.Duration, "duration", 15*time.Second, "how long to drive the endpoint")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "per-request timeout")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg.Headers = headers
	switch {
	case cfg.URL == "":
		return usageError{fmt.Errorf("load: --url is required")}
	case cfg.Connections < 1 || cfg.Connections > 4096:
		return usageError{fmt.Errorf("load: --connections must be 1..4096")}
	case cfg.Duration <= 0 || cfg.Duration > 10*time.Minute:
		return usageError{fmt.Errorf("load: --duration must be in (0, 10m]")}
	}
	for _, h := range cfg.Headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
			return usageError{fmt.Errorf("load: header %q is not \"Name: value\"", h)}
		}
	}
	res, err := Load(ctx, cfg)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(res)
}

// template expands {{n}} and {{run}} in s.
type template struct {
	parts []string // literal parts, split at placeholders
	kinds []string // placeholder after parts[i]: "n" or "run"
	run   string
}

func compileTemplate(s, run string) template {
	t := template{run: run}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		name := s[i+2 : i+j]
		if name != "n" && name != "run" {
			t.parts = append(t.parts, s[:i+j+2])
			t.kinds = append(t.kinds, "")
			s = s[i+j+2:]
			continue
		}
		t.parts = append(t.parts, s[:i])
		t.kinds = append(t.kinds, name)
		s = s[i+j+2:]
	}
	t.parts = append(t.parts, s)
	return t
}

func (t template) expand(buf []byte, n uint64) []byte {
	for i, p := range t.parts {
		buf = append(buf, p...)
		if i < len(t.kinds) {
			switch t.kinds[i] {
			case "n":
				buf = strconv.AppendUint(buf, n, 10)
			case "run":
				buf = append(buf, t.run...)
			}
		}
	}
	return buf
}

func (t template) constant() bool {
	for _, k := range t.kinds {
		if k != "" {
			return false
		}
	}
	return true
}

// Load drives cfg.URL with cfg.Connections closed-loop workers for
// cfg.Duration and summarises what it saw.
func Load(ctx context.Context, cfg loadConfig) (LoadResult, error) {
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	runID := make([]byte, 6)
	_, _ = rand.Read(runID)
	run := hex.EncodeToString(runID)
	body := compileTemplate(cfg.BodyTemplate, run)
	type header struct {
		name  string
		value template
		fixed bool   // no placeholder: text is the value
		text  string // the value when fixed
	}
	var headers []header
	for _, h := range cfg.Headers {
		name, value, _ := strings.Cut(h, ":")
		t := compileTemplate(strings.TrimSpace(value), run)
		headers = append(headers, header{name: strings.TrimSpace(name), value: t, fixed: t.constant(), text: string(t.expand(nil, 0))})
	}
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Connections,
		MaxIdleConnsPerHost: cfg.Connections,
		MaxConnsPerHost:     cfg.Connections,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var (
		counter   atomic.Uint64
		mu        sync.Mutex
		latencies []time.Duration
		statuses  = map[string]int{}
		errCount  int
		firstErr  string
		wg        sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < cfg.Connections; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			localStatus := map[int]int{}
			localErrs, localFirst := 0, ""
			var bodyBuf, hdrBuf []byte
			for ctx.Err() == nil {
				n := counter.Add(1)
				bodyBuf = body.expand(bodyBuf[:0], n)
				var rdr io.Reader
				if len(bodyBuf) > 0 {
					rdr = bytes.NewReader(bodyBuf)
				}
				req, err := http.NewRequestWithContext(ctx, cfg.Method, cfg.URL, rdr)
				if err != nil {
					localErrs++
					localFirst = err.Error()
					break
				}
				for _, h := range headers {
					if h.fixed {
						req.Header.Set(h.name, h.text)
						continue
					}
					hdrBuf = h.value.expand(hdrBuf[:0], n)
					req.Header.Set(h.name, string(hdrBuf))
				}
				if host := req.Header.Get("Host"); host != "" {
					req.Host = host
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				if ctx.Err() != nil {
					break // the run ended during this request: it does not count
				}
				if err != nil {
					localErrs++
					if localFirst == "" {
						localFirst = err.Error()
					}
					continue
				}
				local = append(local, d)
				localStatus[resp.StatusCode]++
			}
			mu.Lock()
			latencies = append(latencies, local...)
			for code, c := range localStatus {
				statuses[strconv.Itoa(code)] += c
			}
			errCount += localErrs
			if firstErr == "" {
				firstErr = localFirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if elapsed > cfg.Duration {
		elapsed = cfg.Duration
	}
	res := LoadResult{
		URL: cfg.URL, Method: cfg.Method, Connections: cfg.Connections,
		DurationSeconds: elapsed.Seconds(), Requests: len(latencies),
		Statuses: statuses, Errors: errCount, FirstError: firstErr,
	}
	if elapsed > 0 {
		res.RPS = round2(float64(len(latencies)) / elapsed.Seconds())
	}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		res.P50Ms = ms(percentile(latencies, 0.50))
		res.P90Ms = ms(percentile(latencies, 0.90))
		res.P99Ms = ms(percentile(latencies, 0.99))
		res.MaxMs = ms(latencies[len(latencies)-1])
	}
	return res, nil
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
