package redisx

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// StoreErr codes Redis not answering (the network, a closed client, an
// exhausted pool, LOADING while it reads its data back) as
// apperr.UnavailableStore; every other error (redis.Nil, a script's
// error, a deadline) passes through as it is.
func StoreErr(err error) error {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if apperr.CodeOf(err) == apperr.UnavailableStore {
		return err
	}
	var ne net.Error
	var re redis.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted):
	case errors.As(err, &re) && strings.HasPrefix(re.Error(), "LOADING"):
	default:
		return err
	}
	return apperr.Wrap(apperr.UnavailableStore, "", err)
}

// ErrorCodes is a client hook that codes, at the client, every command's
// failure to reach Redis (StoreErr): each store then passes on an error
// whose code says so, and nobody downstream guesses from the error's kind.
type ErrorCodes struct{}

// DialHook leaves dialing alone; its errors reach the commands.
func (ErrorCodes) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook codes one command's error.
func (ErrorCodes) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if coded := StoreErr(err); coded != err {
			cmd.SetErr(coded)
			return coded
		}
		return err
	}
}

// ProcessPipelineHook codes the errors of a pipeline and of its commands.
func (ErrorCodes) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if e := cmd.Err(); e != nil {
				if coded := StoreErr(e); coded != e {
					cmd.SetErr(coded)
				}
			}
		}
		return StoreErr(err)
	}
}
