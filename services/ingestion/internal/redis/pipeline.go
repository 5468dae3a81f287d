package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/watchtower/authplane/services/ingestion/internal/batch"
)

// With StartPipelining, the scripts of concurrent ingestions are sent to
// Redis together (package batch): a worker takes the calls waiting at that
// moment (up to the batch size) and writes them as one pipeline, so a busy service pays one
// write and one read per batch instead of per call, and Redis likewise.
// Each script still runs atomically on its own, in arrival order; a caller
// gets its own reply, exactly as from a direct call.

// pipelineTimeout bounds one batch's round trip.
const pipelineTimeout = 5 * time.Second

type scriptCall struct {
	script *goredis.Script
	keys   []string
	args   []any
	cmd    *goredis.Cmd
	done   chan struct{}
}

type pipeliner struct {
	c       goredis.UniversalClient
	batcher *batch.Batcher[*scriptCall]
}

func startPipeliner(ctx context.Context, c goredis.UniversalClient, workers, size int) *pipeliner {
	p := &pipeliner{c: c}
	p.batcher = batch.Start(ctx, workers, size, p.exec)
	return p
}

func (p *pipeliner) exec(batch []*scriptCall) {
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	if len(batch) == 1 {
		c := batch[0]
		c.cmd = c.script.Run(ctx, p.c, c.keys, c.args...)
		close(c.done)
		return
	}
	pipe := p.c.Pipeline()
	for _, c := range batch {
		_ = pipe.Process(ctx, c.cmd) // queued; errors arrive on the command
	}
	_, _ = pipe.Exec(ctx) // each command carries its own outcome
	for _, c := range batch {
		if goredis.HasErrorPrefix(c.cmd.Err(), "NOSCRIPT") {
			// The script is not cached on this server yet (first use, a
			// restart, a failover): Run loads it.
			c.cmd = c.script.Run(ctx, p.c, c.keys, c.args...)
		}
		close(c.done)
	}
}

// run runs script with keys and args, through the pipeline when one runs.
// Once a worker has the call, run waits for its reply whatever happens to
// ctx: the caller must know whether a claim was taken or a record written.
func (p *pipeliner) run(ctx context.Context, c goredis.UniversalClient, script *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	if p == nil {
		return script.Run(ctx, c, keys, args...)
	}
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", script.Hash(), len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	call := &scriptCall{script: script, keys: keys, args: args, cmd: goredis.NewCmd(ctx, cmdArgs...), done: make(chan struct{})}
	taken, err := p.batcher.Submit(ctx, call)
	switch {
	case err != nil:
		cmd := goredis.NewCmd(ctx)
		cmd.SetErr(err)
		return cmd
	case !taken:
		return script.Run(ctx, c, keys, args...)
	}
	<-call.done
	return call.cmd
}
