package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/watchtower/authplane/services/ingestion/apikey"
)

// Options are the dependencies of a Service.
type Options struct {
	Keys        KeyStore
	Settings    SettingsStore
	Txs         TxStore
	Idempotency Idempotency
	Events      KeyEvents
	Usage       UsageLog
	// Audit is told when an audit event was committed (optional).
	Audit  Notifier
	Hasher *apikey.Hasher
	Logger *slog.Logger
	// Now and Random default to time.Now and crypto/rand.
	Now    func() time.Time
	Random io.Reader
	// Lease is how long an in-flight claim blocks retries (default 5 s).
	Lease time.Duration
	// SettingsTTL bounds how stale the in-process settings cache may be
	// (default 5 s).
	SettingsTTL time.Duration
	// UsageEvery is how often one key's use is noted (default 30 s).
	UsageEvery time.Duration
}

// Service implements the ingestion domain.
type Service struct {
	o Options

	mu       sync.Mutex
	settings map[string]cachedSettings
	noted    map[string]time.Time
}

type cachedSettings struct {
	s  Settings
	at time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Random == nil {
		o.Random = rand.Reader
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Second
	}
	if o.SettingsTTL <= 0 {
		o.SettingsTTL = 5 * time.Second
	}
	if o.UsageEvery <= 0 {
		o.UsageEvery = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{o: o, settings: map[string]cachedSettings{}, noted: map[string]time.Time{}}
}

func (s *Service) newID(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.o.Random, b); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b), nil
}

// orgSettings returns the org's settings through a short in-process cache
// (controls changed on another replica apply within SettingsTTL).
func (s *Service) orgSettings(ctx context.Context, orgID string) (Settings, error) {
	now := s.o.Now()
	s.mu.Lock()
	c, ok := s.settings[orgID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < s.o.SettingsTTL {
		return c.s, nil
	}
	st, err := s.o.Settings.GetSettings(ctx, orgID)
	if err != nil {
		return Settings{}, storeFailure(ctx, err)
	}
	s.mu.Lock()
	if len(s.settings) > 100_000 {
		clear(s.settings)
	}
	s.settings[orgID] = cachedSettings{s: st, at: now}
	s.mu.Unlock()
	return st, nil
}

func (s *Service) forgetSettings(orgID string) {
	s.mu.Lock()
	delete(s.settings, orgID)
	s.mu.Unlock()
}

// noteUsage records a key's use in the usage log at most once per
// UsageEvery per process, so lastUsedAt stays current to the minute without
// a write per request.
func (s *Service) noteUsage(ctx context.Context, keyID string) {
	if keyID == "" || s.o.Usage == nil {
		return
	}
	now := s.o.Now()
	s.mu.Lock()
	last, ok := s.noted[keyID]
	due := !ok || now.Sub(last) >= s.o.UsageEvery
	if due {
		if len(s.noted) > 100_000 {
			clear(s.noted)
		}
		s.noted[keyID] = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	if err := s.o.Usage.Note(ctx, keyID, now); err != nil {
		s.o.Logger.Warn("note api key usage", "api_key_id", keyID, "error", err.Error())
		s.mu.Lock()
		delete(s.noted, keyID)
		s.mu.Unlock()
	}
}

// FlushUsage moves buffered key usage to Postgres; on failure the notes
// are put back for the next flush.
func (s *Service) FlushUsage(ctx context.Context) error {
	used, err := s.o.Usage.Take(ctx)
	if err != nil || len(used) == 0 {
		return err
	}
	if err := s.o.Keys.TouchKeys(ctx, used); err != nil {
		for id, at := range used {
			_ = s.o.Usage.Note(ctx, id, at)
		}
		return err
	}
	return nil
}

// RunUsageFlusher flushes usage every interval until ctx ends.
func (s *Service) RunUsageFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			_ = s.FlushUsage(fctx)
			cancel()
			return
		case <-t.C:
			if err := s.FlushUsage(ctx); err != nil {
				s.o.Logger.Warn("flush api key usage", "error", err.Error())
			}
		}
	}
}
