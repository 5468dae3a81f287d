package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type clientConfig struct {
	Base    string
	APIKey  string
	Timeout time.Duration
}

// client sends ingestion requests.
type client struct {
	cfg  clientConfig
	http *http.Client
}

func newClient(c clientConfig, conns int) (*client, error) {
	if c.APIKey == "" {
		return nil, errors.New("--api-key (or WT_SIM_API_KEY) is required")
	}
	if !strings.HasPrefix(c.Base, "http://") && !strings.HasPrefix(c.Base, "https://") {
		return nil, fmt.Errorf("--base %q: want http:// or https://", c.Base)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	return &client{cfg: c, http: &http.Client{Transport: tr, Timeout: c.Timeout}}, nil
}

// result is one HTTP exchange.
type result struct {
	Status     int
	Body       []byte
	Replayed   bool
	RetryAfter time.Duration
	Latency    time.Duration
	Err        error // transport failure or timeout
}

// envelope is the API.md error body.
type envelope struct {
	Error   string `json:"error"`
	Details struct {
		Fields []struct{ Field, Reason string } `json:"fields"`
	} `json:"details"`
}

// accepted is the 201 body.
type accepted struct {
	Transaction struct {
		ID        string `json:"id"`
		Reference string `json:"reference"`
	} `json:"transaction"`
	Decision struct {
		Outcome   string   `json:"outcome"`
		RiskScore int      `json:"riskScore"`
		Reasons   []string `json:"reasons"`
	} `json:"decision"`
}

func (r result) errorCode() string {
	var e envelope
	_ = json.Unmarshal(r.Body, &e)
	return e.Error
}

// send posts body with key, using apiKey (the configured one when empty).
func (c *client) send(ctx context.Context, apiKey, idemKey string, body []byte) result {
	if apiKey == "" {
		apiKey = c.cfg.APIKey
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.cfg.Base, "/")+"/api/v1/transactions", bytes.NewReader(body))
	if err != nil {
		return result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apiKey)
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return result{Err: err, Latency: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	out := result{Status: res.StatusCode, Body: b, Latency: time.Since(start), Replayed: res.Header.Get("Idempotent-Replayed") == "true"}
	if err != nil {
		out.Err = err
	}
	if s, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil && s > 0 {
		out.RetryAfter = time.Duration(s) * time.Second
	}
	return out
}

// retryable reports whether a real integration would retry r with the same
// idempotency key: timeouts and network errors, 5xx, 409 in progress, 429.
func retryable(r result) bool {
	if r.Err != nil {
		return true
	}
	if r.Status >= 500 || r.Status == http.StatusTooManyRequests {
		return true
	}
	return r.Status == http.StatusConflict && r.errorCode() == "idempotency_key_in_progress"
}
